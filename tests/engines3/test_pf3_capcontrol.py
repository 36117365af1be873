"""Capacitor controls in the snapshot control loop vs the OpenDSS engine's own control loop.

Oracle: opendssdirect.py solving the same DSS files (tests/data/opendss3/capcontrol,
a small feeder whose banks the controls find on) with its static control
mode; the engine's final capacitor states (``Capacitors.States``) and node
voltages after its control loop must be ours.  Every file makes at least
one bank switch in the engine, so a loop that never switches fails.
``transformer.dss`` also pins an engine quirk: a current control reads the
first entry of the element's current buffer (terminal 1) whatever its
``terminal``; read at terminal 2 (150.04 A > OFF 150 A) the bank would stay on.
"""
from __future__ import annotations

import pytest

from gatlang.engines import pf3_capcontrol as cc
from gatlang.engines.pf3 import solve_unbalanced

from .dss_oracle import DATA3, compare, import_feeder, set_column, solve_engine

CASES = DATA3 / "capcontrol"


@pytest.mark.parametrize("case", ["voltage", "current", "kvar", "pf", "same_round", "transformer"])
def test_capacitor_states_and_voltages_match_engine(case):
    path = CASES / f"{case}.dss"
    engine = solve_engine(path)
    switched = {c for c, st in engine.cap_states.items() if st == [0]}
    assert switched, "the case must make the engine switch a bank"
    res = solve_unbalanced(import_feeder(path, engine))
    assert res.converged and not [d for d in res.diagnostics if d.code.startswith("GAT081")]
    ours = {c for c, on in res.capacitor_states.items() if not on}
    assert ours == switched
    assert all(engine.cap_states[c] == [1] for c, on in res.capacitor_states.items() if on)
    dvm, dva, worst, _ = compare(res, engine)
    assert dvm < 1e-6 and dva < 1e-3, f"{case}: {dvm:.2e} pu / {dva:.2e} deg at {worst}"


def test_fixed_mode_leaves_banks_as_in_the_data():
    path = CASES / "voltage.dss"
    engine = solve_engine(path, control=False)
    res = solve_unbalanced(import_feeder(path, engine), regulators="fixed")
    assert res.capacitor_states == {}
    dvm, _, worst, _ = compare(res, engine)
    assert dvm < 1e-6, worst


def test_power_factor_scale_is_the_engines():
    """ConvertPFToPFRange2: lagging in 0..1, leading folded to 1..2."""
    assert cc.pf_range2(complex(800, 600)) == pytest.approx(0.8)
    assert cc.pf_range2(complex(800, -600)) == pytest.approx(1.2)
    assert cc.to_range2(-0.9) == pytest.approx(1.1)


@pytest.mark.slow
def test_ieee8500_taps_banks_and_voltages_match_engine(shared_data):
    """The 8500-node feeder: 12 regulators and 9 kvar-controlled banks, all left on by the engine."""
    path = shared_data / "opendss-ieee" / "IEEETestCases" / "8500-Node" / "Master.dss"
    engine = solve_engine(path, commands=("set maxiterations=100",))
    res = solve_unbalanced(import_feeder(path, engine))
    assert res.converged
    assert res.tap_positions == engine.tap_positions
    assert set(res.capacitor_states) == {f"capbank{k}{p}" for k in "012" for p in "abc"}
    assert all(engine.cap_states[c] == ([1] if on else [0]) for c, on in res.capacitor_states.items())
    dvm, dva, worst, _ = compare(res, engine)
    assert dvm < 1e-6 and dva < 1e-3, f"{dvm:.2e} pu / {dva:.2e} deg at {worst}"


# ---------------------------------------------------------------- controls left alone, with a warning

SPAN_FILE = "voltage.dss"


def _net_with(column: str, values: list):
    path = CASES / SPAN_FILE
    net = import_feeder(path, solve_engine(path))
    set_column(net, *(column.split(".")), values)
    return net


@pytest.mark.parametrize("column,values,code", [
    ("cap_controls.type", ["time", "voltage"], cc.UNSUPPORTED_TYPE),
    ("cap_controls.element", ["line.nowhere", "line.l2"], cc.UNKNOWN_ELEMENT),
    ("cap_controls.capacitor", ["c9", "c2"], cc.UNRATED_CAPACITOR),
])
def test_unsimulated_controls_are_warnings_with_span_and_help(column, values, code):
    from gatlang.diagnostics import Span

    span = Span("study.gat", 3, 1, 3, 20)
    res = solve_unbalanced(_net_with(column, values), span=span)
    found = [d for d in res.diagnostics if d.code == code]
    assert res.converged and found and not found[0].is_error
    assert found[0].span == span and found[0].help and "cc1" in found[0].message
    assert "c1" not in res.capacitor_states and res.capacitor_states == {"c2": True}


def test_every_capcontrol_code_has_an_explain_page():
    import re

    from gatlang.diagnostics import EXPLAIN_DIR

    for code in (cc.UNSUPPORTED_TYPE, cc.UNKNOWN_ELEMENT, cc.UNRATED_CAPACITOR):
        page = (EXPLAIN_DIR / f"{code}.md").read_text()
        assert re.fullmatch(rf"# {code} [a-z0-9]+(-[a-z0-9]+)*", page.splitlines()[0])
        assert "## Example" in page and "## How to fix" in page


def test_fighting_settings_end_in_an_unsettled_loop_warning():
    """ON above OFF: the bank opens, the voltage falls below ON, it closes again ... GAT0847.

    The engine stops the same case with "Max Control Iterations Exceeded" (its error 485).
    """
    import opendssdirect as dss

    from gatlang.diagnostics import Span
    from gatlang.engines import pf3_result as codes

    previous = dss.Basic.AllowChangeDir()
    dss.Basic.AllowChangeDir(False)
    try:
        dss.Text.Command(f'compile "{CASES / SPAN_FILE}"')
        dss.Text.Command("edit capcontrol.cc1 onsetting=125 offsetting=120")
        with pytest.raises(Exception, match="Max Control Iterations"):
            dss.Solution.Solve()
    finally:
        dss.Basic.AllowChangeDir(previous)

    span = Span("study.gat", 5, 1, 5, 30)
    net = _net_with("cap_controls.on_setting", [125.0, 110.0])
    set_column(net, "cap_controls", "off_setting", [120.0, 130.0])
    res = solve_unbalanced(net, span=span)
    found = [d for d in res.diagnostics if d.code == codes.REG_NOT_SETTLED]
    assert found and found[0].span == span and "capacitor" in found[0].message and found[0].help
    assert res.control_iterations >= 30

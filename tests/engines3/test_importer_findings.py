"""Importer behaviour the unbalanced power flow depends on, checked against the engine.

The conductors of one-terminal elements are compared with the engine's
``CktElement.NodeOrder``: a one-phase delta element given one node
(``bus1=a.2``, six loads on IEEE 34) has its second conductor on ground, as the
engine's default node list is 1..phases and then 0.

IEEE 37 (every load delta, delta-delta transformers, an open-delta regulator:
no ground on the 4.8 kV side but the cables' capacitance) is solved with the
conductors exactly as imported -- no patching from the engine.
"""
from __future__ import annotations

import opendssdirect as dss
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.engines.pf3 import solve_unbalanced
from gatlang.network.opendss.importer import load_opendss

from .dss_oracle import DATA3, compare, fix_taps, solve_engine

TEXT = """clear
new circuit.t basekv=24.9 bus1=src
new line.l1 bus1=src bus2=a r1=0.1 x1=0.3 r0=0.3 x0=0.9 length=1
new load.d1 bus1=a.2 phases=1 conn=delta kv=24.9 kw=10 kvar=5 model=2
set voltagebases=[24.9]
calcv
"""


def test_importer_one_node_delta_load(tmp_path):
    path = tmp_path / "one_node_delta.dss"
    path.write_text(TEXT)
    engine = solve_engine(path)
    net = load_opendss(path, DiagnosticSink())
    assert net.table("loads").column("conn").to_pylist()[0] == engine.load_nodes["d1"] == [2, 0]


#: (class, bus1 and connection) of one-terminal elements whose conductors the engine defaults
ELEMENTS = [("load", "phases=1 conn=delta bus1=a"), ("load", "phases=1 conn=delta bus1=a.3.1"),
            ("load", "phases=1 conn=delta bus1=a.3"), ("load", "phases=1 conn=wye bus1=a.2"),
            ("load", "phases=3 conn=delta bus1=a"), ("load", "phases=3 conn=wye bus1=a.1.2.3.4"),
            ("generator", "phases=1 conn=delta bus1=a.2"), ("pvsystem", "phases=1 conn=delta bus1=a.2"),
            ("storage", "phases=1 conn=delta bus1=a.3"), ("capacitor", "phases=1 conn=delta bus1=a.2"),
            ("reactor", "phases=1 conn=delta bus1=a.2")]
_TABLE = {"load": "loads", "generator": "generators", "pvsystem": "pv_systems", "storage": "storage",
          "capacitor": "shunts", "reactor": "shunts"}


@pytest.mark.parametrize("cls,props", ELEMENTS)
def test_one_terminal_conductors_match_engine(tmp_path, cls, props):
    path = tmp_path / "element.dss"
    path.write_text(TEXT.replace("new load.d1 bus1=a.2 phases=1 conn=delta kv=24.9 kw=10 kvar=5 model=2",
                                 f"new {cls}.x {props} kv=24.9"))
    dss.Text.Command("clear")
    dss.Text.Command(f'redirect "{path}"')
    dss.Circuit.SetActiveElement(f"{cls}.x")
    expected = list(dss.CktElement.NodeOrder())
    net = load_opendss(path, DiagnosticSink())
    assert net.table(_TABLE[cls]).column("conn").to_pylist()[0] == expected


IEEE37 = DATA3.parents[0] / "opendss" / "ieee" / "37Bus" / "ieee37.dss"


@pytest.fixture(scope="module")
def ieee37():
    return solve_engine(IEEE37)


def _import(path):
    sink = DiagnosticSink()
    net = load_opendss(path, sink)
    assert net is not None, [d.message for d in sink.errors]
    return net


@pytest.mark.parametrize("method", ["newton", "fixed_point"])
def test_ieee37_voltages_match_engine_at_its_taps(ieee37, method):
    net = _import(IEEE37)
    fix_taps(net, ieee37.taps)
    res = solve_unbalanced(net, method=method, regulators="fixed")
    assert res.converged, [d.message for d in res.diagnostics]
    dvm, dva, worst_m, worst_a = compare(res, ieee37)
    assert dvm < 1e-4, f"|V| off by {dvm:.2e} pu at {worst_m}"
    assert dva < 0.05, f"angle off by {dva:.3f} deg at {worst_a}"
    assert res.losses_kw == pytest.approx(ieee37.losses_kva.real, rel=1e-5)
    assert res.losses_kvar == pytest.approx(ieee37.losses_kva.imag, rel=1e-5)


def test_ieee37_control_loop_reaches_engine_taps():
    shipped = solve_engine(IEEE37, tight=False)
    res = solve_unbalanced(_import(IEEE37), regulators="control")
    assert res.converged
    assert res.tap_positions == shipped.tap_positions
    dvm, dva, where, _ = compare(res, shipped)
    assert dvm < 1e-4 and dva < 0.05, where


SERIES_CAP = """clear
new circuit.t basekv=12.47 bus1=src
new line.l1 bus1=src bus2=a r1=0.3 x1=0.9 r0=0.9 x0=2.7 c1=10 c0=5 length=2
new capacitor.sc bus1=a bus2=b kvar=[3000] kv=12.47
new capacitor.sc1 phases=1 bus1=a.2 bus2=b.2 numsteps=2 cuf=[20 10] xl=[0.5]
new line.l2 bus1=b bus2=c r1=0.2 x1=0.6 r0=0.6 x0=1.8 length=3
new load.y bus1=c kw=1500 kvar=700 kv=12.47
new load.d bus1=c.3 phases=1 conn=delta kw=300 kvar=100 kv=12.47 model=2
set voltagebases=[12.47]
calcv
"""


def test_series_capacitor_power_flow_matches_engine(tmp_path):
    """A series bank (and a one-phase one in parallel on phase 2) between two feeder sections."""
    path = tmp_path / "series_cap.dss"
    path.write_text(SERIES_CAP)
    engine = solve_engine(path)
    net = _import(path)
    res = solve_unbalanced(net, regulators="fixed")
    assert res.converged, [d.message for d in res.diagnostics]
    dvm, dva, worst_m, worst_a = compare(res, engine)
    assert dvm < 1e-4 and dva < 0.05, (dvm, worst_m, dva, worst_a)
    assert res.losses_kw == pytest.approx(engine.losses_kva.real, rel=1e-5)

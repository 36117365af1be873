"""`run hostcap` on the Baran-Wu 33-bus feeder, with pandapower's case33bw as the oracle.

For every location the reported capacity is put into pandapower's own
network (`pandapower.networks.case33bw`, an `sgen` at the bus) and solved
with `runpp`: at the capacity every limit must hold, and one step further the
reported binding limit must be broken, with the value we report.  The OPF
method (acp) must agree with the sweep within one step.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.passes import Settings, run_program

CASE = Path(__file__).resolve().parents[2] / "examples" / "hostcap" / "case33bw.m"
LOAD_SCALE = 0.5            # light load: the feeder is within 0.95-1.05 pu without DER
VMAX = 1.05
STEP_MW = 0.05
pytestmark = pytest.mark.slow      # pandapower's first power flow compiles its numba kernels
#: branches given a rating (MVA) in the loading test: the lateral 3-23-24-25
RATED = {(23, 24): 2.0, (24, 25): 2.0}


def _rated_case(folder: Path) -> Path:
    """case33bw with rate_a on the branches of RATED (the shipped case has no ratings)."""
    lines = CASE.read_text().splitlines()
    out = []
    for line in lines:
        cols = line.strip().rstrip(";").split()
        if len(cols) == 13 and cols[0].isdigit() and (int(cols[0]), int(cols[1])) in RATED:
            cols[5] = str(RATED[(int(cols[0]), int(cols[1]))])
            line = "\t" + "\t".join(cols) + ";"
        out.append(line)
    target = folder / "case33bw_rated.m"
    target.write_text("\n".join(out) + "\n")
    return target


def _run(folder: Path, case: Path, body: str) -> tuple[dict, DiagnosticSink]:
    study = folder / "hc.gat"
    study.write_text(f'study hc\nnetwork feeder = matpower("{case}")\n'
                     f"scenario light {{ load_scale = {LOAD_SCALE} }}\n{body}\n")
    sink = DiagnosticSink()
    run_program(study, sink, Settings(quiet=True))
    assert not sink.has_errors, [str(d) for d in sink.errors]
    out = {}
    for run in re.findall(r"run hostcap (\w+)", body):
        summary = pq.read_table(folder / "runs" / "hc" / run / "light" / "hostcap_summary.parquet").to_pandas()
        out[run] = summary.set_index("location")
    return out, sink


def _pandapower(bus: int, p_mw: float) -> "object":
    """pandapower's case33bw at light load with p_mw injected at MATPOWER bus ``bus``."""
    import pandapower as pp
    import pandapower.networks as pn

    net = pn.case33bw()
    net.load[["p_mw", "q_mvar"]] *= LOAD_SCALE
    pp.create_sgen(net, bus - 1, p_mw=p_mw)           # pandapower numbers buses from 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, tolerance_mva=1e-10, init="flat")
    return net


def _line_mva(net: "object", f: int, t: int) -> float:
    line = net.line[(net.line.from_bus == f - 1) & (net.line.to_bus == t - 1)].index[0]
    r = net.res_line.loc[line]
    return max(np.hypot(r.p_from_mw, r.q_from_mvar), np.hypot(r.p_to_mw, r.q_to_mvar))


SWEEP = f"""run hostcap pv on feeder {{
    at = [18, 33, 25, 14]
    step = 50 kW
    limits {{ voltage = 0.95 pu .. 1.05 pu, loading = 100 % }}
    scenarios = [light]
}}"""


def test_sweep_capacity_against_pandapower(tmp_path: Path) -> None:
    summary = _run(tmp_path, CASE, SWEEP)[0]["pv"]
    assert set(summary.index) == {"18", "33", "25", "14"}
    for loc, row in summary.iterrows():
        assert row.binding == "overvoltage"
        assert row.max_mw > 0 and row.binding_at_mw == pytest.approx(row.max_mw + STEP_MW)
        at_cap = _pandapower(int(loc), row.max_mw)
        assert at_cap.res_bus.vm_pu.max() <= VMAX + 1e-9, loc
        beyond = _pandapower(int(loc), row.binding_at_mw)
        vm = beyond.res_bus.vm_pu
        assert vm.max() > VMAX
        # the binding bus is where pandapower sees the highest voltage, with our value
        assert int(vm.idxmax()) + 1 == int(row.binding_element)
        assert row.binding_value == pytest.approx(vm.max(), abs=1e-7)


def test_loading_limit_against_pandapower(tmp_path: Path) -> None:
    body = """run hostcap pv on feeder {
    at = [25]
    step = 50 kW
    limits { voltage = 0.95 pu .. 1.05 pu, loading = 100 % }
    scenarios = [light]
}"""
    summary = _run(tmp_path, _rated_case(tmp_path), body)[0]["pv"]
    row = summary.loc["25"]
    assert row.binding == "overload" and row.binding_unit == "%"
    at_cap = _pandapower(25, row.max_mw)
    beyond = _pandapower(25, row.binding_at_mw)
    loading_cap = {k: _line_mva(at_cap, *k) / r * 100 for k, r in RATED.items()}
    loading_beyond = {k: _line_mva(beyond, *k) / r * 100 for k, r in RATED.items()}
    assert max(loading_cap.values()) <= 100.0
    worst = max(loading_beyond, key=loading_beyond.get)
    assert loading_beyond[worst] > 100.0
    assert row.binding_value == pytest.approx(loading_beyond[worst], rel=1e-6)
    assert at_cap.res_bus.vm_pu.max() <= VMAX       # the voltage limit is not what binds here


def test_opf_agrees_with_sweep_within_one_step(tmp_path: Path) -> None:
    body = SWEEP + """
run hostcap opf on feeder {
    method = opf,
    formulation = acp
    at = [18, 33, 25, 14]
    limits { voltage = 0.95 pu .. 1.05 pu, loading = 100 % }
    scenarios = [light]
}"""
    out, _ = _run(tmp_path, CASE, body)
    sweep, opf = out["pv"], out["opf"]
    for loc in sweep.index:
        assert sweep.loc[loc, "max_mw"] - 1e-6 <= opf.loc[loc, "max_mw"] <= sweep.loc[loc, "max_mw"] + STEP_MW
        assert opf.loc[loc, "binding"] == sweep.loc[loc, "binding"]
        assert opf.loc[loc, "binding_element"] == sweep.loc[loc, "binding_element"]
        assert opf.loc[loc, "binding_value"] == pytest.approx(VMAX, abs=1e-6)   # at its bound
    # and pandapower agrees the OPF's answer is at the limit
    net = _pandapower(18, float(opf.loc["18", "max_mw"]))
    assert net.res_bus.vm_pu.max() == pytest.approx(VMAX, abs=1e-6)


def test_refine_bisects_the_last_step(tmp_path: Path) -> None:
    body = SWEEP.replace("step = 50 kW", "step = 50 kW, refine = true").replace("[18, 33, 25, 14]", "[18]")
    row = _run(tmp_path, CASE, body)[0]["pv"].loc["18"]
    assert row.binding_at_mw - row.max_mw <= STEP_MW / 64 + 1e-12
    assert _pandapower(18, row.max_mw).res_bus.vm_pu.max() <= VMAX + 1e-9
    assert _pandapower(18, row.binding_at_mw).res_bus.vm_pu.max() > VMAX


def test_absorbing_power_factor_against_pandapower(tmp_path: Path) -> None:
    """`pf = -0.95`: the DER absorbs vars (Q = -P tan(acos 0.95)), which raises the capacity."""
    body = SWEEP.replace("step = 50 kW", "step = 50 kW, pf = -0.95").replace("[18, 33, 25, 14]", "[18]")
    row = _run(tmp_path, CASE, body)[0]["pv"].loc["18"]
    assert row.max_mw > 1.45                       # unity power factor: 1.40 MW (test above)
    import pandapower as pp

    q_per_p = -np.tan(np.arccos(0.95))
    for p, within in ((row.max_mw, True), (row.binding_at_mw, False)):
        net = _pandapower(18, 0.0)
        net.sgen.loc[:, ["p_mw", "q_mvar"]] = [p, p * q_per_p]
        pp.runpp(net, tolerance_mva=1e-10, init="flat")
        assert (net.res_bus.vm_pu.max() <= VMAX + 1e-9) == within
    assert row.binding_value == pytest.approx(net.res_bus.vm_pu.max(), abs=1e-7)

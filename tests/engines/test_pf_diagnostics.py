"""Every failure of the balanced power flow is a coded diagnostic with the run's span and a hint."""
from __future__ import annotations

import copy
import dataclasses
import functools
import re
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from gatlang.diagnostics import Span
from gatlang.engines import pf_result
from gatlang.engines.pf_balanced import solve_balanced

from .pf_oracles import cached_case, cached_oracle, pglib_path
from .pf_ppc_case import case_from_ppc, solved_pandapower

SPAN = Span("study.gat", 12, 1, 12, 30)
EXPLAIN = Path(pf_result.__file__).resolve().parents[1] / "explain"
CODES = sorted(v for k, v in vars(pf_result).items() if isinstance(v, str) and re.fullmatch(r"GAT08\d\d", v))


@functools.cache
def feeder():
    return solved_pandapower(pn.case33bw())[0]


def meshed_feeder():
    """case33bw with its five tie switches closed: five loops."""
    net = pn.case33bw()
    net.line["in_service"] = True
    pp.runpp(net)
    return case_from_ppc(net._ppc, "case33bw-meshed")


def only(res, code):
    assert [d.code for d in res.diagnostics] == [code], [d.message for d in res.diagnostics]
    d = res.diagnostics[0]
    assert d.span == SPAN and d.help
    return d


def test_every_code_has_an_explain_page():
    assert len(CODES) >= 10
    for code in CODES:
        page = EXPLAIN / f"{code}.md"
        text = page.read_text()
        assert re.fullmatch(rf"# {code} [a-z0-9]+(-[a-z0-9]+)*", text.splitlines()[0])
        assert "## Example" in text and "## How to fix" in text


def test_non_convergence_names_the_worst_buses():
    res = solve_balanced(feeder(), max_iter=1, tol=1e-12, span=SPAN)
    assert not res.converged
    d = only(res, "GAT0800")
    assert "did not converge in 1 iteration" in d.message
    named = re.findall(r"bus (\d+) \(([0-9.e+-]+) pu\)", d.message)
    assert len(named) == 5
    # worst first, and the worst is the mismatch the result reports
    values = [float(v) for _, v in named]
    assert values == sorted(values, reverse=True)
    assert values[0] == pytest.approx(res.max_mismatch, rel=1e-2)


def test_overloaded_feeder_is_reported_not_returned_silently():
    case = feeder()
    heavy = dataclasses.replace(case, pd=8 * case.pd, qd=8 * case.qd)   # beyond the nose of the PV curve
    for method in ("newton", "sweep", "fast_decoupled_bx"):
        res = solve_balanced(heavy, method=method, span=SPAN)
        assert not res.converged
        assert res.diagnostics[0].code in ("GAT0800", "GAT0801", "GAT0802")
        assert "worst buses: bus " in res.diagnostics[0].message
        assert res.diagnostics[0].span == SPAN and res.diagnostics[0].help


def test_sweep_rejects_a_meshed_network():
    res = solve_balanced(meshed_feeder(), method="sweep", span=SPAN)
    d = only(res, "GAT0803")
    assert "5 loop(s)" in d.message and "branch" in d.message
    assert not res.converged
    assert solve_balanced(meshed_feeder()).converged        # Newton solves the same network


def test_sweep_rejects_pv_buses(shared_data):
    res = solve_balanced(cached_case(pglib_path("case14", shared_data)), method="sweep", span=SPAN)
    d = only(res, "GAT0804")
    assert "bus 2" in d.message


def test_no_slack_bus():
    case = feeder()
    res = solve_balanced(dataclasses.replace(case, bus_type=np.ones(case.n_bus, dtype=np.int8)), span=SPAN)
    only(res, "GAT0807")
    assert not res.converged and np.all(np.isnan(res.vm))


def test_islanded_buses_are_de_energised_like_pandapower(shared_data):
    """case14 without branch 7-8 leaves bus 8 (a PV bus) alone: it is dropped, the rest solved."""
    path = pglib_path("case14", shared_data)
    case = cached_case(path)
    f, t = case.f.astype(np.int64), case.t.astype(np.int64)
    cut = np.flatnonzero((case.bus_id[f] == "7") & (case.bus_id[t] == "8"))
    keep = np.setdiff1d(np.arange(case.n_branch), cut)
    fields = ("branch_id", "f", "t", "r", "x", "b", "rate_a", "tap", "shift", "angmin", "angmax")
    island = dataclasses.replace(case, **{k: getattr(case, k)[keep] for k in fields})
    res = solve_balanced(island, span=SPAN)
    assert res.converged
    d = only(res, "GAT0805")
    assert d.severity.value == "warning" and "bus 8" in d.message
    net = copy.deepcopy(cached_oracle(path).net)
    line = net.trafo.index[(net.trafo.hv_bus == 6) & (net.trafo.lv_bus == 7)].tolist()
    net.trafo.loc[line, "in_service"] = False
    if not line:
        net.line.loc[(net.line.from_bus == 6) & (net.line.to_bus == 7), "in_service"] = False
    pp.runpp(net, tolerance_mva=1e-10)
    alive = case.bus_id != "8"
    v_pp = net.res_bus.vm_pu.to_numpy() * np.exp(1j * np.deg2rad(net.res_bus.va_degree.to_numpy()))
    assert np.isnan(net.res_bus.vm_pu[7]) and res.vm[~alive] == 0
    assert np.max(np.abs(res.v[alive] - v_pp[case.bus_id[alive].astype(int) - 1])) < 1e-6


def test_reference_bus_taken_from_a_pv_bus(shared_data):
    case = cached_case(pglib_path("case14", shared_data))
    no_ref = dataclasses.replace(case, bus_type=np.where(case.bus_type == 3, 2, case.bus_type).astype(np.int8))
    res = solve_balanced(no_ref, span=SPAN)
    assert res.converged
    assert only(res, "GAT0806").severity.value == "warning"
    assert np.max(np.abs(res.v - cached_oracle(pglib_path("case14", shared_data)).voltages(case.bus_id))) < 1e-6


@pytest.mark.parametrize("kwargs", [{"method": "gauss"}, {"init": "warm"}, {"tol": 0.0}, {"max_iter": 0}])
def test_bad_options(kwargs):
    res = solve_balanced(feeder(), span=SPAN, **kwargs)
    only(res, "GAT0808")
    assert not res.converged


def test_zero_impedance_branch():
    case = feeder()
    r, x = case.r.copy(), case.x.copy()
    r[3] = x[3] = 0.0
    d = only(solve_balanced(dataclasses.replace(case, r=r, x=x), span=SPAN), "GAT0810")
    assert f"branch {case.branch_id[3]}" in d.message

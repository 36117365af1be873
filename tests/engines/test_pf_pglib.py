"""Balanced power flow on pglib-opf cases against pandapower's Newton on the same files.

The oracle reads the MATPOWER file independently (tests/engines/pf_mpc_text.py)
and converts it with pandapower's ``from_ppc``; gatlang reads it the user's way,
``from_network(load_matpower(path))``.  Agreement is on the complex bus
voltages (1e-6 pu), the slack injection and the total losses.
"""
from __future__ import annotations

import numpy as np
import pytest

from gatlang.engines.pf_balanced import solve_balanced
from gatlang.network.balanced import PV

from .pf_oracles import cached_case, cached_oracle, pglib_path

CASES = ["case14", "case118", pytest.param("case1354", marks=pytest.mark.slow)]
TOL_V = 1e-6


@pytest.mark.parametrize("name", CASES)
def test_newton_matches_pandapower(name, shared_data):
    path = pglib_path(name, shared_data)
    case, oracle = cached_case(path), cached_oracle(path)
    res = solve_balanced(case, method="newton")
    assert res.converged and not res.diagnostics, [d.message for d in res.diagnostics]
    assert res.max_mismatch <= 1e-8
    assert np.max(np.abs(res.v - oracle.voltages(case.bus_id))) < TOL_V
    net = oracle.net
    # total losses: lines, transformers and impedances (from_ppc makes some branches impedances)
    pp_loss = sum(net[f"res_{t}"].pl_mw.sum() for t in ("line", "trafo", "impedance"))
    assert res.total_losses.real * case.base_mva == pytest.approx(pp_loss, abs=1e-4)
    # the slack generator balances the system: its output equals pandapower's ext_grid
    slack_p = net.res_ext_grid.p_mw.sum()
    ref_gen = np.isin(case.gen_bus, np.flatnonzero(res.bus_type == 3))
    assert res.pg[ref_gen].sum() * case.base_mva == pytest.approx(slack_p, abs=1e-4)
    # every generator's reactive output sums per bus to what pandapower reports at PV buses
    qg_bus = np.bincount(case.gen_bus, weights=res.qg, minlength=case.n_bus) * case.base_mva
    pv_buses = np.flatnonzero(res.bus_type == PV)
    pp_q = net.res_gen.groupby(net.gen.bus).q_mvar.sum()
    pp_idx = case.bus_id[pv_buses].astype(int) - 1
    assert np.allclose(qg_bus[pv_buses], pp_q.reindex(pp_idx).to_numpy(), atol=1e-4)


@pytest.mark.parametrize("name", ["case14", "case118"])
@pytest.mark.parametrize("init", ["case", "dc"])
def test_start_point_does_not_change_the_answer(name, init, shared_data):
    path = pglib_path(name, shared_data)
    case = cached_case(path)
    res = solve_balanced(case, init=init)
    assert res.converged
    assert np.max(np.abs(res.v - cached_oracle(path).voltages(case.bus_id))) < TOL_V


@pytest.mark.parametrize("name", ["case14", "case118", pytest.param("case1354", marks=pytest.mark.slow)])
@pytest.mark.parametrize("method", ["fast_decoupled_xb", "fast_decoupled_bx"])
def test_fast_decoupled_reaches_the_newton_answer(name, method, shared_data):
    path = pglib_path(name, shared_data)
    case = cached_case(path)
    res = solve_balanced(case, method=method, max_iter=100)
    assert res.converged and res.method == method
    assert np.max(np.abs(res.v - cached_oracle(path).voltages(case.bus_id))) < TOL_V
    newton = solve_balanced(case)
    assert np.max(np.abs(res.v - newton.v)) < TOL_V
    assert res.iterations > newton.iterations      # it is a different method, not Newton in disguise


@pytest.mark.parametrize("name", ["case14", "case118", pytest.param("case1354", marks=pytest.mark.slow)])
def test_reactive_limits_match_pandapower(name, shared_data):
    path = pglib_path(name, shared_data)
    case = cached_case(path)
    oracle = cached_oracle(path, enforce_q_lims=True)
    res = solve_balanced(case, enforce_q_limits=True)
    assert res.converged
    assert np.max(np.abs(res.v - oracle.voltages(case.bus_id))) < TOL_V
    # the limits do bind in these cases, so this is not the unconstrained answer again
    assert np.max(np.abs(res.v - cached_oracle(path).voltages(case.bus_id))) > 1e-4
    switched = (case.bus_type == PV) & (res.bus_type == 1)
    assert switched.any()
    assert [d.code for d in res.diagnostics] == ["GAT0809"]
    on = np.isin(case.gen_bus, np.flatnonzero(res.bus_type == PV))
    assert np.all(res.qg[on] <= case.qmax[on] + 1e-6) and np.all(res.qg[on] >= case.qmin[on] - 1e-6)

"""Baran & Wu 33-bus feeder (pandapower ``case33bw``): every method against pandapower's Newton
and against the published figures (losses about 202.7 kW, minimum 0.9131 pu at bus 18)."""
from __future__ import annotations

import functools

import numpy as np
import pandapower.networks as pn
import pytest

from gatlang.engines.pf_balanced import METHODS, solve_balanced

from .pf_ppc_case import solved_pandapower


@functools.cache
def baran_wu():
    """The case pandapower solved (its own ppc) and its voltages."""
    return solved_pandapower(pn.case33bw())


@pytest.mark.parametrize("method", METHODS)
def test_matches_pandapower_newton(method):
    case, v_pp = baran_wu()
    res = solve_balanced(case, method=method, max_iter=100)
    assert res.converged and res.method == method and not res.diagnostics
    assert np.max(np.abs(res.v - v_pp)) < 1e-6


@pytest.mark.parametrize("method", ["newton", "sweep"])
def test_published_baran_wu_figures(method):
    case, _ = baran_wu()
    res = solve_balanced(case, method=method)
    losses_kw = res.total_losses.real * case.base_mva * 1e3
    assert losses_kw == pytest.approx(202.7, abs=0.1)          # Baran & Wu (1989): 202.7 kW
    weakest = int(np.argmin(res.vm))
    assert case.bus_id[weakest] == "17"                        # 0-based: bus 18 of the paper
    assert res.vm[weakest] == pytest.approx(0.9131, abs=1e-4)


def test_sweep_and_newton_agree_on_a_loaded_feeder():
    """At twice the load the feeder is far from flat; the sweep must still reach Newton's point."""
    case, _ = baran_wu()
    heavy = type(case)(**{**case.__dict__, "pd": 2 * case.pd, "qd": 2 * case.qd})
    sweep, newton = solve_balanced(heavy, method="sweep", max_iter=100), solve_balanced(heavy)
    assert sweep.converged and newton.converged
    assert newton.vm.min() < 0.83
    assert np.max(np.abs(sweep.v - newton.v)) < 1e-6


def test_branch_flows_match_pandapower():
    case, _ = baran_wu()
    net = pn.case33bw()
    solved_pandapower(net)
    res = solve_balanced(case, method="sweep")
    on = net.line.in_service.to_numpy()
    # in-service lines keep their order in pandapower's ppc branch table
    assert np.allclose(res.pf * case.base_mva, net.res_line.p_from_mw[on], atol=1e-6)
    assert np.allclose(res.qt * case.base_mva, net.res_line.q_to_mvar[on], atol=1e-6)
    assert np.allclose(res.losses.real * case.base_mva, net.res_line.pl_mw[on], atol=1e-6)


def test_sweep_handles_taps_phase_shift_and_charging():
    """The sweep keeps the full two-port branch model: with an off-nominal, phase-shifting
    transformer and line charging it still reaches Newton's answer (Newton's branch model is
    checked against pandapower's Ybus in test_pf_ybus)."""
    case, _ = baran_wu()
    tap, shift, b = case.tap.copy(), case.shift.copy(), case.b.copy()
    tap[0], shift[0] = 1.025, np.deg2rad(2.0)          # substation transformer at the head
    tap[7] = 0.98                                       # a mid-feeder regulator, fixed tap
    b[:] = 0.02 * case.x                                # some line charging everywhere
    varied = type(case)(**{**case.__dict__, "tap": tap, "shift": shift, "b": b})
    sweep, newton = solve_balanced(varied, method="sweep"), solve_balanced(varied)
    assert sweep.converged and newton.converged
    assert np.max(np.abs(newton.v - baran_wu()[1])) > 1e-3         # the changes do matter
    assert np.max(np.abs(sweep.v - newton.v)) < 1e-6

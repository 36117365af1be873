"""The deletion filter's time budget, explicit problem classes and the `verbose` option."""
from __future__ import annotations

import pyomo.environ as pe
import pytest

import backend_models as bm
from gatlang.backends.iis import deletion_filter
from gatlang.backends.solvers import _feasibility_check, solve
from gatlang.backends.solver_types import ProblemClass as PC, SolveStatus as S


def test_deletion_filter_finds_the_pair_and_degrades_gracefully_without_time():
    m = bm.infeasible_balance_lp()
    check = _feasibility_check(PC.LP, "highs")
    full = deletion_filter(m, check, time_budget=30.0)
    assert sorted(full.constraints) == ["balance[3]", "limit[3]"] and full.minimal
    cut = deletion_filter(m, check, time_budget=0.0)
    # out of time at once: every row is still listed, and the set is flagged as not minimal
    assert len(cut.constraints) == 8 and not cut.minimal
    assert all(c.active for c in m.component_data_objects(pe.Constraint))


def test_deletion_filter_on_a_feasible_model_finds_nothing():
    assert deletion_filter(bm.wyndor_lp(), _feasibility_check(PC.LP, "highs")) is None


def test_socp_given_by_the_caller_goes_to_ipopt():
    r = solve(bm.disc_qcp(), problem_class=PC.SOCP)
    assert (r.problem_class, r.solver, r.status) == (PC.SOCP, "ipopt", S.LOCALLY_OPTIMAL)
    assert r.objective == pytest.approx(-2.0, abs=1e-6)


@pytest.mark.parametrize("verbose, shown", [(True, True), (False, False)])
def test_verbose_option_shows_the_solver_log(capfd, verbose, shown):
    r = solve(bm.wyndor_lp(), options={"verbose": verbose})
    out = capfd.readouterr().out
    assert r.status is S.OPTIMAL and ("HiGHS" in out) is shown
    assert "verbose" not in r.options

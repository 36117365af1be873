"""solve() on one tiny model per problem class, checked against optima known from the mathematics."""
from __future__ import annotations

import pyomo.environ as pe
import pytest

import backend_models as bm
from gatlang.backends.solvers import solve
from gatlang.backends.solver_types import ProblemClass as PC, SolveStatus as S


def test_lp_goes_to_highs_and_loads_values():
    m = bm.wyndor_lp()
    r = solve(m)
    assert (r.problem_class, r.solver, r.status) == (PC.LP, "highs", S.OPTIMAL)
    assert r.objective == pytest.approx(36.0, abs=1e-7)
    assert (pe.value(m.x), pe.value(m.y)) == pytest.approx((2.0, 6.0), abs=1e-7)
    assert r.has_solution and r.ok and not r.warnings


def test_qp_goes_to_highs():
    m = bm.projection_qp()
    r = solve(m)
    assert (r.problem_class, r.solver, r.status) == (PC.QP, "highs", S.OPTIMAL)
    assert r.objective == pytest.approx(2.0, abs=1e-6)
    assert (pe.value(m.x), pe.value(m.y)) == pytest.approx((0.0, 1.0), abs=1e-5)


def test_milp_goes_to_highs_and_beats_rounding_the_relaxation():
    m = bm.integer_milp()
    r = solve(m, options={"mip_gap": 0.0})
    assert (r.problem_class, r.solver, r.status) == (PC.MILP, "highs", S.OPTIMAL)
    assert r.objective == pytest.approx(20.0, abs=1e-9)
    assert (round(pe.value(m.x)), round(pe.value(m.y))) == (4, 0)
    assert r.options["mip_rel_gap"] == 0.0


def test_miqp_goes_to_scip():
    m = bm.nearest_integer_miqp()
    r = solve(m)
    assert (r.problem_class, r.solver, r.status) == (PC.MIQP, "scip", S.OPTIMAL)
    assert r.objective == pytest.approx(0.32, abs=1e-6)
    assert (round(pe.value(m.x)), round(pe.value(m.y))) == (3, 1)


def test_nlp_rosenbrock_goes_to_ipopt_and_is_only_locally_optimal():
    m = bm.rosenbrock()
    r = solve(m)
    assert (r.problem_class, r.solver, r.status) == (PC.NLP, "ipopt", S.LOCALLY_OPTIMAL)
    assert r.ok and r.objective == pytest.approx(0.0, abs=1e-10)
    assert (pe.value(m.x), pe.value(m.y)) == pytest.approx((1.0, 1.0), abs=1e-5)
    assert r.iterations and r.iterations > 5


def test_qcp_goes_to_ipopt():
    m = bm.disc_qcp()
    r = solve(m)
    assert (r.problem_class, r.solver, r.status) == (PC.QCP, "ipopt", S.LOCALLY_OPTIMAL)
    assert r.objective == pytest.approx(-2.0, abs=1e-6)
    assert (pe.value(m.x), pe.value(m.y)) == pytest.approx((-1.0, -1.0), abs=1e-5)


def test_minlp_goes_to_scip_with_a_global_answer():
    m = bm.small_minlp()
    r = solve(m)
    assert (r.problem_class, r.solver, r.status) == (PC.MINLP, "scip", S.OPTIMAL)
    assert r.objective == pytest.approx(0.0656, abs=1e-5)
    assert round(pe.value(m.n)) == 2 and pe.value(m.y) == pytest.approx(1.8, abs=1e-4)


def test_explicit_solver_and_recorded_options():
    m = bm.wyndor_lp()
    r = solve(m, solver="SCIP_direct", options={"tolerance": 1e-8}, time_limit=30)
    assert r.solver == "scip" and r.status is S.OPTIMAL
    assert r.objective == pytest.approx(36.0, abs=1e-6)
    assert r.options == {"numerics/feastol": 1e-8, "limits/time": 30.0}
    assert r.to_dict()["solver"]["options"] == r.options


def test_highs_options_really_passed():
    r = solve(bm.wyndor_lp(), options={"threads": 1, "max_iter": 100, "presolve": "off"})
    assert r.status is S.OPTIMAL
    assert r.options == {"threads": 1, "simplex_iteration_limit": 100, "ipm_iteration_limit": 100,
                         "qp_iteration_limit": 100, "presolve": "off"}


def test_milp_warm_start_keeps_the_optimum():
    m = bm.integer_milp()
    m.x.value, m.y.value = 3, 1  # feasible, objective 19
    r = solve(m, warm_start=True)
    assert r.status is S.OPTIMAL and r.objective == pytest.approx(20.0)


def test_threads_option_can_change_between_solves():
    """HiGHS keeps one thread pool per process; a different `threads` later must still solve."""
    for threads in (None, 2, None, 1, 2):
        r = solve(bm.wyndor_lp(), options={} if threads is None else {"threads": threads})
        assert r.status is S.OPTIMAL and r.objective == pytest.approx(36.0)

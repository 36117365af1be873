"""Independent solvers agree on the same model: HiGHS vs Ipopt on a QP, all three on an LP.

The solvers are outside oracles for each other: different algorithms (active
set / simplex, interior point, branch and bound with SoPlex) written by
different teams.  The random data is seeded, so the test is deterministic.
"""
from __future__ import annotations

import numpy as np
import pyomo.environ as pe
import pytest

from gatlang.backends.solvers import solve
from gatlang.backends.solver_types import ProblemClass as PC


def _random_qp(n: int = 30, m: int = 20, seed: int = 7) -> pe.ConcreteModel:
    """Strictly convex QP (Q = M'M + I) with random inequality rows and box bounds: one optimum."""
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(n, n))
    Q = M.T @ M + np.eye(n)
    c = rng.normal(size=n) * 10
    A = rng.normal(size=(m, n))
    b = rng.uniform(1, 5, size=m)
    mdl = pe.ConcreteModel()
    mdl.I = pe.RangeSet(0, n - 1)
    mdl.R = pe.RangeSet(0, m - 1)
    mdl.x = pe.Var(mdl.I, bounds=(-10, 10), initialize=0.0)
    mdl.row = pe.Constraint(mdl.R, rule=lambda mm, r: sum(A[r, j] * mm.x[j] for j in mm.I) <= b[r])
    mdl.obj = pe.Objective(expr=0.5 * sum(Q[i, j] * mdl.x[i] * mdl.x[j] for i in mdl.I for j in mdl.I)
                           + sum(c[i] * mdl.x[i] for i in mdl.I))
    return mdl


def _transport_lp() -> pe.ConcreteModel:
    """Classic 2-plant, 3-market transportation LP (GAMS model library 'trnsport'): optimum 153.675."""
    supply = {"seattle": 350, "san-diego": 600}
    demand = {"new-york": 325, "chicago": 300, "topeka": 275}
    dist = {("seattle", "new-york"): 2.5, ("seattle", "chicago"): 1.7, ("seattle", "topeka"): 1.8,
            ("san-diego", "new-york"): 2.5, ("san-diego", "chicago"): 1.8, ("san-diego", "topeka"): 1.4}
    m = pe.ConcreteModel()
    m.P = pe.Set(initialize=list(supply))
    m.K = pe.Set(initialize=list(demand))
    m.ship = pe.Var(m.P, m.K, bounds=(0, None))
    m.supply = pe.Constraint(m.P, rule=lambda m, p: sum(m.ship[p, k] for k in m.K) <= supply[p])
    m.demand = pe.Constraint(m.K, rule=lambda m, k: sum(m.ship[p, k] for p in m.P) >= demand[k])
    m.cost = pe.Objective(expr=sum(90 * dist[p, k] / 1000 * m.ship[p, k] for p in m.P for k in m.K))
    return m


def test_highs_and_ipopt_agree_on_a_convex_qp():
    a, b = _random_qp(), _random_qp()
    ra, rb = solve(a, solver="highs"), solve(b, solver="ipopt")
    assert ra.problem_class is PC.QP and ra.ok and rb.ok
    assert ra.objective == pytest.approx(rb.objective, rel=1e-6)
    xa = np.array([pe.value(a.x[i]) for i in a.I])
    xb = np.array([pe.value(b.x[i]) for i in b.I])
    assert np.max(np.abs(xa - xb)) < 1e-4


@pytest.mark.parametrize("solver", ["highs", "scip", "ipopt"])
def test_transport_lp_published_optimum(solver):
    r = solve(_transport_lp(), solver=solver)
    assert r.ok and r.objective == pytest.approx(153.675, rel=1e-6)

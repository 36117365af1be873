"""gatlang's direct highspy loader: every expression shape the compiler may emit reaches HiGHS intact.

Oracles are hand-solved optima; the loader is also checked against the
matrix HiGHS reports back (getLp), entry by entry, for one small model.
"""
from __future__ import annotations

import highspy
import numpy as np
import pyomo.environ as pe
import pytest

from gatlang.backends.highs_direct import NotLinearError, load
from gatlang.backends.solvers import solve


def _dense(a, n_row: int, n_col: int) -> np.ndarray:
    """HiGHS's sparse matrix (row- or column-wise) as a dense array."""
    out = np.zeros((n_row, n_col))
    rowwise = a.format_ == highspy.MatrixFormat.kRowwise
    for outer in range(n_row if rowwise else n_col):
        for k in range(a.start_[outer], a.start_[outer + 1]):
            r, c = (outer, a.index_[k]) if rowwise else (a.index_[k], outer)
            out[r, c] = a.value_[k]
    return out


def test_matrix_rows_bounds_and_costs_as_written():
    m = pe.ConcreteModel()
    m.x = pe.Var(bounds=(0, 4))
    m.y = pe.Var(bounds=(-1, None))
    m.k = pe.Param(initialize=3.0, mutable=True)
    m.z = pe.Var(initialize=2.0)
    m.z.fix()
    m.r1 = pe.Constraint(expr=m.k * m.x + 2 * m.y + 1 <= 10)           # LinearExpression with a constant
    m.r2 = pe.Constraint(expr=(1, 2 * (m.x - m.y) + m.z, 5))           # ranged, non-LinearExpression body
    m.obj = pe.Objective(expr=m.x - m.y + 7)
    inst = load(m)
    lp = inst.highs.getLp()
    names = [v.name for v in inst.variables]
    assert names == ["x", "y"]  # the fixed z is folded into the row constants
    A = _dense(lp.a_matrix_, 2, 2)
    assert A.tolist() == [[3.0, 2.0], [2.0, -2.0]]
    assert list(lp.row_lower_) == [-np.inf, -1.0] and list(lp.row_upper_) == [9.0, 3.0]
    assert list(lp.col_cost_) == [1.0, -1.0] and lp.offset_ == 7.0
    assert list(lp.col_lower_) == [0.0, -1.0] and list(lp.col_upper_) == [4.0, np.inf]


def test_objective_constant_maximisation_and_values():
    """max 2x + y + 5, x + y <= 3, x <= 2: optimum x = 2, y = 1, objective 10."""
    m = pe.ConcreteModel()
    m.x = pe.Var(bounds=(0, 2))
    m.y = pe.Var(bounds=(0, None))
    m.c = pe.Constraint(expr=m.x + m.y <= 3)
    m.obj = pe.Objective(expr=2 * m.x + m.y + 5, sense=pe.maximize)
    r = solve(m)
    assert r.objective == pytest.approx(10.0) and (m.x.value, m.y.value) == pytest.approx((2.0, 1.0))
    assert set(r.timings) == {"handoff", "solve", "load"}


def test_qp_with_cross_term():
    """min x^2 + xy + y^2 - 3x: gradient 2x + y = 3, x + 2y = 0 -> x = 2, y = -1, objective -3."""
    m = pe.ConcreteModel()
    m.x = pe.Var()
    m.y = pe.Var()
    m.obj = pe.Objective(expr=m.x ** 2 + m.x * m.y + m.y ** 2 - 3 * m.x)
    r = solve(m)
    assert r.objective == pytest.approx(-3.0, abs=1e-7)
    assert (m.x.value, m.y.value) == pytest.approx((2.0, -1.0), abs=1e-5)


def test_binary_and_empty_constraint_set():
    """min -x - 2b with b binary and x in [0, 1.5]: x = 1.5, b = 1, objective -3.5."""
    m = pe.ConcreteModel()
    m.x = pe.Var(bounds=(0, 1.5))
    m.b = pe.Var(domain=pe.Binary)
    m.obj = pe.Objective(expr=-m.x - 2 * m.b)
    r = solve(m)
    assert r.objective == pytest.approx(-3.5) and round(m.b.value) == 1


def test_quadratic_row_is_refused():
    m = pe.ConcreteModel()
    m.x = pe.Var()
    m.c = pe.Constraint(expr=m.x ** 2 <= 1)
    with pytest.raises(NotLinearError):
        load(m)

"""The array route (compiler IR -> HiGHS without Pyomo), checked against hand-solved optima."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from gatlang.backends.matrix import MatrixProgram, solve_matrix
from gatlang.backends.solver_types import ProblemClass as PC, SolveStatus as S

INF = np.inf


def _wyndor(**kw) -> MatrixProgram:
    """max 3x + 5y; x <= 4, 2y <= 12, 3x + 2y <= 18; x, y >= 0 -> (2, 6), 36."""
    A = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 2.0]]))
    return MatrixProgram(cost=np.array([3.0, 5.0]), A=A, row_lower=np.full(3, -INF),
                         row_upper=np.array([4.0, 12.0, 18.0]), col_lower=np.zeros(2),
                         col_upper=np.full(2, INF), maximize=True, **kw)


def test_lp_optimum_and_arrays():
    r = solve_matrix(_wyndor())
    assert (r.status, r.problem_class) == (S.OPTIMAL, PC.LP)
    assert r.objective == pytest.approx(36.0) and r.x == pytest.approx([2.0, 6.0])
    assert r.row_activity == pytest.approx([2.0, 12.0, 18.0])
    # textbook shadow prices of Wyndor: 0, 1.5, 1 (sign convention of a maximisation in HiGHS)
    assert np.abs(r.row_dual) == pytest.approx([0.0, 1.5, 1.0])


def test_milp_and_offset():
    """max 5x + 4y + 1, 6x + 4y <= 24, x + 2y <= 6, integers -> (4, 0), 21."""
    A = sp.csr_matrix(np.array([[6.0, 4.0], [1.0, 2.0]]))
    prog = MatrixProgram(cost=np.array([5.0, 4.0]), A=A, row_lower=np.full(2, -INF),
                         row_upper=np.array([24.0, 6.0]), col_lower=np.zeros(2), col_upper=np.full(2, INF),
                         integer=np.array([True, True]), maximize=True, offset=1.0)
    r = solve_matrix(prog, options={"mip_gap": 0.0})
    assert (r.status, r.problem_class) == (S.OPTIMAL, PC.MILP)
    assert r.objective == pytest.approx(21.0) and np.round(r.x).tolist() == [4.0, 0.0]


def test_qp_projection():
    """min (x-1)^2 + (y-2)^2 = x^2 + y^2 - 2x - 4y + 5 on x + y <= 1 -> (0, 1), 2."""
    prog = MatrixProgram(cost=np.array([-2.0, -4.0]), A=sp.csr_matrix(np.ones((1, 2))),
                         row_lower=np.array([-INF]), row_upper=np.array([1.0]), col_lower=np.full(2, -INF),
                         col_upper=np.full(2, INF), Q=sp.csr_matrix(2.0 * np.eye(2)), offset=5.0)
    r = solve_matrix(prog)
    assert (r.status, r.problem_class) == (S.OPTIMAL, PC.QP)
    assert r.objective == pytest.approx(2.0, abs=1e-7) and r.x == pytest.approx([0.0, 1.0], abs=1e-5)


def _balance_limit() -> MatrixProgram:
    """x[i] >= i (balance[i]) and x[i] <= 9, except limit[3]: x[3] <= 2 -> only balance[3], limit[3] clash."""
    n = 4
    A = sp.vstack([sp.eye(n), sp.eye(n)]).tocsr()
    names = [f"balance[{i}]" for i in range(1, n + 1)] + [f"limit[{i}]" for i in range(1, n + 1)]
    return MatrixProgram(cost=np.ones(n), A=A,
                         row_lower=np.r_[np.arange(1.0, n + 1), np.full(n, -INF)],
                         row_upper=np.r_[np.full(n, INF), [9.0, 9.0, 2.0, 9.0]],
                         col_lower=np.zeros(n), col_upper=np.full(n, 10.0),
                         row_name=names.__getitem__, col_name=lambda j: f"x[{j + 1}]")


def test_infeasible_rows_named_by_the_caller():
    r = solve_matrix(_balance_limit())
    assert r.status is S.INFEASIBLE and r.x is None
    assert sorted(r.conflicting_constraints) == ["balance[3]", "limit[3]"] and r.conflict_is_minimal
    assert r.diagnostic().code == "GAT0602"


def test_bound_in_the_conflict_is_named():
    prog = _balance_limit()
    prog.row_upper[6] = 9.0      # limit[3] relaxed ...
    prog.col_upper[2] = 2.5      # ... but x[3] <= 2.5 still clashes with balance[3]
    r = solve_matrix(prog)
    assert r.conflicting_constraints == ["balance[3]"] and r.conflicting_bounds == ["x[3] <= 2.5"]


def test_nan_is_reported_by_name_before_solving():
    prog = _balance_limit()
    prog.A = prog.A.tolil()
    prog.A[5, 1] = np.nan
    prog.A = prog.A.tocsr()
    prog.cost[3] = np.nan
    r = solve_matrix(prog)
    assert r.status is S.ERROR and r.errors[0].code == "GAT0616"
    assert "`limit[2]`, `x[4]`" in r.errors[0].notes[0]


def test_options_checked_and_miqp_refused():
    r = solve_matrix(_wyndor(), options={"presolv": "off"})
    assert r.errors[0].code == "GAT0607" and "`presolve`" in r.errors[0].help
    miqp = MatrixProgram(cost=np.zeros(1), A=sp.csr_matrix((0, 1)), row_lower=np.zeros(0), row_upper=np.zeros(0),
                         col_lower=np.array([-5.0]), col_upper=np.array([5.0]), integer=np.array([True]),
                         Q=sp.csr_matrix(np.eye(1)))
    r = solve_matrix(miqp)
    assert r.status is S.ERROR and r.errors[0].code == "GAT0610"


def test_shape_mismatch_is_a_programming_error():
    prog = _wyndor()
    prog.cost = np.ones(3)
    with pytest.raises(ValueError, match="cost"):
        solve_matrix(prog)

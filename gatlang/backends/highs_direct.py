"""Direct hand-off of a linear or quadratic Pyomo model to highspy, in bulk.

Why not Pyomo's own HiGHS interfaces: on large LPs the hand-off, not the
solve, dominates (DESIGN.md: 320k rows, persistent interface 47 s, LP file
14 s, the same matrix straight into highspy 2.7 s).  The persistent
interfaces (``appsi_highs``, ``pyomo.contrib.solver`` 'highs') build
per-variable and per-constraint bookkeeping for incremental updates that a
one-shot solve never uses, and they hand rows to HiGHS one call at a time.
The LP writer is faster but then formats and re-parses text.

This loader instead reads each row once and collects the matrix in flat
Python lists that become numpy arrays handed to HiGHS in a single
``addCols`` / ``addRows`` call each (CSR, duplicates summed by scipy).
Linear row bodies are read by :mod:`.linear_walk` (a class-dispatch walk,
several times cheaper than Pyomo's visitors); any other body goes through
``generate_standard_repn``.  The objective (a single expression, possibly
quadratic) always goes through ``generate_standard_repn``.

Measured with ``benchmarks/handoff_lp.py --rows 100000 --handoff-only`` (a
DC-OPF LP, 45k buses, 100k rows, on the shared 2-core machine; timings vary
by 2-3x with the machine's load, the ordering does not): this loader 1.0 s
(including everything :func:`~gatlang.backends.solvers.solve` does around
it), Pyomo's LP writer + ``Highs.readModel`` 11.1 s, ``pyomo.contrib.solver``
'highs' 31.2 s, APPSI 'highs' 35.3 s; the same matrix built from numpy arrays
straight into highspy 0.04 s.  The remaining gap to numpy is the cost of
touching ~100k Pyomo row objects in Python at all; :mod:`.matrix` closes it
for callers that hold the model as arrays (the compiler's IR).

The :class:`HighsInstance` keeps the column -> variable and row ->
constraint maps, which the infeasibility explanation (:mod:`.iis`) uses to
name HiGHS's IIS rows in the user's words.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import solver_env  # noqa: F401  (before Pyomo)
from .linear_walk import linear_row, linear_terms
from .solver_types import ProblemClass

import highspy
import pyomo.environ as pe
from pyomo.repn.standard_repn import generate_standard_repn

_INF = highspy.kHighsInf


class NotLinearError(ValueError):
    """A constraint body HiGHS cannot take (quadratic or nonlinear)."""


@dataclass
class HighsInstance:
    """A model loaded into HiGHS with the maps back to the Pyomo components."""

    highs: highspy.Highs
    variables: list[Any]      # column j -> VarData
    constraints: list[Any]    # row i -> ConstraintData
    objective_offset: float
    discrete: int = 0         # number of integer or binary columns

    @property
    def problem_class(self) -> ProblemClass:
        """LP, QP, MILP or MIQP, read off what was loaded (rows are linear by construction)."""
        integer = bool(self.discrete)
        if self.highs.getModel().hessian_.dim_:
            return ProblemClass.MIQP if integer else ProblemClass.QP
        return ProblemClass.MILP if integer else ProblemClass.LP

    def load_values(self) -> None:
        """Copy HiGHS's primal values into the Pyomo variables (no validation: one pass)."""
        values = self.highs.getSolution().col_value
        for v, x in zip(self.variables, values):
            v.set_value(x, skip_validation=True)

    def set_start(self) -> bool:
        """Hand the variables' current values to HiGHS as a start; False when none has a value."""
        have = [(j, v.value) for j, v in enumerate(self.variables) if v.value is not None]
        if not have:
            return False
        idx = np.fromiter((j for j, _ in have), dtype=np.int32, count=len(have))
        val = np.fromiter((x for _, x in have), dtype=np.float64, count=len(have))
        return self.highs.setSolution(len(have), idx, val) == highspy.HighsStatus.kOk


class _Columns:
    """Variable -> column numbering, created on first sight."""

    def __init__(self) -> None:
        self.index: dict[int, int] = {}
        self.vars: list[Any] = []

    def __call__(self, v: Any) -> int:
        j = self.index.get(id(v))
        if j is None:
            j = self.index[id(v)] = len(self.vars)
            self.vars.append(v)
        return j


def _row_terms(body: Any) -> tuple[list, list, float]:
    """One row's variables, coefficients and constant part."""
    lin = linear_terms(body)
    if lin is not None:
        return lin
    repn = generate_standard_repn(body, compute_values=True, quadratic=False)
    if repn.nonlinear_expr is not None or repn.quadratic_vars:
        raise NotLinearError(body)
    return list(repn.linear_vars), list(repn.linear_coefs), float(repn.constant)


def _row(con: Any) -> tuple[list, list, float, float]:
    """One row: variables, coefficients, lower and upper bound (+-inf when absent).

    The relation is read directly when it is linear (:func:`.linear_walk.linear_row`);
    otherwise Pyomo brings it to ``lb <= body <= ub`` first.
    """
    row = linear_row(con.expr)
    if row is not None:
        variables, coefs, lb, ub = row
        return variables, coefs, -_INF if lb is None else lb, _INF if ub is None else ub
    lb, body, ub = con.to_bounded_expression(True)  # one call: .body/.lb/.ub would each redo it
    variables, coefs, const = _row_terms(body)
    return variables, coefs, -_INF if lb is None else lb - const, _INF if ub is None else ub - const


def _objective(model: Any, col: _Columns) -> tuple[int, dict[int, float], list[tuple[int, int, float]], float]:
    """(sense, linear costs by column, quadratic terms (i, j, coef), constant)."""
    objs = list(model.component_data_objects(pe.Objective, active=True))
    if not objs:
        return 1, {}, [], 0.0
    if len(objs) > 1:
        raise ValueError(f"{len(objs)} active objectives; HiGHS takes one")
    obj = objs[0]
    repn = generate_standard_repn(obj.expr, compute_values=True, quadratic=True)
    if repn.nonlinear_expr is not None:
        raise NotLinearError(obj.expr)
    lin: dict[int, float] = {}
    for v, c in zip(repn.linear_vars, repn.linear_coefs):
        j = col(v)
        lin[j] = lin.get(j, 0.0) + c
    quad = [(col(a), col(b), c) for (a, b), c in zip(repn.quadratic_vars, repn.quadratic_coefs)]
    return (1 if obj.sense == pe.minimize else -1), lin, quad, float(repn.constant)


def _hessian(n: int, quad: list[tuple[int, int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower-triangular CSC Hessian Q with objective term 0.5 x'Qx equal to sum c * x_i * x_j."""
    i = np.array([max(a, b) for a, b, _ in quad], dtype=np.int64)
    j = np.array([min(a, b) for a, b, _ in quad], dtype=np.int64)
    c = np.array([q for _, _, q in quad], dtype=np.float64)
    c = np.where(i == j, 2.0 * c, c)  # c*x_i^2 = 0.5*(2c)*x_i^2; c*x_i*x_j = 0.5*(c x_i x_j + c x_j x_i)
    H = sp.csc_matrix((c, (i, j)), shape=(n, n))
    H.sum_duplicates()
    return H.indptr.astype(np.int32), H.indices.astype(np.int32), H.data


def load(model: Any, highs: highspy.Highs | None = None) -> HighsInstance:
    """Read ``model``'s active rows and objective into a fresh (or given) Highs object.

    Raises :class:`NotLinearError` for a quadratic or nonlinear row (HiGHS
    solves LP, convex QP and MILP only) and for a nonlinear objective.
    """
    h = highs or highspy.Highs()
    h.setOptionValue("output_flag", False)  # before any call: HiGHS prints its banner otherwise
    col = _Columns()
    cons = list(model.component_data_objects(pe.Constraint, active=True))
    n_row = len(cons)
    lo = np.empty(n_row)
    hi = np.empty(n_row)
    counts = np.zeros(n_row, dtype=np.int64)
    cols: list[int] = []
    vals: list[float] = []
    for r, con in enumerate(cons):
        variables, coefs, lo[r], hi[r] = _row(con)
        cols.extend(map(col, variables))
        vals.extend(coefs)
        counts[r] = len(coefs)
    # CSR through scipy: sums a variable repeated within a row (HiGHS rejects duplicates).
    A = sp.csr_matrix((np.asarray(vals, dtype=np.float64),
                       (np.repeat(np.arange(n_row), counts), np.asarray(cols, dtype=np.int64))),
                      shape=(n_row, len(col.vars)))
    A.eliminate_zeros()
    sense, lin, quad, offset = _objective(model, col)
    n = len(col.vars)
    cost = np.zeros(n)
    if lin:
        cost[np.fromiter(lin.keys(), dtype=np.int64)] = np.fromiter(lin.values(), dtype=np.float64)
    # One .bounds call per variable (.lb and .ub each resolve the domain again); None -> -inf/+inf.
    bounds = np.array([v.bounds for v in col.vars], dtype=np.float64).reshape(n, 2)
    lb_col = np.nan_to_num(bounds[:, 0], nan=-_INF)
    ub_col = np.nan_to_num(bounds[:, 1], nan=_INF)
    fixed = np.array([v.fixed for v in col.vars], dtype=bool)
    if fixed.any():  # a fixed variable met in the objective only (rows fold them into constants)
        vals = np.array([v.value if v.fixed else 0.0 for v in col.vars])
        lb_col[fixed] = ub_col[fixed] = vals[fixed]
    empty_i = np.array([], dtype=np.int32)
    h.addCols(n, cost, lb_col, ub_col, 0, empty_i, empty_i, np.array([], dtype=np.float64))
    if n_row:
        h.addRows(n_row, lo, hi, A.nnz, A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32), A.data)
    discrete = np.array([j for j, v in enumerate(col.vars) if not v.is_continuous()], dtype=np.int32)
    if len(discrete):
        h.changeColsIntegrality(len(discrete), discrete,
                                np.full(len(discrete), int(highspy.HighsVarType.kInteger), dtype=np.uint8))
    if quad:
        q_start, q_index, q_value = _hessian(n, quad)
        h.passHessian(n, len(q_value), int(highspy.HessianFormat.kTriangular), q_start, q_index, q_value)
    if sense < 0:
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.changeObjectiveOffset(offset)
    return HighsInstance(h, col.vars, cons, offset, len(discrete))

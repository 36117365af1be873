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
``addCols`` / ``addRows`` call each (CSR).  Row bodies the compiler emits
are :class:`LinearExpression` nodes whose arguments are monomials, so the
common case is read straight off the node's arguments without Pyomo's
expression visitors; any other body goes through
``generate_standard_repn``.  The objective (a single expression, possibly
quadratic) always goes through ``generate_standard_repn``.  See
``benchmarks/handoff_lp.py`` for the measured ratios.

The :class:`HighsInstance` keeps the column -> variable and row ->
constraint maps, which the infeasibility explanation (:mod:`.iis`) uses to
name HiGHS's IIS rows in the user's words.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import solver_env  # noqa: F401  (before Pyomo)

import highspy
import pyomo.environ as pe
from pyomo.common.numeric_types import native_numeric_types
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression
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


def _row_terms(body: Any, col: _Columns, idx: list[int], val: list[float]) -> float:
    """Append one row's (column, coefficient) pairs; return the body's constant part."""
    if body.__class__ is LinearExpression:
        const = 0.0
        for arg in body.args:
            cls = arg.__class__
            if cls is MonomialTermExpression:
                coef, v = arg.args
                coef = coef if coef.__class__ in native_numeric_types else pe.value(coef)
            elif cls in native_numeric_types:
                const += arg
                continue
            elif arg.is_variable_type():
                coef, v = 1.0, arg
            else:
                const += pe.value(arg)  # a fixed sub-expression (parameters only)
                continue
            if v.fixed:
                const += coef * v.value
            else:
                idx.append(col(v))
                val.append(coef)
        return const
    repn = generate_standard_repn(body, compute_values=True, quadratic=False)
    if repn.nonlinear_expr is not None or repn.quadratic_vars:
        raise NotLinearError(body)
    for v, c in zip(repn.linear_vars, repn.linear_coefs):
        idx.append(col(v))
        val.append(c)
    return float(repn.constant)


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
    import scipy.sparse as sp

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
    col = _Columns()
    cons = list(model.component_data_objects(pe.Constraint, active=True))
    starts = np.zeros(len(cons) + 1, dtype=np.int32)
    lo = np.empty(len(cons))
    hi = np.empty(len(cons))
    idx: list[int] = []
    val: list[float] = []
    for r, con in enumerate(cons):
        const = _row_terms(con.body, col, idx, val)
        starts[r + 1] = len(idx)
        lb, ub = con.lb, con.ub
        lo[r] = -_INF if lb is None else lb - const
        hi[r] = _INF if ub is None else ub - const
    sense, lin, quad, offset = _objective(model, col)
    n = len(col.vars)
    cost = np.zeros(n)
    if lin:
        cost[np.fromiter(lin.keys(), dtype=np.int64)] = np.fromiter(lin.values(), dtype=np.float64)
    lb_col = np.array([-_INF if v.lb is None else v.lb for v in col.vars], dtype=np.float64)
    ub_col = np.array([_INF if v.ub is None else v.ub for v in col.vars], dtype=np.float64)
    fixed = np.array([v.fixed for v in col.vars], dtype=bool)
    if fixed.any():  # a fixed variable met in the objective only (rows fold them into constants)
        vals = np.array([v.value if v.fixed else 0.0 for v in col.vars])
        lb_col[fixed] = ub_col[fixed] = vals[fixed]
    empty_i = np.array([], dtype=np.int32)
    h.addCols(n, cost, lb_col, ub_col, 0, empty_i, empty_i, np.array([], dtype=np.float64))
    if cons:
        h.addRows(len(cons), lo, hi, len(idx), starts[:-1].copy(), np.asarray(idx, dtype=np.int32),
                  np.asarray(val, dtype=np.float64))
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
    return HighsInstance(h, col.vars, cons, offset)

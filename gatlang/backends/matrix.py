"""The direct path for big LP/QP/MILP: arrays from the compiler's IR straight into HiGHS, no Pyomo.

Why: even gatlang's own Pyomo loader (:mod:`.highs_direct`) spends ~1 s per
100k rows touching Pyomo objects, while the same matrix built from numpy
index arrays reaches HiGHS in a few hundredths of a second
(``benchmarks/handoff_lp.py``).  DESIGN.md asks for such a path "from the
same IR": the compiler assembles a :class:`MatrixProgram` from the index
arrays it prepared per network, and :func:`solve_matrix` gives back the same
:class:`~.solver_types.SolveResult` as :func:`.solvers.solve` (statuses,
option mapping and checks, coded diagnostics, IIS in the user's row names),
plus the solution as arrays.

Rows and columns are named lazily through ``row_name`` / ``col_name``
callables (index -> ``.gat`` name): names are only needed for a conflict
report, so none is built for a successful solve.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import scipy.sparse as sp

from ..diagnostics import error
from .iis import iis_of_loaded
from .solver_adapters import RawOutcome, run_loaded_highs
from .solver_messages import nonconvex_qp
from .solver_options import map_options
from .solver_registry import solver_info
from .solver_types import ProblemClass, SolveResult, SolveStatus

NameFn = Callable[[int], str]


@dataclass
class MatrixProgram:
    """``min/max cost @ x + 0.5 x'Qx + offset`` s.t. ``row_lower <= A x <= row_upper``, column bounds.

    Infinite bounds are ``numpy.inf``.  ``integer`` is a boolean mask of the
    integer columns (binaries: integer with bounds 0..1).  ``Q`` is the full
    symmetric Hessian (only its lower triangle is read).  ``start`` is an
    optional starting point (MIP start) used with ``warm_start``.
    """

    cost: np.ndarray
    A: sp.spmatrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray | None = None
    Q: sp.spmatrix | None = None
    maximize: bool = False
    offset: float = 0.0
    row_name: NameFn | None = None
    col_name: NameFn | None = None
    start: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape

    @property
    def problem_class(self) -> ProblemClass:
        integer = self.integer is not None and bool(np.any(self.integer))
        if self.Q is not None and self.Q.nnz:
            return ProblemClass.MIQP if integer else ProblemClass.QP
        return ProblemClass.MILP if integer else ProblemClass.LP

    def check_shapes(self) -> None:
        """Raise ValueError on inconsistent arrays: a bug in the caller, not a user error."""
        m, n = self.A.shape
        for name, arr, size in (("cost", self.cost, n), ("col_lower", self.col_lower, n),
                                ("col_upper", self.col_upper, n), ("row_lower", self.row_lower, m),
                                ("row_upper", self.row_upper, m)):
            if np.shape(arr) != (size,):
                raise ValueError(f"MatrixProgram.{name} has shape {np.shape(arr)}, expected ({size},)")
        if self.integer is not None and np.shape(self.integer) != (n,):
            raise ValueError(f"MatrixProgram.integer has shape {np.shape(self.integer)}, expected ({n},)")
        if self.Q is not None and self.Q.shape != (n, n):
            raise ValueError(f"MatrixProgram.Q has shape {self.Q.shape}, expected ({n}, {n})")


@dataclass
class MatrixSolveResult(SolveResult):
    """A :class:`SolveResult` with the solution as arrays (None without a solution)."""

    x: np.ndarray | None = None
    row_activity: np.ndarray | None = None
    row_dual: np.ndarray | None = None


class MatrixInstance:
    """A :class:`MatrixProgram` loaded into HiGHS; collects the solution as arrays."""

    def __init__(self, prog: MatrixProgram) -> None:
        import highspy

        self.prog = prog
        self.x: np.ndarray | None = None
        self.row_activity: np.ndarray | None = None
        self.row_dual: np.ndarray | None = None
        h = self.highs = highspy.Highs()
        h.setOptionValue("output_flag", False)
        m, n = prog.shape
        A = sp.csr_matrix(prog.A)
        A.sum_duplicates()
        empty = np.array([], dtype=np.int32)
        h.addCols(n, np.asarray(prog.cost, float), np.asarray(prog.col_lower, float),
                  np.asarray(prog.col_upper, float), 0, empty, empty, np.array([], dtype=float))
        if m:
            h.addRows(m, np.asarray(prog.row_lower, float), np.asarray(prog.row_upper, float), A.nnz,
                      A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32), A.data.astype(float))
        if prog.integer is not None and np.any(prog.integer):
            cols = np.flatnonzero(prog.integer).astype(np.int32)
            h.changeColsIntegrality(len(cols), cols,
                                    np.full(len(cols), int(highspy.HighsVarType.kInteger), dtype=np.uint8))
        if prog.Q is not None and prog.Q.nnz:
            L = sp.csc_matrix(sp.tril(prog.Q))
            h.passHessian(n, L.nnz, int(highspy.HessianFormat.kTriangular), L.indptr.astype(np.int32),
                          L.indices.astype(np.int32), L.data.astype(float))
        if prog.maximize:
            h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.changeObjectiveOffset(float(prog.offset))

    def set_start(self) -> bool:
        if self.prog.start is None:
            return False
        import highspy

        n = self.prog.shape[1]
        return self.highs.setSolution(n, np.arange(n, dtype=np.int32),
                                      np.asarray(self.prog.start, float)) == highspy.HighsStatus.kOk

    def load_values(self) -> None:
        sol = self.highs.getSolution()
        self.x = np.asarray(sol.col_value)
        self.row_activity = np.asarray(sol.row_value)
        self.row_dual = np.asarray(sol.row_dual) if sol.dual_valid else None


def _nan_report(prog: MatrixProgram) -> list[str]:
    """Names of the rows and columns whose data hold NaN (a data error upstream)."""
    row_name = prog.row_name or (lambda i: f"row {i}")
    col_name = prog.col_name or (lambda j: f"column {j}")
    A = sp.coo_matrix(prog.A)
    bad_rows = set(A.row[np.isnan(A.data)].tolist()) | set(np.flatnonzero(
        np.isnan(prog.row_lower) | np.isnan(prog.row_upper)).tolist())
    bad_cols = set(np.flatnonzero(np.isnan(prog.cost) | np.isnan(prog.col_lower)
                                  | np.isnan(prog.col_upper)).tolist())
    return [row_name(i) for i in sorted(bad_rows)] + [col_name(j) for j in sorted(bad_cols)]


def solve_matrix(prog: MatrixProgram, *, options: Mapping[str, Any] | None = None,
                 time_limit: float | None = None, warm_start: bool = False, tee: bool = False,
                 explain_infeasible: bool = True) -> MatrixSolveResult:
    """Solve ``prog`` with HiGHS; same outcomes and diagnostics as :func:`.solvers.solve`.

    MIQP is refused (GAT0610): HiGHS has no mixed-integer QP, and SCIP is
    reached only through Pyomo.
    """
    started = time.perf_counter()
    prog.check_shapes()
    pc = prog.problem_class
    info = solver_info("highs")

    def failed(*diags: Any, options: Mapping[str, Any] | None = None) -> MatrixSolveResult:
        return MatrixSolveResult(SolveStatus.ERROR, diags[0].message if diags else "not solved", None, "highs",
                                 info.version, pc, options=dict(options or {}),
                                 wall_time=time.perf_counter() - started,
                                 warnings=[d for d in diags if not d.is_error],
                                 errors=[d for d in diags if d.is_error])

    if not info.available:
        return failed(error("GAT0600", "solver `highs` is not available", notes=(info.reason,),
                            help="run `gatc doctor` to see which solvers work"))
    if pc is ProblemClass.MIQP:
        return failed(error("GAT0610", "solver `highs` cannot solve a MIQP model",
                            help="build the model in Pyomo and use `gatlang.backends.solvers.solve`, "
                                 "which sends MIQP to SCIP"))
    nan = _nan_report(prog)
    if nan:
        shown = ", ".join(f"`{n}`" for n in nan[:12]) + (f" and {len(nan) - 12} more" if len(nan) > 12 else "")
        return failed(error("GAT0616", "the model's data contain NaN (not a number)",
                            notes=(f"in: {shown}",),
                            help="a missing value in an input table reached the model: fill it in the "
                                 "network data or give the column a default"))
    mapped = map_options("highs", pc, dict(options or {}), time_limit)
    if mapped.has_errors:
        return failed(*mapped.diagnostics, options=mapped.native)

    inst = MatrixInstance(prog)
    try:
        raw = run_loaded_highs(inst, dict(mapped.native), warm_start, tee or bool(mapped.verbose), started)
    except Exception as exc:  # a binding's exception is a solver failure, not the caller's bug
        raw = RawOutcome(SolveStatus.ERROR, f"{type(exc).__name__}: {exc}")
    if raw.nonconvex:
        return failed(nonconvex_qp(raw.message), options=mapped.native)
    result = MatrixSolveResult(
        raw.status, raw.message, raw.objective, "highs", info.version, pc, options=dict(mapped.native),
        has_solution=raw.has_solution, iterations=raw.iterations, objective_bound=raw.objective_bound,
        warnings=[d for d in mapped.diagnostics if not d.is_error], timings=dict(raw.timings),
        x=inst.x, row_activity=inst.row_activity, row_dual=inst.row_dual)
    if raw.status is SolveStatus.INFEASIBLE and explain_infeasible:
        conflict = iis_of_loaded(inst.highs, prog.row_name or (lambda i: f"row {i}"),
                                 prog.col_name or (lambda j: f"column {j}"))
        if conflict:
            result.conflicting_constraints, result.conflicting_bounds = conflict.constraints, conflict.bounds
            result.conflict_is_minimal, result.conflict_method = conflict.minimal, conflict.method
    result.wall_time = time.perf_counter() - started
    return result

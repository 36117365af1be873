"""Linear solves with the fixed-point matrix ``M = Y + A Yeq A^T``: one factorisation per network.

Why a module of its own: the fixed-point kernel and the start point both
solve with ``M``, many times per study.  ``M`` is factorised once per network
version (SuperLU, shared by every solve of that version); a regulator tap or a
capacitor step changes it at a handful of nodes only, and the solves are then
corrected for those nodes by the compensation (Woodbury) formula
(`Compensated`) instead of factorising again as the engine does.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from gatlang.engines.pf3_kernels import (compensation_gain, leaves_first_order, lu_solve_into, lu_solve_units_into,
                                         permute_csc, subtract_rows_combination)
from gatlang.engines.pf3_system import System3
from gatlang.engines.sparse_lu import LU_OK, lu_factor

#: the compensation of a matrix that has not changed (`Factors.kernel_args`)
NO_COMPENSATION = (np.zeros((0, 0), dtype=complex), np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=complex),
                   np.zeros(0, dtype=np.int64))
#: the LU of a matrix already in `leaves_first_order` keeps that order and takes the diagonal pivot
#: unless it is below a tenth of its column's largest candidate (admittance matrices are diagonally
#: strong; full partial pivoting swaps rows for nothing and adds fill)
DIAG_PIVOT_THRESHOLD = 0.1
#: the same with SuperLU (the tests compare the fill of the order with SuperLU's own ordering)
ORDERED_LU_OPTIONS = dict(permc_spec="NATURAL", diag_pivot_thresh=DIAG_PIVOT_THRESHOLD)
#: the fill-reducing ordering of the (structurally symmetric) matrix
LU_OPTIONS = dict(permc_spec="MMD_AT_PLUS_A")
#: above this many changed nodes a new factorisation is cheaper than compensation
MAX_COMPENSATED = 200
#: nor is W (changed nodes x n, complex) allowed beyond this many entries (64 MB)
MAX_W_ENTRIES = 4_000_000


class Factors:
    """The factorisation ``P M = L U`` of the fixed-point matrix (`sparse_lu`), solved with compiled loops.

    Why not SuperLU (``splu`` and ``SuperLU.solve``): on these matrices its
    set-up costs several times the factorisation itself (see `sparse_lu`), and its
    solve about three times the two triangular sweeps written out (measured 29 vs
    11 us on IEEE 123, 830 vs 264 us on IEEE 8500); the fixed point solves once per
    iteration, and the compensation's columns (several right-hand sides) are
    solved one by one the same way.
    """

    def __init__(self, lower: tuple, upper: tuple, pinv: np.ndarray, order: np.ndarray) -> None:
        """``lower``/``upper``: CSC arrays of ``L`` and ``U``, which factorise ``P M P^T`` (new index
        i = old index ``order[i]``) with row pivots ``pinv``; the permutations the sweeps use are
        composed with the reordering, so they solve with ``M`` itself."""
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        self._args = (*lower, *upper, pinv[inverse], inverse)

    def kernel_args(self) -> tuple[tuple, tuple]:
        """(factors, compensation) as the compiled fixed point reads them (`pf3_kernels`)."""
        return self._args, NO_COMPENSATION

    def solve_units_into(self, nodes: np.ndarray, out: np.ndarray) -> None:
        """``out[j] = M^{-1} e_{nodes[j]}`` (rows of a C-contiguous array), in one compiled call."""
        lu_solve_units_into(*self._args, nodes, out)

    def solve(self, b: np.ndarray) -> np.ndarray:
        """``M^{-1} b`` for a vector or for each column of a matrix."""
        if not len(b):
            return np.zeros(b.shape, dtype=complex)
        if b.ndim == 1:
            out = np.empty(len(b), dtype=complex)
            lu_solve_into(*self._args, np.ascontiguousarray(b, dtype=complex), out)
            return out
        cols = np.empty((b.shape[1], b.shape[0]), dtype=complex)      # one contiguous row per column
        for j in range(b.shape[1]):
            lu_solve_into(*self._args, np.ascontiguousarray(b[:, j], dtype=complex), cols[j])
        return cols.T


def factorise(system: System3, loads: bool = True):
    """The factors of ``Y + A Yeq A^T`` at the present matrix (as `Factors`); of ``Y`` alone
    (the sweep's matrix, `pf3_sweep`) with ``loads=False``.

    The matrix is factorised (`sparse_lu.lu_factor`) in a leaves-first
    breadth-first order (`pf3_kernels.leaves_first_order`, found once per
    network version): on feeders this gives less fill than SuperLU's minimum
    degree ordering.

    Raises RuntimeError for a numerically singular matrix: elimination completes
    the factorisation of a network with a floating part (a delta-delta bank with
    nothing referencing it to ground) with a pivot at round-off level, and the
    iteration would then "converge" to one of infinitely many solutions.
    """
    m = system.fixed_point_matrix() if loads else system.ypu
    if not m.shape[0]:
        return spla.splu(m, **LU_OPTIONS)
    order = system.network_shared.get("fill_order")
    if order is None:
        order = system.network_shared["fill_order"] = leaves_first_order(m.indptr, m.indices, m.shape[0])
    indptr, indices, data = permute_csc(m.indptr, m.indices, m.data, order)
    status, lp, li, lx, up, ui, ux, pinv = lu_factor(indptr, indices, data, DIAG_PIVOT_THRESHOLD)
    pivot = float(np.min(np.abs(ux[up[1:] - 1]))) if status == LU_OK else 0.0     # (U's pivot: last in its column)
    key = "pivot_scale" if loads else "pivot_scale_y"
    if key not in system.shared:                 # the largest row sum: taps barely change it
        system.shared[key] = float(np.max(system.row_abs_sums(m)))
    scale = system.shared[key]
    if not pivot > np.finfo(float).eps * scale:
        raise RuntimeError(f"pivot {pivot:.3g} at round-off level of {scale:.3g}")
    return Factors((lp, li, lx), (up, ui, ux), pinv, order)


def _base_factor(system: System3, loads: bool = True):
    """The factorisation of the cached network's own matrix (made once per network version)."""
    key = "fp_lu" if loads else "y_lu"
    if key not in system.shared:
        if system.version != 0:
            raise AssertionError("the shared factorisation must be made from the original matrix")
        system.shared[key] = factorise(system, loads)
    return system.shared[key]


class _Columns:
    """Columns of ``M0^{-1}`` (one per changed node), computed once per network version and kept
    as rows of one growing array, so that the solves can combine them in place."""

    def __init__(self, n: int) -> None:
        self.store = np.empty((8, n), dtype=complex)
        self.row_of = np.full(n, -1, dtype=np.int64)      # node -> its row of `store` (-1: not solved yet)
        self.used = 0

    def rows(self, lu, nodes: np.ndarray) -> np.ndarray:
        """Row of ``store`` holding ``M0^{-1} e_u`` for each node u (solved for the missing ones)."""
        at = self.row_of[nodes]
        if at.min(initial=0) < 0:
            missing = nodes[at < 0]
            n, used = self.store.shape[1], self.used
            if used + len(missing) > len(self.store):
                grown = np.empty((max(2 * len(self.store), used + len(missing)), n), dtype=complex)
                grown[:used] = self.store[:used]
                self.store = grown
            lu.solve_units_into(missing, self.store[used:used + len(missing)])
            self.row_of[missing] = np.arange(used, used + len(missing))
            self.used += len(missing)
            at = self.row_of[nodes]
        return at


def compensation_columns(system: System3, lu, loads: bool = True) -> _Columns:
    """The store of ``M0^{-1}`` columns kept for the network version (`_Columns`; ``loads``: of the
    fixed-point matrix, else of Y alone), made empty on first use."""
    key = "zcols" if loads else "zcols_y"           # columns of the matrix `lu` factorises
    store = system.shared.get(key)
    if store is None:
        store = system.shared[key] = _Columns(system.n)
    return store


class Compensated:
    """Solves with ``M = M0 + E D E^T`` by the compensation (Woodbury) formula on ``M0``'s factors.

    Why: a tap or capacitor step changes ``M`` only at the handful of nodes ``U``
    the element touches.  With ``W = M0^{-1} E`` (one column per node of ``U``,
    kept per network version and reused by every later solve, `_Columns`) the solution is

        x = x0 - W (I + D W_U)^{-1} D x0_U,    x0 = M0^{-1} b

    -- exact, and one triangular solve plus a product with ``|U|`` columns
    (compiled, `pf3_kernels.subtract_rows_combination`), where a new
    factorisation of the whole matrix would be needed otherwise.
    """

    def __init__(self, system: System3, lu, loads: bool = True) -> None:
        self.lu = lu
        rows = np.concatenate([c[0] for c in system.changes])
        cols = np.concatenate([c[1] for c in system.changes])
        vals = np.concatenate([c[2] for c in system.changes])
        self.u = np.ascontiguousarray(system.changed_nodes, dtype=np.int64)
        store = compensation_columns(system, lu, loads)
        self.rows = store.rows(lu, self.u)
        self.store = store.store                   # the array as of now (a later growth copies it)
        self.k = compensation_gain(self.u, rows, cols, vals, self.store, self.rows)

    def kernel_args(self) -> tuple[tuple, tuple]:
        """(factors, compensation) as the compiled fixed point reads them (`pf3_kernels`)."""
        return self.lu.kernel_args()[0], (self.store, self.rows, self.k, self.u)

    def solve(self, b: np.ndarray) -> np.ndarray:
        out = self.lu.solve(b)                     # a new array: corrected in place
        subtract_rows_combination(self.store, self.rows, self.k @ out[self.u], out)
        return out


def linear_solver(system: System3, reuse: dict, loads: bool = True):
    """An object with ``solve(b)`` for the present matrix ``Y + A Yeq A^T`` (``Y`` alone with
    ``loads=False``): the factorisation cached for the network version, compensated for the taps
    and capacitor states changed since (`Compensated`), or -- when too many nodes changed -- a
    new factorisation."""
    lu = _base_factor(system, loads) if ("fp_lu" if loads else "y_lu") in system.shared or system.version == 0 \
        else None
    if system.version == 0:
        return lu
    key = "fp_solver" if loads else "y_solver"
    cached = reuse.get(key)
    if cached is not None and cached[0] == system.version:
        return cached[1]
    k = len(system.changed_nodes)
    solver = Compensated(system, lu, loads) if lu is not None and k <= MAX_COMPENSATED and \
        k * system.n <= MAX_W_ENTRIES else factorise(system, loads)
    reuse[key] = (system.version, solver)
    return solver

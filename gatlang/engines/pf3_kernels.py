"""Compiled inner loops of the unbalanced power flow (numba, cached on disk).

Why compiled: on a feeder of a few hundred nodes the nodal mismatch

    F(v) = Y v - i_src + A i_load(A^T v)

is a few thousand multiply-adds, but written as numpy/scipy calls it is
about ten calls (three sparse products, the region lookup of the load
models, ...) of 10-20 us of dispatch each -- more than the arithmetic, and
it is evaluated once or twice per iteration of every control round.  One
loop over the matrix and one over the load branches does it in a few
microseconds, and returns the norm the kernels test with it.  Large feeders
gain as well (one pass over memory instead of ten).

The kernels read the plain arrays of `pf3_system.System3` (the CSC matrix
``ypu`` and the per-unit `pf3_loads.LoadBranches`); the numpy formulation
they replace is kept there as the readable reference (`mismatch_reference`)
and the tests check the two agree.  The same holds for the triangular solves
with SuperLU's factors (`lu_solve_into`, checked against ``SuperLU.solve``)
and the compensation product (`subtract_rows_combination`).

Cost: numba compiles each kernel once per machine (``cache=True`` keeps the
machine code under ``__pycache__``); a new process loads it on first use,
about half a second including numba's own start -- paid once per process,
not per solve.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def mismatch_into(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, v: np.ndarray, isrc: np.ndarray,
                  a: np.ndarray, b: np.ndarray, coef: np.ndarray, edges: np.ndarray, out: np.ndarray) -> float:
    """Write ``F(v)`` into ``out`` and return ``max |F|``.

    ``indptr/indices/data``: ``Y`` in CSC; ``a``/``b``: the ends of each load
    branch (``n`` = ground or a dead node: no voltage, no injection);
    ``coef`` (branches, 4, 3) and ``edges`` (branches, 3): the per-unit region
    coefficients and edges of `pf3_loads.LoadBranches`.
    """
    n = len(v)
    for i in range(n):
        out[i] = -isrc[i]
    for j in range(n):
        vj = v[j]
        for k in range(indptr[j], indptr[j + 1]):
            out[indices[k]] += data[k] * vj
    for k in range(len(a)):
        ka, kb = a[k], b[k]
        d = (v[ka] if ka < n else 0j) - (v[kb] if kb < n else 0j)
        m = abs(d)
        r = 0
        for e in range(3):
            if m > edges[k, e]:
                r += 1
        inv = 1.0 / m if m > 0 else 0.0
        cur = (coef[k, r, 0] + (coef[k, r, 1] + coef[k, r, 2] * inv) * inv) * d
        if ka < n:
            out[ka] += cur
        if kb < n:
            out[kb] -= cur
    worst = 0.0
    for i in range(n):
        x = abs(out[i])
        if x != x:                  # NaN: the norm is NaN, as np.max would say
            return x
        if x > worst:
            worst = x
    return worst


@njit(cache=True, nogil=True)
def subtract_rows_combination(store: np.ndarray, rows: np.ndarray, c: np.ndarray, out: np.ndarray) -> None:
    """``out -= store[rows].T @ c`` (complex) without gathering the rows into a new matrix.

    Why: the compensation of `pf3_linear.Compensated` corrects every solve by
    a combination of a few precomputed columns of ``M0^{-1}``; gathering them
    (megabytes on a large feeder) for each tap state cost more than the solves.
    """
    n = out.shape[0]
    for i in range(len(rows)):
        ci = c[i]
        if ci == 0:
            continue
        r = rows[i]
        for j in range(n):
            out[j] -= store[r, j] * ci


@njit(cache=True, nogil=True)
def lu_solve_into(lp: np.ndarray, li: np.ndarray, lx: np.ndarray, up: np.ndarray, ui: np.ndarray,
                  ux: np.ndarray, perm_r: np.ndarray, perm_c: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out = M^{-1} b`` from SuperLU's factors ``Pr M Pc = L U`` (L unit lower, U upper, both CSC).

    ``perm_r``/``perm_c`` as SuperLU reports them: row i of M is row
    ``perm_r[i]`` of ``Pr M``, and ``x = Pc z`` reads ``z[perm_c[i]]``.
    """
    n = len(b)
    z = np.empty(n, dtype=np.complex128)
    for i in range(n):
        z[perm_r[i]] = b[i]
    for j in range(n):                       # L z' = z, column by column
        zj = z[j]
        if zj != 0:
            for k in range(lp[j], lp[j + 1]):
                r = li[k]
                if r > j:
                    z[r] -= lx[k] * zj
    for j in range(n - 1, -1, -1):           # U z'' = z'
        d = 0j
        for k in range(up[j], up[j + 1]):
            if ui[k] == j:
                d = ux[k]
        zj = z[j] / d
        z[j] = zj
        if zj != 0:
            for k in range(up[j], up[j + 1]):
                r = ui[k]
                if r < j:
                    z[r] -= ux[k] * zj
    for i in range(n):
        out[i] = z[perm_c[i]]

"""A compiled left-looking sparse LU with threshold partial pivoting (the algorithm of CSparse's ``cs_lu``).

Why not SuperLU (``scipy.sparse.linalg.splu``): the fixed-point matrix of a
feeder, put in leaves-first order (`pf3_kernels.leaves_first_order`), fills
in hardly at all, and SuperLU's supernodal set-up then costs more than the
arithmetic: 0.3 ms of SuperLU plus 0.15 ms to pull its factors out as CSC
on IEEE 123, where this loop takes a few tens of microseconds.  The
algorithm is Gilbert and Peierls' (Davis, *Direct Methods for Sparse Linear
Systems*, SIAM 2006, ch. 6): column k of ``L`` and ``U`` is the sparse
triangular solve ``L \\ A(:, k)`` over the nodes reachable from ``A(:, k)``'s
rows in the graph of ``L`` (a depth-first search), then the pivot is chosen
among the rows not yet pivotal -- the diagonal whenever it is at least
``tol`` times the largest candidate (SuperLU's ``diag_pivot_thresh``), so
admittance matrices, which are diagonally strong, keep their order and fill.

The columns are taken in their given order (the caller orders them).  The
result is ``P A = L U`` with ``L`` unit lower triangular and ``U`` upper
triangular, both CSC with row indices in pivot order, and ``pinv[i]`` the
pivot position of row i -- the layout `pf3_kernels.lu_solve_into` reads
(``perm_r = pinv``, ``perm_c`` the identity).
"""
from __future__ import annotations

import numpy as np
from numba import njit

#: the status `lu_factor` returns
LU_OK = 0
LU_SINGULAR = 1       # a column with no nonzero candidate pivot


@njit(cache=True, nogil=True)
def _grown(index: np.ndarray, value: np.ndarray, used: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A factor's (row index, value) arrays with room for ``size`` entries, the first ``used`` kept.
    (One function for both factors, typed once: a dtype-generic helper cost seconds of compiling.)"""
    new_index, new_value = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.complex128)
    new_index[:used], new_value[:used] = index[:used], value[:used]
    return new_index, new_value


@njit(cache=True, nogil=True)
def _reach(lp: np.ndarray, li: np.ndarray, ap: np.ndarray, ai: np.ndarray, k: int, xi: np.ndarray,
           pstack: np.ndarray, pinv: np.ndarray, mark: np.ndarray) -> int:
    """The rows ``L \\ A(:, k)`` can fill, in topological order, as ``xi[top:n]``; returns ``top``.
    (Non-recursive depth-first search from each row of ``A(:, k)``; ``mark[j] == k`` = visited.)"""
    n = len(pinv)
    top = n
    for p in range(ap[k], ap[k + 1]):
        start = ai[p]
        if mark[start] == k:
            continue
        head = 0
        xi[0] = start
        while head >= 0:
            j = xi[head]
            jnew = pinv[j]
            if mark[j] != k:
                mark[j] = k
                pstack[head] = 0 if jnew < 0 else lp[jnew]
            done = True
            end = 0 if jnew < 0 else lp[jnew + 1]
            for q in range(pstack[head], end):
                i = li[q]
                if mark[i] == k:
                    continue
                pstack[head] = q
                head += 1
                xi[head] = i
                done = False
                break
            if done:
                head -= 1
                top -= 1
                xi[top] = j
    return top


@njit(cache=True, nogil=True)
def lu_factor(ap: np.ndarray, ai: np.ndarray, ax: np.ndarray, tol: float) -> tuple:
    """``P A = L U`` of the square CSC matrix ``(ap, ai, ax)``, columns in their given order.

    Returns ``(status, lp, li, lx, up, ui, ux, pinv)``; ``status`` is `LU_SINGULAR`
    (and the factors incomplete) when some column has no nonzero pivot.  ``L``
    stores its unit diagonal first in each column, ``U`` its pivot last.
    """
    n = len(ap) - 1
    cap = 2 * len(ax) + n
    lp = np.zeros(n + 1, dtype=np.int64)
    up = np.zeros(n + 1, dtype=np.int64)
    li = np.empty(cap, dtype=np.int64)
    lx = np.empty(cap, dtype=np.complex128)
    ui = np.empty(cap, dtype=np.int64)
    ux = np.empty(cap, dtype=np.complex128)
    pinv = np.full(n, -1, dtype=np.int64)
    x = np.zeros(n, dtype=np.complex128)
    xi = np.empty(n, dtype=np.int64)
    pstack = np.empty(n, dtype=np.int64)
    mark = np.full(n, -1, dtype=np.int64)
    lnz = unz = 0
    for k in range(n):
        lp[k], up[k] = lnz, unz
        if lnz + n > len(li):
            li, lx = _grown(li, lx, lnz, 2 * len(li) + n)
        if unz + n > len(ui):
            ui, ux = _grown(ui, ux, unz, 2 * len(ui) + n)
        top = _reach(lp, li, ap, ai, k, xi, pstack, pinv, mark)
        for p in range(ap[k], ap[k + 1]):          # x = L \ A(:, k) over the reach
            x[ai[p]] = ax[p]
        for p in range(top, n):
            j = xi[p]
            col = pinv[j]
            if col < 0:
                continue
            xj = x[j]                               # (L's diagonal is 1)
            for q in range(lp[col] + 1, lp[col + 1]):
                x[li[q]] -= lx[q] * xj
        ipiv, best = -1, -1.0
        for p in range(top, n):
            i = xi[p]
            if pinv[i] < 0:
                t = abs(x[i])
                if t > best:
                    best, ipiv = t, i
            else:
                ui[unz], ux[unz] = pinv[i], x[i]
                unz += 1
        if ipiv < 0 or best <= 0.0:
            return LU_SINGULAR, lp, li, lx, up, ui, ux, pinv
        if pinv[k] < 0 and mark[k] == k and abs(x[k]) >= best * tol:
            ipiv = k                                # the diagonal, when it is strong enough
        pivot = x[ipiv]
        ui[unz], ux[unz] = k, pivot
        unz += 1
        pinv[ipiv] = k
        li[lnz], lx[lnz] = ipiv, 1.0
        lnz += 1
        for p in range(top, n):
            i = xi[p]
            if pinv[i] < 0:
                li[lnz], lx[lnz] = i, x[i] / pivot
                lnz += 1
            x[i] = 0j
    lp[n], up[n] = lnz, unz
    for p in range(lnz):
        li[p] = pinv[li[p]]
    return LU_OK, lp, li[:lnz], lx[:lnz], up, ui[:unz], ux[:unz], pinv

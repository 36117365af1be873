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
import scipy.sparse.linalg as spla

from gatlang.engines.pf3_anderson import rows_combine
from gatlang.engines.pf3_system import System3

#: the fill-reducing ordering of the (structurally symmetric) matrix
LU_OPTIONS = dict(permc_spec="MMD_AT_PLUS_A")
#: above this many changed nodes a new factorisation is cheaper than compensation
MAX_COMPENSATED = 200
#: nor is W (changed nodes x n, complex) allowed beyond this many entries (64 MB)
MAX_W_ENTRIES = 4_000_000


def factorise(system: System3):
    """SuperLU factors of ``Y + A Yeq A^T`` at the present matrix.

    Raises RuntimeError for a numerically singular matrix: SuperLU completes the
    factorisation of a network with a floating part (a delta-delta bank with
    nothing referencing it to ground) with a pivot at round-off level, and the
    iteration would then "converge" to one of infinitely many solutions.
    """
    m = system.fixed_point_matrix()
    lu = spla.splu(m, **LU_OPTIONS)
    if m.shape[0]:
        pivot = float(np.min(np.abs(lu.U.diagonal())))
        if "pivot_scale" not in system.shared:       # the largest row sum: taps barely change it
            system.shared["pivot_scale"] = float(np.max(np.asarray(abs(m).sum(axis=1)).ravel()))
        scale = system.shared["pivot_scale"]
        if not pivot > np.finfo(float).eps * scale:
            raise RuntimeError(f"pivot {pivot:.3g} at round-off level of {scale:.3g}")
    return lu


def _base_factor(system: System3):
    """The factorisation of the cached network's own matrix (made once per network version)."""
    if "fp_lu" not in system.shared:
        if system.version != 0:
            raise AssertionError("the shared factorisation must be made from the original matrix")
        system.shared["fp_lu"] = factorise(system)
    return system.shared["fp_lu"]


class Compensated:
    """Solves with ``M = M0 + E D E^T`` by the compensation (Woodbury) formula on ``M0``'s factors.

    Why: a tap or capacitor step changes ``M`` only at the handful of nodes ``U``
    the element touches.  With ``W = M0^{-1} E`` (one column per node of ``U``,
    kept per network version and reused by every later solve) the solution is

        x = x0 - W (I + D W_U)^{-1} D x0_U,    x0 = M0^{-1} b

    -- exact, and one triangular solve plus a product with ``|U|`` columns,
    where a new factorisation of the whole matrix would be needed otherwise.
    """

    def __init__(self, system: System3, lu) -> None:
        self.lu = lu
        rows = np.concatenate([c[0] for c in system.changes])
        cols = np.concatenate([c[1] for c in system.changes])
        vals = np.concatenate([c[2] for c in system.changes])
        self.u = system.changed_nodes
        k = len(self.u)
        d = np.zeros((k, k), dtype=complex)
        np.add.at(d, (np.searchsorted(self.u, rows), np.searchsorted(self.u, cols)), vals)
        zcols: dict[int, np.ndarray] = system.shared.setdefault("zcols", {})
        missing = [int(u) for u in self.u if int(u) not in zcols]
        if missing:
            e = np.zeros((system.n, len(missing)), dtype=complex)
            e[missing, np.arange(len(missing))] = 1.0
            sol = lu.solve(e)
            for j, u in enumerate(missing):
                zcols[u] = sol[:, j].copy()
        wt = np.stack([zcols[int(u)] for u in self.u])               # W^T, (|U|, n)
        self.k = np.linalg.solve(np.eye(k) + d @ wt[:, self.u].T, d)
        # W c in real arithmetic: real einsum is several times faster than complex, and a
        # complex BLAS product of this shape is threaded by OpenBLAS, which on a busy machine
        # was measured to stall for milliseconds.  Re = [Wr; Wi]^T [cr; -ci], Im = [Wi; Wr]^T [cr; ci]
        self.s_re = np.concatenate([wt.real, wt.imag])
        self.s_im = np.concatenate([wt.imag, wt.real])

    def solve(self, b: np.ndarray) -> np.ndarray:
        x0 = self.lu.solve(b)
        c = self.k @ x0[self.u]
        out = x0.copy()
        out.real -= rows_combine(self.s_re, np.concatenate([c.real, -c.imag]))
        out.imag -= rows_combine(self.s_im, np.concatenate([c.real, c.imag]))
        return out


def linear_solver(system: System3, reuse: dict):
    """An object with ``solve(b)`` for the present matrix ``Y + A Yeq A^T``: the factorisation
    cached for the network version, compensated for the taps and capacitor states changed
    since (`Compensated`), or -- when too many nodes changed -- a new factorisation."""
    lu = _base_factor(system) if "fp_lu" in system.shared or system.version == 0 else None
    if system.version == 0:
        return lu
    cached = reuse.get("fp_solver")
    if cached is not None and cached[0] == system.version:
        return cached[1]
    k = len(system.changed_nodes)
    solver = Compensated(system, lu) if lu is not None and k <= MAX_COMPENSATED and k * system.n <= MAX_W_ENTRIES \
        else factorise(system)
    reuse["fp_solver"] = (system.version, solver)
    return solver

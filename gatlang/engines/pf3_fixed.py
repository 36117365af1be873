"""Fixed-point ("Z-bus", current-injection) iteration on a once-factorised matrix, Anderson-accelerated.

Why it is the default: it is the engine's own scheme (OpenDSS's "normal"
solution).  The matrix ``M = Y + A Yeq A^T`` (the network plus every load at
its nominal admittance) is factorised once per network version and then only
triangular solves are needed:

    v_{k+1} = v_k - M^{-1} F(v_k)

which, with ``M`` the matrix of the present network, is exactly the engine's
``M v_{k+1} = i_src + A (Yeq d_k - i(d_k))``.  The factorisation is
cached per network version; after a regulator tap or a capacitor step the
solves are corrected for the few changed nodes (`Compensated`) instead of
factorising again as the engine does.  ``F`` is always evaluated with the
present matrix, so the iteration converges to the exact solution.

Its convergence is linear; Anderson acceleration (depth `DEPTH`, on the
real and imaginary parts, since the load currents are not complex-analytic)
cuts the iterations by about half on the IEEE feeders.  A run that stalls
reports it (``Solve3Outcome.stalled``) so the caller can hand over to
Newton.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as spla
from scipy.linalg import lapack

from gatlang.diagnostics import error
from gatlang.engines import pf3_result as codes
from gatlang.engines.pf3_result import Solve3Outcome
from gatlang.engines.pf3_system import System3

#: growth of the mismatch over its best value that counts as divergence
DIVERGENCE_FACTOR = 1e6
#: Anderson depth (previous steps mixed into the next one)
DEPTH = 5
#: stalled: the best mismatch did not improve this much over `STALL_WINDOW` iterations
STALL_RATE = 0.5
STALL_WINDOW = 10
#: the fill-reducing ordering of the (structurally symmetric) matrix
LU_OPTIONS = dict(permc_spec="MMD_AT_PLUS_A")


def factorise(system: System3):
    """LU of ``Y + A Yeq A^T`` at the present matrix, tagged with the matrix version.

    Raises RuntimeError for a numerically singular matrix: SuperLU completes the
    factorisation of a network with a floating part (a delta-delta bank with
    nothing referencing it to ground) with a pivot at round-off level, and the
    iteration would then "converge" to one of infinitely many solutions.
    """
    yload = system.shared.get("yload")
    if yload is None:
        yload = system.shared["yload"] = system.nominal_load_matrix()
    m = (system.ypu + yload).tocsc()
    lu = spla.splu(m, **LU_OPTIONS)
    if m.shape[0]:
        pivot = float(np.min(np.abs(lu.U.diagonal())))
        if "pivot_scale" not in system.shared:       # the largest row sum: taps barely change it
            system.shared["pivot_scale"] = float(np.max(np.asarray(abs(m).sum(axis=1)).ravel()))
        scale = system.shared["pivot_scale"]
        if not pivot > np.finfo(float).eps * scale:
            raise RuntimeError(f"pivot {pivot:.3g} at round-off level of {scale:.3g}")
    return system.version, lu


def _base_factor(system: System3):
    """The factorisation of the cached network's own matrix (made once per network version)."""
    if "fp_lu" not in system.shared:
        if system.version != 0:
            raise AssertionError("the shared factorisation must be made from the original matrix")
        system.shared["fp_lu"] = factorise(system)[1]
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
        # W c in real arithmetic (real einsum is several times faster than complex, and BLAS
        # calls on a busy machine stall): Re = [Wr; Wi]^T [cr; -ci], Im = [Wi; Wr]^T [cr; ci]
        self.s_re = np.concatenate([wt.real, wt.imag])
        self.s_im = np.concatenate([wt.imag, wt.real])

    def solve(self, b: np.ndarray) -> np.ndarray:
        x0 = self.lu.solve(b)
        c = self.k @ x0[self.u]
        out = x0.copy()
        out.real -= _rows_combine(self.s_re, np.concatenate([c.real, -c.imag]))
        out.imag -= _rows_combine(self.s_im, np.concatenate([c.real, c.imag]))
        return out


#: above this many changed nodes a new factorisation is cheaper than compensation
MAX_COMPENSATED = 200


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
    solver = Compensated(system, lu) if lu is not None and len(system.changed_nodes) <= MAX_COMPENSATED \
        else factorise(system)[1]
    reuse["fp_solver"] = (system.version, solver)
    return solver


class Anderson:
    """Type-II Anderson mixing on real vectors: ``x+ = x + g - (dX + dG) gamma``,
    ``gamma = argmin |g - dG gamma|`` over the last ``depth`` differences.

    The differences live in preallocated ring buffers and their Gram matrix is
    updated one row per step, so a step costs three matrix-vector products of
    ``depth`` rows and a ``depth``-square Cholesky solve (LAPACK directly:
    ``numpy.linalg.solve`` costs more than the solve itself at this size).
    """

    def __init__(self, depth: int, size: int) -> None:
        self.depth = depth
        self.dx = np.empty((depth, size))
        self.dg = np.empty((depth, size))
        self.gram = np.zeros((depth, depth))
        self.count = 0
        self.last: tuple[np.ndarray, np.ndarray] | None = None

    def reset(self) -> None:
        self.count = 0
        self.last = None

    def step(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.last is not None:
            k = self.count % self.depth
            np.subtract(x, self.last[0], out=self.dx[k])
            np.subtract(g, self.last[1], out=self.dg[k])
            self.count += 1
            m = min(self.count, self.depth)
            row = _rows_dot(self.dg[:m], self.dg[k])
            self.gram[k, :m] = row
            self.gram[:m, k] = row
        self.last = (x, g)
        m = min(self.count, self.depth)
        if m == 0:
            return x + g
        a = self.gram[:m, :m].copy()
        a.flat[::m + 1] += 1e-14 * a.trace()     # keeps the normal equations solvable when steps align
        _, gamma, info = lapack.dposv(a, _rows_dot(self.dg[:m], g))
        if info != 0:
            self.reset()
            return x + g
        return x + g - _rows_combine(self.dx[:m] + self.dg[:m], gamma)


#: below this many entries a BLAS product runs single-threaded and is the fastest; above it
#: ``einsum`` is used: on a busy machine a threaded BLAS call on short rows can stall for
#: milliseconds waiting for its threads
_BLAS_SIZE = 8192


def _rows_dot(rows: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``rows @ v``."""
    return rows @ v if rows.size <= _BLAS_SIZE else np.einsum("ij,j->i", rows, v)


def _rows_combine(rows: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``rows^T @ c``."""
    return rows.T @ c if rows.size <= _BLAS_SIZE else np.einsum("ij,i->j", rows, c)


def _real(z: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(z).view(np.float64)


def fixed_point(system: System3, v0: np.ndarray, tol: float, max_iter: int,
                reuse: dict | None = None) -> Solve3Outcome:
    """Iterate from ``v0`` until ``max |F| <= tol`` (pu).

    ``reuse`` (kept by the caller between control rounds) holds this solve's
    own factorisation once the cached one stopped contracting well.
    """
    reuse = {} if reuse is None else reuse
    try:
        lu = linear_solver(system, reuse)
    except RuntimeError as exc:
        return Solve3Outcome(v0, False, 0, [], error(
            codes.SINGULAR, f"the network admittance matrix is singular ({exc})", None,
            help="look for floating nodes: a delta winding or an ungrounded wye with nothing "
                 "referencing it to ground, or a zero-impedance loop"))
    x = _real(v0.astype(complex))
    f = system.mismatch(x.view(complex))
    norm = float(np.max(np.abs(f))) if system.n else 0.0
    history, best, best_x = [norm], norm, x
    accel = Anderson(DEPTH, len(x))
    it = 0
    while norm > tol and it < max_iter:
        it += 1
        g = _real(-lu.solve(f))
        x_new = accel.step(x, g)
        f_new = system.mismatch(x_new.view(complex))
        new = float(np.max(np.abs(f_new)))
        if not new < norm and accel.count:
            accel.reset()                    # a poor mixed step: restart from a plain one
            x_new = x + g
            f_new = system.mismatch(x_new.view(complex))
            new = float(np.max(np.abs(f_new)))
        x, f, norm = x_new, f_new, new
        history.append(norm)
        if norm < best:
            best, best_x = norm, x
        if not np.isfinite(norm) or norm > DIVERGENCE_FACTOR * max(best, tol):
            return Solve3Outcome(best_x.view(complex), False, it, history, error(
                codes.DIVERGED, "the fixed-point iteration diverged", None,
                help="use method = newton, which converges on heavily loaded feeders"), stalled=True)
        if it >= STALL_WINDOW and best > STALL_RATE * min(history[:-STALL_WINDOW]):
            return Solve3Outcome(best_x.view(complex), False, it, history, stalled=True)
    return Solve3Outcome(x.view(complex), norm <= tol, it, history)

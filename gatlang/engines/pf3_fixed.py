"""Fixed-point ("Z-bus", current-injection) iteration on a once-factorised matrix, Anderson-accelerated.

Why it is the default: it is the engine's own scheme (OpenDSS's "normal"
solution).  The matrix ``M = Y + A Yeq A^T`` (the network plus every load at
its nominal admittance) is factorised once per network version and then only
triangular solves are needed:

    v_{k+1} = v_k - M^{-1} F(v_k)

which, with ``M`` the matrix of the present network, is exactly the engine's
``M v_{k+1} = i_src + A (Yeq d_k - i(d_k))``.  After a regulator tap or a
capacitor step ``Y`` changes by a few entries; the iteration above still
converges to ``F = 0`` -- the exact solution of the *changed* network,
because ``F`` is always evaluated with the present matrix -- so the old
factors are kept as long as they contract well and only refactorised when
they do not (`REFACTOR_RATE`).

Its convergence is linear; Anderson acceleration (depth `DEPTH`, on the
real and imaginary parts, since the load currents are not complex-analytic)
cuts the iterations by about half on the IEEE feeders.  A run that stalls
reports it (``Solve3Outcome.stalled``) so the caller can hand over to
Newton.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as spla

from gatlang.diagnostics import error
from gatlang.engines import pf3_result as codes
from gatlang.engines.pf3_result import Solve3Outcome
from gatlang.engines.pf3_system import System3

#: growth of the mismatch over its best value that counts as divergence
DIVERGENCE_FACTOR = 1e6
#: Anderson depth (previous steps mixed into the next one)
DEPTH = 5
#: a factorisation made for an older matrix is replaced when one step contracts less than this
REFACTOR_RATE = 0.3
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
    m = (system.ypu + system.nominal_load_matrix()).tocsc()
    lu = spla.splu(m, **LU_OPTIONS)
    if m.shape[0]:
        pivot = float(np.min(np.abs(lu.U.diagonal())))
        scale = float(np.max(np.asarray(abs(m).sum(axis=1)).ravel()))
        if not pivot > np.finfo(float).eps * scale:
            raise RuntimeError(f"pivot {pivot:.3g} at round-off level of {scale:.3g}")
    return system.version, lu


def nominal_factor(system: System3, reuse: dict):
    """The factorisation to iterate with: this solve's own, else the one cached for the network
    version (made once, shared by every solve of that version)."""
    if "fp_lu" in reuse:
        return reuse["fp_lu"]
    if "fp_lu" in system.shared:
        return system.shared["fp_lu"]
    made = factorise(system)
    if system.version == 0:                  # the cached network's own matrix: share it
        system.shared["fp_lu"] = made
    else:
        reuse["fp_lu"] = made
    return made


class Anderson:
    """Type-II Anderson mixing on real vectors: ``x+ = x + g - (dX + dG) gamma``,
    ``gamma = argmin |g - dG gamma|`` over the last ``depth`` differences."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.dx: list[np.ndarray] = []
        self.dg: list[np.ndarray] = []
        self.last: tuple[np.ndarray, np.ndarray] | None = None

    def reset(self) -> None:
        self.dx.clear()
        self.dg.clear()
        self.last = None

    def step(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.last is not None:
            self.dx.append(x - self.last[0])
            self.dg.append(g - self.last[1])
            if len(self.dx) > self.depth:
                self.dx.pop(0)
                self.dg.pop(0)
        self.last = (x, g)
        if not self.dx:
            return x + g
        dg = np.stack(self.dg)
        # the small normal equations (depth x depth) solved by SVD: a tall least-squares
        # solve per iteration would cost more than the triangular solves
        gamma = np.linalg.lstsq(dg @ dg.T, dg @ g, rcond=1e-10)[0]
        return x + g - (np.stack(self.dx) + dg).T @ gamma


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
        made_at, lu = nominal_factor(system, reuse)
    except RuntimeError as exc:
        return Solve3Outcome(v0, False, 0, [], error(
            codes.SINGULAR, f"the network admittance matrix is singular ({exc})", None,
            help="look for floating nodes: a delta winding or an ungrounded wye with nothing "
                 "referencing it to ground, or a zero-impedance loop"))
    x = _real(v0.astype(complex))
    f = system.mismatch(x.view(complex))
    norm = float(np.max(np.abs(f))) if system.n else 0.0
    history, best, best_x = [norm], norm, x
    accel = Anderson(DEPTH)
    it = 0
    while norm > tol and it < max_iter:
        it += 1
        g = _real(-lu.solve(f))
        x_new = accel.step(x, g)
        f_new = system.mismatch(x_new.view(complex))
        new = float(np.max(np.abs(f_new)))
        if it == 1 and made_at != system.version and new > REFACTOR_RATE * norm:
            # the factors are of an older matrix and no longer a good preconditioner
            made_at, lu = reuse["fp_lu"] = factorise(system)
            accel.reset()
            it -= 1
            continue
        if not new < norm and accel.dx:
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

"""Fixed-point ("Z-bus", current-injection) iteration on a once-factorised matrix, Anderson-accelerated.

Why it is the default: it is the engine's own scheme (OpenDSS's "normal"
solution).  The matrix ``M = Y + A Yeq A^T`` (the network plus every load at
its nominal admittance) is factorised once per network version and then only
triangular solves are needed:

    v_{k+1} = v_k - M^{-1} F(v_k)

which, with ``M`` the matrix of the present network, is exactly the engine's
``M v_{k+1} = i_src + A (Yeq d_k - i(d_k))``.  The solves with ``M`` are
`pf3_linear`'s (one factorisation per network version, compensated for tap
and capacitor steps).  ``F`` is always evaluated with the present matrix, so
the iteration converges to the exact solution.

Its convergence is linear; Anderson acceleration (`pf3_anderson`, depth
`DEPTH`) cuts the iterations by about half on the IEEE feeders.  A run that stalls
reports it (``Solve3Outcome.stalled``) so the caller can hand over to
Newton.
"""
from __future__ import annotations

import numpy as np

from gatlang.diagnostics import error
from gatlang.engines import pf3_result as codes
from gatlang.engines.pf3_anderson import Anderson
from gatlang.engines.pf3_kernels import FP_DIVERGED, FP_DONE, FP_STALLED, fixed_point_loop
from gatlang.engines.pf3_linear import linear_solver
from gatlang.engines.pf3_result import Solve3Outcome
from gatlang.engines.pf3_system import System3

#: growth of the mismatch over its best value that counts as divergence
DIVERGENCE_FACTOR = 1e6
#: Anderson depth (previous steps mixed into the next one)
DEPTH = 5
#: stalled: the best mismatch did not improve this much over `STALL_WINDOW` iterations
STALL_RATE = 0.5
STALL_WINDOW = 10


def _real(z: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(z).view(np.float64)


def fixed_point(system: System3, v0: np.ndarray, tol: float, max_iter: int,
                reuse: dict | None = None, *, depth: int = DEPTH, loads: bool = True) -> Solve3Outcome:
    """Iterate from ``v0`` until ``max |F| <= tol`` (pu).

    ``reuse`` (kept by the caller between control rounds) holds the solver of the
    present matrix (`pf3_linear.linear_solver`), made once per tap/capacitor state.
    ``depth``: Anderson's (0: plain steps); ``loads=False`` iterates with the network's
    ``Y`` alone, the loads all on the right-hand side (the sweep, `pf3_sweep`).
    """
    reuse = {} if reuse is None else reuse
    try:
        lu = linear_solver(system, reuse, loads)
    except RuntimeError as exc:
        return Solve3Outcome(v0, False, 0, [], error(
            codes.SINGULAR, f"the network admittance matrix is singular ({exc})", None,
            help="look for floating nodes: a delta winding or an ungrounded wye with nothing "
                 "referencing it to ground, or a zero-impedance loop"))
    if system.n == 0 or not hasattr(lu, "kernel_args"):
        return _fixed_point_python(system, lu, v0, tol, max_iter, depth)
    factors, comp = lu.kernel_args()
    ld, y = system.loads, system.ypu
    history = np.empty(max_iter + 1)
    x, it, written, status = fixed_point_loop(
        (y.indptr, y.indices, y.data), system.isrc, (ld.a, ld.b, ld.coef, ld.edges), factors, comp,
        np.ascontiguousarray(v0, dtype=complex), float(tol), int(max_iter), int(depth), DIVERGENCE_FACTOR,
        STALL_RATE, STALL_WINDOW, history)
    return _outcome(x, it, history[:written].tolist(), status, tol)


def _outcome(x: np.ndarray, it: int, history: list[float], status: int, tol: float) -> Solve3Outcome:
    """The kernel's result as a `Solve3Outcome` (diverged: a coded error; stalled: for Newton to take over)."""
    if status == FP_DIVERGED:
        return Solve3Outcome(x, False, it, history, error(
            codes.DIVERGED, "the fixed-point iteration diverged", None,
            help="use method = newton, which converges on heavily loaded feeders"), stalled=True)
    if status == FP_STALLED:
        return Solve3Outcome(x, False, it, history, stalled=True)
    return Solve3Outcome(x, history[-1] <= tol, it, history)


def _fixed_point_python(system: System3, lu, v0: np.ndarray, tol: float, max_iter: int,
                        depth: int = DEPTH) -> Solve3Outcome:
    """The iteration written with numpy (`Anderson`): the reference the compiled loop
    (`pf3_kernels.fixed_point_loop`) follows, and the path of an empty network."""
    x = _real(v0.astype(complex))
    f, norm = system.mismatch_norm(x.view(complex))
    history, best, best_x = [norm], norm, x
    accel = Anderson(depth, len(x)) if depth else None
    it = 0
    while norm > tol and it < max_iter:
        it += 1
        g = _real(-lu.solve(f))
        x_new = accel.step(x, g) if accel else x + g
        f_new, new = system.mismatch_norm(x_new.view(complex))
        if accel and not new < norm and accel.count:
            accel.reset()                    # a poor mixed step: restart from a plain one
            x_new = x + g
            f_new, new = system.mismatch_norm(x_new.view(complex))
        x, f, norm = x_new, f_new, new
        history.append(norm)
        if norm < best:
            best, best_x = norm, x
        if not np.isfinite(norm) or norm > DIVERGENCE_FACTOR * max(best, tol):
            return _outcome(best_x.view(complex), it, history, FP_DIVERGED, tol)
        if it >= STALL_WINDOW and best > STALL_RATE * min(history[:-STALL_WINDOW]):
            return _outcome(best_x.view(complex), it, history, FP_STALLED, tol)
    return _outcome(x.view(complex), it, history, FP_DONE, tol)

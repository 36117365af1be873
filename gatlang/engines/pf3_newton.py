"""Newton-Raphson on the nodal current equations, in rectangular coordinates.

Why current injection and not power mismatch: with loads written as
``I = y(|d|) d`` (`pf3_loads`) the residual ``F(v) = Y v - i_src + A i(A^T v)``
has a Jacobian that is the network's own admittance matrix plus small 2x2
blocks at the load terminals.  Only the load blocks change between
iterations, so the sparsity pattern is fixed and the Jacobian is rebuilt by
adding one vectorised block array to a constant matrix.

Because ``i`` depends on ``conj(d)`` (a constant-power load draws
``conj(S / d)``) the equations are not complex-analytic; they are solved in
real form with the real and imaginary parts of every node interleaved, which
keeps the 2x2 structure in the LU factors (fill as for the complex matrix).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from gatlang.diagnostics import error
from gatlang.engines import pf3_result as codes
from gatlang.engines.pf3_result import Solve3Outcome
from gatlang.engines.pf3_system import System3

#: SuperLU settings for the (structurally symmetric) real Jacobian: minimum degree on A^T + A
#: with relaxed diagonal pivoting keeps the fill near that of the complex matrix (8500-node
#: feeder: 16 ms per factorisation instead of 110 ms with COLAMD and strict partial pivoting)
LU_OPTIONS = dict(permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.1, options=dict(SymmetricMode=True))
#: a step with reused LU factors is kept when it cuts the mismatch at least this much
CHORD_RATE = 0.1
#: backtracking: halve the step at most this often when the mismatch grows
MAX_HALVINGS = 6


def real_form(y: sp.spmatrix) -> sp.csc_matrix:
    """The real 2n x 2n matrix of a complex one, entries ``[[g, -b], [b, g]]``, interleaved."""
    c = y.tocoo()
    r, k, g, b = c.row, c.col, c.data.real, c.data.imag
    rows = np.r_[2 * r, 2 * r, 2 * r + 1, 2 * r + 1]
    cols = np.r_[2 * k, 2 * k + 1, 2 * k, 2 * k + 1]
    return sp.csc_matrix((np.r_[g, -b, b, g], (rows, cols)), shape=(2 * y.shape[0], 2 * y.shape[1]))


class LoadJacobian:
    """Positions of the load branches' 2x2 blocks in the real Jacobian, computed once."""

    def __init__(self, system: System3) -> None:
        n = system.n
        a, b = system.loads.a, system.loads.b
        # four node pairs per branch with their signs: (a,a)+, (a,b)-, (b,a)-, (b,b)+
        pr = np.stack([a, a, b, b], axis=1)
        pc = np.stack([a, b, a, b], axis=1)
        sign = np.array([1.0, -1.0, -1.0, 1.0])
        ok = (pr < n) & (pc < n)
        self.branch = np.nonzero(ok)[0]
        self.sign = sign[np.nonzero(ok)[1]]
        r, c = pr[ok], pc[ok]
        # each pair: 4 real entries (rr, ri, ir, ii)
        self.rows = np.r_[2 * r, 2 * r, 2 * r + 1, 2 * r + 1]
        self.cols = np.r_[2 * c, 2 * c + 1, 2 * c, 2 * c + 1]
        self.shape = (2 * n, 2 * n)

    def matrix(self, d_dr: np.ndarray, d_di: np.ndarray) -> sp.csc_matrix:
        """The load part of the Jacobian from per-branch derivatives (pu)."""
        s = self.sign
        dr, di = d_dr[self.branch], d_di[self.branch]
        vals = np.r_[s * dr.real, s * di.real, s * dr.imag, s * di.imag]
        return sp.csc_matrix((vals, (self.rows, self.cols)), shape=self.shape)


def _to_real(x: np.ndarray) -> np.ndarray:
    out = np.empty(2 * len(x))
    out[0::2], out[1::2] = x.real, x.imag
    return out


def _factor(system: System3, jy: sp.csc_matrix, lj: LoadJacobian, v: np.ndarray):
    _, d_dr, d_di = system.loads.currents_and_derivatives(system.branch_voltage(v))
    return spla.splu((jy + lj.matrix(d_dr, d_di)).tocsc(), **LU_OPTIONS)


def newton(system: System3, v0: np.ndarray, tol: float, max_iter: int,
           reuse: dict | None = None) -> Solve3Outcome:
    """Solve ``F(v) = 0`` from ``v0`` (pu); converged when ``max |F| <= tol``.

    ``reuse`` (a dict the caller keeps between calls) holds the last LU
    factors: a step with them (a chord step) is taken first and kept when it
    cuts the mismatch at least ``CHORD_RATE`` times; otherwise the Jacobian is
    refactorised at the present point.  After a regulator tap change the old
    factors usually still contract fast, so a control round costs a few
    triangular solves instead of new factorisations.
    """
    reuse = {} if reuse is None else reuse
    if reuse.get("jy", (None,))[0] != system.version:       # the network part, per tap state
        reuse["jy"] = (system.version, real_form(system.ypu))
    jy = reuse["jy"][1]
    if "load_jacobian" not in system.shared:                 # load positions: once per network
        system.shared["load_jacobian"] = LoadJacobian(system)
    lj = system.shared["load_jacobian"]
    v = v0.astype(complex).copy()
    f, norm = system.mismatch_norm(v)
    history = [norm]
    it = 0
    while norm > tol and it < max_iter:
        it += 1
        lu = reuse.get("lu")
        if lu is not None and lu.shape[0] == 2 * system.n:
            step = lu.solve(-_to_real(f))
            trial = v + (step[0::2] + 1j * step[1::2])
            f_new, new_norm = system.mismatch_norm(trial)
            if np.isfinite(new_norm) and new_norm <= CHORD_RATE * norm:
                v, f, norm = trial, f_new, new_norm
                history.append(norm)
                continue
        try:
            lu = reuse["lu"] = _factor(system, jy, lj, v)
        except RuntimeError as exc:
            reuse.pop("lu", None)
            return Solve3Outcome(v, False, it, history, error(
                codes.SINGULAR, f"the Newton Jacobian is singular ({exc})", None,
                help="look for floating nodes: a delta winding or an ungrounded wye with nothing "
                     "referencing it to ground, or a zero-impedance loop"))
        step = lu.solve(-_to_real(f))
        dv = step[0::2] + 1j * step[1::2]
        alpha = 1.0
        for _ in range(MAX_HALVINGS + 1):
            trial = v + alpha * dv
            f_new, new_norm = system.mismatch_norm(trial)
            if np.isfinite(new_norm) and new_norm < norm:
                break
            alpha *= 0.5
        if not np.isfinite(new_norm):
            history.append(new_norm)
            return Solve3Outcome(v, False, it, history, error(
                codes.DIVERGED, "the Newton iteration diverged (the mismatch is not finite)", None,
                help="check the loads for unit errors (kW read as MW) and the source voltage"))
        v, f, norm = trial, f_new, new_norm
        history.append(norm)
    return Solve3Outcome(v, norm <= tol, it, history)

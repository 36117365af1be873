"""Fixed-point ("Z-bus", current-injection) iteration with one sparse LU.

Why keep it beside Newton: it is the engine's own scheme (OpenDSS's
"normal" solution), needs a single factorisation of ``Y + A Yeq A^T`` (the
network plus every load at its nominal admittance) and then only triangular
solves, which makes it the fastest method on lightly loaded feeders.  Its
convergence is linear, so heavily loaded or low-voltage cases are better
solved with Newton.

    (Y + A Yeq A^T) v_{k+1} = i_src + A (Yeq d_k - i(d_k)),   d_k = A^T v_k
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from gatlang.diagnostics import error
from gatlang.engines import pf3_result as codes
from gatlang.engines.pf3_result import Solve3Outcome
from gatlang.engines.pf3_system import System3

#: growth of the mismatch over its best value that counts as divergence
DIVERGENCE_FACTOR = 1e6


def nominal_load_matrix(system: System3) -> tuple[sp.csc_matrix, np.ndarray]:
    """(A diag(Yeq) A^T in pu over the live nodes, Yeq per branch in pu)."""
    n = system.n
    loads = system.loads
    yeq = loads.yeq * system.load_scale_pu
    a, b = loads.a, loads.b
    rows = np.r_[a, a, b, b]
    cols = np.r_[a, b, a, b]
    vals = np.r_[yeq, -yeq, -yeq, yeq]
    ok = (rows < n) & (cols < n)
    m = sp.csc_matrix((vals[ok], (rows[ok], cols[ok])), shape=(n, n))
    return m, yeq


def fixed_point(system: System3, v0: np.ndarray, tol: float, max_iter: int,
                reuse: dict | None = None) -> Solve3Outcome:
    """Iterate from ``v0`` until ``max |F| <= tol`` (pu); ``reuse`` is accepted for a uniform
    kernel signature (the matrix changes with every tap change, so nothing is kept)."""
    yload, yeq = nominal_load_matrix(system)
    try:
        lu = spla.splu((system.ypu + yload).tocsc(), permc_spec="MMD_AT_PLUS_A")
    except RuntimeError as exc:
        return Solve3Outcome(v0, False, 0, [], error(
            codes.SINGULAR, f"the network admittance matrix is singular ({exc})", None,
            help="look for floating nodes: a delta winding or an ungrounded wye with nothing "
                 "referencing it to ground, or a zero-impedance loop"))
    v = v0.astype(complex).copy()
    norm = float(np.max(np.abs(system.mismatch(v)))) if system.n else 0.0
    history = [norm]
    best = norm
    it = 0
    while norm > tol and it < max_iter:
        it += 1
        d = system.branch_voltage(v)
        comp = yeq * d - system.load_currents_pu(v)
        v = lu.solve(system.isrc + system.load_injection(comp))
        norm = float(np.max(np.abs(system.mismatch(v))))
        history.append(norm)
        best = min(best, norm)
        if not np.isfinite(norm) or norm > DIVERGENCE_FACTOR * max(best, tol):
            return Solve3Outcome(v, False, it, history, error(
                codes.DIVERGED, "the fixed-point iteration diverged", None,
                help="use method = newton, which converges on heavily loaded feeders"))
    return Solve3Outcome(v, norm <= tol, it, history)

"""Bus and branch admittance matrices of a balanced network (MATPOWER ``makeYbus`` semantics).

Why one module: the Newton and fast-decoupled solvers, the sweep, the branch-flow
post-processing and the B'/B'' matrices all need the same two-port model of a
branch.  Writing it once (``branch_two_port``) keeps them from drifting apart.

It also holds the power-flow equations written on Ybus (``mismatch`` and the
norms used for convergence), so that ``tol`` means the same for every method.

Branch model (MATPOWER): a series admittance ``ys = 1/(r + jx)`` with total line
charging ``jb`` split between the two ends, behind an ideal transformer of
complex ratio ``tau = tap * exp(j*shift)`` at the *from* end::

    [If]   [ (ys + jb/2)/|tau|^2   -ys/conj(tau) ] [Vf]
    [It] = [ -ys/tau                 ys + jb/2   ] [Vt]

All matrices are built in one shot from index arrays (COO -> CSR), never by
visiting branches one at a time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from gatlang.network.balanced import BalancedCase


@dataclass(frozen=True)
class TwoPort:
    """Per-branch two-port admittances (pu): ``If = yff*Vf + yft*Vt``, ``It = ytf*Vf + ytt*Vt``."""

    yff: np.ndarray
    yft: np.ndarray
    ytf: np.ndarray
    ytt: np.ndarray


@dataclass(frozen=True)
class Admittances:
    """``ybus`` (n x n, CSR, every diagonal entry stored even when zero, sorted indices),
    ``yf``/``yt`` (m x n, CSR) giving the branch end currents ``If = yf @ V``, ``It = yt @ V``."""

    ybus: sp.csr_matrix
    yf: sp.csr_matrix
    yt: sp.csr_matrix
    two_port: TwoPort


def branch_two_port(r: np.ndarray, x: np.ndarray, b: np.ndarray, tap: np.ndarray,
                    shift: np.ndarray) -> TwoPort:
    """Two-port admittances of every branch; a tap of 0 means 1 (MATPOWER's convention for lines)."""
    ys = 1.0 / (np.asarray(r, dtype=float) + 1j * np.asarray(x, dtype=float))
    ratio = np.where(np.asarray(tap, dtype=float) == 0.0, 1.0, tap) * np.exp(1j * np.asarray(shift, dtype=float))
    ytt = ys + 0.5j * np.asarray(b, dtype=float)
    return TwoPort(yff=ytt / (ratio * np.conj(ratio)), yft=-ys / np.conj(ratio), ytf=-ys / ratio, ytt=ytt)


def build_admittances(n_bus: int, f: np.ndarray, t: np.ndarray, two_port: TwoPort,
                      ysh: np.ndarray) -> Admittances:
    """Assemble Ybus, Yf, Yt from branch two-ports and bus shunts (``ysh = gs + j*bs``, pu).

    Ybus = Cf' Yf + Ct' Yt + diag(ysh).  The diagonal is always stored so that
    kernels can locate it once (``diagonal_positions``) and update it in place.
    """
    m = len(f)
    f = np.asarray(f, dtype=np.int64)
    t = np.asarray(t, dtype=np.int64)
    rows = np.arange(m)
    yf = sp.csr_matrix((np.r_[two_port.yff, two_port.yft], (np.r_[rows, rows], np.r_[f, t])), shape=(m, n_bus))
    yt = sp.csr_matrix((np.r_[two_port.ytf, two_port.ytt], (np.r_[rows, rows], np.r_[f, t])), shape=(m, n_bus))
    diag = np.arange(n_bus)
    ybus = sp.coo_matrix(
        (np.r_[two_port.yff, two_port.yft, two_port.ytf, two_port.ytt, np.asarray(ysh, dtype=complex)],
         (np.r_[f, f, t, t, diag], np.r_[f, t, f, t, diag])),
        shape=(n_bus, n_bus)).tocsr()
    ybus.sum_duplicates()  # also sorts indices; explicit zeros (e.g. an empty diagonal) are kept
    return Admittances(ybus, yf, yt, two_port)


def make_ybus(case: BalancedCase) -> Admittances:
    """Ybus, Yf, Yt of ``case`` exactly as MATPOWER's ``makeYbus`` (taps, phase shifters, charging, shunts)."""
    tp = branch_two_port(case.r, case.x, case.b, case.tap, case.shift)
    return build_admittances(case.n_bus, case.f, case.t, tp, case.gs + 1j * case.bs)


def diagonal_positions(ybus: sp.csr_matrix) -> np.ndarray:
    """Index into ``ybus.data`` of each diagonal entry (requires every diagonal entry stored)."""
    n = ybus.shape[0]
    rows = np.repeat(np.arange(n), np.diff(ybus.indptr))
    pos = np.flatnonzero(rows == ybus.indices)
    if len(pos) != n:
        raise ValueError("Ybus must store every diagonal entry")
    return pos


def make_b_matrices(case: BalancedCase, variant: str) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """B' and B'' of the fast-decoupled method (MATPOWER ``makeB``), full size n x n.

    B' ignores charging, shunts and tap magnitudes (and, for XB, resistance);
    B'' ignores phase shifts (and, for BX, resistance).  ``variant`` is "xb" or "bx".
    """
    if variant not in ("xb", "bx"):
        raise ValueError(f"unknown fast-decoupled variant {variant!r}")
    zeros_m = np.zeros(case.n_branch)
    r_p = zeros_m if variant == "xb" else case.r
    tp = branch_two_port(r_p, case.x, zeros_m, np.ones(case.n_branch), case.shift)
    bp = -build_admittances(case.n_bus, case.f, case.t, tp, case.gs + 0j).ybus.imag
    r_pp = zeros_m if variant == "bx" else case.r
    tpp = branch_two_port(r_pp, case.x, case.b, case.tap, zeros_m)
    bpp = -build_admittances(case.n_bus, case.f, case.t, tpp, case.gs + 1j * case.bs).ybus.imag
    return sp.csr_matrix(bp), sp.csr_matrix(bpp)


# ---------------------------------------------------------------- power-flow equations

def mismatch(ybus: sp.csr_matrix, v: np.ndarray, sbus: np.ndarray) -> np.ndarray:
    """Complex power mismatch per bus, ``V * conj(Ybus V) - Sbus`` (pu)."""
    return v * np.conj(ybus @ v) - sbus


def mismatch_vector(mis: np.ndarray, pvpq: np.ndarray, pq: np.ndarray) -> np.ndarray:
    """The equations that are actually imposed: P at PV and PQ buses, Q at PQ buses."""
    return np.r_[mis.real[pvpq], mis.imag[pq]]


def max_mismatch(mis: np.ndarray, pvpq: np.ndarray, pq: np.ndarray) -> float:
    """Infinity norm of the imposed equations (MATPOWER's convergence measure)."""
    vec = mismatch_vector(mis, pvpq, pq)
    return float(np.max(np.abs(vec))) if len(vec) else 0.0


def bus_mismatch(mis: np.ndarray, pvpq: np.ndarray, pq: np.ndarray) -> np.ndarray:
    """Per-bus size of the imposed mismatch (0 at reference and de-energised buses)."""
    out = np.zeros(len(mis))
    out[pvpq] = np.abs(mis.real[pvpq])
    out[pq] = np.maximum(out[pq], np.abs(mis.imag[pq]))
    return out

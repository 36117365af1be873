"""Backward-forward sweep power flow for radial feeders.

Why a sweep: on a radial feeder (one path from every bus to the substation)
the currents can be summed up the tree and the voltages dropped down it, with
no Jacobian at all; it is robust at the high R/X ratios of distribution lines
where fast-decoupled struggles.

How it is vectorised: with every branch indexed by its *child* bus, both
passes are linear systems with a constant, triangular matrix (in
breadth-first order), so each is factorised once and every iteration is two
sparse solves, O(n):

* backward: the current entering branch k at its child end c is the child's
  net injection minus what c sends into its own child branches,
  ``X_c - sum_{c' child of c} X_c' = Inet_c - sum_{c'} L_c'``, where
  ``L = I_parent_end + I_child_end`` is the branch's own shunt/tap current
  (charging, off-nominal ratio), taken from the previous voltages;
* forward: the two-port relation at the child end,
  ``X_c = y_cp V_p + y_cc V_c``, gives ``V_c + (y_cp / y_cc) V_p = X_c / y_cc``.

Branches keep MATPOWER's full two-port (taps, phase shifts, charging), so the
fixed point is exactly the Newton solution.  PV buses are not supported (a
sweep cannot hold a voltage magnitude): the caller gets GAT0804.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

from gatlang.diagnostics import Diagnostic, error
from gatlang.engines.pf_result import DIVERGED, SWEEP_MESHED, SWEEP_PV, SolveOutcome, name_buses
from gatlang.engines.ybus import max_mismatch

if TYPE_CHECKING:
    from gatlang.engines.pf_balanced import PFProblem

RUNAWAY = 1e10


@dataclass(frozen=True)
class Tree:
    """The feeder as a rooted forest: for every non-root energised bus, its parent and branch."""

    kids: np.ndarray       # non-root energised buses, in breadth-first order
    parent: np.ndarray     # parent bus of each kid
    branch: np.ndarray     # branch joining kid and parent
    order: np.ndarray      # all buses: roots and kids in breadth-first order, then de-energised


def build_tree(problem: "PFProblem") -> Tree | Diagnostic:
    """Root each island at its reference bus; a loop or a second reference makes it meshed (GAT0803)."""
    case = problem.case
    n = case.n_bus
    on = problem.energised[case.f] & problem.energised[case.t]
    br = np.flatnonzero(on)
    # a virtual super-root (node n) joined to every reference bus: one search covers every island
    f = np.r_[case.f[br], np.full(len(problem.ref), n)]
    t = np.r_[case.t[br], problem.ref]
    graph = sp.coo_matrix((np.ones(len(f)), (f, t)), shape=(n + 1, n + 1)).tocsr()
    order, pred = csgraph.breadth_first_order(graph, n, directed=False, return_predecessors=True)
    n_energised = int(problem.energised.sum())
    if len(br) + len(problem.ref) != n_energised:   # a spanning forest has exactly this many edges
        pair = sp.coo_matrix((np.ones(n), (np.arange(n), np.where(pred[:n] >= 0, pred[:n], n))),
                             shape=(n, n + 1)).tocsr()
        in_tree = (np.asarray(pair[case.f[br], case.t[br]]).ravel() > 0) \
            | (np.asarray(pair[case.t[br], case.f[br]]).ravel() > 0)
        extra = br[~in_tree]
        names = ", ".join(f"branch {case.branch_id[k]}" for k in extra[:5])
        more = f" and {len(extra) - 5} more" if len(extra) > 5 else ""
        multi = " or an island has several reference buses" if len(extra) == 0 else ""
        return error(
            SWEEP_MESHED, f"the backward-forward sweep needs a radial network, but `{case.name}` has "
            f"{len(br) + len(problem.ref) - n_energised} loop(s){multi}; loop-closing branches: "
            f"{names or 'between reference buses'}{more}", problem.span,
            help="use method = newton for meshed networks, or open a switch in each loop")
    order = order[1:]                                    # drop the super-root
    kids = order[pred[order] != n]
    parent = pred[kids]
    lookup = sp.coo_matrix((np.r_[br, br] + 1, (np.r_[case.f[br], case.t[br]], np.r_[case.t[br], case.f[br]])),
                           shape=(n, n)).tocsr()
    branch = np.asarray(lookup[kids, parent]).ravel().astype(np.int64) - 1
    dead = np.flatnonzero(~problem.energised)
    return Tree(kids, parent, branch, np.r_[order, dead])


def _triangular_lu(matrix: sp.spmatrix, order: np.ndarray) -> "_Permuted":
    """Factorise a matrix that is triangular in ``order`` without fill or pivoting."""
    permuted = matrix.tocsr()[order][:, order].tocsc()
    return _Permuted(spla.splu(permuted, permc_spec="NATURAL", diag_pivot_thresh=0.0), order)


class _Permuted:
    """Solve ``A x = b`` given the LU of ``A[order][:, order]``."""

    def __init__(self, lu: spla.SuperLU, order: np.ndarray) -> None:
        self.lu, self.order = lu, order

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        out = np.empty_like(rhs)
        out[self.order] = self.lu.solve(rhs[self.order])
        return out


def sweep(problem: "PFProblem", v0: np.ndarray, tol: float, max_iter: int) -> SolveOutcome:
    """Backward-forward sweep from ``v0`` until the largest mismatch is below ``tol`` (pu)."""
    case = problem.case
    ybus, sbus = problem.adm.ybus, problem.sbus
    pvpq, pq = problem.pvpq, problem.pq
    v = v0.copy()
    history = [max_mismatch(v * np.conj(ybus @ v) - sbus, pvpq, pq)]
    if len(problem.pv):
        return SolveOutcome(v, False, 0, history, error(
            SWEEP_PV, f"the backward-forward sweep cannot hold voltage set points, but `{case.name}` has "
            f"{len(problem.pv)} PV bus(es): {name_buses(case, problem.pv)}", problem.span,
            help="use method = newton, or model those generators as fixed P/Q injections (PQ buses)"))
    tree = build_tree(problem)
    if isinstance(tree, Diagnostic):
        return SolveOutcome(v, False, 0, history, tree)
    n = case.n_bus
    tp = problem.adm.two_port
    kid_is_t = case.t[tree.branch] == tree.kids
    y_pp = np.where(kid_is_t, tp.yff[tree.branch], tp.ytt[tree.branch])
    y_pc = np.where(kid_is_t, tp.yft[tree.branch], tp.ytf[tree.branch])
    y_cp = np.where(kid_is_t, tp.ytf[tree.branch], tp.yft[tree.branch])
    y_cc = np.where(kid_is_t, tp.ytt[tree.branch], tp.yff[tree.branch])
    eye = sp.identity(n, dtype=complex, format="csr")
    backward = _triangular_lu(eye - sp.csr_matrix((np.ones(len(tree.kids)), (tree.parent, tree.kids)),
                                                  shape=(n, n)), tree.order)
    forward = _triangular_lu(eye + sp.csr_matrix((y_cp / y_cc, (tree.kids, tree.parent)), shape=(n, n)),
                             tree.order)
    ysh = case.gs + 1j * case.bs
    fixed = np.zeros(n, dtype=complex)
    fixed[problem.ref] = v0[problem.ref]
    live = problem.energised
    it = 0
    while history[-1] > tol and it < max_iter:
        if not np.isfinite(history[-1]) or history[-1] > RUNAWAY:
            return SolveOutcome(v, False, it, history, error(
                DIVERGED, f"backward-forward sweep diverged after {it} iteration(s) "
                f"(largest mismatch {history[-1]:.3g} pu)", problem.span,
                help="the feeder may be loaded beyond its capability; check loads and impedances"))
        inet = np.zeros(n, dtype=complex)
        inet[live] = np.conj(sbus[live] / v[live]) - ysh[live] * v[live]
        vp, vc = v[tree.parent], v[tree.kids]
        leak = (y_pp + y_cp) * vp + (y_pc + y_cc) * vc
        rhs = inet - np.bincount(tree.parent, weights=leak.real, minlength=n) \
            - 1j * np.bincount(tree.parent, weights=leak.imag, minlength=n)
        x = backward.solve(rhs)
        rhs_v = fixed.copy()
        rhs_v[tree.kids] = x[tree.kids] / y_cc
        v = forward.solve(rhs_v)
        history.append(max_mismatch(v * np.conj(ybus @ v) - sbus, pvpq, pq))
        it += 1
    return SolveOutcome(v, bool(history[-1] <= tol), it, history)

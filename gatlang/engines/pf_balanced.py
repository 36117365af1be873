"""Balanced AC power flow: the entry point :func:`solve_balanced` and the set-up every method shares.

Why one front door: Newton, fast-decoupled (XB, BX) and the backward-forward
sweep solve the same equations ``S(V) = V * conj(Ybus V) = Sbus`` with the same
bus roles; what differs is only how they step.  Everything they share is here,
written once:

* :func:`prepare` turns a :class:`BalancedCase` into a :class:`PFProblem`
  (Ybus, Sbus, reference/PV/PQ index arrays, start voltages), following
  MATPOWER's rules (a PV or reference bus without an in-service generator is
  PQ; with no reference bus the first PV bus takes the role) and pandapower's
  for islands (an island without a reference bus is de-energised, with a
  warning, instead of making the Jacobian singular).
* :func:`solve_balanced` runs a kernel, enforces generator reactive limits by
  switching PV buses to PQ (MATPOWER ``runpf`` with ``enforce_q_lims``, all
  violations at once as pandapower does; the reference bus is not switched),
  and turns every failure into a coded diagnostic naming the worst buses.

Kernels (``pf_newton``, ``pf_fast_decoupled``, ``pf_sweep``) take a
:class:`PFProblem` and start voltages and return a
:class:`~gatlang.engines.pf_result.SolveOutcome`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable, Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

from gatlang.diagnostics import Diagnostic, Span, error, warning
from gatlang.engines import pf_result as codes
from gatlang.engines.pf_result import PFResult, SolveOutcome, bus_label, build_result, name_buses
from gatlang.engines.ybus import Admittances, bus_mismatch, diagonal_positions, make_ybus, mismatch
from gatlang.network.balanced import NONE, PQ, PV, REF, BalancedCase

Init = Literal["case", "flat", "dc"]
METHODS = ("newton", "fast_decoupled_xb", "fast_decoupled_bx", "sweep")
#: a generator is over its reactive limit when beyond it by more than this (pu)
Q_TOL = 1e-6


@dataclass
class PFProblem:
    """The power-flow equations of one case, ready for a kernel.

    ``ref``, ``pv``, ``pq`` are sorted bus indices of the energised buses;
    de-energised buses (type NONE or an island without a reference) are in
    none of them and keep V = 0.  ``span`` (the ``run pf`` statement, if any)
    is attached to every diagnostic.
    """

    case: BalancedCase
    adm: Admittances
    ybus_diag: np.ndarray        # positions of the diagonal in adm.ybus.data
    sbus: np.ndarray             # complex specified injection, pu (gen - load)
    ref: np.ndarray
    pv: np.ndarray
    pq: np.ndarray
    v0: np.ndarray               # complex start voltages
    energised: np.ndarray        # bool per bus
    gen_on: np.ndarray           # bool per generator: on an energised bus
    diagnostics: list[Diagnostic] = field(default_factory=list)
    span: Span | None = None

    @property
    def pvpq(self) -> np.ndarray:
        return np.r_[self.pv, self.pq]


# ---------------------------------------------------------------- injections

def make_sbus(case: BalancedCase, qg: np.ndarray, gen_on: np.ndarray) -> np.ndarray:
    """Specified injections ``Cg (pg + j qg) - (pd + j qd)`` using only generators in ``gen_on``."""
    s_gen = np.where(gen_on, case.pg + 1j * qg, 0.0)
    return np.bincount(case.gen_bus, weights=s_gen.real, minlength=case.n_bus) \
        + 1j * np.bincount(case.gen_bus, weights=s_gen.imag, minlength=case.n_bus) \
        - (case.pd + 1j * case.qd)


# ---------------------------------------------------------------- bus roles

def _roles(case: BalancedCase, diags: list[Diagnostic], span: Span | None) -> tuple[np.ndarray, np.ndarray]:
    """Effective bus types and the energised mask, with MATPOWER's and pandapower's rules."""
    n = case.n_bus
    btype = np.asarray(case.bus_type, dtype=np.int64).copy()
    has_gen = np.bincount(case.gen_bus, minlength=n) > 0 if case.n_gen else np.zeros(n, bool)
    btype[((btype == PV) | (btype == REF)) & ~has_gen] = PQ
    alive = btype != NONE
    if not np.any(btype == REF):
        cand = np.flatnonzero(btype == PV)
        if len(cand):
            btype[cand[0]] = REF
            diags.append(warning(
                codes.REF_SUBSTITUTED, f"case `{case.name}` has no reference bus with a generator; "
                f"{bus_label(case, int(cand[0]))} (a PV bus) is used as the reference", span,
                help="mark the slack bus as type 3 (reference) in the network data"))
    # islands: a connected component of live buses without a reference is de-energised
    live_br = alive[case.f] & alive[case.t]
    graph = sp.coo_matrix((np.ones(int(live_br.sum())), (case.f[live_br], case.t[live_br])), shape=(n, n))
    _, label = csgraph.connected_components(graph, directed=False)
    island_has_ref = np.bincount(label, weights=(btype == REF), minlength=label.max() + 1) > 0
    dead = alive & ~island_has_ref[label]
    if np.any(dead) and np.any(btype == REF):
        idx = np.flatnonzero(dead)
        diags.append(warning(
            codes.ISLANDED, f"{len(idx)} bus(es) in island(s) without a reference bus are left "
            f"de-energised: {name_buses(case, idx)}", span,
            help="connect the island, or give it a reference (slack) bus, to solve it"))
    energised = alive & ~dead
    btype[~energised] = NONE
    return btype, energised


def _check_data(case: BalancedCase, span: Span | None) -> list[Diagnostic]:
    """Data the equations cannot take: no source of voltage at all, zero-impedance branches."""
    out: list[Diagnostic] = []
    has_gen = np.bincount(case.gen_bus, minlength=case.n_bus) > 0 if case.n_gen else np.zeros(case.n_bus, bool)
    if not np.any(((case.bus_type == REF) | (case.bus_type == PV)) & has_gen):
        out.append(error(
            codes.NO_SLACK, f"case `{case.name}` has no reference (slack) bus and no PV bus with an "
            "in-service generator, so nothing fixes the voltage", span,
            help="mark the substation / slack bus as type 3 (reference) and give it an in-service generator"))
    zero = np.flatnonzero((case.r == 0) & (case.x == 0))
    if len(zero):
        names = ", ".join(f"branch {case.branch_id[k]} ({bus_label(case, int(case.f[k]))} -> "
                          f"{bus_label(case, int(case.t[k]))})" for k in zero[:5])
        out.append(error(
            codes.ZERO_IMPEDANCE, f"{len(zero)} branch(es) have zero impedance (r = x = 0): {names}"
            + (f" and {len(zero) - 5} more" if len(zero) > 5 else ""), span,
            help="give the branch a small reactance (e.g. x = 1e-4 pu) or merge the two buses"))
    return out


# ---------------------------------------------------------------- start point

def dc_angles(case: BalancedCase, ref: np.ndarray, energised: np.ndarray, sbus: np.ndarray) -> np.ndarray:
    """Voltage angles of the DC power flow (MATPOWER ``makeBdc``), a cheap Newton start point."""
    n = case.n_bus
    on = energised[case.f] & energised[case.t]
    f, t = case.f[on], case.t[on]
    tap = np.where(case.tap[on] == 0, 1.0, case.tap[on])
    b = 1.0 / (case.x[on] * tap)
    bbus = sp.coo_matrix((np.r_[b, -b, -b, b], (np.r_[f, f, t, t], np.r_[f, t, f, t])), shape=(n, n)).tocsc()
    p_shift = np.bincount(f, weights=-b * case.shift[on], minlength=n) \
        - np.bincount(t, weights=-b * case.shift[on], minlength=n)
    va = np.where(energised, case.va, 0.0).astype(float)
    free = np.flatnonzero(energised & ~np.isin(np.arange(n), ref))
    if len(free):
        rhs = sbus.real[free] - p_shift[free] - case.gs[free] - bbus[free][:, ref] @ va[ref]
        va[free] = spla.spsolve(bbus[free][:, free], rhs)
    return va


def start_voltages(case: BalancedCase, btype: np.ndarray, energised: np.ndarray, ref: np.ndarray,
                   sbus: np.ndarray, init: Init) -> np.ndarray:
    """Start voltages: magnitudes from the case (or 1 pu), generator set points at PV and
    reference buses (MATPOWER's rule), angles from the case, zero, or a DC power flow."""
    vm = np.ones(case.n_bus) if init == "flat" else np.asarray(case.vm, dtype=float).copy()
    va = np.asarray(case.va, dtype=float).copy()
    if init == "flat":      # a flat start keeps the reference angle (pandapower's ext_grid va_degree)
        va = np.full(case.n_bus, va[ref[0]] if len(ref) else 0.0)
        va[ref] = case.va[ref]
    if init == "dc":
        va = dc_angles(case, ref, energised, sbus)
    gb = case.gen_bus[::-1]                     # reversed: the first generator of a bus wins
    controlled = (btype[gb] == PV) | (btype[gb] == REF)
    vm[gb[controlled]] = case.vg[::-1][controlled]
    vm = np.where(vm > 0, vm, 1.0)
    return np.where(energised, vm * np.exp(1j * va), 0.0)


def prepare(case: BalancedCase, init: Init = "case", span: Span | None = None) -> PFProblem:
    """Assemble the power-flow problem of ``case`` (see module docstring for the rules)."""
    diags: list[Diagnostic] = []
    btype, energised = _roles(case, diags, span)
    adm = make_ybus(case)
    gen_on = energised[case.gen_bus] if case.n_gen else np.zeros(0, bool)
    sbus = make_sbus(case, case.qg, gen_on)
    ref = np.flatnonzero(btype == REF)
    pv = np.flatnonzero(btype == PV)
    pq = np.flatnonzero(btype == PQ)
    v0 = start_voltages(case, btype, energised, ref, sbus, init)
    return PFProblem(case, adm, diagonal_positions(adm.ybus), sbus, ref, pv, pq, v0, energised, gen_on,
                     diags, span)


# ---------------------------------------------------------------- solving

Kernel = Callable[[PFProblem, np.ndarray, float, int], SolveOutcome]


def _kernel(method: str) -> Kernel:
    """The stepping scheme of ``method`` (imported here: the kernels import this module's types)."""
    if method == "newton":
        from gatlang.engines.pf_newton import newton
        return newton
    if method in ("fast_decoupled_xb", "fast_decoupled_bx"):
        from gatlang.engines.pf_fast_decoupled import fast_decoupled
        variant = method.rsplit("_", 1)[1]
        return lambda problem, v0, tol, max_iter: fast_decoupled(problem, v0, tol, max_iter, variant)
    from gatlang.engines.pf_sweep import sweep
    return sweep


_INDEX_FIELDS = ("f", "t", "gen_bus")
_FLOAT_FIELDS = ("pd", "qd", "gs", "bs", "vm", "va", "pg", "qg", "qmin", "qmax", "vg", "r", "x", "b", "tap", "shift")


def _normalised(case: BalancedCase) -> BalancedCase:
    """The case with index arrays as int64 and values as float64, whatever its producer used,
    so that kernels can index and compute without checking (no copy when already so)."""
    fix = {k: np.asarray(getattr(case, k), dtype=np.int64) for k in _INDEX_FIELDS}
    fix.update({k: np.asarray(getattr(case, k), dtype=np.float64) for k in _FLOAT_FIELDS})
    fix["bus_type"] = np.asarray(case.bus_type, dtype=np.int8)
    return replace(case, **fix)


def _options_error(method: str, init: str, tol: float, max_iter: int, span: Span | None) -> Diagnostic | None:
    if method not in METHODS:
        return error(codes.BAD_OPTION, f"unknown power-flow method `{method}`", span,
                     help="use one of: " + ", ".join(METHODS))
    if init not in ("case", "flat", "dc"):
        return error(codes.BAD_OPTION, f"unknown power-flow start point `{init}`", span,
                     help="use one of: flat, case, dc")
    if not (tol > 0 and np.isfinite(tol)) or max_iter < 1:
        return error(codes.BAD_OPTION, f"power-flow tolerance must be > 0 and max_iter >= 1 "
                     f"(got tol={tol}, max_iter={max_iter})", span,
                     help="the default tol = 1e-8 pu and max_iter = 30 suit most networks")
    return None


def _failed(case: BalancedCase, method: str, diags: list[Diagnostic], started: float) -> PFResult:
    """A result that carries only the diagnostics of why nothing was solved."""
    nan = lambda k: np.full(k, np.nan)  # noqa: E731
    return PFResult(False, 0, float("nan"), method, nan(case.n_bus), nan(case.n_bus), nan(case.n_gen),
                    nan(case.n_gen), nan(case.n_branch), nan(case.n_branch), nan(case.n_branch),
                    nan(case.n_branch), np.full(case.n_branch, np.nan + 0j),
                    np.asarray(case.bus_type, dtype=np.int8).copy(), diags, time.perf_counter() - started,
                    [], case.bus_id, case.gen_id, case.branch_id)


def _worst_buses(problem: PFProblem, v: np.ndarray) -> str:
    """The five buses where the imposed P/Q balance is furthest from holding, worst first."""
    mis = bus_mismatch(mismatch(problem.adm.ybus, v, problem.sbus), problem.pvpq, problem.pq)
    mis = np.nan_to_num(mis, nan=np.inf)
    worst = np.argsort(-mis)[:5]
    worst = worst[mis[worst] > 0]
    return name_buses(problem.case, worst, mis[worst])


def _not_converged(problem: PFProblem, outcome: SolveOutcome, method: str, max_iter: int) -> Diagnostic:
    """GAT0800: name the buses where the equations are furthest from holding."""
    return error(
        codes.NOT_CONVERGED, f"{method} power flow did not converge in {outcome.iterations} iteration(s) "
        f"(largest mismatch {outcome.history[-1]:.3g} pu); worst buses: {_worst_buses(problem, outcome.v)}",
        problem.span,
        help=f"raise max_iter (now {max_iter}), " + ("try init = dc" if method == "newton" else "try method = newton")
        + "; if it still fails the loading may be beyond the network's capability: check the loads and "
        "impedances at those buses")


def _breakdown(problem: PFProblem, outcome: SolveOutcome) -> Diagnostic:
    """A kernel's numerical failure, located: divergence and singular matrices name the worst buses."""
    failure = outcome.failure
    assert failure is not None
    if failure.code in (codes.DIVERGED, codes.SINGULAR):
        failure = replace(failure, message=f"{failure.message}; worst buses: {_worst_buses(problem, outcome.v)}")
    return replace(failure, span=problem.span)


def _q_violations(problem: PFProblem, res: PFResult, fixed: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Generators above qmax / below qmin among those still regulating a PV bus."""
    case = problem.case
    at_pv = np.isin(case.gen_bus, problem.pv) & problem.gen_on & ~fixed
    return at_pv & (res.qg > case.qmax + tol), at_pv & (res.qg < case.qmin - tol)


def solve_balanced(case: BalancedCase, *, method: str = "newton", tol: float = 1e-8, max_iter: int = 30,
                   enforce_q_limits: bool = False, init: Init = "flat",
                   span: Span | None = None) -> PFResult:
    """Solve the balanced AC power flow of ``case``.

    ``method``: newton | fast_decoupled_xb | fast_decoupled_bx | sweep (radial,
    PQ buses only).  ``tol`` bounds the largest P/Q mismatch (pu) at the
    answer, for every method.  ``init``: "flat" (1 pu, 0 rad), "case" (the
    case's voltages) or "dc" (angles of a DC power flow); generator set points
    always fix the magnitude at PV and reference buses.  With
    ``enforce_q_limits`` a PV bus whose generators leave [qmin, qmax] becomes
    PQ with the generators at the limit, and the flow is solved again.

    Never raises on bad data: a result with ``converged=False`` carries coded
    diagnostics (GAT0800-GAT0810) saying why.
    """
    started = time.perf_counter()
    bad = _options_error(method, init, tol, max_iter, span)
    if bad is not None:
        return _failed(case, method, [bad], started)
    case = _normalised(case)
    data_errors = _check_data(case, span)
    if data_errors:
        return _failed(case, method, data_errors, started)
    problem = prepare(case, init, span)
    diags = list(problem.diagnostics)
    kernel = _kernel(method)
    fixed = ~np.isin(case.gen_bus, np.r_[problem.pv, problem.ref])   # generators on PQ buses
    qg_fixed = np.asarray(case.qg, dtype=float).copy()
    v0 = problem.v0
    switched: list[int] = []
    iterations, history = 0, []
    for _ in range(case.n_gen + 1):     # each round switches at least one bus
        outcome = kernel(problem, v0, tol, max_iter)
        iterations += outcome.iterations
        history += outcome.history
        res = build_result(problem, outcome, method, qg_fixed, fixed, [], 0.0)
        if not outcome.converged or not enforce_q_limits:
            break
        over, under = _q_violations(problem, res, fixed, Q_TOL)
        viol = over | under
        if not np.any(viol):
            break
        buses = np.unique(case.gen_bus[viol])
        switched += buses.tolist()
        at_bus = np.isin(case.gen_bus, buses) & ~fixed
        qg_fixed[at_bus] = res.qg[at_bus]           # others at the bus keep their output
        qg_fixed[over] = case.qmax[over]
        qg_fixed[under] = case.qmin[under]
        fixed = fixed | at_bus
        pv = np.setdiff1d(problem.pv, buses)
        pq = np.union1d(problem.pq, buses)
        problem = replace(problem, pv=pv, pq=pq, sbus=make_sbus(case, qg_fixed, problem.gen_on))
        v0 = outcome.v
    if switched:
        idx = np.unique(switched)
        diags.append(warning(
            codes.Q_LIMITS, f"{len(idx)} PV bus(es) reached a generator reactive limit and were solved as PQ: "
            f"{name_buses(case, idx)}", span,
            help="their voltages differ from the set points; this is expected when enforce_q_limits is on"))
    if outcome.failure is not None:
        diags.append(_breakdown(problem, outcome))
    elif not outcome.converged:
        diags.append(_not_converged(problem, outcome, method, max_iter))
    res.iterations, res.mismatch_history = iterations, history
    res.diagnostics = diags
    res.wall_time = time.perf_counter() - started
    return res

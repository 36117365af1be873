"""The snapshot control loop: solve, let regulators and capacitor controls act, solve again.

Why a module of its own: the loop decides which controls act in a round
(the engine's static mode: of all that want to act, those with the smallest
delay), how accurately the network is solved between actions, and when the
fixed point hands over to Newton; `pf3.solve_unbalanced` only prepares and
reports.  The controls themselves are `pf3_regcontrol` and `pf3_capcontrol`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from gatlang.engines.pf3_capcontrol import CapControl, cap_actions, switch
from gatlang.engines.pf3_control_kernel import LOOP_FALLBACK, LOOP_NOT_CONVERGED, LOOP_UNSETTLED, control_rounds
from gatlang.engines import pf3_fixed, pf3_linear
from gatlang.engines.pf3_fixed import fixed_point
from gatlang.engines.pf3_linear import Factors, compensation_columns, linear_solver
from gatlang.engines.pf3_newton import newton
from gatlang.engines.pf3_regcontrol import RegulatorBank, apply_taps, regulator_actions
from gatlang.engines.pf3_result import Solve3Outcome
from gatlang.engines.pf3_sweep import sweep
from gatlang.engines.pf3_system import System3, padded_rows, padded_squares
from gatlang.network.model import Network

#: method name -> kernel
KERNELS = {"newton": newton, "fixed_point": fixed_point, "zbus": fixed_point, "sweep": sweep}
#: control rounds before the loop is declared unsettled (the engine allows 15 by default)
MAX_CONTROL_ROUNDS = 30
#: mismatch (pu) to which the solves between control actions are taken: far above the final
#: tolerance, and tight enough that the control path is the engine's -- at 1e-4 one IEEE 8500
#: regulator (vreg2_a) settles a step away from the engine's tap
CONTROL_TOL = 1e-5


def _kernel_round(system: System3, method: str, v: np.ndarray, tol: float, max_iter: int,
                  reuse: dict) -> tuple[Solve3Outcome, bool]:
    """One solve at fixed controls; a stalled fixed point hands over to Newton from its best
    iterate (with the iterations it left).  Returns (outcome, whether Newton took over)."""
    out = KERNELS[method](system, v, tol, max_iter, reuse)
    if not (out.stalled and method != "newton" and out.iterations < max_iter):
        return out, False
    rescue = newton(system, out.v, tol, max_iter - out.iterations, reuse)
    return Solve3Outcome(rescue.v, rescue.converged, out.iterations + rescue.iterations,
                         out.history + rescue.history[1:], rescue.failure), True


@dataclass
class LoopOutcome:
    """The last solve of the loop and what the loop did on the way."""

    out: Solve3Outcome
    iterations: int
    history: list[float]
    rounds: int
    at_limit: set[str]
    states: dict[str, bool]
    settled: bool
    method: str


def control_loop(net: Network, system: System3, method: str, v: np.ndarray, tol: float, max_iter: int,
                 reuse: dict, bank: RegulatorBank, caps: list[CapControl]) -> LoopOutcome:
    """Solve, let the controls act, solve again -- until no control wants to act.

    Each round, of the regulators and capacitor controls that want to act,
    only those with the smallest delay do (the engine's static mode).  While
    controls still act, solves stop at `CONTROL_TOL`; once they are settled
    the network is solved to ``tol`` and the controls are asked once more.
    Regulators alone with the fixed point run as one compiled call
    (`compiled_control_loop`), with the same result.
    """
    if method in ("fixed_point", "zbus") and bank.regs and not caps:
        compiled = compiled_control_loop(system, method, v, tol, max_iter, reuse, bank)
        if compiled is not None:
            return compiled
    return python_control_loop(net, system, method, v, tol, max_iter, reuse, bank, caps)


class PlanArrays(NamedTuple):
    """Every regulated transformer's `pf3_system._StampPlan`, padded into arrays (one row each)."""

    sel: np.ndarray          # primitive entries held by the matrix's pattern
    pos: np.ndarray          # their positions in ``ypu.data``
    scale: np.ndarray        # siemens -> per unit
    lr: np.ndarray           # live row and column of each
    lc: np.ndarray
    count: np.ndarray        # entries used in each row
    nodes: np.ndarray        # live nodes the entries touch
    node_count: np.ndarray


def _plan_arrays(system: System3) -> PlanArrays | None:
    """The regulated transformers' stamp plans as the padded arrays `control_rounds` reads (kept per
    network version), or None when some plan has entries outside the matrix's pattern."""
    cached = system.network_shared.get("regulated_plan_arrays")
    if cached is None:
        plans = system.regulated_plans()
        if any(len(plan.outside) for plan in plans):
            cached = system.network_shared["regulated_plan_arrays"] = ()
        else:
            def rows(name: str, dtype: type = np.int64) -> np.ndarray:
                return padded_rows([getattr(plan, name) for plan in plans], dtype)

            cached = system.network_shared["regulated_plan_arrays"] = PlanArrays(
                rows("sel"), rows("pos"), rows("scale", float), rows("lr"), rows("lc"),
                np.array([len(p.sel) for p in plans], dtype=np.int64), rows("nodes"),
                np.array([len(p.nodes) for p in plans], dtype=np.int64))
    return cached or None


def compiled_control_loop(system: System3, method: str, v: np.ndarray, tol: float, max_iter: int, reuse: dict,
                          bank: RegulatorBank) -> LoopOutcome | None:
    """`python_control_loop` for regulators alone, as one compiled call (`pf3_control_kernel`);
    None -- nothing changed -- where that does not apply (a plan off the matrix's pattern, too many
    regulated nodes to compensate, a round that stalls and would hand over to Newton)."""
    plans = _plan_arrays(system) if system.version == 0 else None
    lu = linear_solver(system, reuse)
    if plans is None or not isinstance(lu, Factors):
        return None
    touched = np.unique(np.concatenate([row[:c] for row, c in zip(plans.nodes, plans.node_count)]))
    if len(touched) > pf3_linear.MAX_COMPENSATED or len(touched) * system.n > pf3_linear.MAX_W_ENTRIES:
        return None
    columns = compensation_columns(system, lu)
    columns.rows(lu, touched)                        # every column a compensation may need, solved now
    reg = system.regulated
    prims = padded_squares(reg.prims, bank.terms.shape[1])
    taps = reg.tap_array().copy()
    y, ld, data = system.ypu, system.loads, system.ypu.data.copy()
    history = np.empty((2 * MAX_CONTROL_ROUNDS + 3) * (max_iter + 1))
    (status, x, iterations, written, last_start, last_it, rounds, stuck, log_r, log_c, log_v, nodes,
     stamps) = control_rounds(
        (y.indptr, y.indices, data), system.isrc, (ld.a, ld.b, ld.coef, ld.edges), lu.kernel_args()[0],
        np.ascontiguousarray(v, dtype=complex), float(tol), float(max(tol, CONTROL_TOL)), int(max_iter),
        MAX_CONTROL_ROUNDS, (pf3_fixed.DEPTH, pf3_fixed.DIVERGENCE_FACTOR, pf3_fixed.STALL_RATE,
                             pf3_fixed.STALL_WINDOW), bank.kernel_args(), bank.delay,
        system.full_to_live(), system.vbase, taps, prims,
        np.array([len(t) for t in reg.terminals], dtype=np.int64), tuple(plans), columns.store, columns.row_of,
        history)
    if status == LOOP_FALLBACK:
        return None
    system.commit_taps(data, taps, prims, (log_r, log_c, log_v), nodes, stamps)
    converged = status != LOOP_NOT_CONVERGED
    out = Solve3Outcome(x, converged, int(last_it), history[last_start:written].tolist())
    at_limit = {bank.regs[r].name for r in np.flatnonzero(stuck).tolist()} if converged else set()
    return LoopOutcome(out, int(iterations), history[:written].tolist(), int(rounds), at_limit, {},
                       status != LOOP_UNSETTLED, method)


def python_control_loop(net: Network, system: System3, method: str, v: np.ndarray, tol: float, max_iter: int,
                        reuse: dict, bank: RegulatorBank, caps: list[CapControl]) -> LoopOutcome:
    """`control_loop` written out in Python: every method, capacitor controls, Newton's rescue
    of a stalled fixed point (and the reference `compiled_control_loop` is tested against)."""
    states = {c.capacitor: True for c in caps}
    iterations, history, rounds = 0, [], 0
    used = method
    tight = not (bank.regs or caps)
    while True:
        out, rescued = _kernel_round(system, method, v, tol if tight else max(tol, CONTROL_TOL), max_iter, reuse)
        used = f"{method}+newton" if rescued else used
        iterations += out.iterations
        history += out.history
        v = out.v
        if not out.converged or not (bank.regs or caps):
            return LoopOutcome(out, iterations, history, rounds, set(), states, True, used)
        reg_acts, stuck = regulator_actions(bank, system, v)
        acts = reg_acts + (cap_actions(caps, states, net, system, system.v_full(v),
                                       {row["transformer"]: row["taps_pu"] for row in system.regulated.rows})
                           if caps else [])
        if not acts:
            if tight:
                return LoopOutcome(out, iterations, history, rounds, set(stuck), states, True, used)
            tight = True                  # settled: solve to the asked tolerance, then check again
            continue
        tight = False
        rounds += 1
        if rounds > MAX_CONTROL_ROUNDS:
            return LoopOutcome(out, iterations, history, rounds - 1, set(stuck), states, False, used)
        nearest = min(a[0] for a in acts)
        apply_taps(system, [a for a in reg_acts if a[0] == nearest])
        for delay, control, on in acts[len(reg_acts):]:
            if delay == nearest:
                switch(system, control, on, states)

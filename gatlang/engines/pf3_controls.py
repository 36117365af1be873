"""The snapshot control loop: solve, let regulators and capacitor controls act, solve again.

Why a module of its own: the loop decides which controls act in a round
(the engine's static mode: of all that want to act, those with the smallest
delay), how accurately the network is solved between actions, and when the
fixed point hands over to Newton; `pf3.solve_unbalanced` only prepares and
reports.  The controls themselves are `pf3_regcontrol` and `pf3_capcontrol`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gatlang.engines.pf3_capcontrol import CapControl, cap_actions, switch
from gatlang.engines.pf3_fixed import fixed_point
from gatlang.engines.pf3_newton import newton
from gatlang.engines.pf3_regcontrol import RegulatorBank, apply_taps, regulator_actions
from gatlang.engines.pf3_result import Solve3Outcome
from gatlang.engines.pf3_sweep import sweep
from gatlang.engines.pf3_system import System3
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
    """
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

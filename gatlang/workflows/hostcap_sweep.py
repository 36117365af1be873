"""The stepping search of `method = sweep`, independent of which power flow answers each step.

Why separate from the power flows: the search -- raise the injection by
`step` until a limit binds, optionally halve the last interval -- is the
same for the balanced and the three-phase network; only "solve with P MW at
this bus and tell me the worst violation" differs, and that is passed in.

The answer is the largest injection *on the step grid* (k * step) at which
every limit holds; the violation reported as binding is the one at the next
step.  With ``refine`` the interval between those two is bisected until it
is below ``step / 2**REFINE_HALVINGS``, and the answer is the largest
injection found to hold (no longer a multiple of the step).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from gatlang.workflows.hostcap_limits import NO_SOLUTION, Headroom, Violation

#: bisection halvings of the last step with `refine = true` (step / 64)
REFINE_HALVINGS = 6


@dataclass(frozen=True)
class Trial:
    """One power flow of the search."""

    p_mw: float
    stage: str                    # coarse | refine
    converged: bool
    violation: Violation | None
    headroom: Headroom | None
    iterations: int = 0

    @property
    def ok(self) -> bool:
        return self.converged and self.violation is None


Evaluate = Callable[[float, str], Trial]


@dataclass
class SweepResult:
    capacity_mw: float
    binding: Violation | None     # None: `max` reached with every limit respected
    trials: list[Trial] = field(default_factory=list)
    at_max: bool = False


def sweep(evaluate: Evaluate, step_mw: float, max_mw: float, refine: bool = False,
          on_trial: Callable[[Trial], None] | None = None) -> SweepResult:
    """Raise the injection k * step (k = 1, 2, ...) up to ``max_mw`` until a limit binds."""
    trials: list[Trial] = []

    def run(p: float, stage: str) -> Trial:
        t = evaluate(p, stage)
        trials.append(t)
        if on_trial is not None:
            on_trial(t)
        return t

    n_steps = max(1, math.ceil(max_mw / step_mw - 1e-9))
    good, bad = 0.0, None
    for k in range(1, n_steps + 1):
        p = min(k * step_mw, max_mw)
        t = run(p, "coarse")
        if not t.ok:
            bad = t
            break
        good = p
    if bad is None:
        return SweepResult(good, None, trials, at_max=True)
    if refine:
        lo, hi = good, bad.p_mw
        while hi - lo > step_mw / 2 ** REFINE_HALVINGS:
            t = run(0.5 * (lo + hi), "refine")
            if t.ok:
                lo = t.p_mw
            else:
                hi, bad = t.p_mw, t
        good = lo
    binding = bad.violation if bad.converged else NO_SOLUTION
    return SweepResult(good, binding, trials)

"""Where a non-convex solve starts: the operating point behind `vm_start` / `va_start`.

Why a run option rather than a formulation's choice: the same formulation is
started differently for different studies.  A flat start (1 pu, 0 rad) is
what published baselines use; starting from the case's own voltages or from
a power-flow solution usually saves interior-point iterations on large
networks and steers a local solver towards the physical operating point.
The formulations read the point through the network view (`start
b.vm_start`), so the mathematics stays in stdlib/*.gat.

The run option ``init`` picks it: ``flat``; ``case`` (the voltages written in the input);
``dc`` (angles of the DC power flow, magnitudes 1); ``pf`` (the AC power
flow of the case, Newton; falls back to ``case`` with a warning when it does
not converge).
"""
from __future__ import annotations

import numpy as np

from gatlang.diagnostics import DiagnosticSink, Span
from gatlang.network.balanced import BalancedCase

START_POINTS = ("flat", "case", "dc", "pf")


def balanced_start(case: BalancedCase, how: str, sink: DiagnosticSink, span: Span | None) -> tuple[np.ndarray, np.ndarray]:
    """(vm, va) per bus for `how`, in pu and radians."""
    n = case.n_bus
    if how == "flat":
        return np.ones(n), np.zeros(n)
    if how == "case":
        return np.asarray(case.vm, dtype=float), np.asarray(case.va, dtype=float)
    from gatlang.engines.pf_balanced import prepare, solve_balanced

    if how == "dc":
        v0 = prepare(case, "dc", span).v0       # the power-flow kernel's own DC start
        return np.ones(n), np.angle(v0)
    result = solve_balanced(case, method="newton", init="case", span=span)
    if not result.converged:
        sink.warning("GAT0408", f"the power flow of `{case.name}` did not converge, so the OPF starts from the "
                                "case's own voltages instead", span,
                     help="check the case (see `run pf`), or choose `init = flat` or `init = case`")
        return np.asarray(case.vm, dtype=float), np.asarray(case.va, dtype=float)
    return np.asarray(result.vm, dtype=float), np.asarray(result.va, dtype=float)

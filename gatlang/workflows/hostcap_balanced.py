"""Power flows of the balanced sweep: the case set up once, one Newton solve per step.

Why not call :func:`solve_balanced` per step: everything but the injection
at one bus is the same in every step of every location -- Ybus, bus roles,
index arrays -- so the problem is prepared once (`pf_balanced.prepare`) and
each step only changes its specified injections and starts Newton from the
previous step's voltages (a few iterations instead of a flat start).

The DER is a constant-power injection P + jQ at its bus (Q = P tan(acos pf),
zero at the default unity power factor), as pandapower's `sgen`.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from gatlang.diagnostics import Diagnostic, Span
from gatlang.engines.pf_balanced import PFProblem, prepare, solve_balanced
from gatlang.engines.pf_newton import newton
from gatlang.engines.pf_result import PFResult, build_result
from gatlang.network.balanced import REF, BalancedCase
from gatlang.workflows.hostcap_limits import Headroom, LimitCheck, Observation, headroom
from gatlang.workflows.hostcap_options import Limits
from gatlang.workflows.hostcap_sweep import Evaluate, Trial

TOL = 1e-8
MAX_ITER = 30


def observe(case: BalancedCase, res: PFResult) -> Observation:
    """Voltages per bus and MVA loading per rated branch (max of both ends over rate_a, as MATPOWER)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.maximum(np.hypot(res.pf, res.qf), np.hypot(res.pt, res.qt))
        loading = np.where(case.rate_a > 0, s / case.rate_a * 100.0, np.nan)
    return Observation(np.asarray(case.bus_id).astype(str), np.zeros(case.n_bus, dtype=np.int8), res.vm,
                       np.asarray(case.branch_id).astype(str), np.zeros(case.n_branch, dtype=np.int8), loading)


def slack_buses(case: BalancedCase) -> set[str]:
    return {str(b) for b in np.asarray(case.bus_id)[np.asarray(case.bus_type) == REF]}


class BalancedHost:
    """A balanced case ready for DER steps at any of its buses."""

    def __init__(self, case: BalancedCase, limits: Limits, q_per_p: float, span: Span | None) -> None:
        self.case = case
        self.q_per_p = q_per_p
        self.span = span
        self.base = solve_balanced(case, method="newton", tol=TOL, max_iter=MAX_ITER, init="flat", span=span)
        self.diagnostics: list[Diagnostic] = list(self.base.diagnostics)
        self.ok = self.base.converged
        if not self.ok:
            return
        self.problem: PFProblem = prepare(case, "flat", span)
        self.base_obs = observe(case, self.base)
        self.check = LimitCheck(limits, self.base_obs)
        self.base_headroom: Headroom = headroom(self.base_obs)
        self.index = {str(b): i for i, b in enumerate(np.asarray(case.bus_id))}
        self._fixed = ~np.isin(case.gen_bus, np.r_[self.problem.pv, self.problem.ref])

    def solve(self, bus: str, p_mw: float, v0: np.ndarray | None = None) -> tuple[PFResult, np.ndarray]:
        """The power flow with P MW (and its Q) injected at ``bus``; returns the result and its voltages."""
        inj = np.zeros(self.case.n_bus, dtype=complex)
        inj[self.index[bus]] = p_mw * (1.0 + 1j * self.q_per_p) / self.case.base_mva
        problem = replace(self.problem, sbus=self.problem.sbus + inj)
        out = newton(problem, self.base.v if v0 is None else v0, TOL, MAX_ITER)
        res = build_result(problem, out, "newton", np.asarray(self.case.qg, dtype=float), self._fixed, [], 0.0)
        return res, out.v

    def observe_at(self, bus: str, p_mw: float) -> tuple[Observation | None, int]:
        """The power flow with P MW at ``bus`` as an Observation (None if it does not solve), and its iterations."""
        res, v = self.solve(bus, p_mw)
        if not res.converged or not np.all(np.isfinite(v)):
            return None, res.iterations
        return observe(self.case, res), res.iterations

    def evaluator(self, bus: str) -> Evaluate:
        """`(P, stage) -> Trial` for the sweep, warm-starting each solve from the last that converged."""
        start = {"v": self.base.v}

        def evaluate(p_mw: float, stage: str) -> Trial:
            res, v = self.solve(bus, p_mw, start["v"])
            if not res.converged or not np.all(np.isfinite(v)):
                return Trial(p_mw, stage, False, None, None, res.iterations)
            start["v"] = v
            obs = observe(self.case, res)
            return Trial(p_mw, stage, True, self.check.worst(obs), headroom(obs), res.iterations)

        return evaluate

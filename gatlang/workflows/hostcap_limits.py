"""Which operating limit a DER injection breaks first, and where.

Why shared: the balanced and the three-phase sweeps (and the check of an OPF
answer) all reduce a solved power flow to the same two long tables -- one
voltage per bus and phase, one loading per branch (and phase) -- and ask the
same question of them.  Writing the question once keeps "binding limit" one
definition for every method.

Limits already broken without DER (IEEE 13's phase B sits above 1.05 pu at
full load, the Baran-Wu feeder's far end below 0.95 pu) would otherwise give
every location a capacity of zero.  They are reported (GAT0446) and, for
those elements only, the limit becomes the value without DER: the DER may
not make them worse ("no worse than today"), which is how utility
hosting-capacity screens treat pre-existing violations.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gatlang.workflows.hostcap_options import Limits

#: numerical slack when comparing a solved value with its limit (pu; % for loading)
V_TOL = 1e-9
LOADING_TOL = 1e-7


@dataclass(frozen=True)
class Observation:
    """A solved power flow in the form the limits are written in."""

    bus: np.ndarray           # str, one row per bus and phase
    phase: np.ndarray         # int (0 for a balanced network)
    vm: np.ndarray            # pu
    branch: np.ndarray        # str, one row per branch (and phase)
    branch_phase: np.ndarray  # int (0 for a balanced network)
    loading: np.ndarray       # % of rating; NaN where the branch has no rating


@dataclass(frozen=True)
class Violation:
    """The limit that binds: what, where, the value reached and the limit it passed."""

    kind: str                 # overvoltage | undervoltage | overload | no_solution
    element: str
    phase: int
    value: float
    limit: float

    def describe(self) -> str:
        if self.kind == "no_solution":
            return "no power-flow solution"
        where = self.element + (f" phase {self.phase}" if self.phase else "")
        unit = "%" if self.kind == "overload" else " pu"
        return f"{self.kind} at {where}: {self.value:.5g}{unit} (limit {self.limit:.5g}{unit})"


NO_SOLUTION = Violation("no_solution", "", 0, float("nan"), float("nan"))


@dataclass(frozen=True)
class Headroom:
    """Extremes of one solved power flow (for the per-step detail table)."""

    max_vm: float
    max_vm_at: str
    min_vm: float
    min_vm_at: str
    max_loading: float
    max_loading_at: str


def _where(names: np.ndarray, phases: np.ndarray, i: int) -> str:
    return str(names[i]) + (f".{int(phases[i])}" if int(phases[i]) else "")


def headroom(obs: Observation) -> Headroom:
    """Highest and lowest voltage and highest loading, with where each occurs."""
    hi, lo = int(np.nanargmax(obs.vm)), int(np.nanargmin(obs.vm))
    rated = np.isfinite(obs.loading)
    if rated.any():
        k = int(np.flatnonzero(rated)[np.argmax(obs.loading[rated])])
        load, load_at = float(obs.loading[k]), _where(obs.branch, obs.branch_phase, k)
    else:
        load, load_at = float("nan"), ""
    return Headroom(float(obs.vm[hi]), _where(obs.bus, obs.phase, hi), float(obs.vm[lo]),
                    _where(obs.bus, obs.phase, lo), load, load_at)


class LimitCheck:
    """The limits of a run, relaxed where the network without DER already breaks them."""

    def __init__(self, limits: Limits, base: Observation) -> None:
        self.limits = limits
        self.vmax = np.maximum(limits.vmax, np.nan_to_num(base.vm, nan=-np.inf))
        self.vmin = np.minimum(limits.vmin, np.nan_to_num(base.vm, nan=np.inf))
        if limits.loading_pct is None:
            self.lmax = np.full(len(base.loading), np.inf)
        else:
            self.lmax = np.maximum(limits.loading_pct, np.nan_to_num(base.loading, nan=-np.inf))
        self.base_violations = self._broken(base)

    def _broken(self, base: Observation) -> list[Violation]:
        """Limits the network breaks with no DER at all (for the GAT0446 warning)."""
        out = []
        lim = self.limits
        for i in np.flatnonzero(base.vm > lim.vmax + V_TOL):
            out.append(Violation("overvoltage", str(base.bus[i]), int(base.phase[i]), float(base.vm[i]), lim.vmax))
        for i in np.flatnonzero(base.vm < lim.vmin - V_TOL):
            out.append(Violation("undervoltage", str(base.bus[i]), int(base.phase[i]), float(base.vm[i]), lim.vmin))
        if lim.loading_pct is not None:
            for i in np.flatnonzero(np.nan_to_num(base.loading) > lim.loading_pct + LOADING_TOL):
                out.append(Violation("overload", str(base.branch[i]), int(base.branch_phase[i]),
                                     float(base.loading[i]), lim.loading_pct))
        # worst first (voltage in pu, loading as a fraction of the rating), so a warning names those
        return sorted(out, key=lambda v: -abs(v.value - v.limit) / (100.0 if v.kind == "overload" else 1.0))

    def tightest(self, obs: Observation) -> Violation:
        """The limit with the least room left (at an optimum: the one the optimiser stopped at)."""
        with np.errstate(invalid="ignore"):
            load = np.where(np.isfinite(obs.loading), (self.lmax - obs.loading) / 100.0, np.inf)
        margins = {"overvoltage": self.vmax - obs.vm, "undervoltage": obs.vm - self.vmin, "overload": load}
        kind = min(margins, key=lambda k: np.nanmin(margins[k]) if len(margins[k]) else np.inf)
        i = int(np.nanargmin(margins[kind]))
        return self._at(kind, obs, i)

    def _at(self, kind: str, obs: Observation, i: int) -> Violation:
        if kind == "overload":
            return Violation(kind, str(obs.branch[i]), int(obs.branch_phase[i]), float(obs.loading[i]),
                             float(self.lmax[i]))
        limit = self.vmax[i] if kind == "overvoltage" else self.vmin[i]
        return Violation(kind, str(obs.bus[i]), int(obs.phase[i]), float(obs.vm[i]), float(limit))

    def worst(self, obs: Observation, v_tol: float = V_TOL, loading_tol: float = LOADING_TOL) -> Violation | None:
        """The limit passed by the largest margin (voltage in pu, loading as a fraction of the rating);
        a value past its limit by no more than the tolerance (pu, %) is within it."""
        over = obs.vm - self.vmax
        under = self.vmin - obs.vm
        with np.errstate(invalid="ignore"):
            load = np.where(np.isfinite(obs.loading), (obs.loading - self.lmax) / 100.0, -np.inf)
        candidates = []
        for kind, excess, tol in (("overvoltage", over, v_tol), ("undervoltage", under, v_tol),
                                  ("overload", load, loading_tol / 100.0)):
            excess = np.nan_to_num(excess, nan=-np.inf)
            if len(excess) and excess.max() > tol:
                candidates.append((float(excess.max()), kind, int(np.argmax(excess))))
        if not candidates:
            return None
        _, kind, i = max(candidates)
        return self._at(kind, obs, i)

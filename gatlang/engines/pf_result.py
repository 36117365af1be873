"""What a balanced power flow returns, and how a kernel's raw voltages become it.

Why a module of its own: the ``run pf`` workflow, hosting capacity and the
tests read results without caring which kernel produced them.  Every kernel
(Newton, fast-decoupled, sweep) hands back a :class:`SolveOutcome` (voltages
plus convergence history); :func:`build_result` derives everything else
(generator outputs, branch flows, losses) once, the same way for all of them,
following MATPOWER's ``pfsoln`` so that the numbers compare with MATPOWER and
pandapower one to one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from gatlang.diagnostics import Diagnostic

if TYPE_CHECKING:  # only for annotations: pf_balanced imports this module
    from gatlang.engines.pf_balanced import PFProblem
    from gatlang.network.balanced import BalancedCase

#: how many buses a diagnostic names before it says "and N more"
NAMED_BUSES = 5

# Diagnostic codes of the balanced power flow (pages in gatlang/explain/).
NOT_CONVERGED = "GAT0800"     # iteration limit reached; names the worst-mismatch buses
DIVERGED = "GAT0801"          # mismatch blew up or became NaN
SINGULAR = "GAT0802"          # Jacobian / B matrix / sweep matrix singular
SWEEP_MESHED = "GAT0803"      # sweep needs a radial network
SWEEP_PV = "GAT0804"          # sweep cannot hold PV voltages
ISLANDED = "GAT0805"          # buses without a path to a reference bus (warning)
REF_SUBSTITUTED = "GAT0806"   # no reference bus: a PV bus takes the role (warning)
NO_SLACK = "GAT0807"          # no reference bus and no PV bus at all
BAD_OPTION = "GAT0808"        # unknown method / init / bad tolerance
Q_LIMITS = "GAT0809"          # PV buses switched to PQ at generator reactive limits (warning)
ZERO_IMPEDANCE = "GAT0810"    # branch with r = x = 0


@dataclass
class SolveOutcome:
    """What a kernel returns: final voltages, whether they satisfy ``tol``, and why not."""

    v: np.ndarray
    converged: bool
    iterations: int
    history: list[float]                 # max mismatch (pu) before each step and after the last
    failure: Diagnostic | None = None    # a numerical breakdown (singular matrix, divergence, ...)


@dataclass
class PFResult:
    """Solution of a balanced power flow, per unit on ``case.base_mva``; angles in radians.

    Arrays follow the case's order (``bus_id``, ``gen_id``, ``branch_id``).
    ``bus_type`` holds the roles actually solved: PV buses switched to PQ by
    reactive-limit enforcement show as PQ, de-energised buses as NONE (4).
    When ``converged`` is False the arrays hold the last iterate and
    ``diagnostics`` says why (code GAT0800 names the worst-mismatch buses).
    """

    converged: bool
    iterations: int
    max_mismatch: float
    method: str
    vm: np.ndarray
    va: np.ndarray
    pg: np.ndarray
    qg: np.ndarray
    pf: np.ndarray
    qf: np.ndarray
    pt: np.ndarray
    qt: np.ndarray
    losses: np.ndarray          # complex per branch: (pf + pt) + j (qf + qt)
    bus_type: np.ndarray
    diagnostics: list[Diagnostic] = field(default_factory=list)
    wall_time: float = 0.0      # seconds, set-up included
    mismatch_history: list[float] = field(default_factory=list)
    bus_id: np.ndarray | None = None
    gen_id: np.ndarray | None = None
    branch_id: np.ndarray | None = None

    @property
    def total_losses(self) -> complex:
        """Sum of series and shunt-branch losses over all branches (pu)."""
        return complex(np.sum(self.losses))

    @property
    def v(self) -> np.ndarray:
        """Complex bus voltages (pu)."""
        return self.vm * np.exp(1j * self.va)


def bus_label(case: "BalancedCase", i: int) -> str:
    return f"bus {case.bus_id[i]}"


def name_buses(case: "BalancedCase", idx: np.ndarray, values: np.ndarray | None = None) -> str:
    """'bus 3, bus 7, ... and 12 more' (optionally with a value each) for diagnostics."""
    idx = np.asarray(idx)
    parts = [bus_label(case, int(i)) + (f" ({values[k]:.3g} pu)" if values is not None else "")
             for k, i in enumerate(idx[:NAMED_BUSES])]
    more = f" and {len(idx) - NAMED_BUSES} more" if len(idx) > NAMED_BUSES else ""
    return ", ".join(parts) + more


def distribute_bus_q(q_bus: np.ndarray, gen_bus: np.ndarray, qmin: np.ndarray,
                     qmax: np.ndarray) -> np.ndarray:
    """Share each bus's generator reactive output among its generators (MATPOWER ``pfsoln``).

    In proportion to each generator's reactive range, so that all generators of a
    bus reach their limits together; an equal split where the ranges are not
    finite or sum to zero.  ``q_bus`` is indexed by bus, the result by generator.
    """
    n = len(q_bus)
    count = np.bincount(gen_bus, minlength=n)
    rng = qmax - qmin
    finite = np.isfinite(rng) & np.isfinite(qmin)
    rng_bus = np.bincount(gen_bus, weights=np.where(finite, rng, 0.0), minlength=n)
    all_finite = np.bincount(gen_bus, weights=(~finite).astype(float), minlength=n) == 0
    use_rng = all_finite[gen_bus] & (rng_bus[gen_bus] > 1e-12)
    qmin_bus = np.bincount(gen_bus, weights=np.where(finite, qmin, 0.0), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_rng = qmin + (q_bus[gen_bus] - qmin_bus[gen_bus]) * rng / rng_bus[gen_bus]
    share_equal = q_bus[gen_bus] / count[gen_bus]
    return np.where(use_rng, share_rng, share_equal)


def build_result(problem: "PFProblem", outcome: SolveOutcome, method: str, qg_fixed: np.ndarray,
                 fixed: np.ndarray, diagnostics: list[Diagnostic], wall_time: float) -> PFResult:
    """Generator outputs, branch flows and losses at the kernel's final voltages.

    ``fixed`` marks generators whose reactive output is imposed (on PQ buses, or
    held at a limit by Q-limit enforcement): they keep ``qg_fixed``.  The others
    (on PV and reference buses) share what the bus injects.  The reference
    bus's active power goes to its first generator, as in MATPOWER.
    """
    case, adm = problem.case, problem.adm
    v = outcome.v
    s_calc = v * np.conj(adm.ybus @ v)
    load = case.pd + 1j * case.qd
    pg = np.where(problem.gen_on, case.pg, 0.0).astype(float)
    qg = np.where(problem.gen_on, qg_fixed, 0.0).astype(float)
    if case.n_gen:
        free = problem.gen_on & ~fixed
        # reactive: bus injection + load - fixed generators, shared among the free ones
        q_fixed_bus = np.bincount(case.gen_bus, weights=np.where(fixed, qg, 0.0), minlength=case.n_bus)
        q_bus = s_calc.imag + load.imag - q_fixed_bus
        fg = np.flatnonzero(free)
        qg[fg] = distribute_bus_q(q_bus, case.gen_bus[fg], case.qmin[fg], case.qmax[fg])
        # active: the first generator of each reference bus balances it
        on = np.flatnonzero(problem.gen_on)
        for_ref = on[np.isin(case.gen_bus[on], problem.ref)]
        _, first = np.unique(case.gen_bus[for_ref], return_index=True)
        slack_gen = for_ref[first]
        others = np.bincount(case.gen_bus[on], weights=pg[on], minlength=case.n_bus) \
            - np.bincount(case.gen_bus[slack_gen], weights=pg[slack_gen], minlength=case.n_bus)
        sb = case.gen_bus[slack_gen]
        pg[slack_gen] = s_calc.real[sb] + load.real[sb] - others[sb]
    sf = v[case.f] * np.conj(adm.yf @ v)
    st = v[case.t] * np.conj(adm.yt @ v)
    btype = np.full(case.n_bus, 4, dtype=np.int8)
    btype[problem.pq], btype[problem.pv], btype[problem.ref] = 1, 2, 3
    return PFResult(
        converged=outcome.converged, iterations=outcome.iterations,
        max_mismatch=outcome.history[-1] if outcome.history else 0.0, method=method,
        vm=np.abs(v), va=np.angle(v), pg=pg, qg=qg,
        pf=sf.real, qf=sf.imag, pt=st.real, qt=st.imag, losses=sf + st, bus_type=btype,
        diagnostics=list(diagnostics), wall_time=wall_time, mismatch_history=list(outcome.history),
        bus_id=case.bus_id, gen_id=case.gen_id, branch_id=case.branch_id)

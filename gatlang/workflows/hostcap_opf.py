"""`method = opf`: the hosting capacity of a location as one optimisation.

The model is built exactly as `run opf` builds it (a NetView of the balanced
case + the formulation's statements + the run's own statements, through
ModelBuilder), from a copy of the case with hosting-capacity data:

* one extra generator at the location, `pmin 0`, `pmax` = the run's `max`,
  reactive output 0 (or tied to P by `pf`), no cost;
* every other generator fixed at the case's dispatch (pmin = pmax = pg), except
  the reference bus's, which is the upstream grid: unbounded P and Q, its bus
  voltage held at its set point as in the power flow the sweep solves;
* bus voltage bounds and branch ratings from the run's `limits` (rate_a scaled
  by `loading`), relaxed where the network without DER already breaks them,
  as in the sweep (`hostcap_limits`);
* the objective: maximise the extra generator's output.

Adding entities goes through the case (`dataclasses.replace` on its arrays)
rather than by editing a NetView after the fact, so `from_balanced` derives
every incidence set (bus.gens, ...) for the new generator as for any other.

The answer is checked with the AC power flow at the optimal injection: the
detail row records whether an exact power flow keeps every limit there
(approximate formulations such as lindistflow may not), and the binding
limit reported is the one with the least room left in that power flow.
"""
from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from gatlang.network.balanced import REF, BalancedCase
from gatlang.workflows.hostcap_limits import NO_SOLUTION, Violation, headroom
from gatlang.workflows.hostcap_options import OPF_FAILED, OPF_INEXACT, UNSUPPORTED, HostcapSpec
from gatlang.workflows.hostcap_sweep import Trial

if TYPE_CHECKING:
    from gatlang.passes import Compilation
    from gatlang.workflows.base import Step
    from gatlang.workflows.hostcap import LocationResult
    from gatlang.workflows.hostcap_balanced import BalancedHost

DER_ID = "hostcap_der"
#: the optimum is at `max` when within this fraction of it (no network limit binds)
AT_MAX = 1e-6
#: how far past a limit the AC power flow at the optimum may be and still count as within it
#: (the solver's own feasibility tolerance is of this order)
CHECK_V_TOL = 1e-6
CHECK_LOADING_TOL = 1e-4
#: options of the further Ipopt attempts when the first fails (see `solve_and_check`)
RETRY_IPOPT = ({"mu_strategy": "adaptive"}, {"nlp_scaling_method": "none"}, {"mu_init": 1e-4})


def _append(a: np.ndarray, value: Any) -> np.ndarray:
    a = np.asarray(a)
    return np.concatenate([a, np.asarray([value], dtype=a.dtype)])


def hosting_case(case: BalancedCase, host: "BalancedHost", bus: str, spec: HostcapSpec) -> BalancedCase:
    """A copy of ``case`` set up for the hosting-capacity OPF at ``bus`` (see module docstring)."""
    base = case.base_mva
    inf = np.inf
    is_slack = np.asarray(case.bus_type)[case.gen_bus] == REF
    pmin = np.where(is_slack, -inf, case.pg)
    pmax = np.where(is_slack, inf, case.pg)
    qmin = np.where(is_slack, -inf, case.qmin)
    qmax = np.where(is_slack, inf, case.qmax)
    vmin, vmax = host.check.vmin.astype(float).copy(), host.check.vmax.astype(float).copy()
    slack_bus = case.gen_bus[is_slack]
    vmin[slack_bus] = vmax[slack_bus] = case.vg[is_slack]
    if spec.limits.loading_pct is None:
        rate = np.zeros(case.n_branch)
    else:
        rate = np.where(case.rate_a > 0, case.rate_a * host.check.lmax / 100.0, 0.0)
    q = 0.0 if spec.pf == 1.0 else inf
    k = host.index[bus]
    return dataclasses.replace(
        case, vmin=vmin, vmax=vmax, rate_a=rate,
        gen_id=_append(case.gen_id, DER_ID), gen_bus=_append(case.gen_bus, k),
        pg=_append(case.pg, 0.0), qg=_append(case.qg, 0.0),
        pmin=_append(pmin, 0.0), pmax=_append(pmax, spec.max_mw / base),
        qmin=_append(qmin, -q), qmax=_append(qmax, q), vg=_append(case.vg, 1.0),
        cost_c2=_append(case.cost_c2, 0.0), cost_c1=_append(case.cost_c1, 0.0), cost_c0=_append(case.cost_c0, 0.0),
        cost_pwl=list(case.cost_pwl or [None] * case.n_gen) + [None],
        gen_source_index=_append(case.gen_source_index if len(case.gen_source_index) == case.n_gen
                                 else np.full(case.n_gen, -1), -1))


def build_model(c: "Compilation", step: "Step", case: BalancedCase, spec: HostcapSpec) -> Any:
    """The Pyomo model of the run's formulation on ``case``, objective: maximise the DER (None after errors)."""
    import pyomo.environ as pyo

    from gatlang.model.elaborate import ModelBuilder
    from gatlang.model.netview import from_balanced
    from gatlang.semantics.capabilities import check_network, network_features
    from gatlang.syntax import ast
    from gatlang.workflows.data import model_items

    form = step.formulation
    assert form is not None and c.checker is not None and c.program is not None
    view = from_balanced(case)
    if not check_network(form, network_features(view.meshed, case.tap, case.shift), step.run, step.run.network,
                         step.sink):
        return None
    builder = ModelBuilder(view, step.sink, c.checker.types, name=f"{step.run.name}")
    builder.add_statements([g for g in c.program.globals if isinstance(g, (ast.ParamDecl, ast.SetDecl))])
    builder.add_statements(model_items(form.items))
    builder.add_statements(model_items(step.run.items))
    if step.sink.has_errors:
        return None
    pg = builder.components.get("pg")
    if pg is None or pg.what != "var" or pg.index_kinds != ("gen",):
        step.sink.error(UNSUPPORTED, f"formulation `{form.name}` has no generator output `pg[g in gens]` to "
                        "maximise", spec.span, help="use a formulation with `var pg[g in gens]`: acp, socbf, lindistflow")
        return None
    der = case.n_gen - 1
    qg = builder.components.get("qg")
    if spec.pf != 1.0:
        if qg is None or qg.what != "var":
            step.sink.error(UNSUPPORTED, f"`pf = {spec.pf:g}` needs reactive generator output `qg`, which "
                            f"formulation `{form.name}` does not have", spec.span, help="use `pf = 1` or acp")
            return None
        builder.model.add_component("hostcap_pf", pyo.Constraint(expr=qg.values[der] == spec.q_per_p * pg.values[der]))
    builder.model.add_component("objective", pyo.Objective(expr=pg.values[der], sense=pyo.maximize))
    return builder


def opf_capacity(c: "Compilation", step: "Step", spec: HostcapSpec, host: "BalancedHost",
                 bus: str) -> "LocationResult":
    """Solve the hosting-capacity OPF at ``bus`` and check its answer with the AC power flow."""
    from gatlang.workflows.hostcap import LocationResult

    case = hosting_case(host.case, host, bus, spec)
    started = time.perf_counter()
    builder = build_model(c, step, case, spec)
    if builder is None:
        return LocationResult(bus, float("nan"), NO_SOLUTION, [], solve={"status": "not built"})
    der = case.n_gen - 1
    return solve_and_check(step, spec, host, bus, builder.model, builder.name_of,
                           lambda: float(builder.components["pg"].values[der].value) * case.base_mva, started)


def solve_and_check(step: "Step", spec: HostcapSpec, host: Any, bus: str, model: Any, name_of: Any,
                    der_mw: Callable[[], float], started: float,
                    loading_tol: float = CHECK_LOADING_TOL,
                    restart: Callable[[], None] | None = None,
                    defaults: dict[str, Any] | None = None) -> "LocationResult":
    """Solve ``model`` (objective: the DER's output) and check the optimum with the exact power flow.

    Shared by the balanced and the three-phase OPF: only the model and how the DER's
    output is read from it differ.  ``host.observe_at(bus, P)`` is the power flow of
    the network with the DER at P (the sweep's own), reduced to an Observation.

    With ``restart`` (which puts the model back at its start point), an Ipopt solve that
    fails without a solution while the run sets no solver options is tried again with
    each of RETRY_IPOPT in turn: on IEEE 123, acp_u ends about one solve in three in a
    failed restoration phase or a failed search direction, and another barrier or
    scaling strategy from the same start converges to the same optimum.  A solve
    stopped by its iteration limit is not retried (seen: none of the strategies
    converges where one runs out of iterations).  ``defaults``: solver options used
    when the run sets none (the three-phase OPF caps Ipopt's iterations).
    """
    from gatlang.backends.solver_types import SolveStatus
    from gatlang.backends.solvers import solve
    from gatlang.workflows.hostcap import LocationResult

    solver = step.option("solver", "auto")
    user = dict(step.option("solver_options", {}) or {})
    options = user or dict(defaults or {})
    result = solve(model, solver=None if solver == "auto" else solver, options=options, name_of=name_of)
    retried = 0
    while (not result.has_solution and restart is not None and not user and retried < len(RETRY_IPOPT)
           and result.status != SolveStatus.ITERATION_LIMIT and "ipopt" in str(result.solver).lower()):
        restart()
        result = solve(model, solver=result.solver, options={**options, **RETRY_IPOPT[retried]}, name_of=name_of)
        retried += 1
    info = {"status": result.status.value if hasattr(result.status, "value") else str(result.status),
            "solver": result.solver, "wall_time": time.perf_counter() - started, "retried": retried}
    if not result.has_solution:
        step.sink.extend(result.diagnostics(step.run.span))
        step.sink.error(OPF_FAILED, f"the hosting-capacity OPF at bus {bus} has no solution ({result.message})",
                        spec.span, help="the network may be infeasible within `limits` even without DER; "
                                        "try `method = sweep`, which reports pre-existing violations")
        return LocationResult(bus, float("nan"), NO_SOLUTION, [], solve=info)
    p_mw = der_mw()
    obs, iterations = host.observe_at(bus, p_mw)
    if obs is None:
        trial = Trial(p_mw, "opf", False, None, None, iterations)
        return LocationResult(bus, p_mw, NO_SOLUTION, [trial], p_mw, info)
    broken = host.check.worst(obs, CHECK_V_TOL, loading_tol)
    if broken is not None:
        name = step.formulation.name if step.formulation else ""
        step.sink.warning(OPF_INEXACT, f"at bus {bus} the {name} answer ({p_mw:.6g} MW) breaks a limit in the "
                          f"exact power flow: {broken.describe()}", spec.span,
                          help=inexact_help(name, broken))
    trial = Trial(p_mw, "opf", True, broken, headroom(obs), iterations)
    binding = None if p_mw >= spec.max_mw * (1 - AT_MAX) else host.check.tightest(obs)
    return LocationResult(bus, p_mw, binding, [trial], p_mw, info)


def inexact_help(formulation: str, broken: Violation) -> str:
    """Why an OPF answer can break a limit in the power flow, for the GAT0451 help line."""
    if formulation == "acp_u" and broken.kind == "overload":
        return ("acp_u does not rate near-ideal transformers (series impedance below 0.1 % of their rating, "
                "e.g. regulators): use `method = sweep`, which checks every winding")
    return ("the formulation is an approximation or relaxation that is not exact here; use `formulation = acp` "
            "(`acp_u` on a three-phase feeder) or `method = sweep` for this location")

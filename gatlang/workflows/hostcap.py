"""`run hostcap`: how much DER each location takes before an operating limit breaks.

elaborate: the step's network (balanced per-unit case, or the three-phase
feeder with `phases = unbalanced`) and the options, checked against it
(`hostcap_options`); lower: per location either the stepping search with
power flows (`method = sweep`: `hostcap_sweep` over `hostcap_balanced` /
`hostcap_unbalanced`) or one optimisation (`method = opf`:
`hostcap_opf`); emit: `hostcap_summary` (one row per location) and
`hostcap_detail` (one row per power flow or per solve), and the run.json
summary.  The run's `objective` is the smallest capacity over the locations
(the feeder's hosting capacity), so that `expect NAME.objective ~= ...`
works.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from gatlang.workflows.base import Step
from gatlang.workflows.data import balanced_case, load_network, scenario_factor
from gatlang.workflows.hostcap_limits import Violation
from gatlang.workflows.hostcap_options import (BASE_FAILED, BASE_VIOLATION, NO_LIMIT_REACHED, NO_SOLUTION,
                                               HostcapSpec, parse_spec)
from gatlang.workflows.hostcap_sweep import SweepResult, Trial, sweep

if TYPE_CHECKING:
    from gatlang.passes import Compilation

#: how many elements a warning names before "and N more"
NAMED = 5


@dataclass
class LocationResult:
    """The answer at one location, whichever method produced it."""

    location: str
    capacity_mw: float
    binding: Violation | None
    trials: list[Trial] = field(default_factory=list)
    p_binding_mw: float = float("nan")     # the injection at which `binding` was seen
    solve: dict[str, Any] = field(default_factory=dict)   # opf: status, objective, time


def _names(items: list[str]) -> str:
    more = f" and {len(items) - NAMED} more" if len(items) > NAMED else ""
    return ", ".join(items[:NAMED]) + more


class HostingCapacity:
    def elaborate(self, c: "Compilation", step: Step) -> None:
        unbalanced = step.option("phases", "balanced") == "unbalanced"
        if unbalanced:
            net = load_network(c, step.run.network)
            if net is None:
                step.failed = True
                return
            buses = net.table("buses").column("bus").to_pylist()
            slack = set(net.table("sources").column("bus").to_pylist())
            step.state["network"] = net
        else:
            case = balanced_case(c, step)
            if case is None:
                step.failed = True
                return
            from gatlang.workflows.hostcap_balanced import slack_buses
            buses, slack = [str(b) for b in case.bus_id], slack_buses(case)
            step.state["case"] = case
        spec = parse_spec(c, step, buses, slack, step.sink)
        if spec is None:
            step.failed = True
            return
        if spec.method == "opf" and unbalanced:
            spec = self._three_phase_opf(c, step, spec)
            if spec is None:
                step.failed = True
                return
        step.state["spec"] = spec

    @staticmethod
    def _three_phase_opf(c: "Compilation", step: Step, spec: HostcapSpec) -> HostcapSpec | None:
        """The spec of an OPF on a three-phase feeder: its formulation, regulators at the file's taps."""
        from gatlang.workflows.hostcap_opf3 import REGULATORS_CONTROL, formulation_for

        if "regulators" in step.options and spec.regulators == "control":
            step.sink.error(REGULATORS_CONTROL, "`regulators = control` cannot be studied with `method = opf`: "
                            "the three-phase formulations keep every regulator at its tap in the file",
                            step.options["regulators"].span or step.run.span,
                            help="write `regulators = fixed` (the OPF's assumption, also the default here), "
                                 "or use `method = sweep` to let the regulators control")
            return None
        form = formulation_for(c, step)
        if form is None:
            return None
        step.formulation = form
        return dataclasses.replace(spec, regulators="fixed")

    def lower(self, c: "Compilation", step: Step) -> None:
        spec: HostcapSpec = step.state["spec"]
        host = self._host(c, step, spec)
        if host is None:
            step.failed = True
            return
        step.state["host"] = host
        if host.check.base_violations:
            v = host.check.base_violations
            step.sink.warning(BASE_VIOLATION, f"{len(v)} limit(s) are already violated without DER: "
                              + _names([x.describe() for x in v]), spec.span,
                              help="those elements may not get worse than they are without DER; "
                                   "widen `limits` or use a lighter-load scenario to study them from the limit")
        task = c.progress.task(f"hostcap {step.label}", total=len(spec.locations)) if c.progress else None
        if spec.method == "opf" and spec.phases == "unbalanced":
            from gatlang.workflows.hostcap_opf3 import HostModel3
            step.state["model3"] = HostModel3(c, step, spec, host)
            if step.state["model3"].builder is None:
                step.failed = True
                return
        results: list[LocationResult] = []
        for bus in spec.locations:
            results.append(self._one(c, step, spec, host, bus))
            if task is not None:
                task.advance()
        step.state["results"] = results
        unbounded = [r.location for r in results if r.binding is None]
        if unbounded:
            step.sink.warning(NO_LIMIT_REACHED, f"no limit binds up to max = {spec.max_mw:g} MW at "
                              f"{len(unbounded)} location(s): {_names(unbounded)}", spec.span,
                              help="their capacity is at least `max`; raise `max` to find it")
        # (a location without trials failed before any power flow, and has its own error)
        collapsed = [r.location for r in results
                     if r.binding is not None and r.binding.kind == "no_solution" and r.trials]
        if collapsed:
            step.sink.warning(NO_SOLUTION, f"the power flow has no solution before any limit binds at "
                              f"{len(collapsed)} location(s): {_names(collapsed)}", spec.span,
                              help="the step after the reported capacity did not solve (voltage collapse "
                                   "or a numerical failure); a smaller `step` narrows it down")

    @staticmethod
    def _host(c: "Compilation", step: Step, spec: HostcapSpec) -> Any:
        """The network ready for DER at any location (base power flow solved), or None after an error."""
        if "network" in step.state:
            from gatlang.workflows.hostcap_unbalanced import UnbalancedHost
            host: Any = UnbalancedHost(step.state["network"], spec.limits, spec.q_per_p, spec.regulators,
                                       scenario_factor(c, step, "load_scale"), scenario_factor(c, step, "pv_scale"),
                                       spec.span)
        else:
            from gatlang.workflows.hostcap_balanced import BalancedHost
            host = BalancedHost(step.state["case"], spec.limits, spec.q_per_p, spec.span)
        step.sink.extend(host.diagnostics)
        if not host.ok:
            step.sink.error(BASE_FAILED, f"the power flow of network `{step.run.network}` without DER does not "
                            "solve, so there is no operating point to add DER to", spec.span,
                            help="see the power-flow diagnostics above; `run pf` on the same network shows more")
            return None
        return host

    @staticmethod
    def _one(c: "Compilation", step: Step, spec: HostcapSpec, host: Any, bus: str) -> LocationResult:
        if "model3" in step.state:
            return step.state["model3"].capacity(bus)
        if spec.method == "opf":
            from gatlang.workflows.hostcap_opf import opf_capacity
            return opf_capacity(c, step, spec, host, bus)
        res: SweepResult = sweep(host.evaluator(bus), spec.step_mw, spec.max_mw, spec.refine)
        failed = [t for t in res.trials if not t.ok]
        p_bind = min(t.p_mw for t in failed) if failed else float("nan")
        return LocationResult(bus, res.capacity_mw, res.binding, res.trials, p_bind)

    def emit(self, c: "Compilation", step: Step) -> None:
        results: list[LocationResult] | None = step.state.get("results")
        spec: HostcapSpec | None = step.state.get("spec")
        if results is None or spec is None:
            return
        c.store.write_table(step.run.name, step.scenario, "hostcap_summary", summary_table(results, step, spec))
        c.store.write_table(step.run.name, step.scenario, "hostcap_detail", detail_table(results, step))
        caps = {r.location: r.capacity_mw for r in results}
        kinds = [r.binding.kind if r.binding else "none" for r in results]
        step.record["summary"] = {
            "method": spec.method, "phases": spec.phases, "locations": len(results),
            **({"regulators": spec.regulators} if spec.phases == "unbalanced" else {}),
            **({"formulation": step.formulation.name} if spec.method == "opf" and step.formulation else {}),
            "step_mw": spec.step_mw, "max_mw": spec.max_mw,
            "limits": {"vmin_pu": spec.limits.vmin, "vmax_pu": spec.limits.vmax,
                       "loading_pct": spec.limits.loading_pct},
            "min_capacity_mw": min(caps.values()), "max_capacity_mw": max(caps.values()),
            "binding_kinds": {k: kinds.count(k) for k in sorted(set(kinds))},
            "capacity_mw": caps,
            "power_flows": sum(len(r.trials) for r in results),
            **({"solves": {r.location: r.solve for r in results}} if spec.method == "opf" else {})}
        step.record["objective"] = min(caps.values())
        step.record["objective_unit"] = "MW"


def _unit(v: Violation | None) -> str:
    if v is None or v.kind == "no_solution":
        return ""
    return "%" if v.kind == "overload" else "pu"


def summary_table(results: list[LocationResult], step: Step, spec: HostcapSpec) -> pa.Table:
    """One row per location: capacity (MW) and the limit that binds just above it."""
    b = [r.binding for r in results]
    return pa.table({
        "location": [r.location for r in results],
        "scenario": [step.scenario or ""] * len(results),
        "method": [spec.method] * len(results),
        "max_mw": np.asarray([r.capacity_mw for r in results], dtype=float),
        "binding": [v.kind if v else "none" for v in b],
        "binding_element": [v.element if v else "" for v in b],
        "binding_phase": np.asarray([v.phase if v else 0 for v in b], dtype=np.int8),
        "binding_value": np.asarray([v.value if v else np.nan for v in b], dtype=float),
        "binding_limit": np.asarray([v.limit if v else np.nan for v in b], dtype=float),
        "binding_unit": [_unit(v) for v in b],
        "binding_at_mw": np.asarray([r.p_binding_mw for r in results], dtype=float),
    })


def detail_table(results: list[LocationResult], step: Step) -> pa.Table:
    """One row per power flow (sweep) or per solve (opf), in the order they ran."""
    rows = [(r.location, t) for r in results for t in r.trials]
    v = [t.violation for _, t in rows]
    h = [t.headroom for _, t in rows]
    nan = float("nan")
    return pa.table({
        "location": [loc for loc, _ in rows],
        "scenario": [step.scenario or ""] * len(rows),
        "stage": [t.stage for _, t in rows],
        "p_mw": np.asarray([t.p_mw for _, t in rows], dtype=float),
        "converged": np.asarray([t.converged for _, t in rows], dtype=bool),
        "within_limits": np.asarray([t.ok for _, t in rows], dtype=bool),
        "violation": [x.kind if x else ("no_solution" if not t.converged else "") for x, (_, t) in zip(v, rows)],
        "violation_element": [x.element if x else "" for x in v],
        "violation_phase": np.asarray([x.phase if x else 0 for x in v], dtype=np.int8),
        "violation_value": np.asarray([x.value if x else nan for x in v], dtype=float),
        "max_vm_pu": np.asarray([x.max_vm if x else nan for x in h], dtype=float),
        "max_vm_at": [x.max_vm_at if x else "" for x in h],
        "min_vm_pu": np.asarray([x.min_vm if x else nan for x in h], dtype=float),
        "min_vm_at": [x.min_vm_at if x else "" for x in h],
        "max_loading_pct": np.asarray([x.max_loading if x else nan for x in h], dtype=float),
        "max_loading_at": [x.max_loading_at if x else "" for x in h],
        "iterations": np.asarray([t.iterations for _, t in rows], dtype=np.int32),
    })

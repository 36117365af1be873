"""`run pf`: power flow, balanced (Newton, fast-decoupled, sweep) or unbalanced three-phase.

elaborate: the step's network and scenario as the kernel's input (a balanced
per-unit case, or the three-phase network with the scenario's multipliers);
lower: the numerical kernel (gatlang.engines); emit: bus_voltages,
branch_flows, losses and violations tables plus a run.json summary
(converged, iterations, max mismatch).  Non-convergence is an error
diagnostic naming the worst buses -- never a silent result.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from gatlang.workflows.base import Step
from gatlang.workflows.data import balanced_case, scenario_factor, step_network
from gatlang.workflows.pf3_limits import loading_pct, violations

if TYPE_CHECKING:
    from gatlang.engines.pf_result import PFResult
    from gatlang.network.balanced import BalancedCase
    from gatlang.passes import Compilation

#: `method =` in a study -> balanced kernel name
BALANCED_METHODS = {"newton": "newton", "fast_decoupled": "fast_decoupled_xb",
                    "fast_decoupled_xb": "fast_decoupled_xb", "fast_decoupled_bx": "fast_decoupled_bx",
                    "sweep": "sweep"}


class PowerFlow:
    def elaborate(self, c: "Compilation", step: Step) -> None:
        if step.option("phases", "balanced") == "unbalanced":
            net = step_network(c, step)
            if net is None:
                step.failed = True
            step.state["network"] = net
            return
        case = balanced_case(c, step)
        if case is None:
            step.failed = True
        step.state["case"] = case

    def lower(self, c: "Compilation", step: Step) -> None:
        tol = float(step.option("tolerance", 1e-8))
        max_iter = int(step.option("max_iter", 30))
        method = step.option("method")
        if "network" in step.state:
            # the engine's own scheme (fixed point on a once-factorised Y, Newton if it stalls)
            self._lower_unbalanced(c, step, method or "fixed_point", tol, max_iter)
            return
        method = method or "newton"
        from gatlang.engines.pf_balanced import solve_balanced

        result = solve_balanced(step.state["case"], method=BALANCED_METHODS.get(method, method), tol=tol,
                                max_iter=max_iter, enforce_q_limits=bool(step.option("q_limits", False)),
                                init=step.option("init", "flat"), span=step.run.span)
        step.state["result"] = result
        step.sink.extend(result.diagnostics)
        if not result.converged:
            step.failed = True

    def _lower_unbalanced(self, c: "Compilation", step: Step, method: str, tol: float, max_iter: int) -> None:
        try:
            from gatlang.engines.pf3 import solve_unbalanced
        except ImportError:
            step.sink.error("GAT0405", "the unbalanced three-phase power flow is not available in this build",
                            step.run.span, help="use `phases = balanced`")
            step.failed = True
            return
        result = solve_unbalanced(step.state["network"], method=method, tol=tol, max_iter=max_iter,
                                  regulators=step.option("regulators", "control"),
                                  load_scale=scenario_factor(c, step, "load_scale"),
                                  pv_scale=scenario_factor(c, step, "pv_scale"),
                                  span=step.run.span)
        step.state["result3"] = result
        step.sink.extend(result.diagnostics)
        if not result.converged:
            step.failed = True

    def emit(self, c: "Compilation", step: Step) -> None:
        if "result3" in step.state:
            emit_unbalanced(c, step, step.state["result3"])
            return
        result: PFResult | None = step.state.get("result")
        case: BalancedCase | None = step.state.get("case")
        if result is None or case is None:
            return
        step.record["summary"] = {"converged": result.converged, "iterations": result.iterations,
                                  "max_mismatch_pu": result.max_mismatch, "method": result.method,
                                  "wall_time": result.wall_time}
        if not result.converged:
            return
        tables = balanced_tables(case, result)
        losses = tables["losses"]
        step.record["summary"].update({"losses_mw": float(np.sum(losses["p_loss_mw"])),
                                       "losses_mvar": float(np.sum(losses["q_loss_mvar"])),
                                       "violations": len(tables["violations"]["element"]),
                                       "min_vm_pu": float(np.min(result.vm)), "max_vm_pu": float(np.max(result.vm))})
        for name, data in tables.items():
            c.store.write_table(step.run.name, step.scenario, name, pa.table(data))


def balanced_tables(case: "BalancedCase", res: "PFResult") -> dict[str, dict[str, Any]]:
    """Result tables of a balanced power flow, in engineering units (names carry the unit)."""
    base = case.base_mva
    bus_ids = np.asarray(case.bus_id).astype(str)
    branch_ids = np.asarray(case.branch_id).astype(str)
    sf = np.hypot(res.pf, res.qf)
    st = np.hypot(res.pt, res.qt)
    vm_f, vm_t = res.vm[case.f], res.vm[case.t]
    with np.errstate(divide="ignore", invalid="ignore"):
        i_from_ka = np.where(vm_f > 0, sf / vm_f, 0.0) * base / (np.sqrt(3) * case.base_kv[case.f])
        i_to_ka = np.where(vm_t > 0, st / vm_t, 0.0) * base / (np.sqrt(3) * case.base_kv[case.t])
        loading = np.where(case.rate_a > 0, np.maximum(sf, st) / case.rate_a * 100.0, np.nan)
    low = res.vm < case.vmin - 1e-9
    high = res.vm > case.vmax + 1e-9
    over = np.nan_to_num(loading) > 100.0 + 1e-9
    elements = list(bus_ids[low]) + list(bus_ids[high]) + list(branch_ids[over])
    kinds = ["undervoltage"] * int(low.sum()) + ["overvoltage"] * int(high.sum()) + ["overload"] * int(over.sum())
    values = list(res.vm[low]) + list(res.vm[high]) + list(loading[over])
    limits = list(case.vmin[low]) + list(case.vmax[high]) + [100.0] * int(over.sum())
    return {
        "bus_voltages": {"bus": bus_ids, "phase": np.zeros(case.n_bus, dtype=np.int8), "vm_pu": res.vm,
                         "va_deg": np.degrees(res.va), "v_kv": res.vm * case.base_kv},
        "branch_flows": {"branch": branch_ids, "from_bus": bus_ids[case.f], "to_bus": bus_ids[case.t],
                         "p_from_mw": res.pf * base, "q_from_mvar": res.qf * base,
                         "p_to_mw": res.pt * base, "q_to_mvar": res.qt * base,
                         "i_from_ka": i_from_ka, "i_to_ka": i_to_ka, "loading_pct": loading},
        "losses": {"branch": branch_ids, "p_loss_mw": res.losses.real * base, "q_loss_mvar": res.losses.imag * base},
        "violations": {"element": np.asarray(elements, dtype=str), "kind": np.asarray(kinds, dtype=str),
                       "value": np.asarray(values, dtype=float), "limit": np.asarray(limits, dtype=float)},
    }


def emit_unbalanced(c: "Compilation", step: Step, res: Any) -> None:
    """Tables of a three-phase power flow: one row per bus and phase, per element terminal and conductor."""
    step.record["summary"] = {"converged": res.converged, "iterations": res.iterations,
                              "max_mismatch": res.max_mismatch, "method": res.method, "wall_time": res.wall_time,
                              "regulator_taps": dict(res.taps)}
    if not res.converged:
        return
    names = [str(n) for n in res.nodes]
    bus = [n.rsplit(".", 1)[0] for n in names]
    phase = [int(n.rsplit(".", 1)[1]) if "." in n else 0 for n in names]
    vm = np.asarray(res.vm_pu)
    table = {"bus": bus, "phase": np.asarray(phase, dtype=np.int8), "vm_pu": vm,
             "va_deg": np.asarray(res.va_deg), "v_kv": np.abs(np.asarray(res.v)) / 1000.0}
    c.store.write_table(step.run.name, step.scenario, "bus_voltages", pa.table(table))
    step.record["summary"].update({"losses_kw": float(res.losses_kw), "losses_kvar": float(res.losses_kvar),
                                   "min_vm_pu": float(np.nanmin(vm)), "max_vm_pu": float(np.nanmax(vm))})
    net = step.state["network"]
    flows = loading = None
    if res.flows is not None:
        flows = res.flows.table()
        loading = loading_pct(net, flows)
        c.store.write_table(step.run.name, step.scenario, "branch_flows", flows.append_column("loading_pct",
                                                                                             pa.array(loading)))
        losses = res.flows.element_losses()
        c.store.write_table(step.run.name, step.scenario, "losses", pa.table({
            "element": list(losses), "p_loss_kw": [v.real for v in losses.values()],
            "q_loss_kvar": [v.imag for v in losses.values()]}))
    found = violations(net, bus, table["phase"], vm, flows, loading)
    c.store.write_table(step.run.name, step.scenario, "violations", pa.table(found))
    step.record["summary"]["violations"] = len(found["element"])

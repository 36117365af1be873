"""`run opf`: optimal power flow under a formulation written in stdlib/*.gat.

elaborate: network + scenario -> NetView; the formulation's statements and the
run's own (`minimize`, `subject to`, extra vars) -> one Pyomo model; the
formulation x network capability check.  lower: classify the model and solve
it (gatlang.backends.solvers).  emit: one table per element kind (bus, gen,
branch) with every variable and expression indexed by that kind, converted
back from model scale to the unit it was declared in (unit in the column name
and in the Parquet field metadata), and the run.json record.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from gatlang.model.elaborate import ElaborationError, ModelBuilder
from gatlang.model.netview import NetView, from_balanced
from gatlang.model.start import balanced_start
from gatlang.model.scale import from_model_scale
from gatlang.semantics import units as U
from gatlang.syntax import ast
from gatlang.semantics.capabilities import check_network, network_features
from gatlang.semantics.capabilities import of as capabilities_of
from gatlang.workflows.base import Step
from gatlang.workflows.quality import record_quality
from gatlang.workflows.data import balanced_case, model_items, scenario_factor, step_network

if TYPE_CHECKING:
    from gatlang.passes import Compilation

#: Output table name for each element kind.
TABLES = {"bus": "bus", "gen": "gen", "line": "branch", "phase_gen": "gen_phase", "conductor": "branch_phase"}
#: Element counts recorded in run.json: (label, element kind).
MODEL_COUNTS = (("buses", "bus"), ("branches", "line"), ("generators", "gen"), ("nodes", "node"),
                ("conductors", "conductor"), ("phase_generators", "phase_gen"), ("delta_loads", "delta_load"))


def network_view(c: "Compilation", step: Step) -> tuple[NetView, set[str]] | None:
    """The step's network as the formulation sees it, and the network's features.

    A formulation that `requires three_phase` gets the conductor-by-conductor view
    (gatlang.model.netview3) of an OpenDSS-style network; every other formulation the
    balanced per-unit view.  Scenario multipliers are applied either way.
    """
    assert step.formulation is not None
    if "three_phase" in capabilities_of(step.formulation).requires:
        from gatlang.model.netview3 import from_network3

        net = step_network(c, step)
        if net is None:
            return None
        if net.table("sources").num_rows == 0:
            feats = network_features(False, np.ones(1), np.zeros(1))   # balanced: the requirement check reports it
            return NetView(net.name, 1.0, {}, {}, {}), feats
        view = from_network3(net, step.sink, load_scale=scenario_factor(c, step, "load_scale"),
                             pv_scale=scenario_factor(c, step, "pv_scale"), span=step.run.span,
                             start=str(step.option("init", "flat")), taps=str(step.option("taps", "fixed")))
        if view is None:
            return None
        feats = set(view.features) | {"meshed" if view.meshed else "radial"}   # type: ignore[attr-defined]
        if step.option("taps", "fixed") == "continuous" and net.table("regulators").num_rows:
            feats.add("tap_changers")
        return view, feats
    case = balanced_case(c, step)
    if case is None:
        return None
    how = str(step.option("init", "flat"))
    span = step.options["init"].span if "init" in step.options else step.run.span
    start = None if how == "flat" else balanced_start(case, how, step.sink, span)
    view = from_balanced(case, start)
    return view, network_features(view.meshed, case.tap, case.shift)


def column_name(name: str, unit: U.Unit | None, text: str | None) -> str:
    """`pg` in MW -> `pg_mw`; dimensionless -> `pg`."""
    if unit is None or unit.dims.is_dimensionless and not text:
        return name
    slug = "".join(ch if ch.isalnum() else "_" for ch in (text or U.format_unit(unit))).strip("_").lower()
    return f"{name}_{slug}" if slug else name


class OPF:
    def elaborate(self, c: "Compilation", step: Step) -> None:
        form = step.formulation
        assert form is not None and c.checker is not None
        got = network_view(c, step)
        if got is None:
            step.failed = True
            return
        view, feats = got
        if not check_network(form, feats, step.run, step.run.network, step.sink):
            step.failed = True
            return
        builder = ModelBuilder(view, step.sink, c.checker.types, name=f"{step.run.name}")
        builder.add_statements([g for g in c.program.globals if isinstance(g, (ast.ParamDecl, ast.SetDecl))])
        builder.add_statements(model_items(form.items))
        builder.add_statements(model_items(step.run.items))
        try:
            builder.set_objective(self._objective_option(step, builder, c),
                                  step.options["objective"].span if "objective" in step.options else step.run.span)
        except ElaborationError as exc:
            step.sink.error(exc.code, exc.message, exc.span, help=exc.help)
        if step.sink.has_errors:
            step.failed = True
            return
        step.state["builder"] = builder
        step.record["model"] = {"variables": builder.model.nvariables(), "constraints": builder.model.nconstraints(),
                                "formulation": form.name,
                                **{label: len(view.kinds[kind]) for label, kind in MODEL_COUNTS if kind in view.kinds}}

    @staticmethod
    def _objective_option(step: Step, builder: ModelBuilder, c: "Compilation") -> str | None:
        """The objective's name; an expression option becomes the run's own `minimize`."""
        from gatlang.syntax import ast

        expr = step.option("objective")
        if expr is None:
            return None
        if isinstance(expr, ast.Name) and expr.id in builder.objectives:
            return expr.id
        opt = next(i for i in step.run.items if isinstance(i, ast.Option) and i.name == "objective")
        node = ast.Minimize(opt.span, expr, "min")
        builder.types[id(node)] = c.checker.types.get(id(opt)) if c.checker else None
        if builder.active_objective is None:
            builder.active_objective = ("min", None, node)
        return None

    def lower(self, c: "Compilation", step: Step) -> None:
        from gatlang.backends.solvers import solve

        builder: ModelBuilder = step.state["builder"]
        solver = step.option("solver", "auto")
        options = dict(step.option("solver_options", {}) or {})
        time_limit = step.option("time_limit")
        if time_limit is not None:
            time_limit = _seconds(time_limit)
        result = solve(builder.model, solver=None if solver == "auto" else solver, options=options,
                       time_limit=time_limit, warm_start=bool(step.option("warm_start", False)),
                       name_of=builder.name_of)
        step.state["result"] = result
        step.sink.extend(result.diagnostics(step.run.span))   # warnings, then what stopped the solve
        if not result.ok:
            if not result.has_solution:
                step.failed = True

    def emit(self, c: "Compilation", step: Step) -> None:
        self.emit_record(step)
        result = step.state.get("result")
        builder: ModelBuilder | None = step.state.get("builder")
        if builder is None or result is None or not result.has_solution:
            return
        started = time.perf_counter()
        for kind, table in element_tables(builder).items():
            data, units = table
            c.store.write_table(step.run.name, step.scenario, TABLES.get(kind, kind), pa.table(data), units=units)
        step.record.setdefault("timings", {})["write_tables"] = time.perf_counter() - started

    @staticmethod
    def emit_record(step: Step) -> None:
        """The solve's outcome in the step's run.json record, objective in its declared unit."""
        result = step.state.get("result")
        builder: ModelBuilder | None = step.state.get("builder")
        if result is not None:
            solved = {k: v for k, v in result.to_dict().items() if k != "warnings"}
            solved["solve_status"] = solved.pop("status")  # `status` is the step's succeeded/failed
            step.record.update(solved)
            if builder is not None and result.objective is not None:
                unit = builder.objective_unit()
                step.record["objective"] = float(from_model_scale(np.array(result.objective), unit,
                                                                  builder.view.base_mva))
                step.record["objective_unit"] = U.format_unit(unit) if unit is not None else ""
                step.record["objective_model_scale"] = result.objective
            record_quality(step, builder, result)


def element_tables(builder: ModelBuilder) -> dict[str, tuple[dict[str, Any], dict[str, str]]]:
    """Every var/expr indexed by exactly one element kind, as columns of that kind's table."""
    import pyomo.environ as pyo

    view: NetView = builder.view
    out: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}
    for comp in builder.components.values():
        if comp.what not in ("var", "expr") or len(comp.index_kinds) != 1:
            continue
        kind = comp.index_kinds[0]
        if kind not in view.kinds:
            continue
        ents = view.kinds[kind]
        data, units = out.setdefault(kind, ({TABLES.get(kind, kind): ents.labels.astype(str).tolist()},
                                            {}))
        values = np.full(len(ents), np.nan)
        keys = np.asarray(comp.keys, dtype=np.int64)
        if comp.what == "var":
            values[keys] = [v.value if v.value is not None else np.nan for v in comp.values.values()]
        else:
            exprs = [comp.values[k] if k in comp.values else comp.compute(k) for k in comp.keys]
            values[keys] = [pyo.value(e) for e in exprs]
        text = getattr(comp.node, "unit", None)
        unit = comp.unit
        col = column_name(comp.name, unit, text)
        data[col] = from_model_scale(values, unit, view.base_mva)
        if unit is not None:
            units[col] = text or U.format_unit(unit)
    return out


def _seconds(v: Any) -> float:
    from gatlang.semantics.options import Quantity

    if isinstance(v, Quantity):
        return U.to_canonical(v.value, v.unit) * 3600.0  # canonical time is hours
    return float(v)

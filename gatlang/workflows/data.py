"""Loading the networks a study declares, once per study, and applying scenarios to them.

Why here and not in each workflow: several runs usually share one network;
it is imported once (and its importer warnings -- every object not imported
-- reported once), then each step gets its own scenario-adjusted copy.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from gatlang.diagnostics import DiagnosticSink, GatError
from gatlang.network.balanced import BalancedCase, from_network
from gatlang.semantics.options import Value, evaluate
from gatlang.syntax import ast
from gatlang.workflows.base import Step

if TYPE_CHECKING:
    from gatlang.network.model import Network
    from gatlang.passes import Compilation


def load_network(c: "Compilation", name: str) -> "Network | None":
    """Import network `name` (cached); importer diagnostics go to the study's sink once."""
    from gatlang.network.importers import import_network

    if name in c.networks:
        return c.networks[name]
    assert c.program is not None and c.resolved is not None
    decl = c.program.networks[name]
    path = c.resolved.input_files.get(name)
    net = None
    if path is not None:
        sink = DiagnosticSink()
        options = {a.name: evaluate(a.value, sink) for a in decl.source.args if a.name is not None}
        try:
            net = import_network(decl.source.func, path, options, sink, decl.source.span)
        except GatError as exc:
            sink.extend(exc.diagnostics)
            net = None
        c.sink.extend(sink)
        _record_files_read(c, name, net)
    c.networks[name] = net
    return net


def _record_files_read(c: "Compilation", name: str, net: "Network | None") -> None:
    """List every file the importer read for `name` (an OpenDSS master's Redirect targets) in
    run.json, so that the next invocation hashes them before deciding to skip a step."""
    main = c.input_rel.get(name)
    if net is None or c.store is None or main is None:
        return
    from gatlang.runtime.hashing import source_hash

    read = [Path(p) for p, _ in net.sources if Path(p).exists()]
    if read:
        try:
            hashes = c.store.add_inputs(read, "network", via=main)
        except GatError as exc:
            c.sink.extend(exc.diagnostics)
            return
        hashes.pop(main, None)
        c.source_hashes[name] = source_hash(c.input_hashes.get(main, ""), hashes)


def step_network(c: "Compilation", step: Step) -> "Network | None":
    """The step's network with its scenario's per-asset overrides (`set load "x" { ... }`) applied.

    Cached per (network, scenario); a scenario without overrides shares the imported network.
    """
    from gatlang.semantics.overrides import apply_overrides

    net = load_network(c, step.run.network)
    overrides = _overrides(c, step)
    if net is None or not overrides:
        return net
    key = ("overridden", step.run.network, step.scenario)
    if key not in c.networks:
        c.networks[key] = apply_overrides(net, overrides, step.sink)
    return c.networks[key]


def _overrides(c: "Compilation", step: Step) -> list:
    """The step's scenario's overrides with their checked values (the resolve pass checked them)."""
    if step.scenario is None or c.resolved is None:
        return []
    return c.resolved.scenario_overrides.get(step.scenario, [])


def balanced_case(c: "Compilation", step: Step) -> BalancedCase | None:
    """The step's network as a balanced per-unit case, with the step's scenario applied."""
    key = ("balanced", step.run.network, step.scenario if _overrides(c, step) else None)
    if key not in c.networks:
        net = step_network(c, step)
        case = None
        if net is not None:
            try:
                case = from_network(net, step.sink)
            except GatError as exc:
                step.sink.extend(exc.diagnostics)
        c.networks[key] = case
    case = c.networks[key]
    if case is None:
        return None
    return apply_scenario(c, step, case)


def apply_scenario(c: "Compilation", step: Step, case: BalancedCase) -> BalancedCase:
    """A copy of `case` with the scenario's multipliers applied (never mutates the shared case)."""
    if step.scenario is None:
        return case
    load, gen = scenario_factor(c, step, "load_scale"), scenario_factor(c, step, "gen_scale")
    pv = _scenario_option(c, step, "pv_scale")
    if pv is not None:
        step.sink.warning("GAT0407", f"scenario `{step.scenario}` sets `pv_scale`, but network "
                                     f"`{step.run.network}` has no PV systems in its balanced model",
                          pv.span, help="pv_scale applies to OpenDSS PVSystem elements")
    return dataclasses.replace(case, pd=case.pd * load, qd=case.qd * load,
                               pmin=case.pmin * gen, pmax=case.pmax * gen, pg=case.pg * gen)


def _scenario_option(c: "Compilation", step: Step, name: str) -> "Value | None":
    if step.scenario is None or c.resolved is None:
        return None
    return c.resolved.scenario_options.get(step.scenario, {}).get(name)


def scenario_factor(c: "Compilation", step: Step, name: str) -> float:
    """A multiplier of the step's scenario (`load_scale`, `gen_scale`, `pv_scale`); 1 when not set."""
    opt = _scenario_option(c, step, name)
    return float(opt.value) if opt is not None else 1.0


def model_items(items: tuple[ast.Node, ...]) -> list[ast.Node]:
    """The model statements of a formulation or run block (options and clauses left out)."""
    return [i for i in items if not isinstance(i, (ast.Option, ast.OptionBlock, ast.Clause))]

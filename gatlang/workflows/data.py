"""Loading the networks a study declares, once per study, and applying scenarios to them.

Why here and not in each workflow: several runs usually share one network;
it is imported once (and its importer warnings -- every object not imported
-- reported once), then each step gets its own scenario-adjusted copy.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from gatlang.diagnostics import DiagnosticSink, GatError
from gatlang.network.balanced import BalancedCase, from_network
from gatlang.semantics.options import evaluate
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
    c.networks[name] = net
    return net


def balanced_case(c: "Compilation", step: Step) -> BalancedCase | None:
    """The step's network as a balanced per-unit case, with the step's scenario applied."""
    key = ("balanced", step.run.network)
    if key not in c.networks:
        net = load_network(c, step.run.network)
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
    return apply_scenario(c, step, _with_index_dtypes(case))


def _with_index_dtypes(case: BalancedCase) -> BalancedCase:
    """Index arrays as int64 whatever the lowering produced (they index other arrays)."""
    import numpy as np

    return dataclasses.replace(case, f=np.asarray(case.f, dtype=np.int64), t=np.asarray(case.t, dtype=np.int64),
                               gen_bus=np.asarray(case.gen_bus, dtype=np.int64))


def apply_scenario(c: "Compilation", step: Step, case: BalancedCase) -> BalancedCase:
    """A copy of `case` with the scenario's multipliers applied (never mutates the shared case)."""
    if step.scenario is None:
        return case
    assert c.resolved is not None
    opts = c.resolved.scenario_options.get(step.scenario, {})
    load = float(opts["load_scale"].value) if "load_scale" in opts else 1.0
    gen = float(opts["gen_scale"].value) if "gen_scale" in opts else 1.0
    if "pv_scale" in opts:
        step.sink.warning("GAT0407", f"scenario `{step.scenario}` sets `pv_scale`, but network "
                                     f"`{step.run.network}` has no PV systems in its balanced model",
                          opts["pv_scale"].span, help="pv_scale applies to OpenDSS PVSystem elements")
    return dataclasses.replace(case, pd=case.pd * load, qd=case.qd * load,
                               pmin=case.pmin * gen, pmax=case.pmax * gen, pg=case.pg * gen)


def model_items(items: tuple[ast.Node, ...]) -> list[ast.Node]:
    """The model statements of a formulation or run block (options and clauses left out)."""
    return [i for i in items if not isinstance(i, (ast.Option, ast.OptionBlock, ast.Clause))]

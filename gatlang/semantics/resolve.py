"""The resolve pass: every name a declaration refers to exists, and every run is well-formed.

Why before type checking: runs name their network, formulation and scenarios;
networks and tables name importers and files.  These are cheap to verify
without loading any data, so `gatc check` catches a typo in a scenario list
or a missing input file in milliseconds, with a location.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gatlang.diagnostics import DiagnosticSink, did_you_mean
from gatlang.semantics.options import Value, as_names, check_options, evaluate
from gatlang.semantics.program import Program, load_formulation
from gatlang.syntax import ast
from gatlang.workflows.registry import RUN_KINDS, OptionSpec

#: Options a `scenario` block may set (balanced and unbalanced networks).
SCENARIO_OPTIONS: dict[str, OptionSpec] = {o.name: o for o in [
    OptionSpec("load_scale", "number", "multiplier on every load's P and Q", default=1.0),
    OptionSpec("gen_scale", "number", "multiplier on every generator's limits and set point", default=1.0),
    OptionSpec("pv_scale", "number", "multiplier on every PV system's output", default=1.0),
]}

#: Importers a `network`/`table` declaration may call, with the file argument they need.
TABLE_READERS = ("parquet", "csv")


@dataclass
class Resolved:
    """What the resolve pass learned: evaluated options per run and scenario, and the formulations used."""

    run_options: dict[str, dict[str, Value]] = field(default_factory=dict)
    scenario_options: dict[str, dict[str, Value]] = field(default_factory=dict)
    formulations: dict[str, ast.FormulationDecl] = field(default_factory=dict)   # run name -> formulation
    input_files: dict[str, Path] = field(default_factory=dict)                     # network/table name -> file
    compared: dict[str, list[ast.FormulationDecl]] = field(default_factory=dict)   # `run compare` -> formulations
    #: scenario name -> its per-asset overrides with their checked values ({table column: value})
    scenario_overrides: dict[str, list[tuple[ast.Override, dict]]] = field(default_factory=dict)


from gatlang.semantics.overrides import check_override  # noqa: E402  (after the option tables)


def default_formulation(kind, values: dict) -> str:
    """The formulation a run gets when it names none: the kind's default, or its three-phase
    counterpart (acp_u) when the run says `phases = unbalanced`."""
    phases = values.get("phases")
    if phases is not None and phases.value == "unbalanced" and kind.options["formulation"].default == "acp":
        return "acp_u"
    return kind.options["formulation"].default


def unique_options(items: list, sink: DiagnosticSink) -> dict[str, ast.Option | ast.OptionBlock]:
    """Options by name; an option given twice is an error (which one was meant is not knowable)."""
    out: dict[str, ast.Option | ast.OptionBlock] = {}
    for item in items:
        first = out.get(item.name)
        if first is not None:
            where = f" (first at line {first.span.line})" if first.span is not None else ""
            sink.error("GAT0410", f"option `{item.name}` is given twice{where}", item.span,
                       help="keep one of them")
            continue
        out[item.name] = item
    return out


def resolve(prog: Program, sink: DiagnosticSink) -> Resolved:
    res = Resolved()
    for decl in list(prog.networks.values()) + list(prog.tables.values()):
        _resolve_source(prog, decl, res, sink)
    for sc in prog.scenarios.values():
        res.scenario_options[sc.name] = check_options(unique_options(sc.options, sink), SCENARIO_OPTIONS, sink,
                                                      f"scenario `{sc.name}`")
        res.scenario_overrides[sc.name] = [(ov, check_override(ov, sink)) for ov in sc.overrides]
    for run in prog.runs.values():
        _resolve_run(prog, run, res, sink)
    for exp in prog.expects:
        if exp.run not in prog.runs:
            sink.error("GAT0101", f"`expect` names an unknown run `{exp.run}`", exp.span,
                       help=did_you_mean(exp.run, prog.runs) or "declare the run with `run KIND NAME on NETWORK { }`")
        elif exp.attr not in EXPECT_ATTRS:
            sink.error("GAT0702", f"a run has no result `{exp.attr}` to check", exp.span,
                       help=did_you_mean(exp.attr, EXPECT_ATTRS) or f"results: {', '.join(EXPECT_ATTRS)}")
    return res


EXPECT_ATTRS = ("objective", "status", "iterations")


def _resolve_source(prog: Program, decl: ast.NetworkDecl | ast.TableDecl, res: Resolved, sink: DiagnosticSink) -> None:
    from gatlang.network.importers import IMPORTERS

    call = decl.source
    known = tuple(IMPORTERS) if isinstance(decl, ast.NetworkDecl) else TABLE_READERS
    if call.func not in known:
        what = "network importer" if isinstance(decl, ast.NetworkDecl) else "table reader"
        sink.error("GAT0101", f"unknown {what} `{call.func}`", call.span,
                   help=did_you_mean(call.func, known) or f"available: {', '.join(known)}")
        return
    positional = [a for a in call.args if a.name is None]
    if len(positional) != 1 or not isinstance(positional[0].value, ast.String):
        sink.error("GAT0103", f"`{call.func}(...)` takes the input file as its one positional argument",
                   call.span, help=f'e.g. `{call.func}("data/case5.m")`')
        return
    arg = positional[0]
    # the file is relative to the module that declares it
    src = Path(decl.span.file) if decl.span and decl.span.file else prog.root
    path = (src.parent / arg.value.value).resolve()
    if not path.exists():
        sink.error("GAT0501", f"input file not found: {arg.value.value}", arg.span,
                   help=f"looked for {path}; paths are relative to the .gat file that names them")
        return
    res.input_files[decl.name] = path
    if isinstance(decl, ast.NetworkDecl):
        spec = IMPORTERS[call.func]
        for a in call.args:
            if a.name is None:
                continue
            if a.name not in spec.options:
                sink.error("GAT0402", f"unknown option `{a.name}` for `{call.func}(...)`", a.span,
                           help=did_you_mean(a.name, spec.options) or
                           (f"options: {', '.join(spec.options)}" if spec.options else "it takes no options"))
            else:
                evaluate(a.value, sink)


def _resolve_run(prog: Program, run: ast.RunDecl, res: Resolved, sink: DiagnosticSink) -> None:
    kind = RUN_KINDS.get(run.kind)
    span = run.kind_span or run.span
    if kind is None:
        sink.error("GAT0401", f"unknown run kind `{run.kind}`", span,
                   help=did_you_mean(run.kind, RUN_KINDS) or f"run kinds: {', '.join(RUN_KINDS)}")
        return
    if run.network not in prog.networks:
        sink.error("GAT0101", f"unknown network `{run.network}`", run.network_span or run.span,
                   help=did_you_mean(run.network, prog.networks) or "declare it with `network NAME = matpower(\"...\")`")
    opts = unique_options([i for i in run.items if isinstance(i, (ast.Option, ast.OptionBlock))], sink)
    values = check_options(opts, kind.options, sink, f"`run {run.kind}`")
    res.run_options[run.name] = values
    for name in as_names(values.get("scenarios")):
        if name not in prog.scenarios:
            sink.error("GAT0101", f"unknown scenario `{name}`", values["scenarios"].span,
                       help=did_you_mean(name, prog.scenarios) or "declare it with `scenario NAME { ... }`")
    if "formulation" in kind.options:
        fv = values.get("formulation")
        fname = fv.value if fv else default_formulation(kind, values)
        form = load_formulation(prog, fname, sink, fv.span if fv else span)
        if form is not None:
            res.formulations[run.name] = form
    if "formulations" in kind.options:
        fv = values.get("formulations")
        if fv is None:
            sink.error("GAT0402", f"`run {run.kind}` needs `formulations = [...]`", span,
                       help="e.g. `formulations = [acp, dcp]`")
        else:
            forms = [load_formulation(prog, name, sink, fv.span) for name in as_names(fv)]
            res.compared[run.name] = [f for f in forms if f is not None]
            ref = values.get("reference")
            if ref is not None and ref.value not in as_names(fv):
                sink.error("GAT0402", f"the reference `{ref.value}` is not one of the compared formulations",
                           ref.span, help=f"compared: {', '.join(as_names(fv))}")
    if not kind.implemented:
        sink.error("GAT0405", f"run kind `{run.kind}` is not implemented yet", span,
                   help="implemented run kinds: " + ", ".join(k for k, v in RUN_KINDS.items() if v.implemented))

"""The compiler pipeline: one explicit, ordered tuple of passes.

    parse -> resolve -> check -> capabilities -> elaborate -> lower -> emit

The first four work on the whole program and need no data: `gatc check` and
the language server stop after them.  The last three work per *step* (one run
under one scenario): elaborate loads the network and builds the model, lower
hands it to a solver or numerical engine, emit writes the results and the
run.json record.  Every pass takes the Compilation and reports into its
diagnostic sink; none raises for user errors.  Time is measured per pass and
recorded in run.json.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gatlang import __version__
from gatlang.diagnostics import DiagnosticSink, GatError
from gatlang.runtime.collector import collector_paused
from gatlang.runtime.hashing import hash_parts, source_hash
from gatlang.semantics.check import Checker, Scope, network_scope
from gatlang.semantics.program import Program, load_program
from gatlang.semantics.resolve import Resolved, resolve
from gatlang.syntax import ast
from gatlang.workflows.base import Step, workflow_for
from gatlang.workflows.registry import RUN_KINDS


@dataclass
class Settings:
    """What the user asked for on the command line."""

    only: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()
    force: bool = False
    quiet: bool = False
    out: Path | None = None


@dataclass
class Compilation:
    path: Path
    sink: DiagnosticSink
    settings: Settings = field(default_factory=Settings)
    program: Program | None = None
    resolved: Resolved | None = None
    checker: Checker | None = None
    run_scopes: dict[str, Scope] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    networks: dict[str, Any] = field(default_factory=dict)     # name -> loaded network (per workflow needs)
    store: Any = None                                          # gatlang.runtime.store.RunStore
    progress: Any = None                                       # gatlang.runtime.progress.Progress
    input_hashes: dict[str, str] = field(default_factory=dict)
    #: per network or table declaration: its input path as the run store names it, and the
    #: hash of everything it reads (the file or folder, plus the files its importer read
    #: through it last time: an OpenDSS master's Redirect targets)
    input_rel: dict[str, str] = field(default_factory=dict)
    source_hashes: dict[str, str] = field(default_factory=dict)

    def time(self, name: str, seconds: float) -> None:
        self.timings[name] = self.timings.get(name, 0.0) + seconds


# ---------------------------------------------------------------- program passes
def parse_pass(c: Compilation) -> None:
    if not c.path.exists():
        c.sink.error("GAT0501", f"study file not found: {c.path}", None,
                     help="give the path of a .gat file, e.g. `gatc run examples/case5/study.gat`")
        return
    c.program = load_program(c.path, c.sink)


def resolve_pass(c: Compilation) -> None:
    if c.program is not None:
        c.resolved = resolve(c.program, c.sink)


def check_pass(c: Compilation) -> None:
    """Names, types and units of every model statement: globals, formulations used, and run blocks."""
    if c.program is None or c.resolved is None:
        return
    checker = c.checker = Checker(c.sink)
    base = network_scope()
    for item in c.program.globals:
        if not isinstance(item, (ast.ParamDecl, ast.SetDecl)):
            c.sink.error("GAT0202", f"`{_statement_word(item)}` is not allowed at the top level of a study",
                         item.span, help="top-level statements may only declare shared `param` and `set` data; "
                                         "put variables, constraints and objectives in a `run` block or a formulation")
    checker.check_block([g for g in c.program.globals if isinstance(g, (ast.ParamDecl, ast.SetDecl))], base)
    form_scopes: dict[str, Scope] = {}
    for form in c.program.formulations.values():
        form_scopes[form.name] = checker.check_block(form.items, base.child())
    for run in c.program.runs.values():
        compared = c.resolved.compared.get(run.name) or [None]
        form = c.resolved.formulations.get(run.name) or compared[0]
        outer = form_scopes[form.name] if form is not None and form.name in form_scopes else base
        scope = outer.child()
        model_items = [i for i in run.items if not isinstance(i, (ast.Option, ast.OptionBlock))]
        minimizes = [i for i in model_items if isinstance(i, ast.Minimize)]
        for extra in minimizes[1:]:
            c.sink.error("GAT0102", "a run has at most one `minimize`/`maximize`", extra.span,
                         help=f"the first is at {minimizes[0].span}; combine them into one expression")
        c.run_scopes[run.name] = checker.check_block(model_items, scope)
        _check_objective_option(c, run, form_scopes.get(form.name) if form is not None else None)


def _statement_word(item: ast.Node) -> str:
    if isinstance(item, ast.Minimize):
        return "minimize" if item.sense == "min" else "maximize"
    return {"VarDecl": "var", "ExprDecl": "expr", "ConstraintDecl": "constraint", "ObjectiveDecl": "objective",
            "SubjectTo": "subject to"}.get(type(item).__name__, type(item).__name__)


def _check_objective_option(c: Compilation, run: ast.RunDecl, form_scope: Scope | None) -> None:
    """`objective = cost` names an objective of the formulation; anything else is an expression."""
    assert c.checker is not None
    opt = next((i for i in run.items if isinstance(i, ast.Option) and i.name == "objective"), None)
    if opt is None:
        return
    if isinstance(opt.value, ast.Name) and form_scope is not None:
        sym = form_scope.symbols.get(opt.value.id)
        if sym is not None and sym.what == "objective":
            return
        if sym is None and c.run_scopes[run.name].lookup(opt.value.id) is None:
            from gatlang.diagnostics import did_you_mean
            objectives = [n for n, s in form_scope.symbols.items() if s.what == "objective"]
            c.sink.error("GAT0101", f"unknown objective `{opt.value.id}`", opt.value.span,
                         help=did_you_mean(opt.value.id, objectives) or f"objectives: {', '.join(objectives)}")
            return
    as_min = ast.Minimize(opt.span, opt.value, "min")
    c.checker.check_stmt(as_min, c.run_scopes[run.name])
    c.checker.types[id(opt)] = c.checker.types.get(id(as_min))


def capabilities_pass(c: Compilation) -> None:
    """Problem x formulation, statically; formulation x network is checked when the data is loaded."""
    from gatlang.semantics.capabilities import check_static

    if c.program is None or c.resolved is None:
        return
    for run in c.program.runs.values():
        form = c.resolved.formulations.get(run.name)
        kind = RUN_KINDS.get(run.kind)
        for f in ([form] if form is not None else []) + c.resolved.compared.get(run.name, []):
            if kind is not None:
                check_static(f, kind.problem, run.kind_span or run.span, c.sink)


# ---------------------------------------------------------------- step passes
def plan_steps(c: Compilation) -> None:
    """Expand runs into steps (run x scenario), honouring --only and --scenario."""
    assert c.program is not None and c.resolved is not None
    for run in c.program.runs.values():
        if c.settings.only and run.name not in c.settings.only:
            continue
        options = c.resolved.run_options.get(run.name, {})
        names = options["scenarios"].value if "scenarios" in options else [None]
        names = [names] if isinstance(names, str) else names
        for scenario in names:
            if c.settings.scenarios and scenario not in c.settings.scenarios:
                continue
            c.steps.append(Step(run, scenario, options, c.resolved.formulations.get(run.name)))
    for name in c.settings.only:
        if name not in c.program.runs:
            from gatlang.diagnostics import did_you_mean
            c.sink.error("GAT0101", f"--only names an unknown run `{name}`", None,
                         help=did_you_mean(name, c.program.runs) or f"runs: {', '.join(c.program.runs)}")


def _step_parts(c: Compilation, step: Step) -> dict[str, Any]:
    """Everything a step's result depends on, for its cache key (components kept for 'why re-run')."""
    from gatlang.runtime.hashing import hash_parts

    assert c.program is not None and c.resolved is not None
    run = step.run
    text = c.program.sources.get(run.span.file, "") if run.span else ""
    run_text = "\n".join(text.splitlines()[run.span.line - 1: run.span.end_line]) if run.span else ""
    parts: dict[str, Any] = {"gatlang": __version__, "run": run_text, "globals": [repr(g) for g in c.program.globals]}
    parts["network"] = c.source_hashes.get(run.network, "")
    decl = c.program.networks.get(run.network)
    if decl is not None:
        parts["network_decl"] = repr(decl)
    if step.formulation is not None:
        parts["formulation"] = hash_parts({"text": repr(step.formulation)})
    for form in c.resolved.compared.get(run.name, []):
        parts[f"formulation:{form.name}"] = hash_parts({"text": repr(form)})
    if step.scenario is not None:
        sc = c.program.scenarios.get(step.scenario)
        parts["scenario"] = repr(sc)
    return parts


def elaborate_pass(c: Compilation, step: Step) -> None:
    wf = workflow_for(step.run.kind)
    if wf is not None:
        wf.elaborate(c, step)


def lower_pass(c: Compilation, step: Step) -> None:
    wf = workflow_for(step.run.kind)
    if wf is not None and not step.failed:
        wf.lower(c, step)


def emit_pass(c: Compilation, step: Step) -> None:
    wf = workflow_for(step.run.kind)
    if wf is not None:
        wf.emit(c, step)


PROGRAM_PASSES: tuple[tuple[str, Callable[[Compilation], None]], ...] = (
    ("parse", parse_pass),
    ("resolve", resolve_pass),
    ("check", check_pass),
    ("capabilities", capabilities_pass),
)
STEP_PASSES: tuple[tuple[str, Callable[[Compilation, Step], None]], ...] = (
    ("elaborate", elaborate_pass),
    ("lower", lower_pass),
    ("emit", emit_pass),
)
#: The whole pipeline, in order.
PASSES = tuple(name for name, _ in PROGRAM_PASSES + STEP_PASSES)


def check_program(path: Path, sink: DiagnosticSink, settings: Settings | None = None) -> Compilation:
    """Run the program passes (what `gatc check` does). Stops early once a pass reports errors
    that later passes cannot look past (a file that did not parse)."""
    c = Compilation(path, sink, settings or Settings())
    for name, fn in PROGRAM_PASSES:
        started = time.perf_counter()
        fn(c)
        c.time(name, time.perf_counter() - started)
        if c.program is None:
            break
    return c


def run_program(path: Path, sink: DiagnosticSink, settings: Settings | None = None) -> Compilation:
    """The whole pipeline (what `gatc run` does): check, then every step, then the expects and run.json."""
    from gatlang.expect import check_expects
    from gatlang.runtime.progress import Progress
    from gatlang.runtime.store import RunStore

    c = check_program(path, sink, settings)
    if c.program is None or sink.has_errors:
        return c
    plan_steps(c)
    if sink.has_errors:
        return c
    try:
        c.store = RunStore(c.program.root, c.program.name, c.settings.out, force=c.settings.force, sink=sink)
        _hash_inputs(c)
    except GatError as exc:
        sink.extend(exc.diagnostics)
        return c
    with Progress(quiet=c.settings.quiet) as progress:
        c.progress = progress
        task = progress.task(f"study {c.program.name}", total=len(c.steps))
        for step in c.steps:
            _run_step(c, step)
            task.advance()
    check_expects(c)
    try:
        c.store.finish(passes=c.timings, diagnostics=list(sink))
    except GatError as exc:
        sink.extend(exc.diagnostics)
    return c


def _hash_inputs(c: Compilation) -> None:
    assert c.program is not None and c.resolved is not None
    store = c.store
    modules = [Path(p) for p in c.program.modules if Path(p) != c.program.root]
    c.input_hashes.update(store.add_inputs([c.program.root], "study"))
    c.input_hashes.update(store.add_inputs(modules, "module"))
    for name, path in c.resolved.input_files.items():
        role = "network" if name in c.program.networks else "table"
        main = store.add_inputs([path], role)
        c.input_hashes.update(main)
        (rel, digest), = main.items()
        c.input_rel[name] = rel
        deps = {}
        for dep in store.dependencies(rel):
            try:
                deps.update(store.add_inputs([Path(dep)], role, via=rel))
            except GatError:         # gone: the master no longer reads it, or the import will say why
                deps[dep] = "missing"
        c.source_hashes[name] = source_hash(digest, deps)


def _run_step(c: Compilation, step: Step) -> None:
    step.parts = _step_parts(c, step)
    step.key = c.store.step_key(step.run.name, step.scenario, step.parts)
    if not c.settings.force:
        outcome = c.store.lookup(step.run.name, step.scenario, step.key)
        if outcome is not None:
            step.cached = outcome
            step.record = dict(outcome.record)
            c.progress.note(outcome.skip_note())
            return
    reason = "--force" if c.settings.force else c.store.why_rerun(step.run.name, step.scenario, step.parts)
    c.progress.note(f"running {step.label}: {reason}")
    step.record["reason"] = reason
    timings: dict[str, float] = {}
    for name, fn in STEP_PASSES:
        started = time.perf_counter()
        try:
            with collector_paused(name == "elaborate"):
                fn(c, step)
        except GatError as exc:
            step.sink.extend(exc.diagnostics)
            step.failed = True
        elapsed = time.perf_counter() - started
        timings[name] = elapsed
        c.time(name, elapsed)
    step.state.clear()      # the model and solver objects: its tables and record are written
    step.record.setdefault("timings", {}).update(timings)
    failed = step.failed or step.sink.has_errors
    step.record["status"] = "failed" if failed else "succeeded"
    step.record["diagnostics"] = list(step.sink)
    c.sink.extend(step.sink)
    # the importer may have named files it read through the network's main file (first run, or
    # a new Redirect): key the record with them, as the next invocation will compute it
    parts = _step_parts(c, step)
    if parts != step.parts:
        step.parts, step.key = parts, c.store.step_key(step.run.name, step.scenario, parts)
    c.store.record_step(step.run.name, step.scenario, step.key, step.parts, step.record)

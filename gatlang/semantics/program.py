"""Load a study and everything it uses into one Program: the 'parse' pass.

Why a separate loading step: `use` pulls in stdlib modules and other `.gat`
files, and formulations named by runs are found in the standard library on
demand; every later pass then sees one flat, de-duplicated set of
declarations, each still carrying its own file and span.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gatlang.diagnostics import DiagnosticSink, Span, did_you_mean
from gatlang.resources import stdlib_dir
from gatlang.syntax import ast
from gatlang.syntax.parser import parse_file


@dataclass
class Program:
    root: Path                                   # the study file
    study: ast.Study | None = None
    modules: dict[str, ast.Module] = field(default_factory=dict)   # path -> module
    sources: dict[str, str] = field(default_factory=dict)          # path -> text
    formulations: dict[str, ast.FormulationDecl] = field(default_factory=dict)
    networks: dict[str, ast.NetworkDecl] = field(default_factory=dict)
    tables: dict[str, ast.TableDecl] = field(default_factory=dict)
    scenarios: dict[str, ast.ScenarioDecl] = field(default_factory=dict)
    runs: dict[str, ast.RunDecl] = field(default_factory=dict)
    expects: list[ast.ExpectStmt] = field(default_factory=list)
    globals: list[ast.Node] = field(default_factory=list)          # top-level model statements

    @property
    def name(self) -> str:
        return self.study.name if self.study else self.root.stem

    @property
    def base_dir(self) -> Path:
        return self.root.parent

    def stdlib_formulations(self) -> list[str]:
        return sorted(p.stem for p in stdlib_dir().glob("*.gat"))


def load_program(path: Path, sink: DiagnosticSink) -> Program:
    """Parse the study at `path` and every module it uses (transitively)."""
    prog = Program(root=path.resolve() if path.exists() else path)
    _load(prog, prog.root, sink, span=None, is_root=True)
    return prog


def load_formulation(prog: Program, name: str, sink: DiagnosticSink, span: Span | None) -> ast.FormulationDecl | None:
    """Find a formulation by name: declared in the study's modules, else stdlib/<name>.gat."""
    if name in prog.formulations:
        return prog.formulations[name]
    candidate = stdlib_dir() / f"{name}.gat"
    if candidate.exists():
        _load(prog, candidate.resolve(), sink, span, is_root=False)
    if name not in prog.formulations:
        known = sorted(set(prog.formulations) | set(prog.stdlib_formulations()))
        sink.error("GAT0403", f"unknown formulation `{name}`", span,
                   help=did_you_mean(name, known) or f"known formulations: {', '.join(known)}")
        return None
    return prog.formulations[name]


def _load(prog: Program, path: Path, sink: DiagnosticSink, span: Span | None, is_root: bool) -> None:
    key = str(path)
    if key in prog.modules or key in prog.sources:
        return
    module, text = parse_file(path, sink, span)
    prog.sources[key] = text
    if module is None:
        return
    prog.modules[key] = module
    for item in module.items:
        _collect(prog, item, path, sink, is_root)


def _define(table: dict, name: str, node: ast.Node, what: str, sink: DiagnosticSink) -> None:
    if name in table:
        prev = table[name].span
        sink.error("GAT0102", f"{what} `{name}` is defined twice", node.span,
                   help=f"the first definition is at {prev}; rename one of them")
        return
    table[name] = node


def _collect(prog: Program, item: ast.Node, path: Path, sink: DiagnosticSink, is_root: bool) -> None:
    if isinstance(item, ast.Study):
        if is_root and prog.study is None:
            prog.study = item
        elif is_root:
            sink.error("GAT0102", "a file has only one `study` header", item.span,
                       help=f"the first is at {prog.study.span}")
    elif isinstance(item, ast.UseModule):
        _use_module(prog, item, sink)
    elif isinstance(item, ast.UseFile):
        target = (path.parent / item.path).resolve()
        if not target.exists():
            sink.error("GAT0501", f"file not found: {item.path}", item.span,
                       help=f"looked for {target}; paths are relative to the file that uses them")
        else:
            _load(prog, target, sink, item.span, is_root=False)
    elif isinstance(item, ast.FormulationDecl):
        _define(prog.formulations, item.name, item, "formulation", sink)
    elif isinstance(item, ast.NetworkDecl):
        _define(prog.networks, item.name, item, "network", sink)
    elif isinstance(item, ast.TableDecl):
        _define(prog.tables, item.name, item, "table", sink)
    elif isinstance(item, ast.ScenarioDecl):
        _define(prog.scenarios, item.name, item, "scenario", sink)
    elif isinstance(item, ast.RunDecl):
        _define(prog.runs, item.name, item, "run", sink)
    elif isinstance(item, ast.ExpectStmt):
        prog.expects.append(item)
    else:
        prog.globals.append(item)


def _use_module(prog: Program, item: ast.UseModule, sink: DiagnosticSink) -> None:
    parts = item.path
    if parts[0] != "stdlib" or len(parts) < 2:
        sink.error("GAT0105", f"unknown module `{'.'.join(parts)}`", item.span,
                   help="standard modules are written `use stdlib.NAME`; files are written `use \"file.gat\"`")
        return
    target = stdlib_dir().joinpath(*parts[1:]).with_suffix(".gat")
    if not target.exists():
        known = [f"stdlib.{p.stem}" for p in stdlib_dir().glob("*.gat")]
        sink.error("GAT0105", f"unknown module `{'.'.join(parts)}`", item.span,
                   help=did_you_mean(".".join(parts), known) or f"available: {', '.join(sorted(known))}")
        return
    _load(prog, target.resolve(), sink, item.span, is_root=False)

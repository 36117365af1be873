"""Run the compiler's front end (parse, load, name/type/unit check) on a snippet.

Why a helper here: the explain pages and the language reference show `.gat`
examples, and the docs tests check those examples against the real compiler,
so that a page never claims a diagnostic the compiler does not give.  The
front end is driven the way `gatc check` drives it: load the program (which
parses every file and resolves `use`), then check the study's model
statements and each run's model statements in the network scope.
"""
from __future__ import annotations

from pathlib import Path

from gatlang.diagnostics import Diagnostic, DiagnosticSink
from gatlang.semantics.check import Checker, network_scope
from gatlang.semantics.program import load_program
from gatlang.syntax import ast


def diagnose(text: str, folder: Path, name: str = "study.gat") -> list[Diagnostic]:
    """Every diagnostic the front end reports for `text`, written as `folder/name`."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    sink = DiagnosticSink()
    prog = load_program(path, sink)
    if not sink.has_errors:
        checker = Checker(sink)
        checker.check_block(prog.globals, network_scope())
        for run in prog.runs.values():
            stmts = [i for i in run.items if not isinstance(i, (ast.Option, ast.OptionBlock))]
            checker.check_block(stmts, network_scope())
    return list(sink)


def codes(text: str, folder: Path) -> set[str]:
    return {d.code for d in diagnose(text, folder)}

"""Run the compiler's program passes (what `gatc check` runs) on a snippet.

Why a helper here: the explain pages and the language reference show `.gat`
examples, and the docs tests check those examples against the real compiler,
so that a page never claims a diagnostic the compiler does not give.  The
program passes (parse, resolve, check, capabilities) need no solver, and no
data beyond what the snippet's folder holds.
"""
from __future__ import annotations

from pathlib import Path

from gatlang.diagnostics import Diagnostic, DiagnosticSink
from gatlang.passes import check_program


def diagnose(text: str, folder: Path, name: str = "study.gat") -> list[Diagnostic]:
    """Every diagnostic `gatc check` reports for `text`, written as `folder/name`."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    sink = DiagnosticSink()
    check_program(path, sink)
    return list(sink)


def codes(text: str, folder: Path) -> set[str]:
    return {d.code for d in diagnose(text, folder)}

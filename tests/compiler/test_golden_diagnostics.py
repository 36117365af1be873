"""Golden diagnostics: every `.gat` file under golden/ states its expected diagnostics inline.

A comment `#~ GAT0101 31` on a line means: a diagnostic with code GAT0101 at
this line, column 31 (several may be listed, comma-separated).  The set of
(code, line, column) reported by `gatc check` must equal the set written in
the file, exactly: a missing diagnostic, an extra one, or one at another
position fails the test.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.passes import check_program

GOLDEN = Path(__file__).resolve().parent / "golden"
MARK = re.compile(r"#~\s*(.+)$")


def expected(path: Path) -> set[tuple[str, int, int]]:
    out = set()
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        m = MARK.search(line)
        if m:
            for item in m.group(1).split(","):
                code, col = item.split()
                out.add((code, lineno, int(col)))
    return out


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.gat")), ids=lambda p: p.name)
def test_golden(path: Path) -> None:
    sink = DiagnosticSink()
    check_program(path, sink)
    got = {(d.code, d.span.line, d.span.column) for d in sink if d.span is not None
           and Path(d.span.file).resolve() == path.resolve()}
    stray = [d for d in sink if d.span is None or Path(d.span.file).resolve() != path.resolve()]
    assert not [d for d in stray if d.is_error], [str(d) for d in stray]
    assert got == expected(path)
    for d in sink:  # every diagnostic is explained and helps
        assert d.message


def test_every_code_used_in_golden_files_has_an_explain_page() -> None:
    from gatlang.diagnostics import code_page

    codes = {c for p in GOLDEN.glob("*.gat") for c, _, _ in expected(p)}
    assert codes and all(code_page(c) is not None for c in codes)

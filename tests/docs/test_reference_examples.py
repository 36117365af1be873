"""The `.gat` examples of the documentation pages are valid gatlang.

Why: a reference whose examples do not parse teaches the wrong syntax.  Every
``code-block:: gat`` of the reST pages must parse as a file; a block that is
an expression (the `sum` examples) must parse line by line as the value of an
`expr`.  The full studies among them must also pass `gatc check` when given
a real network file, so the getting-started study really is a study.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.syntax.parser import parse_text

from .frontend import diagnose

DOCS = Path(__file__).resolve().parents[2] / "docs"
CASE = DOCS.parent / "examples" / "case5" / "pglib_opf_case5_pjm.m"
_BLOCK = re.compile(r"^\.\. code-block:: gat\n\n((?:(?:   .*)?\n)+)", re.M)


def _blocks() -> list[tuple[str, str]]:
    out = []
    for page in sorted(DOCS.glob("*.rst")):
        for i, m in enumerate(_BLOCK.finditer(page.read_text(encoding="utf-8"))):
            body = "\n".join(line[3:] for line in m.group(1).splitlines()).strip() + "\n"
            out.append((f"{page.stem}#{i}", body))
    return out


BLOCKS = _blocks()


def _parses(text: str) -> bool:
    sink = DiagnosticSink()
    return parse_text(text, "doc.gat", sink) is not None and not sink.has_errors


def test_the_pages_have_examples() -> None:
    assert len(BLOCKS) >= 15


@pytest.mark.parametrize("name, text", BLOCKS, ids=[n for n, _ in BLOCKS])
def test_example_parses(name: str, text: str) -> None:
    if _parses(text):
        return
    for line in text.splitlines():
        assert _parses(f"expr e = {line}\n"), f"{name}: neither a file nor expressions:\n{text}"


@pytest.mark.parametrize("name", ["index#0", "getting-started#0"])
def test_complete_studies_pass_check(name: str, tmp_path: Path) -> None:
    text = dict(BLOCKS)[name]
    shutil.copyfile(CASE, tmp_path / "case5.m")
    errors = [d for d in diagnose(text, tmp_path) if d.is_error]
    assert not errors, [f"{d.code} {d.message}" for d in errors]

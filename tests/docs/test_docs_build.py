"""The Sphinx documentation builds with warnings as errors, and its generated parts are complete.

Why check the output, not just the exit status: the reference tables and the
diagnostics index are generated from the code at build time; a build that
passes but silently drops a code page or an attribute would be a defect.
"""
from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gatlang.diagnostics import all_codes
from gatlang.semantics.entities import ENTITY_ATTRS, NETWORK_SETS
from gatlang.semantics.units import unit_names
from gatlang.workflows.registry import RUN_KINDS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html")
    doctrees = tmp_path_factory.mktemp("doctrees")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-d", str(doctrees),
         str(ROOT / "docs"), str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, f"sphinx-build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    assert "WARNING" not in proc.stderr, proc.stderr
    return out


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))


def test_every_page_is_built(built: Path) -> None:
    for name in ("index", "getting-started", "language", "grammar", "diagnostics",
                 "architecture", "network-model", "run-outputs"):
        assert (built / f"{name}.html").exists(), name


def test_diagnostics_index_has_every_explain_page(built: Path) -> None:
    text = _text(built / "diagnostics.html")
    pages = all_codes()
    assert len(pages) >= 28
    for page in pages:
        assert f"{page.code} {page.name}" in text, page.code


def test_language_reference_lists_attributes_units_and_run_kinds(built: Path) -> None:
    text = _text(built / "language.html")
    words = set(re.findall(r"[\w$%Ω]+", text))
    for kind, attrs in ENTITY_ATTRS.items():
        assert f"Attributes of a {kind}" in text
        assert set(attrs) <= words, set(attrs) - words
    assert set(NETWORK_SETS) <= words
    assert {u for u in unit_names() if u.isalnum()} <= words
    for kind in RUN_KINDS:
        assert f"run {kind}" in text


def test_grammar_page_is_the_grammar(built: Path) -> None:
    text = _text(built / "grammar.html")
    grammar = (ROOT / "grammar" / "gat.lark").read_text(encoding="utf-8")
    for rule in re.findall(r"^(\w+):", grammar, re.M):
        assert f"{rule}:" in text, rule


def test_network_model_notes_are_included(built: Path) -> None:
    md = (ROOT / "docs" / "network-model.md").read_text(encoding="utf-8")
    text = _text(built / "network-model.html")
    for heading in re.findall(r"^##\s+(.*)$", md, re.M):
        assert heading.strip() in text

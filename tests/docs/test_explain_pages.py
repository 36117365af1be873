"""The explain pages of the core codes: shape, and examples checked against the compiler.

A page that shows an example must be telling the truth: its first ``gat``
example must make the compiler report the page's code, and the examples under
"How to fix" must not.  Codes whose check lives in a later pass (runs,
capabilities, expect oracles) cannot be triggered by the front end alone;
for those the example must at least be valid gatlang, so that the only thing
wrong with it is what the page explains.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gatlang.diagnostics import EXPLAIN_DIR, code_page

from .frontend import codes

# code -> short name, as the brief for the core codes fixes them.
CORE = {
    "GAT0001": "unexpected-token", "GAT0002": "unexpected-character",
    "GAT0003": "unexpected-end-of-file", "GAT0004": "malformed-literal",
    "GAT0101": "unknown-name", "GAT0102": "duplicate-definition", "GAT0103": "wrong-index-count",
    "GAT0104": "unknown-attribute", "GAT0105": "unknown-module",
    "GAT0201": "type-mismatch", "GAT0202": "not-allowed-here", "GAT0203": "bad-constraint",
    "GAT0204": "where-filter", "GAT0205": "constraint-never-holds", "GAT0206": "no-objective",
    "GAT0207": "division-by-zero",
    "GAT0301": "unknown-unit", "GAT0302": "unit-mismatch", "GAT0303": "per-unit-needs-base",
    "GAT0304": "needs-dimensionless", "GAT0305": "bad-exponent", "GAT0306": "power-kind-conversion",
    "GAT0307": "malformed-unit",
    "GAT0401": "unknown-run-kind", "GAT0402": "unknown-option", "GAT0403": "unknown-formulation",
    "GAT0404": "unsupported-combination", "GAT0405": "run-kind-not-implemented",
    "GAT0501": "input-file-not-found",
    "GAT0701": "expect-failed", "GAT0702": "expect-unknown-attribute",
}

# Codes reported by later passes (run options, capabilities, solving, expect) or
# by readers of unit text outside the grammar: the front end does not see them.
LATER_PASS = {"GAT0202", "GAT0205", "GAT0206", "GAT0207", "GAT0303", "GAT0306", "GAT0307",
              "GAT0401", "GAT0402", "GAT0403", "GAT0404", "GAT0405", "GAT0701", "GAT0702"}
# Examples whose failure is a missing input file, not a wrong statement.
NEEDS_FILES = {"GAT0205", "GAT0206", "GAT0207", "GAT0401", "GAT0402", "GAT0403", "GAT0404",
               "GAT0405", "GAT0701", "GAT0702"}

_BLOCK = re.compile(r"```gat\n(.*?)```", re.S)
_MY_RANGES = re.compile(r"GAT0(?:[0-4]\d\d|501|7\d\d)")


def _examples(text: str) -> tuple[str | None, list[str]]:
    """(the first example, the examples under '## How to fix')."""
    head, _, fix = text.partition("## How to fix")
    first = _BLOCK.search(head)
    return (first.group(1) if first else None), _BLOCK.findall(fix)


@pytest.mark.parametrize("code", sorted(CORE))
def test_page_shape(code: str) -> None:
    page = code_page(code)
    assert page is not None, f"{code} has no page"
    assert page.name == CORE[code]
    lines = page.text.splitlines()
    assert lines[0] == f"# {code} {CORE[code]}"
    assert 15 <= len(lines) <= 40, f"{code}: {len(lines)} lines"
    assert "## Example" in page.text and "## How to fix" in page.text


@pytest.mark.parametrize("code", sorted(CORE))
def test_page_example_triggers_its_code(code: str, tmp_path: Path) -> None:
    first, fixes = _examples(code_page(code).text)   # type: ignore[union-attr]
    if code == "GAT0307":      # unit text outside the grammar: shown as text, not gat
        assert first is None
        return
    assert first is not None, f"{code}: no gat example"
    if code == "GAT0501":      # the files it names do not exist in tmp_path
        assert "GAT0501" in codes(first, tmp_path)
        return
    found = codes(first, tmp_path)
    if code not in LATER_PASS:
        assert code in found, f"{code} example reports {sorted(found)}"
    elif code in NEEDS_FILES:
        (tmp_path / "case5.m").write_text("% placeholder: the front end does not read it\n")
        assert not {c for c in codes(first, tmp_path) if c.startswith(("GAT00", "GAT01", "GAT03"))} - {code}
    else:
        assert not any(c.startswith("GAT00") for c in found), f"{code} example is not valid syntax"
    for fix in fixes:
        assert code not in codes(fix, tmp_path), f"{code}: a 'How to fix' example still reports it"


def test_every_code_in_my_ranges_has_a_page() -> None:
    """Codes the compiler emits in the syntax/names/types/units/runs/expect ranges."""
    src = Path(EXPLAIN_DIR).parent
    used = set()
    for py in src.rglob("*.py"):
        used |= {m.group() for m in _MY_RANGES.finditer(py.read_text(encoding="utf-8"))}
    missing = sorted(c for c in used if code_page(c) is None)
    assert not missing, f"codes without an explain page: {missing}"

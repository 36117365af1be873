"""The explain pages of the core codes: shape, and examples checked against the compiler.

A page that shows an example must be telling the truth: its first ``gat``
example must make `gatc check` report the page's code, and the examples
under "How to fix" must not.  Codes that only a run can report (they need
the data, a solver or the results) are checked the other way round: their
example must pass `gatc check` cleanly, so that the only thing wrong with it
is what the page explains.
"""
from __future__ import annotations

import re
import shutil
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
    "GAT0406": "formulation-ignores-component", "GAT0407": "scenario-option-not-applicable",
    "GAT0501": "input-file-not-found",
    "GAT0701": "expect-failed", "GAT0702": "expect-unknown-attribute",
}

# Codes that only a run reports (elaboration with data, solving, expect after
# the runs), and warnings: `gatc check` must accept their examples cleanly, so
# that what the page explains is the only thing wrong with them.
RUN_TIME = {"GAT0205", "GAT0206", "GAT0207", "GAT0406", "GAT0407", "GAT0701"}
# Codes `gatc check` does not report yet for the page's example (GAT0202 for a
# top-level `minimize`; GAT0306, whose case is reported as GAT0302 today) and
# GAT0307 (unit text outside the grammar): the example must still be valid syntax.
NOT_YET = {"GAT0306", "GAT0307"}

_BLOCK = re.compile(r"```gat\n(.*?)```", re.S)
_MATPOWER = re.compile(r'matpower\("([^"]+)"\)')
_MY_RANGES = re.compile(r"GAT0(?:[0-4]\d\d|501|7\d\d)")
CASE = Path(__file__).resolve().parents[2] / "examples" / "case5" / "pglib_opf_case5_pjm.m"


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


def _with_inputs(text: str, folder: Path) -> str:
    """Give every `matpower("...")` file of an example a real case (pglib-opf case5_pjm)."""
    for name in _MATPOWER.findall(text):
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CASE, target)
    return text


@pytest.mark.parametrize("code", sorted(CORE))
def test_page_example_triggers_its_code(code: str, tmp_path: Path) -> None:
    first, fixes = _examples(code_page(code).text)   # type: ignore[union-attr]
    if code == "GAT0307":      # unit text outside the grammar: shown as text, not gat
        assert first is None
        return
    assert first is not None, f"{code}: no gat example"
    if code == "GAT0501":      # the point of the example is a missing file
        found = codes(first, tmp_path)
    else:
        found = codes(_with_inputs(first, tmp_path), tmp_path)
    if code in RUN_TIME:
        assert not found, f"{code} example should pass `gatc check`, reports {sorted(found)}"
    elif code in NOT_YET:
        assert not any(c.startswith("GAT00") for c in found), f"{code} example is not valid syntax"
    else:
        assert code in found, f"{code} example reports {sorted(found)}"
    for fix in fixes:
        assert code not in codes(_with_inputs(fix, tmp_path), tmp_path), \
            f"{code}: a 'How to fix' example still reports it"


def test_every_code_in_my_ranges_has_a_page() -> None:
    """Codes the compiler emits in the syntax/names/types/units/runs/expect ranges."""
    src = Path(EXPLAIN_DIR).parent
    used = set()
    for py in src.rglob("*.py"):
        used |= {m.group() for m in _MY_RANGES.finditer(py.read_text(encoding="utf-8"))}
    missing = sorted(c for c in used if code_page(c) is None)
    assert not missing, f"codes without an explain page: {missing}"

"""Every GAT06xx code the solver backend emits has a `gatc explain` page of the agreed shape."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gatlang.diagnostics import EXPLAIN_DIR, code_page

BACKENDS = Path(__file__).resolve().parents[2] / "gatlang" / "backends"
USED = sorted({c for p in BACKENDS.glob("*.py") for c in re.findall(r"GAT06\d\d", p.read_text())})


def test_codes_stay_in_the_assigned_range():
    assert USED and all("GAT0600" <= c <= "GAT0639" for c in USED)


@pytest.mark.parametrize("code", USED)
def test_every_code_has_a_page(code):
    page = code_page(code)
    assert page is not None, f"missing {EXPLAIN_DIR / (code + '.md')}"
    first = page.text.splitlines()[0]
    assert re.fullmatch(rf"# {code} [a-z0-9]+(-[a-z0-9]+)*", first)
    assert "## Example" in page.text and "## How to fix" in page.text


def test_no_page_without_a_use():
    pages = {p.stem for p in EXPLAIN_DIR.glob("GAT06*.md")}
    assert pages == set(USED)

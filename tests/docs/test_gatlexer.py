"""The Pygments lexer the docs use for `gat` code blocks.

With `-W`, a code block that does not lex fails the docs build; erroneous
examples on the explain pages must lex too.  Checked on every `.gat` source
of the project and every example of the explain pages: no error tokens,
keywords only where the grammar has keywords, and quantities as one number.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from pygments.token import Error, Keyword, Number

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
from gatgrammar import keywords  # noqa: E402
from gatlexer import GatLexer  # noqa: E402


def _sources() -> list[tuple[str, str]]:
    files = sorted(ROOT.glob("examples/**/*.gat")) + sorted(ROOT.glob("stdlib/*.gat"))
    out = [(f.name, f.read_text(encoding="utf-8")) for f in files]
    for page in sorted((ROOT / "gatlang" / "explain").glob("GAT*.md")):
        for i, block in enumerate(re.findall(r"```gat\n(.*?)```", page.read_text(encoding="utf-8"), re.S)):
            out.append((f"{page.stem}#{i}", block))
    return out


@pytest.mark.parametrize("name, text", _sources(), ids=[n for n, _ in _sources()])
def test_lexes_without_errors(name: str, text: str) -> None:
    toks = list(GatLexer().get_tokens(text))
    assert not [v for t, v in toks if t in Error]
    assert {v for t, v in toks if t in Keyword} <= set(keywords())


def test_quantities_and_keywords_after_numbers() -> None:
    toks = [(t, v) for t, v in GatLexer().get_tokens("x in 0 .. 5 for b in buses where b.pd > 5MW + 0.95 pu") if v.strip()]
    assert (Number, "5") in toks and (Keyword, "for") in toks
    assert (Number.Float, "5MW") in toks and (Number.Float, "0.95 pu") in toks

"""The words and symbols of gatlang, read from grammar/gat.lark.

Why read the grammar instead of keeping a list: the grammar is the one source
of syntax, and the documentation, the Pygments lexer used for the docs'
examples and the tests of the VS Code grammar must all agree with it.  Any
keyword added to gat.lark shows up here (and a test fails until the editor
grammar knows it too).
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GRAMMAR = ROOT / "grammar" / "gat.lark"

# One scanner so that quotes inside regex terminals and comments are skipped:
# at each position a string literal, a /regex/ literal or a // comment.
_LEXEME = re.compile(r'''
    (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<regex>/(?!/)(?:[^/\\\n]|\\.)+/[imslux]*)
  | (?P<comment>//[^\n]*)
''', re.VERBOSE)
_WORD = re.compile(r"^[A-Za-z_]+$")


def grammar_text(path: Path = GRAMMAR) -> str:
    return path.read_text(encoding="utf-8")


def literals(text: str) -> set[str]:
    """Every quoted literal of the grammar (keywords, punctuation, operators)."""
    return {m.group("string")[1:-1].encode().decode("unicode_escape")
            for m in _LEXEME.finditer(text) if m.group("string")}


def keywords(text: str | None = None) -> list[str]:
    """The reserved words: quoted literals that look like names (`study`, `sum`, `where`)."""
    return sorted(w for w in literals(text if text is not None else grammar_text()) if _WORD.match(w))


def symbols(text: str | None = None) -> list[str]:
    """The punctuation and operators (`..`, `~=`, `{`), longest first for lexers."""
    lits = literals(text if text is not None else grammar_text())
    return sorted((s for s in lits if not _WORD.match(s)), key=lambda s: (-len(s), s))

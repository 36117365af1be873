"""A Pygments lexer for `.gat`, so the docs' examples are highlighted.

Why here and built from the grammar: Sphinx would otherwise warn (and, with
-W, fail) on every ``code-block:: gat``; the keyword list comes from
grammar/gat.lark through :mod:`gatgrammar`, so it cannot drift.  Erroneous
examples on the explain pages must lex too: a catch-all rule guarantees that
no input produces an error token.
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, words
from pygments.token import (Comment, Keyword, Name, Number, Operator, Punctuation, String,
                            Text, Whitespace)

from gatgrammar import keywords

_NUM = r"(?:[0-9]+(?:\.(?!\.)[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_UNIT = r"(?:[A-Za-z$\u03a9\u00b5][A-Za-z0-9_]*|%)(?:\^-?[0-9]+)?(?:[*/][A-Za-z$\u03a9\u00b5][A-Za-z0-9_]*(?:\^-?[0-9]+)?)*"
_NOT_UNIT = r"(?!(?:" + "|".join(keywords()) + r")\b)"


class GatLexer(RegexLexer):
    name = "gat"
    aliases = ["gat", "gatlang"]
    filenames = ["*.gat"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"#.*$", Comment.Single),
            (r'"(?:[^"\\\n]|\\.)*"', String.Double),
            (_NUM + r"[ \t]*" + _NOT_UNIT + r"(?![eE][+-]?[0-9])" + _UNIT, Number.Float),
            (_NUM, Number),
            (words(keywords(), suffix=r"\b"), Keyword),
            (r"[A-Za-z_][A-Za-z0-9_]*(?=\s*\()", Name.Function),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (r"\.\.|~=|==|<=|>=|!=|[<>=+\-*/^]", Operator),
            (r"[{}()\[\],.:]", Punctuation),
            (r".", Text),
        ],
    }

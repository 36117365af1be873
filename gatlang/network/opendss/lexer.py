"""Lexer for the OpenDSS script language: physical lines -> parameters with positions.

Why a lexer of our own (and not the engine): gatlang must point every problem at
file:line:column of the user's ``.dss`` input and must keep going after an
error, which the engine does not do.  The rules follow the engine's ``TParser``:

* a line is one command; ``!`` and ``//`` start a comment outside quotes, and a
  line starting with ``/*`` opens a block comment closed by a line holding ``*/``;
* parameters are separated by blanks or commas; ``name=value`` (blanks allowed
  around ``=``) or a bare value (a *positional* parameter);
* a value may be quoted by ``"..."``, ``'...'``, ``(...)``, ``[...]`` or
  ``{...}``; the quote character is kept so that later stages can tell an
  RPN expression ``(13.8 3 sqrt /)`` from a plain number.  Brackets nest
  (a superset of the engine, which does not need it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

QUOTES = {'"': '"', "'": "'", "(": ")", "[": "]", "{": "}"}
_DELIMS = " \t,\r\n"


class Param(NamedTuple):
    """One ``name=value`` or positional ``value`` with 1-based columns.

    A named tuple: scripts have hundreds of thousands of parameters, and tuple
    construction is several times cheaper than a frozen dataclass's.
    """

    name: str | None
    value: str
    quote: str          # opening quote character of the value, '' if bare
    name_col: int       # column of the name (or of the value when positional)
    value_col: int
    line: int
    unterminated: bool = False

    @property
    def end_col(self) -> int:
        return self.value_col + len(self.value) + (2 if self.quote else 0)


def strip_comment(text: str) -> str:
    """Cut a trailing ``!`` or ``//`` comment that is not inside quotes."""
    if not any(q in text for q in QUOTES):           # fast path: no quotes, first marker wins
        cut = [k for k in (text.find("!"), text.find("//")) if k >= 0]
        return text[:min(cut)] if cut else text
    depth: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if depth:
            if c == depth[-1]:
                depth.pop()
            elif c in "([{" and depth[-1] in ")]}":
                depth.append(QUOTES[c])
        elif c in QUOTES:
            depth.append(QUOTES[c])
        elif c == "!" or (c == "/" and text.startswith("//", i)):
            return text[:i]
        i += 1
    return text


def _read_quoted(text: str, i: int) -> tuple[str, int, bool]:
    """Content of the quoted value starting at ``text[i]`` (a quote), index after it, terminated?"""
    close = QUOTES[text[i]]
    opener = text[i]
    depth = 1
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == close:
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1, True
        elif c == opener and opener != close:
            depth += 1
        j += 1
    return text[i + 1:], len(text), False


_PLAIN = re.compile(r"([^\s,=]+)[ \t]*=[ \t]*([^\s,]*)|([^\s,]+)")


def _split_plain(text: str, line: int, col0: int) -> list[Param]:
    """Fast path of `split_params` for a line without quotes or brackets (most lines)."""
    out: list[Param] = []
    for m in _PLAIN.finditer(text):
        if m.group(3) is None:
            out.append(Param(m.group(1), m.group(2), "", col0 + m.start(1), col0 + m.start(2), line))
        else:
            out.append(Param(None, m.group(3), "", col0 + m.start(3), col0 + m.start(3), line))
    return out


_BARE_EQUALS = re.compile(r"(^|[\s,])=")


def split_params(text: str, line: int, col0: int = 1) -> list[Param]:
    """Split one comment-free command line into parameters (the verb is the first)."""
    if not any(q in text for q in QUOTES) and not _BARE_EQUALS.search(text):
        return _split_plain(text, line, col0)
    return _split_general(text, line, col0)


def _split_general(text: str, line: int, col0: int = 1) -> list[Param]:
    """Character by character: quotes and brackets, ``=`` with blanks around it."""
    out: list[Param] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _DELIMS:
            i += 1
        if i >= n:
            return out
        start = i
        if text[i] in QUOTES:
            val, i, ok = _read_quoted(text, i)
            out.append(Param(None, val, text[start], col0 + start, col0 + start, line, not ok))
            continue
        while i < n and text[i] not in _DELIMS and text[i] != "=":
            i += 1
        token = text[start:i]
        j = i
        while j < n and text[j] in " \t":
            j += 1
        if j < n and text[j] == "=":
            j += 1
            while j < n and text[j] in " \t":
                j += 1
            vstart = j
            if j < n and text[j] in QUOTES:
                val, i, ok = _read_quoted(text, j)
                out.append(Param(token, val, text[j], col0 + start, col0 + vstart, line, not ok))
            else:
                while j < n and text[j] not in _DELIMS:
                    j += 1
                out.append(Param(token, text[vstart:j], "", col0 + start, col0 + vstart, line))
                i = j
        else:
            out.append(Param(None, token, "", col0 + start, col0 + start, line))


@dataclass(frozen=True)
class SourceLine:
    """A comment-free, non-blank line of a script with its parameters."""

    line: int
    text: str
    params: tuple[Param, ...]


def lex(source: str) -> list[SourceLine]:
    """All command lines of a script, block comments and ``!``/``//`` comments removed."""
    out: list[SourceLine] = []
    in_block = False
    for lineno, raw in enumerate(source.splitlines(), start=1):
        stripped = raw.strip()
        if in_block:
            if "*/" in raw:
                in_block = False
            continue
        if stripped.startswith("/*"):
            in_block = "*/" not in stripped[2:]
            continue
        body = strip_comment(raw)
        if not body.strip():
            continue
        out.append(SourceLine(lineno, raw, tuple(split_params(body, lineno))))
    return out

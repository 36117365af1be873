"""A tiny interpreter of TextMate grammars: enough to test editors/vscode's gat grammar.

Why: VS Code's tokenizer (vscode-textmate + Oniguruma) is a Node.js program;
the tests must run with Python alone.  The gat grammar keeps to the part of
TextMate that this module implements -- `match` rules with `name` and
`captures`, `begin`/`end` rules with `patterns`, `include` of `#repository`
entries and `$self` -- and to regular expressions that mean the same in
Python's `re` as in Oniguruma (no possessive quantifiers, no `\\h`, no
`\\x{...}`; fixed-width lookbehind only).

The rule for choosing among patterns is TextMate's: at the current position
the pattern whose match starts earliest wins; among equal starts, the one
listed first; the `end` of the enclosing `begin` rule is tried before the
inner patterns.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Token:
    text: str
    scopes: tuple[str, ...]      # outermost first: ("source.gat", "string.quoted.double.gat", ...)
    offset: int                  # position in the whole text

    @property
    def scope(self) -> str:
        """The innermost scope."""
        return self.scopes[-1]


@dataclass
class _Rule:
    name: str | None = None
    match: re.Pattern[str] | None = None
    captures: dict[int, str] | None = None
    begin: re.Pattern[str] | None = None
    end: re.Pattern[str] | None = None
    patterns: list[Any] | None = None        # raw, resolved lazily (includes may recurse)


class Grammar:
    def __init__(self, path: Path) -> None:
        self.raw = json.loads(path.read_text(encoding="utf-8"))
        self.scope_name: str = self.raw["scopeName"]
        self._cache: dict[int, _Rule] = {}

    # -------------------------------------------------------------- rules
    def rule(self, raw: dict[str, Any]) -> _Rule:
        key = id(raw)
        if key not in self._cache:
            def pat(field: str) -> re.Pattern[str] | None:
                return re.compile(raw[field]) if field in raw else None

            def caps(field: str) -> dict[int, str] | None:
                if field not in raw:
                    return None
                return {int(k): v["name"] for k, v in raw[field].items() if "name" in v}

            self._cache[key] = _Rule(raw.get("name"), pat("match"), caps("captures"), pat("begin"), pat("end"),
                                     raw.get("patterns"))
        return self._cache[key]

    def expand(self, patterns: list[dict[str, Any]]) -> list[_Rule]:
        """Flatten includes (and pattern-only groups) into a list of match/begin rules, in order."""
        out: list[_Rule] = []
        for raw in patterns:
            if "include" in raw:
                ref = raw["include"]
                target = self.raw if ref == "$self" else self.raw["repository"][ref.lstrip("#")]
                out += self.expand(target["patterns"]) if "match" not in target and "begin" not in target \
                    else [self.rule(target)]
            elif "match" in raw or "begin" in raw:
                out.append(self.rule(raw))
            elif "patterns" in raw:
                out += self.expand(raw["patterns"])
        return out

    def all_regexes(self) -> list[str]:
        """Every regular expression in the grammar (for the compile test)."""
        found: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    if k in ("match", "begin", "end") and isinstance(v, str):
                        found.append(v)
                    else:
                        walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(self.raw)
        return found

    # -------------------------------------------------------------- tokenizer
    def tokenize(self, text: str) -> list[Token]:
        """Tokens of `text`, line by line, carrying begin/end state across lines."""
        root = self.expand(self.raw["patterns"])
        stack: list[tuple[_Rule | None, list[_Rule]]] = [(None, root)]
        tokens: list[Token] = []
        offset = 0
        for line in text.split("\n"):
            tokens += self._line(line, offset, stack)
            offset += len(line) + 1
        return [t for t in tokens if t.text]

    def _scopes(self, stack: list[tuple[_Rule | None, list[_Rule]]]) -> tuple[str, ...]:
        return (self.scope_name,) + tuple(r.name for r, _ in stack if r is not None and r.name)

    def _line(self, line: str, base: int, stack: list[tuple[_Rule | None, list[_Rule]]]) -> list[Token]:
        out: list[Token] = []
        pos = 0
        while pos <= len(line):
            rule, inner = stack[-1]
            best: tuple[int, int, re.Match[str], str, _Rule | None] | None = None
            candidates: list[tuple[str, _Rule | None, re.Pattern[str]]] = []
            if rule is not None and rule.end is not None:
                candidates.append(("end", rule, rule.end))
            for r in inner:
                candidates.append(("match" if r.match is not None else "begin", r, r.match or r.begin))  # type: ignore[arg-type]
            for order, (kind, r, rx) in enumerate(candidates):
                m = rx.search(line, pos)
                if m is not None and (best is None or m.start() < best[0]):
                    best = (m.start(), order, m, kind, r)
            scopes = self._scopes(stack)
            if best is None:
                out.append(Token(line[pos:], scopes, base + pos))
                break
            start, _, m, kind, r = best
            out.append(Token(line[pos:start], scopes, base + pos))
            if kind == "end":
                out += self._emit(m, scopes, None, base)
                stack.pop()
            elif kind == "begin":
                assert r is not None
                inner_scopes = scopes + ((r.name,) if r.name else ())
                out += self._emit(m, inner_scopes, None, base)
                stack.append((r, self.expand(r.patterns or [])))
            else:
                assert r is not None
                out += self._emit(m, scopes + ((r.name,) if r.name else ()), r.captures, base)
            if m.end() == pos and kind == "match":      # never loop on an empty match
                out.append(Token(line[pos:pos + 1], scopes, base + pos))
                pos += 1
            else:
                pos = m.end()
            if pos >= len(line) and kind != "begin":
                break
        return out

    @staticmethod
    def _emit(m: re.Match[str], scopes: tuple[str, ...], captures: dict[int, str] | None, base: int) -> list[Token]:
        """The match as tokens; captured groups (non-nested, in order) get their own scope."""
        if not captures:
            return [Token(m.group(), scopes, base + m.start())]
        out, pos = [], m.start()
        for g in sorted(captures):
            if m.group(g) is None or m.start(g) < pos:
                continue
            out.append(Token(m.string[pos:m.start(g)], scopes, base + pos))
            out.append(Token(m.group(g), scopes + (captures[g],), base + m.start(g)))
            pos = m.end(g)
        out.append(Token(m.string[pos:m.end()], scopes, base + pos))
        return out


def scope_per_char(tokens: list[Token], length: int) -> list[tuple[str, ...]]:
    """The scopes of every character of the text (for comparisons against another lexer)."""
    out: list[tuple[str, ...]] = [()] * length
    for t in tokens:
        for i in range(t.offset, min(t.offset + len(t.text), length)):
            out[i] = t.scopes
    return out

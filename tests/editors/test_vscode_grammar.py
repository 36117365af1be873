"""The VS Code support in editors/vscode: in step with the compiler, and tokenizing as the compiler lexes.

The outside reference for the editor grammar is the compiler itself: the
keyword list must equal the quoted keywords of grammar/gat.lark, the run
kinds, functions, domains and importers must equal the compiler's tables, and
on real `.gat` files (examples, the standard library, the examples of the
explain pages) every token the compiler's parser reads must get the matching
TextMate scope from the tiny interpreter in textmate.py.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import lark
import pytest

from gatlang.diagnostics import EXPLAIN_DIR
from gatlang.network.importers import IMPORTERS
from gatlang.resources import grammar_path
from gatlang.semantics.check import FUNCTIONS, VAR_KINDS
from gatlang.semantics.resolve import TABLE_READERS
from gatlang.workflows.registry import RUN_KINDS

from .textmate import Grammar, scope_per_char

ROOT = Path(__file__).resolve().parents[2]
VSCODE = ROOT / "editors" / "vscode"
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
import gatgrammar  # noqa: E402

RAW = json.loads((VSCODE / "syntaxes" / "gat.tmLanguage.json").read_text(encoding="utf-8"))
REPO = RAW["repository"]
GRAMMAR = Grammar(VSCODE / "syntaxes" / "gat.tmLanguage.json")
_ALTS = re.compile(r"\(\?:([A-Za-z_|]+)\)")


def _words(pattern: str) -> set[str]:
    """The words of the `(?:a|b|c)` alternations of a pattern."""
    return {w for group in _ALTS.findall(pattern) for w in group.split("|")}


def _rule_words(entry: dict) -> set[str]:
    pats = entry.get("patterns", [entry])
    return set().union(*(_words(p["match"]) for p in pats))


# ---------------------------------------------------------------- in step with the compiler

def test_keywords_are_the_grammars_keywords() -> None:
    assert _rule_words(REPO["keywords"]) == set(gatgrammar.keywords())


def test_keyword_groups_do_not_overlap() -> None:
    groups = [_words(p["match"]) for p in REPO["keywords"]["patterns"]]
    assert sum(len(g) for g in groups) == len(set().union(*groups))


def test_run_kinds_are_the_registry() -> None:
    kinds = re.search(r"\\s\+\(([a-z_|]+)\)", REPO["run-header"]["match"]).group(1).split("|")
    assert kinds == list(RUN_KINDS)


def test_functions_domains_and_importers_are_the_compilers() -> None:
    builtin, importer, _ = REPO["calls"]["patterns"]
    assert _words(builtin["match"]) == set(FUNCTIONS)
    assert _words(importer["match"]) == set(IMPORTERS) | set(TABLE_READERS)
    assert _words(REPO["domains"]["match"]) == set(VAR_KINDS)


def test_words_that_are_never_units_are_the_grammars() -> None:
    lark_text = grammar_path().read_text(encoding="utf-8")
    in_lark = re.search(r"_UNIT_WORD:.*?\(\?!\(\?:([a-z|]+)\)\\b\)", lark_text).group(1).split("|")
    in_tm = re.search(r"\(\?!\(\?:([a-z|]+)\)\\b\)", REPO["quantity"]["match"]).group(1).split("|")
    assert in_tm == in_lark


# ---------------------------------------------------------------- well-formed

def test_every_regex_compiles() -> None:
    regexes = GRAMMAR.all_regexes()
    assert len(regexes) >= 20
    for rx in regexes:
        re.compile(rx)
    conf = json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))
    for rx in (conf["wordPattern"], *conf["folding"]["markers"].values(), *conf["indentationRules"].values()):
        re.compile(rx)


def test_package_wires_language_grammar_and_configuration() -> None:
    pkg = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    (lang,) = pkg["contributes"]["languages"]
    (gram,) = pkg["contributes"]["grammars"]
    assert lang["id"] == gram["language"] == "gat" and ".gat" in lang["extensions"]
    assert gram["scopeName"] == RAW["scopeName"] == "source.gat"
    assert (VSCODE / gram["path"]).exists() and (VSCODE / lang["configuration"]).exists()
    conf = json.loads((VSCODE / lang["configuration"]).read_text(encoding="utf-8"))
    assert conf["comments"]["lineComment"] == "#"
    assert sorted(map(tuple, conf["brackets"])) == [("(", ")"), ("[", "]"), ("{", "}")]


def test_every_grammar_symbol_is_one_operator_or_punctuation_token() -> None:
    for sym in gatgrammar.symbols():
        toks = [t for t in GRAMMAR.tokenize(f"x {sym} y") if t.text.strip()]
        assert [t.text.strip() for t in toks] == ["x", sym, "y"], sym
        assert toks[1].scope.startswith(("keyword.operator.", "punctuation.")), (sym, toks[1].scope)


# ---------------------------------------------------------------- tokenizing

SAMPLE = '''study s "A \\"quoted\\" title"   # comment
run opf vvo on feeder {
    step = 50kW
    subject to vm[b] in 0.95 pu .. 1.05pu for b in buses where b.pd > 0 MW
    minimize sum(l in lines) (l.r * p[l]^2) + 30 $/MWh * sqrt(x) - 1e-3
}
expect vvo.objective ~= 17480 $/h within 1e-4
'''

EXPECTED = [
    ("study", "keyword.other.declaration.gat"), ("s", "source.gat"),
    ('"', "string.quoted.double.gat"), ("A", "string.quoted.double.gat"),
    ('\\"', "constant.character.escape.gat"), ("quoted", "string.quoted.double.gat"),
    ('\\"', "constant.character.escape.gat"), ("title", "string.quoted.double.gat"),
    ('"', "string.quoted.double.gat"), ("# comment", "comment.line.number-sign.gat"),
    ("run", "keyword.other.declaration.gat"), ("opf", "support.type.run-kind.gat"), ("vvo", "source.gat"),
    ("on", "keyword.control.gat"), ("feeder", "source.gat"), ("{", "punctuation.section.block.gat"),
    ("step", "variable.other.option.gat"), ("=", "keyword.operator.assignment.gat"),
    ("50", "constant.numeric.gat"), ("kW", "keyword.other.unit.gat"),
    ("subject", "keyword.control.gat"), ("to", "keyword.control.gat"), ("vm", "source.gat"),
    ("[", "punctuation.section.brackets.gat"), ("b", "source.gat"), ("]", "punctuation.section.brackets.gat"),
    ("in", "keyword.control.gat"), ("0.95", "constant.numeric.gat"), ("pu", "keyword.other.unit.gat"),
    ("..", "keyword.operator.range.gat"), ("1.05", "constant.numeric.gat"), ("pu", "keyword.other.unit.gat"),
    ("for", "keyword.control.gat"), ("b", "source.gat"), ("in", "keyword.control.gat"), ("buses", "source.gat"),
    ("where", "keyword.control.gat"), ("b", "source.gat"), (".", "punctuation.accessor.gat"),
    ("pd", "variable.other.member.gat"), (">", "keyword.operator.comparison.gat"),
    ("0", "constant.numeric.gat"), ("MW", "keyword.other.unit.gat"),
    ("minimize", "keyword.control.gat"), ("sum", "keyword.control.gat"), ("(", "punctuation.section.parens.gat"),
    ("l", "source.gat"), ("in", "keyword.control.gat"), ("lines", "source.gat"), (")", "punctuation.section.parens.gat"),
    ("(", "punctuation.section.parens.gat"), ("l", "source.gat"), (".", "punctuation.accessor.gat"),
    ("r", "variable.other.member.gat"), ("*", "keyword.operator.arithmetic.gat"), ("p", "source.gat"),
    ("[", "punctuation.section.brackets.gat"), ("l", "source.gat"), ("]", "punctuation.section.brackets.gat"),
    ("^", "keyword.operator.arithmetic.gat"), ("2", "constant.numeric.gat"), (")", "punctuation.section.parens.gat"),
    ("+", "keyword.operator.arithmetic.gat"), ("30", "constant.numeric.gat"), ("$/MWh", "keyword.other.unit.gat"),
    ("*", "keyword.operator.arithmetic.gat"), ("sqrt", "support.function.builtin.gat"),
    ("(", "punctuation.section.parens.gat"), ("x", "source.gat"), (")", "punctuation.section.parens.gat"),
    ("-", "keyword.operator.arithmetic.gat"), ("1e-3", "constant.numeric.gat"),
    ("}", "punctuation.section.block.gat"),
    ("expect", "keyword.other.declaration.gat"), ("vvo", "source.gat"), (".", "punctuation.accessor.gat"),
    ("objective", "variable.other.member.gat"), ("~=", "keyword.operator.comparison.approximate.gat"),
    ("17480", "constant.numeric.gat"), ("$/h", "keyword.other.unit.gat"), ("within", "keyword.control.gat"),
    ("1e-4", "constant.numeric.gat"),
]


def _words_and_scopes(text: str) -> list[tuple[str, str]]:
    """(text, innermost scope) per token; plain-source runs are split into words."""
    out = []
    for tok in GRAMMAR.tokenize(text):
        if tok.scope == RAW["scopeName"]:
            out += [(w, tok.scope) for w in tok.text.split()]
        elif tok.text.strip():
            out.append((tok.text.strip(), tok.scope))
    return out


def test_sample_tokenizes_as_expected() -> None:
    assert _words_and_scopes(SAMPLE) == EXPECTED


def test_unterminated_string_stops_at_the_end_of_the_line() -> None:
    toks = GRAMMAR.tokenize('param p = "abc\nparam q = 1')
    assert [t.scope for t in toks if t.text == "param"] == ["keyword.other.declaration.gat"] * 2


# ---------------------------------------------------------------- against the compiler's lexer

def _gat_sources() -> list[tuple[str, str]]:
    files = sorted(ROOT.glob("examples/**/*.gat")) + sorted(ROOT.glob("stdlib/*.gat"))
    out = [(str(f.relative_to(ROOT)), f.read_text(encoding="utf-8")) for f in files]
    for page in sorted(Path(EXPLAIN_DIR).glob("GAT*.md")):
        for i, block in enumerate(re.findall(r"```gat\n(.*?)```", page.read_text(encoding="utf-8"), re.S)):
            out.append((f"{page.stem}#{i}", block))
    out.append(("sample", SAMPLE))
    return out


_FULL = lark.Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", keep_all_tokens=True,
                  propagate_positions=True)
_KEYWORDS = set(gatgrammar.keywords())


def _compiler_tokens(text: str) -> list[lark.Token] | None:
    """The tokens the compiler's parser reads (contextual lexer), or None if the text has a syntax error."""
    try:
        tree = _FULL.parse(text)
    except lark.exceptions.LarkError:
        return None
    return list(tree.scan_values(lambda v: isinstance(v, lark.Token)))


def _expected_scope(tok: lark.Token) -> str:
    if tok.type == "STRING":
        return "string."
    if tok.type in ("NUMBER", "QUANTITY"):
        return "constant.numeric."
    if tok.type == "UNIT":
        return "keyword.other.unit."
    if tok.type == "NAME":
        return ""                      # checked separately: never a keyword
    if str(tok) in _KEYWORDS:
        return "keyword."
    return "keyword.operator." if tok.type in ("CMP_OP",) else ("keyword.operator.", "punctuation.")


@pytest.mark.parametrize("name, text", _gat_sources(), ids=[n for n, _ in _gat_sources()])
def test_scopes_agree_with_the_compilers_lexer(name: str, text: str) -> None:
    toks = _compiler_tokens(text)
    if toks is None:
        assert re.match(r"GAT000\d#", name), f"{name} does not parse"
        return
    scopes = scope_per_char(GRAMMAR.tokenize(text), len(text))
    covered = [False] * len(text)
    for tok in toks:
        start, end = tok.start_pos, tok.end_pos
        covered[start:end] = [True] * (end - start)
        inner = scopes[start][-1]
        if tok.type == "NAME":
            assert not inner.startswith("keyword."), (name, str(tok), inner)
        elif str(tok) in _KEYWORDS and inner == "variable.other.option.gat":
            pass                       # `objective = cost`: the grammar's keyword used as an option
        else:
            want = _expected_scope(tok)
            assert inner.startswith(want), (name, tok.type, str(tok), inner)
        if tok.type == "QUANTITY":
            number = re.match(r"[0-9.eE+-]+", str(tok)).group()
            unit_at = start + len(str(tok)) - len(str(tok)[len(number):].lstrip())
            assert scopes[unit_at][-1] == "keyword.other.unit.gat", (name, str(tok))
        else:   # the whole token is one scope
            assert all(s[-1] == inner for s in scopes[start:end]) or tok.type == "STRING", (name, str(tok))
    for i, ch in enumerate(text):   # what the parser skipped is blank or a comment
        if not covered[i] and not ch.isspace():
            assert scopes[i][-1] == "comment.line.number-sign.gat", (name, i, text[i:i + 20])

"""Every option of every run kind parses wherever it stands in the run block.

Why: option names share words with top-level keywords (`formulation`); after a
value the LALR lookahead lets the lexer read such a word as the keyword, which
once made `formulation = acp` a syntax error unless it came first (found by the
hosting-capacity work).  This walks the registry, so a new option is covered.
"""
from __future__ import annotations

import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.syntax.parser import parse_text
from gatlang.workflows.registry import RUN_KINDS

CASES = [(kind.name, name) for kind in RUN_KINDS.values() for name in kind.options]


@pytest.mark.parametrize("kind, name", CASES)
def test_option_parses_after_another_option(kind: str, name: str) -> None:
    text = f"study s\nnetwork g = matpower(\"x.m\")\nrun {kind} r on g {{\n  solver = highs\n  {name} = x\n}}\n"
    sink = DiagnosticSink()
    parse_text(text, "t.gat", sink)
    assert not sink.has_errors, [str(d) for d in sink.errors]

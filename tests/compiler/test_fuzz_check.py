"""Robustness: `gatc check` on generated and mutated `.gat` text never raises.

The seeds are the real studies and formulations of the project; hypothesis
deletes, duplicates, swaps and inserts characters and tokens.  Every failure
must come back as diagnostics (with a code and a location when they concern
the text); any Python exception is a bug.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatlang.diagnostics import Diagnostic, DiagnosticSink
from gatlang.passes import check_program

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [p.read_text() for p in [ROOT / "examples" / "case5" / "study.gat", *sorted((ROOT / "stdlib").glob("*.gat")),
                                  *sorted((Path(__file__).parent / "golden").glob("*.gat"))]]
FRAGMENTS = ["run", "opf", "{", "}", "[", "]", "(", ")", "..", "in", "for", "where", "sum(", "var", "param",
             "constraint", ":", "=", "==", "<=", "~=", "MW", "pu", "$/MWh", "1e400", "0", "-", "^", "\"",
             "#", "\n", " ", "b.", "l.from", "study", "network", "matpower(\"x.m\")", "expect", "within",
             "minimize", "subject to", "use stdlib.", "use \"", "formulation", "scenario", "é", "\t", "@"]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 6))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        j = draw(st.integers(i, min(len(text), i + 40)))
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "swap"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.sampled_from(FRAGMENTS)) + text[i:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            k = draw(st.integers(0, len(text) - 1))
            text = text[:i] + text[k:k + 10] + text[i:]
    return text


def _check(tmp: Path, text: str) -> None:
    study = tmp / "study.gat"
    study.write_text(text, encoding="utf-8")
    sink = DiagnosticSink()
    check_program(study, sink)       # must not raise
    for d in sink:
        assert isinstance(d, Diagnostic) and d.code.startswith("GAT") and d.message


@pytest.mark.slow
@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
@given(text=mutated())
def test_mutated_studies_give_diagnostics_not_exceptions(tmp_path: Path, text: str) -> None:
    _check(tmp_path, text)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(st.sampled_from(FRAGMENTS + list("abxyz019_.,;")), max_size=60).map(" ".join))
def test_random_token_soup(tmp_path: Path, text: str) -> None:
    _check(tmp_path, text)

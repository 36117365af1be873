"""Mutated real feeder scripts never crash the importer: every problem is a diagnostic.

Hypothesis deletes, duplicates, truncates and corrupts spans of the IEEE 13
and 34 scripts (and the line-code file they redirect to) and checks that
`load_opendss` returns a Network or None with errors — never raises — and that
every diagnostic has a code in the importer's range and a location.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.opendss.importer import load_opendss

from .engine import FEEDERS, IEEE

_NOISE = st.sampled_from(["", " ", "=", "(", ")", "[", "]", "|", "~", "!", "//", ".", ",", "'", '"',
                          "x", "1e999", "-1", "0", "nan", "New", "Line.", "phases=7", "bus1=", "kv=(1 0 /)",
                          "\n", "Redirect nowhere.dss", "wdg=9", "conn=q", "linecode=zz", "\t", "é"])


@st.composite
def mutated(draw, text: str) -> str:
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "truncate", "duplicate", "swap"]))
        i = draw(st.integers(0, len(text)))
        j = min(len(text), i + draw(st.integers(0, 80)))
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + draw(_NOISE) + text[i:]
        elif kind == "truncate":
            text = text[:i]
        elif kind == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            lines = text.splitlines()
            if len(lines) > 2:
                a, b = sorted(draw(st.lists(st.integers(0, len(lines) - 1), min_size=2, max_size=2)))
                lines[a], lines[b] = lines[b], lines[a]
                text = "\n".join(lines)
    return text


_WORK = Path(tempfile.mkdtemp(prefix="gat_dss_mut_"))
shutil.copytree(IEEE, _WORK / "ieee")


def _check(feeder: str, text: str) -> None:
    target = _WORK / "ieee" / FEEDERS[feeder].relative_to(IEEE)
    target.write_text(text, encoding="utf-8")
    sink = DiagnosticSink()
    net = load_opendss(target, sink)                 # must not raise
    assert net is not None or sink.has_errors
    for d in sink:
        assert "GAT0540" <= d.code <= "GAT0579"
        assert d.span is not None and d.span.line >= 1 and d.span.column >= 1
        assert d.help


_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck),
                     database=None)


@_SETTINGS
@given(data=st.data())
def test_mutated_ieee13_never_crashes(data) -> None:
    text = FEEDERS["ieee13"].read_text()
    _check("ieee13", data.draw(mutated(text)))


@_SETTINGS
@given(data=st.data())
def test_mutated_ieee34_never_crashes(data) -> None:
    text = FEEDERS["ieee34"].read_text()
    _check("ieee34", data.draw(mutated(text)))


@_SETTINGS
@given(data=st.data())
def test_mutated_geometry_and_transformers_never_crash(data) -> None:
    """Wire, cable and winding data (the element cases of test_ybus3), mutated."""
    from gatlang.network.ybus3 import build_ybus3

    from .test_ybus3 import _HEAD, _LINES, _TRANSFORMERS
    text = _HEAD + "".join(f"new line.l{i} {p}\n" for i, p in enumerate(_LINES.values())) + \
        "".join(f"new transformer.t{i} {p}\n" for i, p in enumerate(_TRANSFORMERS.values()))
    f = _WORK / "geometry.dss"
    f.write_text(data.draw(mutated(text)), encoding="utf-8")
    sink = DiagnosticSink()
    net = load_opendss(f, sink)
    assert net is not None or sink.has_errors
    assert all(d.span is not None and d.help for d in sink)
    if net is not None:
        build_ybus3(net)        # every imported line and transformer has an invertible model

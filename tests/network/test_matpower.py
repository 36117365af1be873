"""MATPOWER importer: costs, DC lines, located diagnostics, mutation fuzzing over real files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gatlang.diagnostics import DiagnosticSink, GatError
from gatlang.network.balanced import from_network
from gatlang.network.matpower import load_matpower, parse_matpower_text
from gatlang.network.psse import parse_psse_text

DATA = Path(__file__).resolve().parents[1] / "data"
PJM = (DATA / "pglib" / "pglib_opf_case5_pjm.m").read_text()


def test_piecewise_linear_costs_are_point_arrays(data_dir):
    sink = DiagnosticSink()
    case = from_network(load_matpower(data_dir / "matpower" / "case5_pwlc.m", sink), sink)
    # gencost row 3 of the file: 4 points (170, 4772) (231, 6203) (293, 7855) (355, 9738)
    assert case.cost_pwl[2].tolist() == [[170, 4772], [231, 6203], [293, 7855], [355, 9738]]
    assert case.cost_pwl[1].tolist() == [[0, 841], [20, 841], [100, 841], [150, 841]]
    assert not case.cost_c1.any() and not case.cost_c2.any()


def test_polynomial_costs_match_the_file(data_dir):
    case = from_network(load_matpower(data_dir / "pglib" / "pglib_opf_case5_pjm.m", DiagnosticSink()))
    # pglib case5_pjm gencost: 2 0 0 3 0.0 14.0 0.0 / 15.0 / 30.0 / 40.0 / 10.0
    assert case.cost_c1.tolist() == [14.0, 15.0, 30.0, 40.0, 10.0]
    assert not case.cost_c2.any() and not case.cost_c0.any()


def test_dclines_are_kept_and_warned_about(data_dir):
    sink = DiagnosticSink()
    net = load_matpower(data_dir / "matpower" / "case5_dc.m", sink)
    warn = [d for d in sink.warnings if d.code == "GAT0517"]
    assert len(warn) == 1 and warn[0].span.line == 51
    dc = net.table("dclines")
    assert dc.num_rows == 1 and dc.column("pf_mw").to_pylist() == [15.0]
    assert (dc.column("from_bus").to_pylist(), dc.column("to_bus").to_pylist()) == (["3"], ["5"])
    lowered = DiagnosticSink()
    from_network(net, lowered)
    assert [d.code for d in lowered.warnings] == ["GAT0536"]   # and again where it is dropped


def _mutate(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


BUS2 = "\t2\t 1\t 300.0\t 98.61"


@pytest.mark.parametrize("text, code, line, col", [
    (_mutate(PJM, BUS2, "\t2\t 1\t 3OO.0\t 98.61"), "GAT0511", 40, 8),          # bad number, located
    (_mutate(PJM, BUS2, "\t2\t 1\t 300.0"), "GAT0512", 40, 2),                  # short row
    (_mutate(PJM, "mpc.baseMVA = 100.0;", ""), "GAT0513", 1, 1),                 # missing baseMVA
    (_mutate(PJM, BUS2, "\t1\t 1\t 300.0\t 98.61"), "GAT0520", 40, 2),          # duplicate bus
    (PJM[: PJM.index("mpc.branch") + 200], "GAT0510", None, None),              # truncated file
    (_mutate(PJM, "mpc.gen = [\n\t1\t", "mpc.gen = [\n\t9\t"), "GAT0515", None, 2),  # unknown bus
    (_mutate(PJM, BUS2, "\t2\t 7\t 300.0\t 98.61"), "GAT0516", 40, 5),          # bus type 7
])
def test_bad_input_is_a_located_diagnostic(text, code, line, col):
    sink = DiagnosticSink()
    assert parse_matpower_text(text, "case.m", sink) is None
    first = sink.errors[0]
    assert first.code == code and first.span.file == "case.m", [(d.code, str(d.span), d.message) for d in sink]
    if line is not None:
        assert first.span.line == line
    if col is not None:
        assert first.span.column == col


def test_truncated_file_points_at_the_unclosed_matrix():
    text = PJM[: PJM.index("mpc.branch") + 200]
    sink = DiagnosticSink()
    parse_matpower_text(text, "case.m", sink)
    line = text[: text.index("mpc.branch")].count("\n") + 1
    assert (sink.errors[0].span.line, sink.errors[0].help) == (line, "the file may be truncated; a matrix ends with `];`")


def test_missing_file(tmp_path):
    sink = DiagnosticSink()
    assert load_matpower(tmp_path / "case.m", sink) is None
    assert [d.code for d in sink.errors] == ["GAT0501"] and sink.errors[0].help


# ------------------------------------------------------------------ mutation fuzzing

SEEDS = {
    "m": PJM,
    "raw": (DATA / "psse" / "case5_withload.raw").read_text(),
    "raw3": (DATA / "psse" / "three_winding_test.raw").read_text(),
    "m_pwl": (DATA / "matpower" / "case5_pwlc.m").read_text(),
    "m_dc": (DATA / "matpower" / "case5_dc.m").read_text(),
}
PARSERS = {"m": parse_matpower_text, "raw": parse_psse_text, "raw3": parse_psse_text,
           "m_pwl": parse_matpower_text, "m_dc": parse_matpower_text}
JUNK = st.sampled_from(["", "x", "]", "[", ";", "'", "\"", ",", "/", "0", "-", "1e999", "NaN", "Inf",
                        "...", "%", "\n", "mpc.bus = [", "}", "{", "Q", " 0 / END", "\t", "9999999"])


@st.composite
def mutated(draw):
    kind = draw(st.sampled_from(sorted(SEEDS)))
    text = SEEDS[kind]
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cut", "insert", "delete", "dup_line", "truncate"]))
        i = draw(st.integers(0, max(len(text) - 1, 0)))
        if op == "cut":
            j = draw(st.integers(i, min(len(text), i + 40)))
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(JUNK) + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + 1:]
        elif op == "dup_line":
            lines = text.splitlines(keepends=True)
            k = draw(st.integers(0, max(len(lines) - 1, 0)))
            text = "".join(lines[: k + 1] + lines[k:])
        else:
            text = text[:i]
    return kind, text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_real_files_never_raise(case):
    """Whatever is done to a real case file: a Network or coded, located diagnostics, never a traceback."""
    kind, text = case
    sink = DiagnosticSink()
    net = PARSERS[kind](text, f"case.{kind}", sink)
    n_lines = text.count("\n") + 2
    for d in sink:
        assert d.code.startswith("GAT05") and d.span is not None
        assert d.span.file == f"case.{kind}" and 1 <= d.span.line <= n_lines and d.span.column >= 1
    if net is None:
        assert sink.has_errors
    else:
        assert not sink.has_errors
        try:
            case_ = from_network(net, sink)
        except GatError as exc:
            assert all(d.code.startswith("GAT05") for d in exc.diagnostics)
        else:
            assert np.isfinite(case_.pd).all()


def test_unset_bus_type_is_corrected_like_powermodels(data_dir):
    """PowerModels' case5.m tests "bus type correction": bus 3 has type 0 and a generator -> PV."""
    sink = DiagnosticSink()
    net = load_matpower(data_dir / "matpower" / "case5.m", sink)
    assert net.table("buses").column("kind").to_pylist() == ["pv", "pq", "pv", "ref", "pv"]
    (w,) = [d for d in sink.warnings if d.code == "GAT0516"]
    assert (w.span.line, w.span.column) == (18, 5)


def test_unknown_fields_and_statements_are_reported_not_dropped():
    text = PJM.replace("mpc.baseMVA = 100.0;", "mpc.baseMVA = 100.0;\nmpc.foo = [1 2; 3 4];\nmpc.bus(1, 3) = 0;")
    sink = DiagnosticSink()
    assert parse_matpower_text(text, "case.m", sink) is not None
    got = {(d.code, d.severity.value, d.span.line) for d in sink if d.code == "GAT0519"}
    assert ("GAT0519", "note", 29) in got           # mpc.foo: not part of the network model
    assert ("GAT0519", "warning", 30) in got        # MATLAB code is not executed

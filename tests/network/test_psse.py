"""PSS/E v33 importer: PowerModels' paired .raw/.m cases, case5_withload.raw, located errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.balanced import from_network
from gatlang.network.psse import load_psse, parse_psse_text

from .oracle import lowered, pandapower_case, pandapower_ybus_in_file_order, reference_ybus


def _load(path: Path):
    sink = DiagnosticSink()
    net = load_psse(path, sink)
    assert net is not None, [(d.code, str(d.span), d.message) for d in sink.errors]
    return net, sink


def test_case30_raw_ybus_matches_pandapower_on_the_matpower_twin(data_dir):
    """PowerModels ships case30.raw as the PSS/E form of case30.m: pandapower's Ybus of the .m
    must equal ours from the .raw (the .raw stores transformer R as 1e-7 instead of 0)."""
    net, _ = _load(data_dir / "psse" / "case30.raw")
    case = from_network(net)
    theirs = pandapower_ybus_in_file_order(pandapower_case(str(data_dir / "psse" / "case30.m")))
    assert abs(reference_ybus(case) - theirs).max() < 1e-6 * abs(theirs).max()


@pytest.mark.parametrize("name", ["case14", "case24", "case30", "frankenstein_00"])
def test_raw_and_matpower_twins_lower_to_the_same_case(name, data_dir):
    net, sink = _load(data_dir / "psse" / f"{name}.raw")
    ours = from_network(net)
    twin = lowered(data_dir / "psse" / f"{name}.m")   # MATPOWER importer: checked against pandapower
    assert list(ours.bus_id) == list(twin.bus_id)
    assert np.allclose(ours.pd, twin.pd) and np.allclose(ours.qd, twin.qd)
    assert np.allclose(ours.bs, twin.bs) and np.allclose(ours.gs, twin.gs)
    if (twin.bus_type == 3).any():   # (case3.m has no reference bus; case14's twins differ at bus 8)
        assert (ours.bus_type == 3).tolist() == (twin.bus_type == 3).tolist()
    assert sorted(ours.pmax * 100) == pytest.approx(sorted(twin.pmax * 100))
    scale = abs(reference_ybus(twin)).max()
    assert abs(reference_ybus(ours) - reference_ybus(twin)).max() < 1e-6 * scale


def test_case5_withload_imports(data_dir):
    """The PowerModelsITD transmission case: counts and totals read off the file itself."""
    net, sink = _load(data_dir / "psse" / "case5_withload.raw")
    assert net.table("buses").num_rows == 6 and net.table("loads").num_rows == 4
    assert net.table("generators").num_rows == 5 and net.table("lines").num_rows == 7
    assert net.table("transformers").column("status").to_pylist() == [True, True, False, False]
    assert net.table("transformers").column("transformer").to_pylist() == ["4-3-1", "3-4-2", "3-4-2#2", "3-4-2#3"]
    case = from_network(net)
    assert case.pd.sum() * 100 == pytest.approx(300 + 300 + 390 + 8)
    assert case.qd.sum() * 100 == pytest.approx(98.61 * 2 + 131.47 + 1.2)
    assert case.n_branch == 9
    xf = case.is_transformer
    assert case.tap[xf].tolist() == pytest.approx([1.05, 1.05])
    assert np.rad2deg(case.shift[xf]).tolist() == pytest.approx([-1.0, 1.0])
    # the file's deliberately invalid CW/CZ/CM = 0 codes are reported where they are
    bad = [(d.code, d.span.line) for d in sink if d.code == "GAT0528" and "not 1, 2 or 3" in d.message]
    assert bad == [("GAT0528", 31), ("GAT0528", 35), ("GAT0528", 39)]


def test_three_winding_transformers_become_star_equivalents(data_dir):
    """PowerModels' three_winding_test.raw: five 3-winding units, STAT 0..4.

    Star impedances must add up to the pairwise impedances written in the file
    (R1-2 = 4.5e-3, X1-2 = 0.2; R2-3 = 7e-4, X2-3 = 0.3; R3-1 = 7e-4, X3-1 = 0.2, pu on
    100 MVA, CZ = 1), winding 1's ratio is WINDV1 = 1.1 (CW = 1).
    """
    net, sink = _load(data_dir / "psse" / "three_winding_test.raw")
    xf = net.table("transformers")
    assert xf.column("windings").to_pylist() == [3] * 5
    assert xf.column("status").to_pylist() == [False, True, True, True, True]
    assert any(d.code == "GAT0526" and "STAT 2-4" in d.message for d in sink)   # partial status reported
    case = from_network(net)
    assert case.n_bus == 3 + 4 and list(case.bus_id[3:]) == ["1001-1002-1003-B:star", "1001-1002-1003-C:star",
                                                              "1001-1002-1003-D:star", "1001-1002-1003-E:star"]
    k = {b: i for i, b in enumerate(case.branch_id)}
    w1, w2, w3 = (k[f"1001-1002-1003-B:{w}"] for w in (1, 2, 3))
    assert case.r[w1] + case.r[w2] == pytest.approx(4.5e-3) and case.x[w1] + case.x[w2] == pytest.approx(0.2)
    assert case.r[w2] + case.r[w3] == pytest.approx(7e-4) and case.x[w2] + case.x[w3] == pytest.approx(0.3)
    assert case.r[w3] + case.r[w1] == pytest.approx(7e-4) and case.x[w3] + case.x[w1] == pytest.approx(0.2)
    assert (case.tap[w1], case.tap[w2], case.tap[w3]) == pytest.approx((1.1, 1.0, 1.0))
    assert case.is_transformer[[w1, w2, w3]].all() and (case.t[[w1, w2, w3]] == 3).all()


HEADER = " 0, 100.00, 33, 0, 0, 60.00 / header\ntitle\nsubtitle\n"
BUSES = "1,'A', 230.0, 3\n2,'B', 230.0, 1\n0 / END OF BUS DATA\n"


@pytest.mark.parametrize("body, code, line, col", [
    (BUSES.replace("230.0, 1", "23O.0, 1"), "GAT0523", 5, 8),          # bad number, located
    (BUSES.replace("'B'", "'B"), "GAT0522", 5, 3),                       # unterminated string
    (BUSES + "2,'1',1,1,1, 10.0, 5.0\n0\n0\n0\n1, 9, '1', 0.01, 0.1\n0\n", "GAT0527", 11, 4),
    (BUSES + "-2,'1',1,1,1, 10.0, 5.0\n0\n", "GAT0527", 7, 1),      # a load has no metered end: -2 is no bus
    ("1,'A', 230.0, 3\n2,'B', 230.0", "GAT0525", 5, 1),                  # truncated in bus data
    (BUSES + "0\n0\n0\n1, 2, '1', 0.01\n0\n", "GAT0522", 10, 12),          # branch without X
    (BUSES.replace("230.0, 1", "230.0, 7"), "GAT0528", 5, 15),          # IDE out of range
])
def test_bad_input_is_a_located_diagnostic(body, code, line, col):
    sink = DiagnosticSink()
    assert parse_psse_text(HEADER + body, "x.raw", sink) is None
    first = sink.errors[0]
    assert (first.code, first.span.file, first.span.line, first.span.column) == (code, "x.raw", line, col)
    assert first.help


def test_missing_file_is_gat0501(tmp_path):
    sink = DiagnosticSink()
    assert load_psse(tmp_path / "nope.raw", sink) is None
    assert [d.code for d in sink.errors] == ["GAT0501"]


def test_powermodels_parser_test_files_give_networks_or_located_errors(shared_data):
    """Every .raw of PowerModels' PSS/E parser tests: a Network, or errors located in the file."""
    files = sorted((shared_data / "PowerModels.jl" / "test" / "data" / "pti").glob("*.raw"))
    assert len(files) > 20
    imported = 0
    for path in files:
        sink = DiagnosticSink()
        net = load_psse(path, sink)
        for d in sink:
            assert d.code.startswith("GAT05") and d.span.file == str(path) and d.span.line >= 1
        if net is None:
            assert sink.has_errors, path.name
        else:
            imported += 1
            assert not net.validate(), path.name
    assert imported >= 20


def test_unknown_trailing_section_is_a_warning():
    body = BUSES + "0\n" * 18 + "1, 2, 3 / a section v33 does not have\n"
    sink = DiagnosticSink()
    assert parse_psse_text(HEADER + body, "x.raw", sink) is not None
    (w,) = [d for d in sink.warnings if d.code == "GAT0526"]
    assert w.span.line == 6 + 18 + 1 and "after the last" in w.message


from hypothesis import given, settings, strategies as st  # noqa: E402

from gatlang.network.psse import _scan_fields, split_fields  # noqa: E402


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=" \t,/'\"01.eE-abQ", max_size=40))
def test_fast_field_splitter_agrees_with_the_general_scanner(line):
    assert split_fields(line) == _scan_fields(line)

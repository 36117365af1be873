"""Importer registry: option checking, format guessing; every code of this area has an explain page."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gatlang.diagnostics import DiagnosticSink, Span, code_page
from gatlang.network import balanced, importers, matpower, psse, tables
from gatlang.network.importers import IMPORTERS, guess_kind, import_network

WHERE = Span("study.gat", 3, 16, 3, 40)


def test_registry_lists_the_four_formats():
    assert set(IMPORTERS) == {"matpower", "psse", "tables", "opendss"}
    assert IMPORTERS["opendss"].options["kron_reduce"].default is False
    assert IMPORTERS["matpower"].options["frequency_hz"].default == 60.0


@pytest.mark.parametrize("name, kind", [("a.m", "matpower"), ("b.RAW", "psse"), ("c.dss", "opendss"),
                                        ("d.txt", None)])
def test_guess_kind(name, kind, tmp_path):
    assert guess_kind(tmp_path / name) == kind
    assert guess_kind(tmp_path) == "tables"


def test_options_reach_the_importer(data_dir):
    net = import_network("matpower", data_dir / "pglib" / "pglib_opf_case5_pjm.m", {"frequency_hz": 50},
                         DiagnosticSink(), WHERE)
    assert net.frequency_hz == 50.0 and net.table("buses").num_rows == 5


@pytest.mark.parametrize("kind, options, code, hint", [
    ("opendss", {"kron_reduced": True}, "GAT0504", "kron_reduce"),
    ("opendss", {"kron_reduce": 1}, "GAT0505", "default False"),
    ("matpower", {"frequency_hz": True}, "GAT0505", "60.0"),
    ("matpwr", {}, "GAT0503", "matpower"),
])
def test_bad_requests_are_located_at_the_import_call(kind, options, code, hint, data_dir):
    sink = DiagnosticSink()
    assert import_network(kind, data_dir / "matpower" / "case3.m", options, sink, WHERE) is None
    (d,) = sink.errors
    assert (d.code, d.span) == (code, WHERE) and hint in d.help


def test_unguessable_extension(tmp_path):
    (tmp_path / "grid.txt").write_text("x")
    sink = DiagnosticSink()
    assert import_network(None, tmp_path / "grid.txt", {}, sink, None) is None
    assert [d.code for d in sink.errors] == ["GAT0506"]


def test_missing_file_points_at_the_request_with_a_suggestion(data_dir):
    sink = DiagnosticSink()
    assert import_network("matpower", data_dir / "matpower" / "case3.mm", {}, sink, WHERE) is None
    (d,) = sink.errors
    assert (d.code, d.span) == ("GAT0501", WHERE) and "case3.m" in d.help


def test_binary_file_is_unreadable(tmp_path):
    (tmp_path / "x.m").write_bytes(b"\x00\x01\x02")
    sink = DiagnosticSink()
    assert import_network(None, tmp_path / "x.m", {}, sink, None) is None
    assert [d.code for d in sink.errors] == ["GAT0502"]


def _codes_in(module) -> set[str]:
    return set(re.findall(r'"(GAT05\d\d)"', Path(module.__file__).read_text()))


@pytest.mark.parametrize("module", [importers, matpower, psse, tables, balanced])
def test_every_code_has_an_explain_page(module):
    for code in sorted(_codes_in(module)):
        page = code_page(code)
        assert page is not None, code
        first = page.text.splitlines()[0]
        assert re.fullmatch(rf"# {code} [a-z0-9]+(-[a-z0-9]+)*", first), first
        assert "## Example" in page.text and "## How to fix" in page.text

"""Parquet round trip: import -> write_tables -> load_tables is lossless; bad directories are diagnosed."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gatlang.cli import main
from gatlang.diagnostics import DiagnosticSink
from gatlang.network.importers import import_network
from gatlang.network.tables import load_tables, write_tables


def _same(a, b) -> None:
    assert (a.name, a.base_mva, a.frequency_hz, a.balanced, a.sources) == \
        (b.name, b.base_mva, b.frequency_hz, b.balanced, b.sources)
    assert sorted(a.tables) == sorted(b.tables)
    for name in a.tables:
        assert a.tables[name].equals(b.tables[name]), name


@pytest.mark.parametrize("rel", ["pglib/pglib_opf_case118_ieee.m", "matpower/case5_dc.m",
                                 "psse/case5_withload.raw", "psse/case30.raw",
                                 "psse/three_winding_test.raw"])
def test_import_export_import_is_lossless(rel, data_dir, tmp_path):
    sink = DiagnosticSink()
    first = import_network(None, data_dir / rel, {}, sink, None)
    assert first is not None
    written = write_tables(first, tmp_path / "t")
    assert {p.name for p in written} >= {"buses.parquet", "network.json"}
    second = load_tables(tmp_path / "t", sink)
    assert second is not None and not sink.has_errors
    _same(first, second)
    # and once more through the directory importer: a fixed point
    write_tables(second, tmp_path / "u")
    _same(second, import_network(None, tmp_path / "u", {}, sink, None))


def test_gatc_import_writes_tables_that_read_back(data_dir, tmp_path, capsys):
    src = data_dir / "pglib" / "pglib_opf_case14_ieee.m"
    assert main(["import", str(src), "-o", str(tmp_path / "out")]) == 0
    meta = json.loads((tmp_path / "out" / "network.json").read_text())
    assert meta["base_mva"] == 100.0 and meta["balanced"] is True and meta["name"] == "pglib_opf_case14_ieee"
    net = load_tables(tmp_path / "out", DiagnosticSink())
    assert net.table("buses").num_rows == 14 and net.table("transformers").num_rows == 3
    assert not list((tmp_path / "out").glob(".*tmp*"))   # no temporary files left behind


@pytest.fixture
def exported(data_dir, tmp_path) -> Path:
    net = import_network("matpower", data_dir / "pglib" / "pglib_opf_case5_pjm.m", {}, DiagnosticSink(), None)
    write_tables(net, tmp_path / "t")
    return tmp_path / "t"


def _errors(directory: Path) -> list[tuple[str, str, int]]:
    sink = DiagnosticSink()
    assert load_tables(directory, sink) is None
    return [(d.code, Path(d.span.file).name, d.span.line) for d in sink.errors]


def test_bad_json_is_located(exported):
    (exported / "network.json").write_text('{\n  "name": "x",\n  "base_mva": ,\n}\n')
    assert _errors(exported) == [("GAT0530", "network.json", 3)]


def test_wrong_metadata_type(exported):
    meta = json.loads((exported / "network.json").read_text())
    meta["base_mva"] = "hundred"
    (exported / "network.json").write_text(json.dumps(meta, indent=2))
    assert _errors(exported)[0][:2] == ("GAT0530", "network.json")


def test_truncated_parquet(exported):
    path = exported / "lines.parquet"
    path.write_bytes(path.read_bytes()[:100])
    assert _errors(exported) == [("GAT0531", "lines.parquet", 1)]


def test_schema_violation_points_at_the_row(exported):
    tbl = pq.read_table(exported / "loads.parquet")
    p = tbl.column("p_mw").to_pylist()
    p[1] = None
    pq.write_table(tbl.set_column(tbl.schema.get_field_index("p_mw"), "p_mw", pa.array(p)),
                   exported / "loads.parquet")
    assert _errors(exported) == [("GAT0533", "loads.parquet", 2)]


def test_unknown_bus_reference(exported):
    tbl = pq.read_table(exported / "generators.parquet")
    bus = tbl.column("bus").to_pylist()
    bus[2] = "99"
    pq.write_table(tbl.set_column(tbl.schema.get_field_index("bus"), "bus", pa.array(bus)),
                   exported / "generators.parquet")
    assert _errors(exported) == [("GAT0534", "generators.parquet", 3)]


def test_unknown_table_is_a_warning_with_a_hint(exported):
    (exported / "buses.parquet").rename(exported / "busses.parquet")
    sink = DiagnosticSink()
    assert load_tables(exported, sink) is None          # buses are now missing: loads refer to nothing
    warn = [d for d in sink.warnings if d.code == "GAT0532"]
    assert warn and "buses" in warn[0].help


def test_missing_directory(tmp_path):
    sink = DiagnosticSink()
    assert load_tables(tmp_path / "nothing", sink) is None
    assert [d.code for d in sink.errors] == ["GAT0501"]


# ------------------------------------------------------------------ corruption fuzzing

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_CLEAN: dict[str, bytes] = {}


def _clean_export(data_dir: Path, tmp: Path) -> dict[str, bytes]:
    if not _CLEAN:
        net = import_network("matpower", data_dir / "pglib" / "pglib_opf_case5_pjm.m", {},
                             DiagnosticSink(), None)
        for p in write_tables(net, tmp / "clean"):
            _CLEAN[p.name] = p.read_bytes()
    return _CLEAN


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["buses.parquet", "lines.parquet", "generators.parquet", "network.json"]),
       cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4))
def test_corrupted_tables_never_raise(name, cut, flips, data_dir, tmp_path_factory):
    """Truncated or bit-flipped files: a Network or coded diagnostics, never a traceback."""
    clean = _clean_export(data_dir, tmp_path_factory.mktemp("clean"))
    d = tmp_path_factory.mktemp("t")
    for fname, raw in clean.items():
        (d / fname).write_bytes(raw)
    raw = bytearray(clean[name][: max(1, int(len(clean[name]) * cut))] if cut < 0.9 else clean[name])
    for pos, byte in flips:
        raw[int(pos * (len(raw) - 1))] = byte
    (d / name).write_bytes(bytes(raw))
    sink = DiagnosticSink()
    net = load_tables(d, sink)
    assert all(x.code.startswith("GAT05") and x.span is not None for x in sink)
    assert (net is None) == sink.has_errors

"""`run hostcap` option mistakes: each is a coded diagnostic at the place it was written, never a traceback.

Also checks the pieces that are not numbers against an oracle: locations read
from a Parquet table, the run.json record, and the pre-existing-violation
warning (the Baran-Wu feeder is below 0.95 pu at full load: Baran & Wu 1989,
minimum 0.9131 pu at bus 18).
"""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.passes import Settings, run_program

CASE = Path(__file__).resolve().parents[2] / "examples" / "hostcap" / "case33bw.m"


def _run(folder: Path, body: str, extra: str = "") -> DiagnosticSink:
    study = folder / "hc.gat"
    study.write_text(f'study hc\nnetwork feeder = matpower("{CASE}")\n{extra}'
                     f"run hostcap pv on feeder {{\n{body}\n}}\n")
    sink = DiagnosticSink()
    run_program(study, sink, Settings(quiet=True))
    return sink


@pytest.mark.parametrize("body, code, line, column", [
    ("    at = [18, 81]", "GAT0441", 4, 15),                       # unknown bus: at the `81`
    ("    at = 18 + 1", "GAT0440", 4, 10),                         # not a bus list
    ("    step = 50 kW", "GAT0440", 3, 1),                         # no `at`: at the run
    ("    at = [18]\n    step = 50 kvar", "GAT0442", 5, 12),       # reactive power
    ("    at = [18]\n    step = 50", "GAT0442", 5, 12),            # no unit
    ("    at = [18]\n    limits { voltage = 1.05 pu .. 0.95 pu }", "GAT0443", 5, 24),
    ("    at = [18]\n    limits { voltage = 0.95 .. 1.05, loading = -5 % }", "GAT0443", 5, 48),
    ("    at = [18]\n    limits { volts = 0.95 .. 1.05 }", "GAT0443", 5, 14),
    ("    at = [1]", "GAT0447", 4, 11),                             # the slack bus
    ("    at = [18]\n    pf = 95", "GAT0448", 5, 10),
    ("    at = sites.bus", "GAT0440", 4, 10),                       # no such table
])
def test_located_diagnostics(tmp_path: Path, body: str, code: str, line: int, column: int) -> None:
    sink = _run(tmp_path, body)
    found = [d for d in sink.errors if d.code == code]
    assert found, [str(d) for d in sink]
    d = found[0]
    assert (d.span.line, d.span.column) == (line, column), str(d)
    assert d.help
    assert not (tmp_path / "runs" / "hc" / "pv" / "hostcap_summary.parquet").exists()


def test_locations_from_a_table_and_run_record(tmp_path: Path) -> None:
    pq.write_table(pa.table({"bus": [18, 33], "kw": [100.0, 200.0]}), tmp_path / "sites.parquet")
    sink = _run(tmp_path, "    at = sites.bus\n    step = 100 kW\n    scenarios = [light]",
                'table sites = parquet("sites.parquet")\nscenario light { load_scale = 0.5 }\n')
    assert not sink.has_errors, [str(d) for d in sink]
    summary = pq.read_table(tmp_path / "runs" / "hc" / "pv" / "light" / "hostcap_summary.parquet").to_pandas()
    assert summary.location.tolist() == ["18", "33"]
    step = json.loads((tmp_path / "runs" / "hc" / "run.json").read_text())["steps"][0]
    assert step["objective_unit"] == "MW"
    assert step["objective"] == pytest.approx(summary.max_mw.min())
    assert step["summary"]["capacity_mw"] == dict(zip(summary.location, summary.max_mw))


def test_table_column_missing(tmp_path: Path) -> None:
    pq.write_table(pa.table({"node": [18]}), tmp_path / "sites.parquet")
    sink = _run(tmp_path, "    at = sites.bus", 'table sites = parquet("sites.parquet")\n')
    (d,) = [d for d in sink.errors if d.code == "GAT0440"]
    assert "node" in (d.help or "")


def test_base_violations_are_reported_and_may_not_get_worse(tmp_path: Path) -> None:
    """At full load the far end is below 0.95 pu without DER: warned, and the sweep still finds capacity."""
    sink = _run(tmp_path, "    at = [18]\n    step = 100 kW")
    (w,) = [d for d in sink.warnings if d.code == "GAT0446"]
    assert "undervoltage at 18" in w.message
    assert not sink.has_errors
    summary = pq.read_table(tmp_path / "runs" / "hc" / "pv" / "hostcap_summary.parquet").to_pandas()
    assert summary.max_mw[0] > 0 and summary.binding[0] == "overvoltage"


def test_max_reached_is_a_warning(tmp_path: Path) -> None:
    sink = _run(tmp_path, "    at = [2]\n    step = 50 kW, max = 0.2 MW")
    (w,) = [d for d in sink.warnings if d.code == "GAT0444"]
    summary = pq.read_table(tmp_path / "runs" / "hc" / "pv" / "hostcap_summary.parquet").to_pandas()
    assert summary.max_mw[0] == pytest.approx(0.2) and summary.binding[0] == "none"


def test_at_buses_means_every_bus_but_the_slack(tmp_path: Path) -> None:
    sink = _run(tmp_path, "    at = buses\n    step = 1 MW, max = 1 MW\n    limits { voltage = 0.5 pu .. 1.5 pu }")
    assert not sink.has_errors, [str(d) for d in sink]
    summary = pq.read_table(tmp_path / "runs" / "hc" / "pv" / "hostcap_summary.parquet").to_pandas()
    assert sorted(summary.location.astype(int)) == list(range(2, 34))

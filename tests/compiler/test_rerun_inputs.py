"""A step re-runs when anything its network was read from changes -- and only then.

Why here (end to end through `run_program`): the files an importer reads are
known only after it ran (an OpenDSS master's `Redirect` targets), so the run
store records them in run.json (`via`) and the next invocation hashes them
before it decides to skip a step; a `tables("DIR")` network is a folder.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from gatlang.diagnostics import DiagnosticSink
from gatlang.passes import Settings, run_program

DATA = Path(__file__).resolve().parents[1] / "data"


def _reasons(study: Path) -> list[tuple[bool, str]]:
    sink = DiagnosticSink()
    run_program(study, sink, Settings(quiet=True))
    assert not sink.has_errors, [str(d) for d in sink.errors]
    doc = json.loads(next((study.parent / "runs").rglob("run.json")).read_text())
    return [(s["cached"], s["reason"]) for s in doc["steps"]]


def test_a_change_in_a_redirected_opendss_file_reruns_the_step(tmp_path: Path) -> None:
    (tmp_path / "codes.dss").write_text(
        "New linecode.quad nphases=3 basefreq=50\n"
        "~ rmatrix = (0.1167 | 0.0467 0.1167 | 0.0467 0.0467 0.1167)\n"
        "~ xmatrix = (0.0667 | 0.0267 0.0667 | 0.0267 0.0267 0.0667)\n")
    (tmp_path / "master.dss").write_text(
        "Clear\nNew Circuit.dep basekv=0.4 pu=1.0 MVAsc1=1e6 MVAsc3=1e6\nRedirect codes.dss\n"
        "New Line.l1 bus1=sourcebus.1.2.3 bus2=load.1.2.3 linecode=quad length=1\n"
        "New Load.a phases=1 bus1=load.1.0 kv=0.23 kw=9 kvar=3\nSet voltagebases=[0.4]\nCalcvoltagebases\n")
    study = tmp_path / "s.gat"
    study.write_text('study dep\nnetwork f = opendss("master.dss")\nrun pf p on f { phases = unbalanced }\n')
    assert _reasons(study) == [(False, "first run")]
    assert _reasons(study)[0][0] is True                                    # nothing changed: skipped
    doc = json.loads(next((tmp_path / "runs").rglob("run.json")).read_text())
    assert {"path": "codes.dss", "via": "master.dss"}.items() <= next(
        e for e in doc["inputs"] if e["path"] == "codes.dss").items()
    text = (tmp_path / "codes.dss").read_text().replace("0.1167 | 0.0467", "0.2167 | 0.0467")
    (tmp_path / "codes.dss").write_text(text)
    cached, reason = _reasons(study)[0]
    assert not cached and "changed" in reason


def test_a_tables_folder_is_hashed_as_a_whole(tmp_path: Path) -> None:
    from gatlang.network.matpower import load_matpower
    from gatlang.network.tables import write_tables

    net = load_matpower(DATA / "pglib" / "pglib_opf_case14_ieee.m", DiagnosticSink())
    write_tables(net, tmp_path / "c14")
    study = tmp_path / "s.gat"
    study.write_text('study tab\nnetwork g = tables("c14")\nrun opf a on g { formulation = dcp }\n')
    assert _reasons(study)[0] == (False, "first run")
    assert _reasons(study)[0][0] is True
    shutil.copy(tmp_path / "c14" / "buses.parquet", tmp_path / "c14" / "buses_copy.parquet")
    cached, reason = _reasons(study)[0]
    assert not cached and "changed" in reason

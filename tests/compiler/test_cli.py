"""`gatc` end to end on the case5 example: exit codes, outputs, run.json, re-runs, expect, infeasibility."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from gatlang.cli import main

ROOT = Path(__file__).resolve().parents[2]
CASE5 = ROOT / "tests" / "data" / "pglib" / "pglib_opf_case5_pjm.m"


def _study(tmp_path: Path, body: str) -> Path:
    shutil.copy(CASE5, tmp_path / "case5.m")
    path = tmp_path / "study.gat"
    path.write_text('study t "test"\nnetwork grid = matpower("case5.m")\n' + body)
    return path


def test_check_ok_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _study(tmp_path, "run opf dc on grid { formulation = dcp }\n")
    assert main(["check", str(good)]) == 0
    bad = tmp_path / "bad.gat"
    bad.write_text('network grid = matpower("case5.m")\nrun opf dc on grid { formulation = dpc }\n')
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "GAT0403" in err and "bad.gat:2:36" in err and "did you mean `dcp`" in err
    assert "Traceback" not in err


def test_missing_study_file_is_a_diagnostic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "nope.gat")]) == 1
    assert "GAT0501" in capsys.readouterr().err


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "GAT0302"]) == 0
    assert capsys.readouterr().out.startswith("# GAT0302")
    assert main(["explain", "GAT9999"]) == 2
    assert main(["explain"]) == 0
    assert "GAT0101" in capsys.readouterr().out


def test_run_writes_tables_and_manifest_then_skips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = _study(tmp_path, "run opf ac on grid { formulation = acp }\n"
                             "expect ac.objective ~= 17552 $/h within 1e-4\n")
    assert main(["run", str(study), "--quiet"]) == 0
    out = tmp_path / "runs" / "t"
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "succeeded"
    assert set(manifest["passes"]) >= {"parse", "resolve", "check", "capabilities", "elaborate", "lower", "emit"}
    roles = {e["role"] for e in manifest["inputs"]}
    assert {"study", "network"} <= roles and all(len(e["sha256"]) == 64 for e in manifest["inputs"])
    (step,) = manifest["steps"]
    assert step["solve_status"] == "locally_optimal" and step["solver"]["name"] == "ipopt"
    bus = pq.read_table(out / "ac" / "bus.parquet")
    assert bus.schema.field("vm_pu").metadata[b"unit"] == b"pu"
    gen = pq.read_table(out / "ac" / "gen.parquet")
    # pg in MW: total generation covers the 1000 MW load of case5 plus losses
    assert 1000.0 < sum(gen.column("pg_mw").to_pylist()) < 1010.0
    capsys.readouterr()
    assert main(["run", str(study)]) == 0
    assert "cached" in capsys.readouterr().out
    assert main(["run", str(study), "--force", "--quiet"]) == 0
    assert "cached" not in capsys.readouterr().out


def test_failed_expect_fails_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = _study(tmp_path, "run opf dc on grid { formulation = dcp }\n"
                             "expect dc.objective ~= 17000 $/h within 1e-4\n")
    assert main(["run", str(study), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "GAT0701" in err and "study.gat:4:1" in err and "got 17479.9" in err


def test_infeasible_run_names_the_conflicting_constraints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # case5 carries 1000 MW of load; capping generation at 500 MW cannot be met
    study = _study(tmp_path, "run opf dc on grid {\n    formulation = dcp\n"
                             "    subject to sum(g in gens) pg[g] <= 500 MW\n}\n")
    assert main(["run", str(study), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "infeasible" in err.lower()
    assert "subject_to_L5" in err and "p_balance[bus" in err


def test_objective_option_may_be_an_expression(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # minimising losses under DC is zero (lossless); under AC it is a positive number of MW
    study = _study(tmp_path, "run opf l on grid {\n    formulation = acp\n    objective = losses\n}\n"
                             "run opf e on grid {\n    formulation = acp\n"
                             "    objective = losses + 0 * sum(g in gens) pg[g]\n}\n")
    assert main(["run", str(study), "--quiet"]) == 0
    manifest = json.loads((tmp_path / "runs" / "t" / "run.json").read_text())
    obj = {s["run"]: (s["objective"], s["objective_unit"]) for s in manifest["steps"]}
    assert obj["l"][1] == "MW" and 0.0 < obj["l"][0] < 20.0
    assert obj["e"][0] == pytest.approx(obj["l"][0], rel=1e-5)

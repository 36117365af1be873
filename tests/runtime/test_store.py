"""RunStore: which steps are skipped on a re-run, and why the others run again."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gatlang.diagnostics import GatError
from gatlang.runtime import RunStore
from gatlang.runtime.schema import schema_errors

from .driver import run_study

RUNS = {"pf": {"method": "newton", "scenarios": ["peak", "noon"]}, "dcp": {"formulation": "dcp"}}


def _case(study: Path) -> Path:
    return study.parent / "data" / "case5.m"


def test_first_run_then_everything_skipped(study: Path) -> None:
    first = run_study(study, RUNS, data=[_case(study)])
    assert set(first.ran.values()) == {"first run"}
    assert set(first.ran) == {("pf", "peak"), ("pf", "noon"), ("dcp", None)}
    second = run_study(study, RUNS, data=[_case(study)])
    assert second.ran == {}
    assert set(second.skipped) == set(first.ran)
    note = second.skipped[("dcp", None)]
    assert note.startswith("skipped run dcp: unchanged since ") and note.endswith("(use --force)")
    doc = json.loads(second.manifest.read_text())
    assert [s["cached"] for s in doc["steps"]] == [True, True, True]
    assert doc["status"] == "succeeded"


def test_layout_and_units_of_outputs(study: Path) -> None:
    run_study(study, RUNS, data=[_case(study)])
    root = study.parent / "runs" / "demo"
    assert (root / "pf" / "peak" / "gens.parquet").is_file()
    assert (root / "dcp" / "gens.parquet").is_file()
    schema = pq.read_schema(root / "pf" / "noon" / "gens.parquet")
    assert schema.field("pg_mw").metadata == {b"unit": b"MW"}
    assert schema.metadata[b"gatlang.scenario"] == b"noon"


def test_changed_input_file_reruns_with_its_name(study: Path) -> None:
    run_study(study, RUNS, data=[_case(study)])
    _case(study).write_text("function mpc = case5\nmpc.baseMVA = 10;\n")
    again = run_study(study, RUNS, data=[_case(study)])
    assert set(again.ran.values()) == {"input data/case5.m changed"}


def test_changed_study_file_is_named(study: Path) -> None:
    run_study(study, RUNS, data=[_case(study)])
    study.write_text(study.read_text() + "# a comment\n")
    again = run_study(study, RUNS, data=[_case(study)])
    assert set(again.ran.values()) == {"demo.gat changed"}


def test_changed_options_rerun_only_that_run(study: Path) -> None:
    run_study(study, RUNS, data=[_case(study)])
    changed = {**RUNS, "dcp": {"formulation": "dcp", "n": 5}}
    again = run_study(study, changed, data=[_case(study)])
    assert again.ran == {("dcp", None): "options of run dcp changed"}
    assert set(again.skipped) == {("pf", "peak"), ("pf", "noon")}
    assert pq.read_metadata(study.parent / "runs/demo/dcp/gens.parquet").num_rows == 5


def test_new_scenario_and_version_change(study: Path) -> None:
    run_study(study, RUNS, data=[_case(study)])
    more = {**RUNS, "pf": {"method": "newton", "scenarios": ["peak", "noon", "night"]}}
    again = run_study(study, more, data=[_case(study)])
    # adding a scenario runs only that one: the others' keys do not include the list
    assert again.ran == {("pf", "night"): "not run before"}
    newer = run_study(study, more, data=[_case(study)], version="9.9.9")
    assert set(newer.ran.values()) == {"gatlang version changed (0.1.0 -> 9.9.9)"}


def test_force_reruns_everything(study: Path) -> None:
    run_study(study, RUNS, data=[_case(study)])
    forced = run_study(study, RUNS, data=[_case(study)], force=True)
    assert set(forced.ran.values()) == {"--force"} and len(forced.ran) == 3
    assert json.loads(forced.manifest.read_text())["force"] is True


def test_missing_output_reruns_only_that_step(study: Path) -> None:
    run_study(study, RUNS, data=[_case(study)])
    (study.parent / "runs/demo/pf/noon/gens.parquet").unlink()
    again = run_study(study, RUNS, data=[_case(study)])
    assert again.ran == {("pf", "noon"): "output pf/noon/gens.parquet is missing"}
    assert not again.store.diagnostics.items


def test_modified_output_warns_and_reruns(study: Path) -> None:
    run_study(study, RUNS, data=[_case(study)])
    out = study.parent / "runs/demo/dcp/gens.parquet"
    pq.write_table(pa.table({"pg_mw": [9.0]}), out)
    again = run_study(study, RUNS, data=[_case(study)])
    assert again.ran == {("dcp", None): "output dcp/gens.parquet was modified"}
    assert [d.code for d in again.store.diagnostics] == ["GAT0907"]
    doc = json.loads(again.manifest.read_text())
    assert [w["code"] for w in doc["warnings"]] == ["GAT0907"]
    assert pq.read_table(out).num_rows == 3                  # the fresh result replaced the edit


def test_failed_step_keeps_others_and_is_retried(study: Path) -> None:
    first = run_study(study, RUNS, data=[_case(study)], fail=lambda r, s: s == "noon")
    doc = json.loads(first.manifest.read_text())
    status = {(s["run"], s["scenario"]): s["status"] for s in doc["steps"]}
    assert status == {("pf", "peak"): "succeeded", ("pf", "noon"): "failed", ("dcp", None): "succeeded"}
    assert doc["status"] == "failed"
    again = run_study(study, RUNS, data=[_case(study)])
    assert again.ran == {("pf", "noon"): "the previous attempt failed"}
    assert json.loads(again.manifest.read_text())["status"] == "succeeded"


def test_only_keeps_steps_of_runs_not_selected(study: Path) -> None:
    run_study(study, RUNS, data=[_case(study)])
    _case(study).write_text("changed\n")
    only = run_study(study, RUNS, data=[_case(study)], only={"dcp"})
    assert set(only.ran) == {("dcp", None)}
    doc = json.loads(only.manifest.read_text())
    assert {(s["run"], s["scenario"]) for s in doc["steps"]} == {("pf", "peak"), ("pf", "noon"), ("dcp", None)}
    full = run_study(study, RUNS, data=[_case(study)])
    assert set(full.ran) == {("pf", "peak"), ("pf", "noon")}   # pf still sees the changed case


def test_crash_after_a_step_keeps_it(study: Path) -> None:
    """run.json is saved at every record_step: a run killed before finish() loses nothing."""
    store = RunStore(study, "demo")
    parts = {"run_block": "x"}
    key = store.step_key("pf", None, parts)
    store.write_table("pf", None, "buses", pa.table({"vm_pu": [1.0]}), units={"vm_pu": "pu"})
    store.record_step("pf", None, key, parts, {"status": "succeeded", "objective": None})
    store.close()                                           # the process dies here: no finish()
    doc = json.loads((study.parent / "runs/demo/run.json").read_text())
    assert doc["status"] == "running" and doc["finished"] is None
    assert schema_errors(doc) == []
    hit = RunStore(study, "demo").lookup("pf", None, key)
    assert hit is not None and hit.cached and hit.record["outputs"][0]["units"] == {"vm_pu": "pu"}


def test_run_json_records_inputs_solver_and_passes(study: Path) -> None:
    s = run_study(study, RUNS, data=[_case(study)])
    doc = json.loads(s.manifest.read_text())
    assert schema_errors(doc) == []
    assert doc["study"]["file"] == "demo.gat" and doc["root"] == "runs/demo"
    assert [(i["path"], i["role"], i["bytes"]) for i in doc["inputs"]] == [
        ("demo.gat", "study", study.stat().st_size), ("data/case5.m", "network", _case(study).stat().st_size)]
    dcp = next(x for x in doc["steps"] if x["run"] == "dcp")
    assert dcp["solver"]["options"] == {"presolve": "on"} and dcp["timings"]["solve"] == 0.02
    assert set(dcp["part_hashes"]) == {"run_block", "inputs", "gatlang"}
    assert doc["passes"] == {"parse": 0.001, "check": 0.002}


def test_lookup_without_previous_run_and_with_wrong_key(study: Path) -> None:
    store = RunStore(study, "demo")
    assert store.lookup("pf", None, "0" * 64) is None
    assert store.why_rerun("pf", None, {"run_block": "x"}) == "first run"
    assert not (study.parent / "runs").exists()             # asking never creates the folder


def test_extra_cannot_overwrite_fields(study: Path) -> None:
    store = RunStore(study, "demo")
    with pytest.raises(ValueError, match="steps"):
        store.finish(passes={}, diagnostics=[], extra={"steps": []})
    path = RunStore(study, "demo").finish(passes={}, diagnostics=[], extra={"command": "gatc run"})
    assert json.loads(path.read_text())["command"] == "gatc run"


def test_error_diagnostics_mark_the_run_failed(study: Path) -> None:
    from gatlang.diagnostics import error, warning
    path = RunStore(study, "demo").finish(passes={}, diagnostics=[
        error("GAT0501", "missing", None, "x"), warning("GAT0510", "not imported: Storage.s1")])
    doc = json.loads(path.read_text())
    assert doc["status"] == "failed"
    assert [d["code"] for d in doc["errors"]] == ["GAT0501"]
    assert doc["warnings"][0]["message"] == "not imported: Storage.s1"


def test_names_that_are_not_file_names_are_rejected(study: Path) -> None:
    store = RunStore(study, "demo")
    for bad in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(GatError) as info:
            store.write_table("pf", None, bad, pa.table({"a": [1]}))
        assert info.value.diagnostics[0].code == "GAT0905"
    with pytest.raises(GatError):
        store.step_key("pf", "../../etc", {})


def test_units_inferred_from_column_names_and_overridden(study: Path) -> None:
    store = RunStore(study, "demo")
    t = pa.table({"pg_mw": [1.0], "i_a": [2.0], "vm": [1.0]})
    path = store.write_table("opf", None, "gens", t, units={"vm": "pu", "i_a": "A"})
    from gatlang.runtime import units_of
    assert units_of(pq.read_schema(path)) == {"pg_mw": "MW", "i_a": "A", "vm": "pu"}
    raw = store.write_table("opf", None, "raw", t, infer_units=False)
    assert units_of(pq.read_schema(raw)) == {}
    store.close()


def test_input_paths_relative_to_the_study_or_the_working_directory(study: Path, monkeypatch) -> None:
    monkeypatch.chdir(study.parent.parent)                   # cwd holds studies/
    store = RunStore(Path("studies/demo.gat"), "demo")
    a = store.add_inputs([Path("data/case5.m")], "network")              # as written in the study
    b = store.add_inputs([Path("studies/data/case5.m")], "network")      # joined by the caller
    assert a == b and list(a) == ["data/case5.m"]
    assert store.root.resolve() == (study.parent / "runs" / "demo").resolve()


def test_plan_combines_key_lookup_and_reason(study: Path) -> None:
    parts = {"run_block": "run pf base on grid {}"}
    store = RunStore(study, "demo")
    first = store.plan("pf", "peak", parts)
    assert first.cached is None and first.message() == "running run pf scenario peak: first run"
    store.record_step("pf", "peak", first.key, parts, {"status": "succeeded"})
    store.finish(passes={}, diagnostics=[])
    again = RunStore(study, "demo").plan("pf", "peak", parts)
    assert again.cached is not None and again.key == first.key
    assert again.message().startswith("skipped run pf scenario peak: unchanged since ")


def test_failed_step_record_keeps_diagnostics_and_solver_facts(study: Path) -> None:
    import numpy as np
    from gatlang.diagnostics import Span, error
    store = RunStore(study, "demo")
    parts = {"run_block": "run opf acp on grid {}", "tolerance": np.float64(1e-8)}
    diag = error("GAT0601", "the solver reported the model infeasible", Span("demo.gat", 5, 1),
                 help="relax the voltage limits")
    store.record_step("acp", None, store.step_key("acp", None, parts), parts, {
        "status": "failed", "objective": float("nan"), "diagnostics": [diag],
        "solver": {"name": "ipopt", "version": "3.14", "options": {"tol": np.float32(1e-6)}},
        "timings": {"build": np.float64(0.5)}})
    path = store.finish(passes={}, diagnostics=[])
    doc = json.loads(path.read_text())
    assert schema_errors(doc) == []
    (step,) = doc["steps"]
    assert step["objective"] is None and step["status"] == "failed" and doc["status"] == "failed"
    assert step["diagnostics"] == [diag.to_dict()]
    assert step["parts"]["tolerance"] == 1e-8 and step["timings"] == {"build": 0.5}
    assert RunStore(study, "demo").why_rerun("acp", None, parts) == "the previous attempt failed"


def test_study_name_must_be_a_folder_name(study: Path) -> None:
    with pytest.raises(GatError) as info:
        RunStore(study, "../elsewhere")
    assert info.value.diagnostics[0].code == "GAT0905"

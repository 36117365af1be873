"""A previous run.json that cannot be trusted: a warning and a fresh start, never a crash."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatlang.runtime import RunStore
from gatlang.runtime.schema import RUN_JSON_SCHEMA, schema_errors

from .driver import run_study

RUNS = {"pf": {"method": "newton"}}


def _manifest(study: Path) -> Path:
    return study.parent / "runs" / "demo" / "run.json"


def _valid(study: Path) -> dict:
    run_study(study, RUNS)
    return json.loads(_manifest(study).read_text())


CORRUPTIONS = {
    "truncated": lambda text, doc: text[: len(text) // 2],
    "empty": lambda text, doc: "",
    "binary": lambda text, doc: "\x00\xff\xfe garbage",
    "not an object": lambda text, doc: "[1, 2, 3]",
    "steps not a list": lambda text, doc: json.dumps({**doc, "steps": {"pf": 1}}),
    "step without key": lambda text, doc: json.dumps({**doc, "steps": [
        {k: v for k, v in doc["steps"][0].items() if k != "key"}]}),
    "bad status": lambda text, doc: json.dumps({**doc, "steps": [{**doc["steps"][0], "status": "ok"}]}),
    "NaN token": lambda text, doc: text.replace('"objective": 1.0', '"objective": NaN'),
    "deep nesting": lambda text, doc: "[" * 100000 + "]" * 100000,
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corrupt_run_json_is_set_aside_and_everything_reruns(study: Path, name: str) -> None:
    doc = _valid(study)
    path = _manifest(study)
    bad = CORRUPTIONS[name](path.read_text(), doc)
    path.write_bytes(bad.encode("utf-8", "surrogateescape"))
    store = RunStore(study, "demo")
    (diag,) = store.diagnostics.items
    assert (diag.code, diag.severity.value) == ("GAT0901", "warning")
    assert diag.span is not None and diag.span.file.endswith("demo.gat") and diag.help
    assert (path.parent / "run.json.corrupt").read_bytes() == bad.encode("utf-8", "surrogateescape")
    assert store.why_rerun("pf", None, {}) == "first run (the previous run.json could not be used)"
    store.close()
    again = run_study(study, RUNS)
    assert set(again.ran) == {("pf", None)}
    assert schema_errors(json.loads(path.read_text())) == []


def test_newer_schema_is_set_aside_with_its_own_warning(study: Path) -> None:
    doc = _valid(study)
    _manifest(study).write_text(json.dumps({**doc, "schema": 2}))
    store = RunStore(study, "demo")
    assert [d.code for d in store.diagnostics] == ["GAT0902"]
    assert "format version 2" in store.diagnostics.items[0].message
    assert (_manifest(study).parent / "run.json.schema2").exists()
    assert not _manifest(study).exists()


def test_second_corruption_does_not_overwrite_the_first_kept_copy(study: Path) -> None:
    _valid(study)
    for text in ("{", "[", "{"):
        _manifest(study).write_text(text)
        RunStore(study, "demo").close()
    kept = sorted(p.name for p in _manifest(study).parent.glob("run.json.corrupt*"))
    assert kept == ["run.json.corrupt", "run.json.corrupt2", "run.json.corrupt3"]


def test_the_documented_schema_is_the_one_in_code() -> None:
    """docs/run-json.md embeds the JSON Schema; it must not drift from the code."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "run-json.md").read_text(encoding="utf-8")
    block = doc.split("```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(block) == RUN_JSON_SCHEMA


def test_documented_field_table_lists_every_top_level_and_step_field() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "run-json.md").read_text(encoding="utf-8")
    step = RUN_JSON_SCHEMA["properties"]["steps"]["items"]["properties"]
    for name in [*RUN_JSON_SCHEMA["properties"], *step]:
        assert f"| `{name}`" in doc or f"| `steps[].{name}`" in doc, name


def test_validator_reports_where_a_document_is_wrong() -> None:
    errs = schema_errors({"schema": 1, "steps": [{"run": 3}]})
    assert "$: missing key 'gatlang'" in errs
    assert "$.steps[0].run: expected string, found int" in errs
    assert "$.steps[0]: missing key 'key'" in errs

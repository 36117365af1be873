"""Each runtime diagnostic is raised where it should be, with a span, a hint and a page."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from gatlang.diagnostics import GatError, Span, code_page
from gatlang.runtime import RunStore, atomic, codes


def _raised(fn) -> "codes.Diagnostic":
    with pytest.raises(GatError) as info:
        fn()
    (diag,) = info.value.diagnostics
    assert diag.span is not None and diag.help, diag
    return diag


def test_run_folder_blocked_by_a_file(study: Path) -> None:
    (study.parent / "runs").write_text("not a folder")
    store = RunStore(study, "demo")
    diag = _raised(lambda: store.write_table("pf", None, "buses", pa.table({"a": [1]})))
    assert diag.code == "GAT0900" and "runs/demo" in diag.message
    assert diag.span.file == str(study)


def test_span_given_by_the_compiler_is_used(study: Path) -> None:
    (study.parent / "runs").write_text("not a folder")
    span = Span(str(study), 1, 1, 1, 18)
    diag = _raised(lambda: RunStore(study, "demo", span=span).finish(passes={}, diagnostics=[]))
    assert diag.span == span


def test_unreadable_input(study: Path) -> None:
    store = RunStore(study, "demo")
    diag = _raised(lambda: store.add_inputs([Path("data/missing.dss")], "network"))
    assert diag.code == "GAT0903" and "missing.dss" in diag.message
    # a folder (a `tables("DIR")` network) is an input like a file: hashed file by file
    (study.parent / "data").mkdir(exist_ok=True)
    assert len(store.add_inputs([study.parent / "data"], "table")) == 1


def test_disk_full_while_writing_a_table(study: Path, monkeypatch) -> None:
    def full(*a, **k):
        raise OSError(28, "No space left on device")
    store = RunStore(study, "demo")
    monkeypatch.setattr(atomic.pq, "write_table", full)
    diag = _raised(lambda: store.write_table("pf", None, "buses", pa.table({"a": [1]})))
    assert diag.code == "GAT0904" and "No space left on device" in diag.message


def test_disk_full_while_saving_run_json(study: Path, monkeypatch) -> None:
    from gatlang.runtime import store as store_mod

    def full(*a, **k):
        raise OSError(28, "No space left on device")
    store = RunStore(study, "demo")
    monkeypatch.setattr(store_mod, "write_json_atomic", full)
    diag = _raised(lambda: store.record_step("pf", None, "k", {}, {"status": "succeeded"}))
    assert diag.code == "GAT0904" and "run.json" in diag.message


_HOLDER = """
import sys, time
from pathlib import Path
import pyarrow as pa
from gatlang.runtime import RunStore
s = RunStore(Path(sys.argv[1]), "demo")
s.write_table("pf", None, "buses", pa.table({"a": [1]}))
print("locked", flush=True)
sys.stdin.readline()
"""


def test_second_writer_is_refused_while_the_first_holds_the_folder(study: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(study)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        diag = _raised(lambda: RunStore(study, "demo").finish(passes={}, diagnostics=[]))
        assert diag.code == "GAT0906" and f"process {holder.pid}" in diag.message
    finally:
        holder.communicate("done\n", timeout=30)
    # the holder exited without finish(): the kernel released the lock
    assert RunStore(study, "demo").finish(passes={}, diagnostics=[]).is_file()


def test_lock_is_released_by_finish(study: Path) -> None:
    first = RunStore(study, "demo")
    first.record_step("pf", None, "k", {}, {"status": "succeeded"})
    first.finish(passes={}, diagnostics=[])
    RunStore(study, "demo").finish(passes={}, diagnostics=[])   # no GAT0906


def test_every_code_has_a_page_matching_the_source() -> None:
    src = Path(codes.__file__).read_text(encoding="utf-8")
    defined = dict(re.findall(r'^([A-Z_]+) = "(GAT09\d\d)"', src, re.M))
    assert sorted(defined.values()) == sorted(codes.CODES)
    for const, code in defined.items():
        page = code_page(code)
        assert page is not None, code
        lines = page.text.splitlines()
        assert re.fullmatch(rf"# {code} [a-z0-9]+(-[a-z0-9]+)*", lines[0])
        assert page.name.replace("-", "_").upper().startswith(const.split("_")[0]), (const, page.name)
        assert "## Example" in page.text and "## How to fix" in page.text
        assert 15 <= len(lines) <= 40
        assert 900 <= int(code[3:]) <= 919


def _flat(text: str) -> str:
    return " ".join(text.split())


def _previous_run_json_warning(tmp_path: Path, text: str) -> "codes.Diagnostic":
    """The warning a real RunStore gives for the previous run.json shown on the page."""
    (tmp_path / "studies" / "runs" / "feeder").mkdir(parents=True)
    (tmp_path / "studies" / "feeder.gat").write_text('study feeder "IEEE 13"\n')
    (tmp_path / "studies" / "runs" / "feeder" / "run.json").write_text(text)
    (diag,) = RunStore(tmp_path / "studies" / "feeder.gat", "feeder").diagnostics
    return diag


def test_page_examples_quote_the_real_messages(tmp_path: Path) -> None:
    """The console output on each page is what the code really prints, word for word."""
    span = Span("studies/feeder.gat", 1, 1)
    runs = Path("studies/runs/feeder")
    produced = {
        "GAT0900": codes.run_folder_not_writable(runs, OSError(20, "Not a directory"), span),
        "GAT0901": _previous_run_json_warning(tmp_path / "a", '{"schema": 1, "steps": [\n'),
        "GAT0902": _previous_run_json_warning(tmp_path / "b", '{\n  "schema": 2\n}\n'),
        "GAT0903": codes.input_unreadable(Path("studies/data/IEEE13Nodeckt.dss"),
                                          OSError(13, "Permission denied"), span),
        "GAT0904": codes.output_write_failed(runs / "pf/peak/buses.parquet",
                                             OSError(28, "No space left on device"), span),
        "GAT0905": codes.invalid_output_name("../buses", "output table", span),
        "GAT0906": codes.run_folder_busy(runs, "4242", span),
        "GAT0907": codes.output_modified(Path("runs/feeder/pf/peak/buses.parquet"), span),
    }
    assert sorted(produced) == sorted(codes.CODES)
    for code, diag in produced.items():
        page = _flat(code_page(code).text)
        assert _flat(f"{diag.severity.value}[{code}]: {diag.message}") in page, code

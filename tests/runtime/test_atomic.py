"""Atomic output: a failing or killed writer never leaves a partial file; units round-trip."""
from __future__ import annotations

import dataclasses
import enum
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gatlang.diagnostics import Span, error
from gatlang.runtime import atomic
from gatlang.runtime.atomic import TEMP_SUFFIX, sweep_temporaries, units_of, write_json_atomic, \
    write_parquet_atomic
from gatlang.runtime.hashing import sha256_file


def _table(n: int = 1000) -> pa.Table:
    return pa.table({"bus": [f"b{i}" for i in range(n)], "vm_pu": np.linspace(0.95, 1.05, n),
                     "pg_mw": np.arange(n, dtype=np.float64)})


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(TEMP_SUFFIX)]


def test_units_and_metadata_round_trip_through_read_schema(tmp_path: Path) -> None:
    path = tmp_path / "gens.parquet"
    digest = write_parquet_atomic(path, _table(), units={"vm_pu": "pu", "pg_mw": "MW"},
                                  metadata={"gatlang.run": "opf"})
    schema = pq.read_schema(path)            # the reader a user would use
    assert schema.field("pg_mw").metadata[b"unit"] == b"MW"
    assert schema.field("vm_pu").metadata[b"unit"] == b"pu"
    assert not schema.field("bus").metadata
    assert schema.metadata[b"gatlang.run"] == b"opf"
    assert units_of(schema) == {"vm_pu": "pu", "pg_mw": "MW"}
    assert digest == sha256_file(path)
    assert pq.read_table(path).column("pg_mw").to_pylist()[:3] == [0.0, 1.0, 2.0]


def test_polars_frames_are_accepted_and_keep_units(tmp_path: Path) -> None:
    path = tmp_path / "loads.parquet"
    write_parquet_atomic(path, pl.DataFrame({"pd_kw": [1.5, 2.5], "load": ["a", "b"]}),
                         units={"pd_kw": "kW"})
    assert units_of(pq.read_schema(path)) == {"pd_kw": "kW"}
    assert pl.read_parquet(path)["pd_kw"].to_list() == [1.5, 2.5]


def test_units_for_unknown_columns_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="qg_mvar"):
        write_parquet_atomic(tmp_path / "x.parquet", _table(3), units={"qg_mvar": "Mvar"})
    assert list(tmp_path.iterdir()) == []


def test_writer_raising_midway_leaves_old_file_intact(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "buses.parquet"
    write_parquet_atomic(path, _table(10))
    before = path.read_bytes()

    def half_then_fail(table, where, **kw):
        Path(where).write_bytes(b"PAR1" + b"\0" * 100)     # a half-written file...
        raise OSError(28, "No space left on device")          # ...then the disk fills up

    monkeypatch.setattr(atomic.pq, "write_table", half_then_fail)
    with pytest.raises(OSError):
        write_parquet_atomic(path, _table(1000))
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_writer_raising_midway_leaves_no_file_when_none_existed(tmp_path: Path, monkeypatch) -> None:
    def fail(table, where, **kw):
        Path(where).write_bytes(b"PAR1")
        raise KeyboardInterrupt                              # Ctrl-C during the write

    monkeypatch.setattr(atomic.pq, "write_table", fail)
    with pytest.raises(KeyboardInterrupt):
        write_parquet_atomic(tmp_path / "buses.parquet", _table(5))
    assert list(tmp_path.iterdir()) == []


_KILLED_WRITER = """
import os, sys
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
from gatlang.runtime import atomic
real = pq.write_table
def write_then_die(table, where, **kw):
    real(table.slice(0, 10), where, **kw)   # some bytes are on disk under the temporary name
    os._exit(9)                              # killed: no cleanup handlers run
atomic.pq.write_table = write_then_die
atomic.write_parquet_atomic(sys.argv[1], pa.table({"x": np.arange(100000.0)}))
"""


def test_killed_writer_leaves_only_a_temporary_that_is_swept(tmp_path: Path) -> None:
    target = tmp_path / "run" / "x.parquet"
    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(target)], capture_output=True)
    assert proc.returncode == 9, proc.stderr.decode()
    assert not target.exists()
    left = _leftovers(target.parent)
    assert len(left) == 1 and left[0].name.startswith(".x.parquet.")
    assert sweep_temporaries(tmp_path) == left
    assert list(target.parent.iterdir()) == []


class Kind(enum.Enum):
    PQ = "pq"


@dataclasses.dataclass
class Point:
    name: str
    value: float


def test_json_serialises_numpy_enums_paths_dataclasses_and_nan(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "run.json"
    diag = error("GAT0904", "cannot write x", Span("s.gat", 3, 5), help="free space")
    write_json_atomic(path, {
        "f": np.float32(0.5), "i": np.int64(7), "b": np.bool_(True), "arr": np.array([1.0, np.nan, np.inf]),
        "iarr": np.arange(3, dtype=np.int16), "kind": Kind.PQ, "path": Path("data") / "case5.m",
        "point": Point("p", math.nan), "diag": diag, "nested": [{"x": float("-inf")}], (1): "int key"})
    doc = json.loads(path.read_text(encoding="utf-8"))      # strict parser: no NaN tokens
    assert doc == {"f": 0.5, "i": 7, "b": True, "arr": [1.0, None, None], "iarr": [0, 1, 2],
                   "kind": "pq", "path": "data/case5.m", "point": {"name": "p", "value": None},
                   "diag": {"code": "GAT0904", "severity": "error", "message": "cannot write x",
                            "file": "s.gat", "line": 3, "column": 5, "help": "free space"},
                   "nested": [{"x": None}], "1": "int key"}
    assert "NaN" not in path.read_text()


def test_json_with_unserialisable_value_leaves_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    write_json_atomic(path, {"ok": 1})
    with pytest.raises(TypeError, match="object"):
        write_json_atomic(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"ok": 1}
    assert _leftovers(tmp_path) == []


def test_suffix_units_are_units_of_the_project_unit_table() -> None:
    from gatlang.runtime.units import SUFFIX_UNITS, suffix_units
    from gatlang.semantics.units import format_unit, parse_unit
    for unit in SUFFIX_UNITS.values():
        assert format_unit(parse_unit(unit)) == unit
    assert suffix_units(["pg_mw", "qg_Mvar", "vm_pu", "loading_pct", "bus", "mw", "i_a", "time_s"]) == \
        {"pg_mw": "MW", "qg_Mvar": "Mvar", "vm_pu": "pu", "loading_pct": "%"}

"""The canonical `Network` and the helpers that build its tables.

Why: importers produce columns (numpy arrays, lists) and must not each decide
how a missing column is filled, how a type is coerced or what counts as a
schema violation.  `build_table` does it once, against `schema.SCHEMAS`, and
raises `SchemaError` (a plain exception carrying table/column/row) that the
importer turns into a coded diagnostic pointing into *its* input file.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gatlang.diagnostics import Diagnostic
from gatlang.network.schema import DEFAULTS, ENUMS, KEYS, SCHEMAS, empty_table, schema

#: tables whose ``bus`` column (or ``from_bus``/``to_bus``) must name a row of ``buses``
BUS_REFERENCES: dict[str, tuple[str, ...]] = {
    "lines": ("from_bus", "to_bus"),
    "loads": ("bus",), "generators": ("bus",), "sources": ("bus",), "pv_systems": ("bus",),
    "storage": ("bus",), "shunts": ("bus",), "dclines": ("from_bus", "to_bus"),
}


class SchemaError(ValueError):
    """A table does not fit its schema; `row` is 0-based when one row is at fault."""

    def __init__(self, table: str, message: str, column: str | None = None,
                 row: int | None = None) -> None:
        self.table, self.column, self.row = table, column, row
        where = table + (f".{column}" if column else "") + (f" row {row + 1}" if row is not None else "")
        super().__init__(f"{where}: {message}")


@dataclass
class Network:
    """One network, whatever the input format (see docs/network-model.md).

    `tables` holds only the tables the importer produced; `table(name)` returns
    an empty table of the right schema for the others, so consumers never test
    for absence.
    """

    name: str
    base_mva: float = 100.0
    frequency_hz: float = 60.0
    balanced: bool = True
    tables: dict[str, pa.Table] = field(default_factory=dict)
    sources: list[tuple[str, str]] = field(default_factory=list)   # (path, sha256)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def table(self, name: str) -> pa.Table:
        tbl = self.tables.get(name)
        return tbl if tbl is not None else empty_table(name)

    def set_table(self, name: str, columns: Mapping[str, Any] | pa.Table) -> pa.Table:
        """Validate and store a table given as columns (or an Arrow table)."""
        tbl = conform(name, columns) if isinstance(columns, pa.Table) else build_table(name, columns)
        self.tables[name] = tbl
        return tbl

    def __repr__(self) -> str:  # the default dumps every table
        counts = ", ".join(f"{k}={v.num_rows}" for k, v in self.tables.items())
        return f"Network({self.name!r}, base_mva={self.base_mva}, {counts})"

    def validate(self) -> list[SchemaError]:
        """Cross-table checks: unique ids, references to existing buses, enumerated values."""
        problems: list[SchemaError] = []
        buses = set(self.table("buses").column("bus").to_pylist())
        for name, tbl in self.tables.items():
            key = KEYS[name]
            ids = tbl.column(key)
            counts = pc.value_counts(ids)
            dup = [v["values"] for v in counts.to_pylist() if v["counts"] > 1]
            if dup:
                problems.append(SchemaError(name, f"duplicate ids: {', '.join(map(str, dup[:5]))}", key))
            for col in BUS_REFERENCES.get(name, ()):
                vals = tbl.column(col).to_numpy(zero_copy_only=False)
                bad = [i for i, v in enumerate(vals) if v not in buses]
                if bad:
                    problems.append(SchemaError(name, f"unknown bus {vals[bad[0]]!r}", col, bad[0]))
            if name == "transformers":
                for i, bl in enumerate(tbl.column("buses").to_pylist()):
                    missing = [b for b in bl or [] if b not in buses]
                    if missing:
                        problems.append(SchemaError(name, f"unknown bus {missing[0]!r}", "buses", i))
                        break
            for (tname, col), allowed in ENUMS.items():
                if tname != name:
                    continue
                vals = tbl.column(col).to_pylist()
                bad = [i for i, v in enumerate(vals) if v is not None and v not in allowed]
                if bad:
                    problems.append(SchemaError(
                        name, f"{vals[bad[0]]!r} is not one of {', '.join(allowed)}", col, bad[0]))
        return problems


# ------------------------------------------------------------------ building tables

def list_array(values: np.ndarray | Iterable, type_: pa.DataType) -> pa.Array:
    """A list column from a 2-D numpy array (one row per element) or a sequence of sequences.

    Why: MATPOWER-sized data arrive as 2-D arrays; building the list column from
    offsets keeps it vectorised instead of a Python list per element.
    """
    if isinstance(values, np.ndarray) and values.ndim == 2:
        n, k = values.shape
        offsets = pa.array(np.arange(0, n * k + 1, k, dtype=np.int32))
        flat = pa.array(values.reshape(-1), type=type_.value_type)
        return pa.ListArray.from_arrays(offsets, flat, type=type_)
    return pa.array(list(values), type=type_)


def _column(table: str, fld: pa.Field, value: Any, n: int) -> pa.Array | pa.ChunkedArray:
    try:
        if isinstance(value, (pa.Array, pa.ChunkedArray)):
            arr = value if value.type == fld.type else value.cast(fld.type)
        elif pa.types.is_list(fld.type):
            arr = list_array(value, fld.type)
        elif isinstance(value, np.ndarray):
            if value.dtype == object or value.dtype.kind in "US":
                arr = pa.array(value.tolist(), type=fld.type)
            else:
                arr = pa.array(value, type=fld.type)
        else:
            arr = pa.array(list(value), type=fld.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError,
            OverflowError) as exc:
        raise SchemaError(table, f"values do not fit type {fld.type}: {exc}", fld.name) from None
    if len(arr) != n:
        raise SchemaError(table, f"has {len(arr)} values, expected {n}", fld.name)
    if not fld.nullable and arr.null_count:
        row = pc.index(pc.is_null(arr), True).as_py()
        raise SchemaError(table, "required value is missing (null)", fld.name, row)
    return arr


def build_table(table: str, columns: Mapping[str, Any], allow_extra: bool = False) -> pa.Table:
    """Build `table` from a dict of columns, validated against its schema.

    Missing optional columns get their schema default or nulls; a missing
    required column, an unknown column (unless `allow_extra`) or a value of the
    wrong type raises `SchemaError`.
    """
    sch = schema(table)
    unknown = [c for c in columns if sch.get_field_index(c) < 0]
    if unknown and not allow_extra:
        raise SchemaError(table, f"unknown column(s) {', '.join(unknown)}", unknown[0])
    present = [c for c in columns if sch.get_field_index(c) >= 0]
    missing_required = [f.name for f in sch if not f.nullable and f.name not in columns]
    if missing_required:
        raise SchemaError(table, "required column is missing", missing_required[0])
    n = len(columns[present[0]]) if present else 0
    arrays = []
    defaults = DEFAULTS[table]
    for fld in sch:
        if fld.name in columns:
            arrays.append(_column(table, fld, columns[fld.name], n))
        elif fld.name in defaults:
            arrays.append(pa.array([defaults[fld.name]] * n, type=fld.type))
        else:
            arrays.append(pa.nulls(n, type=fld.type))
    return pa.Table.from_arrays(arrays, schema=sch)


def conform(table: str, tbl: pa.Table) -> pa.Table:
    """Fit an Arrow table read from elsewhere (Parquet) to the schema; extra columns are an error."""
    return build_table(table, {name: tbl.column(name) for name in tbl.column_names})


def sha256_file(path: str | Path) -> str:
    """Content hash of an input file (recorded in `Network.sources` and run.json)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


__all__ = ["Network", "SchemaError", "build_table", "conform", "list_array", "sha256_file",
           "SCHEMAS", "BUS_REFERENCES"]

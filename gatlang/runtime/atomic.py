"""Atomic file output: a reader sees the old file or the new one, never half of one.

Why: studies run for hours and get killed (Ctrl-C, a cluster's wall-clock
limit, a full disk).  Every output is written to a hidden temporary name in the
destination directory, flushed to disk, and then ``os.replace``-d over the final
name, which POSIX and Windows both perform atomically within one file system.
A writer that raises removes its temporary; a writer that is killed leaves only
a ``.*.gat-tmp`` file, which :func:`sweep_temporaries` removes on the next run.
"""
from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .hashing import sha256_file
from .jsonable import to_jsonable

TEMP_SUFFIX = ".gat-tmp"
UNIT_KEY = b"unit"


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); silently unavailable on Windows."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name(path: Path) -> Path:
    """Hidden, unique sibling of ``path``: same directory, so the rename is atomic."""
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, on error it vanishes."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if durable:
        _fsync_dir(final.parent)


def sweep_temporaries(root: str | os.PathLike[str]) -> list[Path]:
    """Remove temporaries left by killed writers under ``root``; returns what was removed.

    Call only while holding the run folder's lock, or a concurrent writer's
    in-flight temporary would be deleted under it.
    """
    removed = []
    base = Path(root)
    if not base.is_dir():
        return removed
    for tmp in base.rglob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def as_arrow(table: Any) -> pa.Table:
    """Accept a ``pyarrow.Table`` or a ``polars.DataFrame`` (converted without copying)."""
    if isinstance(table, pa.Table):
        return table
    if isinstance(table, pa.RecordBatch):
        return pa.Table.from_batches([table])
    to_arrow = getattr(table, "to_arrow", None)  # polars.DataFrame
    if callable(to_arrow):
        return to_arrow()
    raise TypeError(f"expected a pyarrow.Table or polars.DataFrame, got {type(table).__name__}")


def with_units(table: pa.Table, units: Mapping[str, str] | None = None,
               metadata: Mapping[str, str] | None = None) -> pa.Table:
    """Attach ``unit`` field metadata per column and key/value metadata to the schema.

    Units go on the *field* so that they survive column selection in pyarrow,
    polars and DuckDB; readers get them back with ``pyarrow.parquet.read_schema``.
    """
    units = dict(units or {})
    unknown = sorted(set(units) - set(table.column_names))
    if unknown:
        raise ValueError(f"units given for columns not in the table: {', '.join(unknown)}")
    fields = []
    for f in table.schema:
        if f.name in units:
            meta = dict(f.metadata or {})
            meta[UNIT_KEY] = str(units[f.name]).encode("utf-8")
            f = f.with_metadata(meta)
        fields.append(f)
    schema_meta = dict(table.schema.metadata or {})
    for k, v in (metadata or {}).items():
        schema_meta[str(k).encode("utf-8")] = str(v).encode("utf-8")
    schema = pa.schema(fields, metadata=schema_meta or None)
    return pa.Table.from_arrays(table.columns, schema=schema)  # zero-copy: same buffers


def units_of(schema: pa.Schema) -> dict[str, str]:
    """Inverse of :func:`with_units`: ``{column: unit}`` for columns that carry one."""
    return {f.name: f.metadata[UNIT_KEY].decode("utf-8")
            for f in schema if f.metadata and UNIT_KEY in f.metadata}


def write_parquet_atomic(path: str | os.PathLike[str], table: Any,
                         units: Mapping[str, str] | None = None,
                         metadata: Mapping[str, str] | None = None) -> str:
    """Write ``table`` as Parquet at ``path`` atomically; return the SHA-256 of the file."""
    arrow = with_units(as_arrow(table), units, metadata)
    with atomic_path(path) as tmp:
        pq.write_table(arrow, tmp, compression="zstd")
        digest = sha256_file(tmp)
    return digest


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as JSON at ``path`` atomically (see :func:`to_jsonable` for types)."""
    data = to_jsonable(obj)  # convert first: a TypeError must not leave anything behind
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False, allow_nan=False)
            fh.write("\n")

"""Canonical Parquet tables: ``gatc import FILE -o DIR`` writes them, ``tables("DIR")`` reads them.

Why a directory of Parquet files plus a small ``network.json``: the tables are
the canonical model itself (schema.py), so any tool (polars, pandas, DuckDB,
Arrow) can read or edit a network, and reading them back is lossless — the
schema (with its field docs and defaults) travels in each file.  Each file is
written to a temporary name and renamed, so that a killed import never leaves
a half-written table that a later run would read.

Diagnostics point into the input: a Parquet file has no lines, so the "line"
of a problem in a table is the 1-based row (line 1 when no row is at fault);
problems in network.json carry its real line and column.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from gatlang.diagnostics import DiagnosticSink, Span, did_you_mean
from gatlang.network.model import Network, SchemaError, conform
from gatlang.network.schema import SCHEMAS

# ------------------------------------------------------------------ diagnostic codes
METADATA = "GAT0530"       # network.json missing (warning) or invalid (error)
UNREADABLE = "GAT0531"     # a .parquet file that Arrow cannot read
UNKNOWN_TABLE = "GAT0532"  # a .parquet file whose name is not a canonical table (warning)
SCHEMA = "GAT0533"         # a table that does not fit its schema
INCONSISTENT = "GAT0534"   # cross-table problems: duplicate ids, unknown buses, bad enum values

META_FILE = "network.json"
FORMAT_VERSION = 1


def _atomic_write(path: Path, write) -> None:
    """Write through `write(tmp_path)` and rename into place (same directory, so atomic)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_tables(net: Network, directory: str | Path) -> list[Path]:
    """Write every table of `net` as ``<table>.parquet`` plus ``network.json``; returns the paths.

    Tables that the network does not have are not written (reading fills them
    in empty); files of a previous export that are not rewritten are removed,
    so that the directory holds exactly this network.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, tbl in net.tables.items():
        path = out / f"{name}.parquet"
        _atomic_write(path, lambda tmp, t=tbl: pq.write_table(t, tmp))
        written.append(path)
    for stale in out.glob("*.parquet"):
        if stale.stem in SCHEMAS and stale not in written:
            stale.unlink()
    meta = {
        "format": "gatlang-network", "version": FORMAT_VERSION, "name": net.name,
        "base_mva": net.base_mva, "frequency_hz": net.frequency_hz, "balanced": net.balanced,
        "sources": [{"path": p, "sha256": h} for p, h in net.sources],
        "tables": sorted(net.tables),
    }
    meta_path = out / META_FILE
    _atomic_write(meta_path, lambda tmp: tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8"))
    written.append(meta_path)
    return written


def _read_meta(directory: Path, sink: DiagnosticSink) -> dict | None:
    path = directory / META_FILE
    if not path.exists():
        sink.warning(METADATA, f"`{directory}` has no {META_FILE}; defaults are used "
                     "(name = directory name, 100 MVA, 60 Hz, balanced)", Span.point(str(directory), 1),
                     help="`gatc import FILE -o DIR` writes it; add it by hand for tables made elsewhere")
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        sink.error(METADATA, f"{META_FILE} is not valid JSON: {exc.msg}",
                   Span.point(str(path), exc.lineno, exc.colno), help="fix the JSON syntax")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        sink.error(METADATA, f"cannot read {META_FILE}: {exc}", Span.point(str(path), 1))
        return None
    if not isinstance(meta, dict):
        sink.error(METADATA, f"{META_FILE} must hold a JSON object", Span.point(str(path), 1))
        return None
    checks = {"name": str, "base_mva": (int, float), "frequency_hz": (int, float), "balanced": bool,
              "sources": list}
    for key, want in checks.items():
        if key in meta and (not isinstance(meta[key], want) or
                            (want == (int, float) and (isinstance(meta[key], bool) or meta[key] <= 0))):
            sink.error(METADATA, f"`{key}` in {META_FILE} has the wrong type or value: {meta[key]!r}",
                       _key_span(path, key), help=f"`{key}` is a " +
                       {"name": "string", "balanced": "boolean", "sources": "list"}.get(key, "positive number"))
            return None
    return meta


def _key_span(path: Path, key: str) -> Span:
    """Where `"key"` appears in a JSON file (for a located diagnostic)."""
    try:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            col = line.find(f'"{key}"')
            if col >= 0:
                return Span(str(path), i, col + 1, i, col + len(key) + 3)
    except OSError:
        pass
    return Span.point(str(path), 1)


def _sources(meta: dict) -> list[tuple[str, str]]:
    out = []
    for s in meta.get("sources", []):
        if isinstance(s, dict) and isinstance(s.get("path"), str):
            out.append((s["path"], str(s.get("sha256", ""))))
    return out


def load_tables(directory: str | Path, sink: DiagnosticSink, *, span: Span | None = None) -> Network | None:
    """Read a directory written by `write_tables`; None if it cannot be used (diagnostics in `sink`)."""
    from gatlang.network.importers import check_input_file

    d = check_input_file(directory, sink, span, directory=True)
    if d is None:
        return None
    local = DiagnosticSink()
    meta = _read_meta(d, local)
    net = None
    if meta is not None:
        net = Network(meta.get("name", d.name), base_mva=float(meta.get("base_mva", 100.0)),
                      frequency_hz=float(meta.get("frequency_hz", 60.0)),
                      balanced=bool(meta.get("balanced", True)), sources=_sources(meta))
        files = sorted(d.glob("*.parquet"))
        if not files:
            local.error(SCHEMA, f"`{d}` holds no .parquet tables", span or Span.point(str(d), 1),
                        help="a network needs at least `buses.parquet`")
        for path in files:
            _read_one(net, path, local)
        if not local.has_errors:
            for problem in net.validate():
                local.error(INCONSISTENT, str(problem), _table_span(d, problem),
                            help="ids must be unique within a table and every bus reference must "
                                 "name a row of buses.parquet")
    sink.extend(local.items)
    if net is None or local.has_errors:
        return None
    net.diagnostics.extend(local.items)
    # `sources` stay those of the original import (recorded in network.json), so that
    # import -> export -> import gives back the same network
    return net


def _table_span(directory: Path, problem: SchemaError) -> Span:
    return Span.point(str(directory / f"{problem.table}.parquet"), (problem.row or 0) + 1)


def _read_one(net: Network, path: Path, sink: DiagnosticSink) -> None:
    name = path.stem
    if name not in SCHEMAS:
        sink.warning(UNKNOWN_TABLE, f"`{path.name}` is not a table of the network model; ignored",
                     Span.point(str(path), 1),
                     help=did_you_mean(name, SCHEMAS) or "known tables: " + ", ".join(SCHEMAS))
        return
    try:
        tbl = pq.read_table(path)
        tbl = conform(name, tbl)
        net.set_table(name, tbl)
    except SchemaError as exc:
        sink.error(SCHEMA, str(exc), _table_span(path.parent, exc),
                   help=did_you_mean(exc.column, SCHEMAS[name].names, "column")
                   if exc.column and exc.column not in SCHEMAS[name].names
                   else f"see the `{name}` table in docs/network-model.md")
    except (pa.ArrowException, OSError, UnicodeDecodeError, ValueError) as exc:
        # a damaged file can fail anywhere in Arrow (footer, pages, even undecodable column names)
        sink.error(UNREADABLE, f"cannot read `{path.name}` as Parquet: {exc}", Span.point(str(path), 1),
                   help="the file may be truncated or not Parquet; re-export it with `gatc import`")


CODES = (METADATA, UNREADABLE, UNKNOWN_TABLE, SCHEMA, INCONSISTENT)

__all__ = ["write_tables", "load_tables", "META_FILE"]

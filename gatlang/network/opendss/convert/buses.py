"""The ``buses`` table (every bus any element names, its phases and coordinates) and islands.

Why here and not in each converter: OpenDSS has no bus objects — a bus exists
because an element names it.  Collecting them once from the finished element
tables gives one place for the phases-present union, coordinates and the
connectivity check (a bus that no source can reach is an input error).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gatlang.diagnostics import DiagnosticSink, Span

from .. import codes
from ..script import Circuit

#: (table, bus column, node column) of every element table that names a bus
BUS_COLUMNS = (("lines", "from_bus", "f_conn"), ("lines", "to_bus", "t_conn"),
               ("loads", "bus", "conn"), ("generators", "bus", "conn"), ("sources", "bus", "conn"),
               ("pv_systems", "bus", "conn"), ("storage", "bus", "conn"), ("shunts", "bus", "conn"))


def _pairs(tables: dict[str, pa.Table]) -> list[tuple[str, list[int]]]:
    out: list[tuple[str, list[int]]] = []
    for name, bcol, ncol in BUS_COLUMNS:
        t = tables.get(name)
        if t is not None and t.num_rows:
            out.extend(zip(t.column(bcol).to_pylist(), t.column(ncol).to_pylist()))
    t = tables.get("transformers")
    if t is not None:
        for buses, conns in zip(t.column("buses").to_pylist(), t.column("conns").to_pylist()):
            out.extend(zip(buses, conns))
    return out


def build_buses(tables: dict[str, pa.Table], circuit: Circuit) -> dict[str, list]:
    """Columns of the buses table, in order of first appearance."""
    phases: dict[str, set[int]] = {}
    for bus, nodes in _pairs(tables):
        phases.setdefault(bus, set()).update(n for n in nodes or () if n >= 1)
    src = set(tables["sources"].column("bus").to_pylist()) if "sources" in tables else set()
    names = list(phases)
    xs = [circuit.coords[b].x if b in circuit.coords else None for b in names]
    ys = [circuit.coords[b].y if b in circuit.coords else None for b in names]
    return dict(bus=names, name=names, phases=[sorted(phases[b]) for b in names],
                kind=["ref" if b in src else "pq" for b in names], x=xs, y=ys)


def edges(tables: dict[str, pa.Table], only_in_service: bool) -> tuple[list[str], list[str]]:
    """Bus pairs joined by a line or transformer (winding 1 to every other winding)."""
    a: list[str] = []
    b: list[str] = []
    t = tables.get("lines")
    if t is not None and t.num_rows:
        keep = np.asarray(t.column("status").to_pylist(), dtype=bool) if only_in_service else \
            np.ones(t.num_rows, dtype=bool)
        a += list(np.asarray(t.column("from_bus").to_pylist(), dtype=object)[keep])
        b += list(np.asarray(t.column("to_bus").to_pylist(), dtype=object)[keep])
    t = tables.get("transformers")
    if t is not None:
        for buses, ok in zip(t.column("buses").to_pylist(), t.column("status").to_pylist()):
            if ok or not only_in_service:
                a += [buses[0]] * (len(buses) - 1)
                b += buses[1:]
    return a, b


def islands(bus_names: list[str], tables: dict[str, pa.Table], only_in_service: bool) -> np.ndarray:
    """Boolean mask of buses that no source reaches."""
    index = {b: i for i, b in enumerate(bus_names)}
    a, b = edges(tables, only_in_service)
    n = len(bus_names)
    ia = np.fromiter((index[x] for x in a), dtype=np.int64, count=len(a))
    ib = np.fromiter((index[x] for x in b), dtype=np.int64, count=len(b))
    g = coo_matrix((np.ones(len(ia)), (ia, ib)), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    src = tables["sources"].column("bus").to_pylist() if "sources" in tables else []
    fed = {labels[index[s]] for s in src if s in index}
    return ~np.isin(labels, list(fed))


def _first_naming(tables: dict[str, pa.Table], buses: set[str]) -> Span | None:
    """Where the first element naming one of `buses` was written."""
    for name, bcol, _ in BUS_COLUMNS:
        t = tables.get(name)
        if t is None or not t.num_rows:
            continue
        for bus, f, line in zip(t.column(bcol).to_pylist(), t.column("source_file").to_pylist(),
                                t.column("source_line").to_pylist()):
            if bus in buses and f:
                return Span.point(f, line)
    t = tables.get("transformers")
    if t is not None:
        for bl, f, line in zip(t.column("buses").to_pylist(), t.column("source_file").to_pylist(),
                               t.column("source_line").to_pylist()):
            if set(bl) & buses and f:
                return Span.point(f, line)
    return None


def check_islands(bus_names: list[str], tables: dict[str, pa.Table], sink: DiagnosticSink,
                  circuit: Circuit) -> np.ndarray:
    """Warn about buses cut off from every source (or joined only through open/disabled elements).

    A warning, not an error: real feeder exports often carry dead substation
    stubs, and the engine accepts them; the buses are kept with kind ``isolated``.
    """
    if not bus_names:
        return np.zeros(0, dtype=bool)
    cut = islands(bus_names, tables, only_in_service=False)
    off = islands(bus_names, tables, only_in_service=True)
    span = circuit.span
    if cut.any():
        lost = [bus_names[i] for i in np.flatnonzero(cut)]
        span = _first_naming(tables, set(lost)) or span
        sink.warning(codes.DISCONNECTED_ISLAND, f"{len(lost)} bus(es) are not connected to any source "
                     "(kept with kind `isolated`): "
                     f"{', '.join(lost[:8])}{' ...' if len(lost) > 8 else ''}", span,
                     help="connect them with a line or transformer, or remove the elements that name them "
                        "(a bus name typo creates a new, isolated bus)")
    only_open = off & ~cut
    if only_open.any():
        lost = [bus_names[i] for i in np.flatnonzero(only_open)]
        sink.warning(codes.DISCONNECTED_ISLAND, f"{len(lost)} bus(es) are fed only through disabled "
                     f"elements: {', '.join(lost[:8])}{' ...' if len(lost) > 8 else ''}", span,
                     help="they are kept with kind `isolated`")
    return off


"""``load_opendss``: a DSS script -> the canonical three-phase `Network`.

Why this shape: the script is first *executed* (gatlang.network.opendss.script)
into objects, then each class is converted by its own module (convert/*), then
buses, voltage bases, islands and the planning view are derived from the
finished tables.  Every problem becomes a coded diagnostic located in the
``.dss`` file; objects that the model cannot hold are listed as warnings in
``Network.diagnostics`` (copied into run.json), never dropped silently.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from gatlang.diagnostics import DiagnosticSink, Span
from gatlang.network.model import Network, SchemaError, sha256_file

from . import catalog, codes
from .convert.buses import build_buses, check_islands
from .convert.common import Rows
from .convert.injections import (convert_generators, convert_loads, convert_pv, convert_sources,
                                 convert_storage)
from .convert.lines import convert_lines
from .convert.planning import planning_tables
from .convert.shunts import convert_capacitors, convert_capcontrols, convert_reactors
from .convert.transformers import convert_transformers
from .kron import kron_reduce_tables
from .script import Circuit, Interpreter
from .values import numbers

#: element table -> columns that must name a bus
_BUS_COLUMNS = {"lines": ("from_bus", "to_bus"), "loads": ("bus",), "generators": ("bus",),
                "sources": ("bus",), "pv_systems": ("bus",), "storage": ("bus",), "shunts": ("bus",)}


def load_opendss(path: str | Path, sink: DiagnosticSink, *, kron_reduce: bool = False,
                 span: Span | None = None) -> Network | None:
    """Import an OpenDSS circuit; None when errors were reported (they are in `sink`).

    `span` is where the import was requested (a ``.gat`` file), used when the
    file itself is missing.  `kron_reduce` eliminates explicit neutral
    conductors (node 4) so that 4-wire lines become 3x3.
    """
    path = Path(path)
    local = DiagnosticSink()
    interp = Interpreter(local)
    interp.compile(path, span)
    circuit = interp.circuit
    net = None
    if path in circuit.files:
        net = _build(circuit, local, path, kron_reduce)
    sink.extend(local.items)
    if local.has_errors or net is None:
        return None
    net.diagnostics = list(local.items)
    return net


def frequency(circuit: Circuit, sink: DiagnosticSink) -> float:
    """The circuit's frequency: the last `Set DefaultBaseFrequency` (the engine solves at it)."""
    return circuit.frequency


def standard_bases(circuit: Circuit, sink: DiagnosticSink) -> list[float] | None:
    for key, v in circuit.settings.items():
        if key.startswith("voltagebase"):
            return numbers(v, sink, key)
    return None


def _warn_unmodelled(circuit: Circuit, sink: DiagnosticSink) -> None:
    for cls, objs in circuit.objects.items():
        if cls in catalog.MODELLED or cls in catalog.DATA_ONLY:
            continue
        for obj in objs.values():
            sink.warning(codes.NOT_MODELLED, f"{cls} `{obj.display}` is not imported: gatlang has no "
                         f"{cls} model yet", obj.span,
                         help="the imported network leaves it out; remove it from the script to silence this")


def _filter_unconnected(name: str, rows: Rows, sink: DiagnosticSink) -> dict[str, list[Any]]:
    """Drop rows whose element names no bus (already reported) and lines with repeated nodes."""
    cols = dict(rows.columns)
    n = len(rows)
    keep = np.ones(n, dtype=bool)
    for col in _BUS_COLUMNS.get(name, ()):
        vals = cols.get(col, [])
        for i, v in enumerate(vals):
            if not v:
                keep[i] = False
                sink.error(codes.BAD_BUS, f"{name[:-1]} `{cols[next(iter(cols))][i]}` has no `{col}` bus",
                           Span.point(cols["source_file"][i], cols["source_line"][i]),
                           help="connect it with `bus1=`/`bus2=`")
    if name == "lines":
        for i, (fc, tc) in enumerate(zip(cols["f_conn"], cols["t_conn"])):
            for conn in (fc, tc):
                live = [k for k in conn if k != 0]
                if len(set(live)) != len(live):
                    keep[i] = False
                    sink.error(codes.INCONSISTENT_PHASES, f"line `{cols['line'][i]}` connects two of its "
                               f"conductors to the same node ({'.'.join(map(str, conn))})",
                               Span.point(cols["source_file"][i], cols["source_line"][i]),
                               help="list each node once after the bus name, e.g. `bus1=632.1.2.3`")
                    break
    if keep.all():
        return cols
    return {k: [v for v, ok in zip(vals, keep) if ok] for k, vals in cols.items()}


def _build(circuit: Circuit, sink: DiagnosticSink, path: Path, kron: bool) -> Network | None:
    if not circuit.of("vsource"):
        sink.error(codes.NO_CIRCUIT, "the script defines no circuit (`New Circuit.<name>`)",
                   Span.point(str(path), 1), help="start the script with `New Circuit.<name> basekv=...`")
        return None
    freq = frequency(circuit, sink)
    _warn_unmodelled(circuit, sink)
    xf, regs = convert_transformers(circuit, sink, freq)
    cap_shunts, cap_lines = convert_capacitors(circuit, sink, freq)
    reactor_shunts, reactor_lines = convert_reactors(circuit, sink, freq)
    lines = convert_lines(circuit, sink, freq)
    lines.extend(reactor_lines)
    lines.extend(cap_lines)
    cap_shunts.extend(reactor_shunts)
    rows = {"sources": convert_sources(circuit, sink, freq), "lines": lines, "transformers": xf,
            "loads": convert_loads(circuit, sink), "generators": convert_generators(circuit, sink),
            "pv_systems": convert_pv(circuit, sink), "storage": convert_storage(circuit, sink),
            "shunts": cap_shunts, "regulators": regs, "cap_controls": convert_capcontrols(circuit, sink)}
    net = Network(circuit.name or path.stem, base_mva=1.0, frequency_hz=freq, balanced=False)
    try:
        for name, r in rows.items():
            if len(r):
                net.set_table(name, _filter_unconnected(name, r, sink))
        if kron:
            kron_reduce_tables(net)
        net.set_table("buses", build_buses(net.tables, circuit))
    except SchemaError as exc:
        sink.error(codes.SCHEMA_VIOLATION, f"converted data do not fit the canonical model: {exc}",
                   Span.point(str(path), 1), help="this is a gatlang bug; please report it with the file")
        return None
    buses = net.table("buses")
    names = buses.column("bus").to_pylist()
    off = check_islands(names, net.tables, sink, circuit)
    from gatlang.network.perunit3 import voltage_bases
    vb = voltage_bases(net, standard_bases(circuit, sink))
    cols = {c: buses.column(c) for c in buses.column_names}
    cols["vn_kv"] = [vb[b] * math.sqrt(3) if b in vb else None for b in names]
    cols["kind"] = ["isolated" if o else k for o, k in zip(off, buses.column("kind").to_pylist())]
    net.set_table("buses", cols)
    for name, tbl in planning_tables(net).items():
        if tbl:
            net.set_table(name, tbl)
    net.sources = [(str(f), sha256_file(f)) for f in dict.fromkeys(circuit.files) if f.exists()]
    for problem in net.validate():
        sink.error(codes.SCHEMA_VIOLATION, f"imported network is inconsistent: {problem}",
                   Span.point(str(path), 1), help="this is usually a bus named by no element; "
                   "check the element named in the message")
    return net

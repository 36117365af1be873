"""Three-phase (per node) bus admittance matrix in physical siemens, from the canonical model.

Why physical siemens: the matrix can then be compared entry by entry with the
OpenDSS engine's ``Circuit.SystemY()`` (the oracle), and per-unit kernels can
scale it with `gatlang.network.perunit3` bases without this module knowing
any base.  Nodes are named ``"bus.k"`` (k = conductor node, 4 = explicit
neutral); ground (node 0) is the reference and has no row.

What is included: lines (series impedance and line charging), transformers
(the engine's winding model: short-circuit reactances and winding resistances
on the winding-1 kVA, taps, magnetising branch, anti-floating shunt), shunt
capacitors and reactors, and the Thevenin impedance of each voltage source.
Loads, generators, PV and storage are *injections* and are not in the matrix
(compare with the engine after disabling them).

Each element contributes a primitive admittance matrix over its terminal
nodes; primitives are computed in stacked numpy batches (one ``inv`` per group
of equal size) and assembled once into a sparse matrix.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from gatlang.network.model import Network

SQRT3 = math.sqrt(3.0)


@dataclass
class _Stamps:
    """COO triplets of the system matrix, by global node index (-1 = ground, dropped)."""

    rows: list[np.ndarray] = field(default_factory=list)
    cols: list[np.ndarray] = field(default_factory=list)
    vals: list[np.ndarray] = field(default_factory=list)

    def add(self, idx: np.ndarray, prim: np.ndarray) -> None:
        """Stamp primitives `prim` (m, k, k) on node indices `idx` (m, k)."""
        if prim.size == 0:
            return
        m, k = idx.shape
        r = np.repeat(idx, k, axis=1).reshape(m, k, k)
        c = np.tile(idx, (1, k)).reshape(m, k, k)
        keep = (r >= 0) & (c >= 0)
        self.rows.append(r[keep])
        self.cols.append(c[keep])
        self.vals.append(prim[keep])


def _flatten(col) -> tuple[pa.Array, np.ndarray]:
    """(values, offsets) of a list column: row i holds ``values[offsets[i]:offsets[i+1]]`` (null = empty)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if arr.null_count == 0:
        off = arr.offsets.to_numpy().astype(np.int64)     # of a slice: into the whole child array
        vals = arr.values
        if len(off) and (off[0] != 0 or off[-1] != len(vals)):
            vals, off = vals.slice(off[0], off[-1] - off[0]), off - off[0]
        return vals, off
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return pc.list_flatten(arr), offsets


def _rows_of(offsets: np.ndarray) -> np.ndarray:
    """Row of every flattened value, from the offsets of `_flatten`."""
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


def _numbers(values, fill: float | int = 0) -> np.ndarray:
    """A numeric (or boolean) arrow array as numpy, nulls read as `fill`."""
    if not len(values):
        return np.zeros(0)
    if values.null_count:
        values = pc.fill_null(values, fill)
    return values.to_numpy(zero_copy_only=False)


class _Columns:
    """A table's numeric columns as numpy, each converted once (several builders read one column)."""

    def __init__(self, table) -> None:
        self.table = table
        self._lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._scalars: dict[str, np.ndarray] = {}

    def _list(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(values as float with one trailing NaN slot, offsets) of list column `name`."""
        if name not in self._lists:
            vals, off = _flatten(self.table.column(name))
            self._lists[name] = np.append(_numbers(vals, np.nan).astype(float), np.nan), off
        return self._lists[name]

    def gather(self, name: str, rows: np.ndarray, width: int, fill: float = 0.0) -> np.ndarray:
        """(len(rows), width) values of list column `name`; a row not holding exactly `width`
        values (null, empty) reads as `fill`, as do null values."""
        flat, off = self._list(name)
        full = (off[rows + 1] - off[rows]) == width
        out = flat[np.where(full[:, None], off[rows][:, None] + np.arange(width), len(flat) - 1)]
        out[np.isnan(out)] = fill
        return out

    def first(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The first value of list column `name` for `rows` (NaN for an empty or null list)."""
        flat, off = self._list(name)
        return flat[np.where(off[rows + 1] > off[rows], off[rows], len(flat) - 1)]

    def square(self, name: str, rows: np.ndarray, n: int) -> np.ndarray:
        """(len(rows), n, n) matrices of list column `name` (row-major, n*n values; null = zeros)."""
        return self.gather(name, rows, n * n).reshape(len(rows), n, n)

    def scalar(self, name: str, rows: np.ndarray, fill: float) -> np.ndarray:
        """Numeric column `name` at `rows`, nulls read as `fill`."""
        if name not in self._scalars:
            self._scalars[name] = _numbers(self.table.column(name).combine_chunks(), np.nan).astype(float)
        out = self._scalars[name][rows]
        out[np.isnan(out)] = fill
        return out


@dataclass
class _Terminals:
    """The terminals of one element class, flattened, and where each row's terminals start.

    ``buses`` holds the bus names the class refers to (one per row, or one per
    winding for transformers) and ``owner`` the entry of ``buses`` each
    terminal sits on: bus names are encoded per row, never per terminal.
    """

    buses: pa.Array
    owner: np.ndarray
    node: np.ndarray
    offsets: np.ndarray
    index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))   # global node, -1 = ground

    def of_rows(self, rows: np.ndarray, width: int) -> np.ndarray:
        """(len(rows), width) global node indices of the first `width` terminals of each row."""
        return self.index[self.offsets[rows][:, None] + np.arange(width)]


def _strings(col) -> pa.Array:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return arr.cast(pa.string())


def _list_terminals(table, bus: str, conn: str) -> _Terminals:
    """Terminals of a table with one bus column and one list-of-nodes column."""
    nodes, off = _flatten(table.column(conn))
    return _Terminals(_strings(table.column(bus)), _rows_of(off), _numbers(nodes).astype(np.int64), off)


def _transformer_terminals(table) -> _Terminals:
    """Terminals of every transformer, winding by winding (``buses[w]`` with ``conns[w]``)."""
    wbus, bus_off = _flatten(table.column("buses"))
    wconn, win_off = _flatten(table.column("conns"))
    nodes, node_off = _flatten(wconn)
    # winding w of row r is the (w - win_off[r])-th bus of that row
    row = _rows_of(win_off)
    wb = bus_off[row] + np.arange(len(row)) - win_off[row]
    return _Terminals(_strings(wbus), wb[_rows_of(node_off)], _numbers(nodes).astype(np.int64), node_off[win_off])


#: node numbers are int8 in the schema: (bus code, node) packs into one sortable key
_NODE_SPAN = 256
_NODE_SHIFT = 128


class NodeIndex:
    """Global numbering of (bus, node) pairs, in bus-table order then node order.

    A bus not in the buses table takes its place where an element first names
    it (lines' from ends, lines' to ends, transformers, shunts, sources); its
    nodes are those its terminals use (node 0, ground, has no row).  Built in
    bulk: the bus names are dictionary-encoded in order of appearance and the
    (bus, node) pairs numbered by one ``np.unique``; ``terminals`` keeps every
    element class's terminals with their global index for the stamping code.
    """

    def __init__(self, net: Network) -> None:
        buses = net.table("buses")
        phases, ph_off = _flatten(buses.column("phases"))
        bus_col = _strings(buses.column("bus"))
        self.terminals: dict[str, _Terminals] = {
            "lines.from": _list_terminals(net.table("lines"), "from_bus", "f_conn"),
            "lines.to": _list_terminals(net.table("lines"), "to_bus", "t_conn"),
            "transformers": _transformer_terminals(net.table("transformers")),
            "shunts": _list_terminals(net.table("shunts"), "bus", "conn"),
            "sources": _list_terminals(net.table("sources"), "bus", "conn"),
        }
        groups = list(self.terminals.values())
        enc = pc.dictionary_encode(pa.concat_arrays([bus_col] + [t.buses for t in groups]))
        codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        self._dictionary: pa.Array = enc.dictionary
        self._bus_names: list[str] = enc.dictionary.to_pylist()
        ends = np.cumsum([len(bus_col)] + [len(t.buses) for t in groups])
        pairs = [self._key(np.repeat(codes[:ends[0]], np.diff(ph_off)), _numbers(phases).astype(np.int64))]
        term_keys = [self._key(codes[start:end][t.owner], t.node) for start, end, t in zip(ends[:-1], ends[1:], groups)]
        self._keys = np.unique(np.concatenate(pairs + [k[t.node > 0] for k, t in zip(term_keys, groups)]))
        for k, t in zip(term_keys, groups):
            t.index = np.where(t.node > 0, np.searchsorted(self._keys, k), -1)
        code, node = np.divmod(self._keys, _NODE_SPAN)
        self.names: list[str] = pc.binary_join_element_wise(
            enc.dictionary.take(pa.array(code)), pa.array((node - _NODE_SHIFT).astype(str)), ".").to_pylist()

    @staticmethod
    def _key(code: np.ndarray, node: np.ndarray) -> np.ndarray:
        return code * _NODE_SPAN + (node + _NODE_SHIFT)

    @cached_property
    def index(self) -> dict[tuple[str, int], int]:
        """(bus, node) -> global index (built on first use: the bulk paths never need it)."""
        code, node = np.divmod(self._keys, _NODE_SPAN)
        return {(self._bus_names[c], n - _NODE_SHIFT): i for i, (c, n) in enumerate(zip(code.tolist(), node.tolist()))}

    def __call__(self, bus: str, nodes: list[int]) -> list[int]:
        return [self.index[(bus, n)] if n > 0 else -1 for n in nodes]

    def lookup(self, buses, nodes: np.ndarray) -> np.ndarray:
        """Global index of each (``buses[i]``, ``nodes[i]``) pair, in bulk; -1 for ground (node <= 0)
        and for a pair the network does not number (a bus or conductor no branch element uses).

        ``buses``: bus names, one per pair (a list or an arrow string array).  Why in bulk:
        loads and PV name thousands of terminals, and a dict lookup per terminal costs more
        than the solve of a small feeder.
        """
        nodes = np.asarray(nodes, dtype=np.int64)
        if not len(nodes):
            return np.zeros(0, dtype=np.int64)
        code = pc.index_in(_strings(pa.array(buses) if isinstance(buses, list) else buses),
                           value_set=self._dictionary).to_numpy(zero_copy_only=False)
        known = ~np.isnan(code) if code.dtype.kind == "f" else np.ones(len(code), dtype=bool)
        key = self._key(np.where(known, np.nan_to_num(code), 0).astype(np.int64), nodes)
        pos = np.minimum(np.searchsorted(self._keys, key), max(len(self._keys) - 1, 0))
        hit = known & (nodes > 0) & (len(self._keys) > 0)
        hit &= self._keys[pos] == key if len(self._keys) else False
        return np.where(hit, pos, -1)


# ------------------------------------------------------------------ lines

def _lines(net: Network, nodes: NodeIndex, st: _Stamps) -> None:
    t = net.table("lines")
    if t.num_rows == 0:
        return
    f, to = nodes.terminals["lines.from"], nodes.terminals["lines.to"]
    c = _Columns(t)
    size = np.diff(f.offsets)
    status = pc.fill_null(t.column("status"), False).to_numpy(zero_copy_only=False)
    for n in np.unique(size):
        sel = np.flatnonzero((size == n) & status)
        if n == 0 or not len(sel):
            continue
        z = c.square("r_ohm", sel, n) + 1j * c.square("x_ohm", sel, n)
        ys = np.linalg.inv(z)
        yf = c.square("g_from_s", sel, n) + 1j * c.square("b_from_s", sel, n)
        yt = c.square("g_to_s", sel, n) + 1j * c.square("b_to_s", sel, n)
        prim = np.empty((len(sel), 2 * n, 2 * n), dtype=complex)     # [[ys + yf, -ys], [-ys, ys + yt]]
        prim[:, :n, :n] = ys + yf
        prim[:, :n, n:] = -ys
        prim[:, n:, :n] = -ys
        prim[:, n:, n:] = ys + yt
        st.add(np.concatenate([f.of_rows(sel, n), to.of_rows(sel, n)], axis=1), prim)


# ------------------------------------------------------------------ transformers

def winding_vbase(kv, connection: str, phases: int):
    """Volts across one winding: line-to-neutral for a multi-phase wye, else the rating."""
    return np.asarray(kv) * 1e3 / (SQRT3 if connection == "wye" and phases > 1 else 1.0)


def _structure(row: dict) -> tuple:
    """Transformers with the same structure share one batched computation."""
    nw = len(row["kv"])
    conns = tuple(row["connections"] or ["wye"] * nw)
    return nw, int(row["phases"] or 3), conns, (row.get("shift_deg") or 0.0) < 0


@dataclass
class TransformerBatch:
    """Transformers of one structure (windings, phases, connections, lead/lag) as stacked arrays.

    Why: the winding model is the same arithmetic for every transformer of a
    structure, so it runs once per structure on (m, ...) arrays; the batch is
    read either from table rows (`from_rows`, a few regulators) or straight
    from the table's columns (`from_table`, thousands of service transformers).
    """

    nw: int
    nph: int
    conns: tuple[str, ...]
    leading: bool
    kv: np.ndarray        # (m, nw) winding kV
    taps: np.ndarray      # (m, nw) pu
    rpu: np.ndarray       # (m, nw) winding resistance, pu
    xsc: np.ndarray       # (m, 1 or 3) short-circuit reactances 1-2 (1-3, 2-3), pu
    kva1: np.ndarray      # (m,) winding-1 kVA
    mag: np.ndarray       # (m,) magnetising branch, % (no-load loss - j imag)
    ppm: np.ndarray       # (m,) anti-floating shunt, ppm

    @property
    def m(self) -> int:
        return len(self.kva1)

    @classmethod
    def from_rows(cls, rows: list[dict]) -> "TransformerBatch":
        nw, nph, conns, leading = _structure(rows[0])
        return cls(
            nw, nph, conns, leading,
            np.asarray([r["kv"] for r in rows], dtype=float),
            np.asarray([r["taps_pu"] or [1.0] * nw for r in rows], dtype=float),
            np.asarray([r["r_pct"] for r in rows], dtype=float) / 100.0,
            np.asarray([[r["xhl_pct"]] + ([r["xht_pct"], r["xlt_pct"]] if nw > 2 else []) for r in rows],
                       dtype=float) / 100.0,
            np.asarray([r["kva"][0] for r in rows], dtype=float),
            np.asarray([complex(r["noloadloss_pct"] or 0.0, -(r["imag_pct"] or 0.0)) for r in rows]),
            np.asarray([r.get("ppm_antifloat") or 0.0 for r in rows], dtype=float))

    @classmethod
    def from_table(cls, t: "_Columns", sel: np.ndarray, structure: tuple) -> "TransformerBatch":
        """Rows `sel` of the transformers table, all of `structure` (see `_structure`)."""
        nw, nph, conns, leading = structure
        xnames = ("xhl_pct", "xht_pct", "xlt_pct") if nw > 2 else ("xhl_pct",)
        return cls(
            nw, nph, conns, leading, t.gather("kv", sel, nw, np.nan), t.gather("taps_pu", sel, nw, 1.0),
            t.gather("r_pct", sel, nw, np.nan) / 100.0,
            np.stack([t.scalar(x, sel, np.nan) for x in xnames], axis=1) / 100.0, t.first("kva", sel),
            t.scalar("noloadloss_pct", sel, 0.0) - 1j * t.scalar("imag_pct", sel, 0.0),
            t.scalar("ppm_antifloat", sel, 0.0))


def _terminal_y(b: TransformerBatch) -> np.ndarray:
    nw, nph, conns, m = b.nw, b.nph, b.conns, b.m
    rpu, xsc = b.rpu, b.xsc
    zbase = nph / (b.kva1 * 1e3)                         # ohm on 1 volt
    zb = np.zeros((m, nw - 1, nw - 1), dtype=complex)
    for i in range(nw - 1):
        zb[:, i, i] = (rpu[:, 0] + rpu[:, i + 1] + 1j * xsc[:, i]) * zbase
    k = nw - 1
    for i in range(nw - 1):
        for j in range(i + 1, nw - 1):
            zij = (rpu[:, i + 1] + rpu[:, j + 1] + 1j * xsc[:, k]) * zbase
            zb[:, i, j] = zb[:, j, i] = 0.5 * (zb[:, i, i] + zb[:, j, j] - zij)
            k += 1
    a = np.zeros((nw - 1, nw))
    a[:, 0] = -1.0
    a[np.arange(nw - 1), np.arange(1, nw)] = 1.0
    y1 = np.einsum("ki,mkl,lj->mij", a, np.linalg.inv(zb), a)          # N x N on one volt
    y1[:, 1, 1] += b.mag / 100.0 / zbase
    vb = np.stack([winding_vbase(b.kv[:, w], conns[w], nph) for w in range(nw)], axis=1) * b.taps
    # each winding's two ends: +-1/turns at (2w, 2w+1); written out rather than as a product with
    # the (mostly zero) turns matrix, which einsum evaluates term by term
    t = 1.0 / vb
    y = t[:, :, None] * y1 * t[:, None, :]
    out = np.empty((m, 2 * nw, 2 * nw), dtype=complex)
    out[:, 0::2, 0::2] = y
    out[:, 1::2, 1::2] = y
    out[:, 0::2, 1::2] = -y
    out[:, 1::2, 0::2] = -y
    return out


def transformer_terminal_y(rows: list[dict]) -> np.ndarray:
    """(m, 2N, 2N): one phase of N-winding transformers of one structure, both ends of every winding.

    The engine's model: short-circuit impedances between winding 1 and each
    other winding (and between the others) on a 1-volt, winding-1-kVA base,
    inverted and expanded through the incidence of windings, then scaled by
    the turns (winding volts times tap) of each winding; the magnetising
    branch sits across winding 2.
    """
    return _terminal_y(TransformerBatch.from_rows(rows))


def _primitives(b: TransformerBatch) -> np.ndarray:
    nw, nph, conns, m = b.nw, b.nph, b.conns, b.m
    yterm = _terminal_y(b)
    ncond = nph + 1
    prim = np.zeros((m, nw * ncond, nw * ncond), dtype=complex)
    step = -1 if conns[0] == "delta" and conns[1] == "wye" else 1
    step = -step if b.leading else step
    va_phase = b.kva1 * 1e3 / nph
    float_y = np.stack([-1j * b.ppm * 1e-6 * va_phase / winding_vbase(b.kv[:, w], conns[w], nph) ** 2 / 2.0
                        for w in range(nw)], axis=1)                           # (m, nw)
    for ph in range(nph):
        ends = []
        for w in range(nw):
            lo = nph if conns[w] == "wye" else ((ph + step) % nph if nph > 1 else 1)
            ends += [w * ncond + ph, w * ncond + lo]
        e = np.asarray(ends)
        prim[:, e[:, None], e[None, :]] += yterm
        prim[:, e, e] += np.repeat(float_y, 2, axis=1)
    for w in range(nw):
        if conns[w] == "wye":
            prim[:, w * ncond + nph, w * ncond + nph] += float_y[:, w]
    return prim


def transformer_primitives(rows: list[dict]) -> np.ndarray:
    """(m, N(n+1), N(n+1)) primitive Y over (winding, conductor); conductor n is the winding's neutral.

    All `rows` must share `_structure`.  Delta windings follow the engine's
    ANSI 30-degree lag (shift_deg +30): phase k's winding runs from conductor
    k to k+1, or to k-1 when a delta winding 1 feeds a wye winding 2; reversed
    for a leading connection (shift_deg -30).  The engine's anti-floating
    shunt (ppm of the 1-volt base, halved) is added at both ends of every
    winding and once more on a wye neutral.
    """
    return _primitives(TransformerBatch.from_rows(rows))


def transformer_primitive(row: dict) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """One transformer's primitive Y and its (winding, conductor) terminal order."""
    nw, nph = len(row["kv"]), int(row["phases"] or 3)
    return transformer_primitives([row])[0], [(w, c) for w in range(nw) for c in range(nph + 1)]


def _structures(t) -> tuple[np.ndarray, list[tuple]]:
    """(structure number per row, -1 out of service; the structures in order of first appearance).

    A structure is `_structure`'s tuple; it is read from the columns as numbers
    (windings, phases, which windings are wye, lead/lag) so that grouping costs
    one ``np.unique`` whatever the number of transformers.  A winding whose
    connection is anything but ``wye`` is modelled as a delta, as in `_primitives`.
    """
    nw = np.diff(_flatten(t.column("kv"))[1])
    nph = _numbers(t.column("phases").combine_chunks(), 0).astype(np.int64)
    nph[nph == 0] = 3
    conn, off = _flatten(t.column("connections"))
    count = np.diff(off)
    row = _rows_of(off)
    wye = _numbers(pc.equal(conn, "wye"), False).astype(np.int64) if len(conn) else np.zeros(0, np.int64)
    bits = np.bincount(row, weights=wye << (np.arange(len(row)) - off[row]), minlength=len(count)).astype(np.int64)
    default = count == 0                     # no connections given: every winding wye
    count = np.where(default, nw, count)
    bits = np.where(default, (1 << nw) - 1, bits)
    leading = _numbers(t.column("shift_deg").combine_chunks(), 0.0) < 0
    status = _numbers(t.column("status").combine_chunks(), False).astype(bool)
    parts = np.stack([nw, nph, count, bits, leading.astype(np.int64)], axis=1)[status]
    codes = np.full(t.num_rows, -1, dtype=np.int64)
    if not len(parts):
        return codes, []
    key = (((parts[:, 0] * 64 + parts[:, 1]) * 64 + parts[:, 2]) << 33) + parts[:, 3] * 2 + parts[:, 4]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first)                # number the structures in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    codes[status] = rank[inverse.ravel()]
    structures = [(int(w), int(p), tuple("wye" if (m >> k) & 1 else "delta" for k in range(c)), bool(lead))
                  for w, p, c, m, lead in parts[first[order]].tolist()]
    return codes, structures


def _transformers(net: Network, nodes: NodeIndex, st: _Stamps) -> None:
    t = net.table("transformers")
    if t.num_rows == 0:
        return
    codes, structures = _structures(t)
    terms, cols = nodes.terminals["transformers"], _Columns(t)
    for g, structure in enumerate(structures):
        sel = np.flatnonzero(codes == g)
        width = int(terms.offsets[sel[0] + 1] - terms.offsets[sel[0]])
        st.add(terms.of_rows(sel, width), _primitives(TransformerBatch.from_table(cols, sel, structure)))


# ------------------------------------------------------------------ shunts and sources

def shunt_primitive(b_mvar: float, g_mw: float, vn_kv: float, connection: str, nconds: int,
                    nphases: int) -> np.ndarray:
    """Primitive over the element's conductors: wye phases to the neutral, or delta phase pairs."""
    if connection == "wye":
        vph = vn_kv * 1e3 / SQRT3 if nphases > 1 else vn_kv * 1e3
    else:
        vph = vn_kv * 1e3
    y = complex(g_mw, b_mvar) * 1e6 / nphases / (vph * vph)
    prim = np.zeros((nconds, nconds), dtype=complex)
    for k in range(nphases):
        a = k
        b = nphases if connection == "wye" else ((k + 1) % nphases if nphases > 1 else 1)
        prim[np.ix_([a, b], [a, b])] += y * np.array([[1, -1], [-1, 1]])
    return prim


def shunt_row_primitive(row: dict) -> np.ndarray:
    """The primitive of one `shunts` table row over its conductors (`conn`)."""
    conn = row["conn"]
    nph = len(conn) - 1 if row["connection"] == "wye" else (1 if len(conn) == 2 else len(conn))
    return shunt_primitive(row["b_mvar"] or 0.0, row["g_mw"] or 0.0, row["vn_kv"] or 0.0,
                           row["connection"], len(conn), nph)


def _shunts(net: Network, nodes: NodeIndex, st: _Stamps) -> None:
    t = net.table("shunts")
    terms = nodes.terminals["shunts"]
    for i, row in enumerate(t.to_pylist()):          # a few banks: row by row
        if not row["status"]:
            continue
        st.add(terms.of_rows(np.asarray([i]), len(row["conn"])), shunt_row_primitive(row)[None])


def sequence_matrix(z1: complex, z0: complex, n: int) -> np.ndarray:
    """Phase impedance matrix of a balanced element from sequence impedances."""
    zs, zm = (2 * z1 + z0) / 3.0, (z0 - z1) / 3.0
    return np.full((n, n), zm, dtype=complex) + np.eye(n) * (zs - zm)


def source_impedance(row: dict) -> np.ndarray:
    """Thevenin impedance matrix (ohm) of one `sources` row over its conductors."""
    return sequence_matrix(complex(row["r1_ohm"], row["x1_ohm"]), complex(row["r0_ohm"], row["x0_ohm"]),
                           len(row["conn"]))


def source_emf(row: dict) -> np.ndarray:
    """EMF (V) per conductor of one `sources` row: ``pu * basekv / sqrt(3)`` at ``angle - 120 k`` degrees."""
    nph = len(row["conn"])
    mag = (row["pu"] if row["pu"] is not None else 1.0) * (row["vn_kv"] or 0.0) * 1e3 / SQRT3
    return mag * np.exp(1j * np.radians((row["angle_deg"] or 0.0) - 120.0 * np.arange(nph)))


def _sources(net: Network, nodes: NodeIndex, st: _Stamps) -> None:
    t = net.table("sources")
    terms = nodes.terminals["sources"]
    for i, row in enumerate(t.to_pylist()):
        st.add(terms.of_rows(np.asarray([i]), len(row["conn"])), np.linalg.inv(source_impedance(row))[None])


def build_ybus3(net: Network) -> tuple[sp.csc_matrix, list[str]]:
    """(Y in siemens, node names ``"bus.k"``) of lines, transformers, shunts and source impedances."""
    y, nodes = build_ybus3_indexed(net)
    return y, nodes.names


def build_ybus3_indexed(net: Network) -> tuple[sp.csc_matrix, NodeIndex]:
    """`build_ybus3` with the node numbering itself, for callers that look nodes up in bulk."""
    nodes = NodeIndex(net)
    st = _Stamps()
    _lines(net, nodes, st)
    _transformers(net, nodes, st)
    _shunts(net, nodes, st)
    _sources(net, nodes, st)
    n = len(nodes.names)
    if not st.vals:
        return sp.csc_matrix((n, n), dtype=complex), nodes
    y = sp.coo_matrix((np.concatenate(st.vals), (np.concatenate(st.rows), np.concatenate(st.cols))),
                      shape=(n, n)).tocsc()
    y.sum_duplicates()
    return y, nodes

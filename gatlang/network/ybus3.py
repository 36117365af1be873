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
nodes; the primitives, their COO triplets, the node numbering and the final
COO -> CSC assembly are compiled loops (`gatlang.network.ybus3_kernels`, numba,
imported on first use), fed with the tables' columns read once as flat numpy
arrays.  Why compiled: a small feeder (IEEE 123) has a few hundred elements,
so the fixed cost of each array call, not arithmetic, was what a numpy build
cost.  The kernels repeat the numpy arithmetic they replaced operation by
operation (the small inverses stay LAPACK's), so the matrix is the same bit
for bit; the numpy formulation is kept where it is the reference the tests
compare with (`transformer_primitives`, `shunt_row_primitive`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import accumulate

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
        self.add_entries(*_kernels().stamp_entries(prim, np.full(len(idx), idx.shape[1]), idx))

    def add_entries(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        """Append triplets (`ybus3_kernels.stamp_entries`)."""
        self.rows.append(rows)
        self.cols.append(cols)
        self.vals.append(vals)


def _kernels():
    """The compiled kernels, imported on first use (numba's start would slow the import of this
    module, which the balanced views use too)."""
    from gatlang.network import ybus3_kernels
    return ybus3_kernels


def _array(col) -> pa.Array:
    """A column as one arrow array (a table's columns are chunked, nearly always in one chunk)."""
    if isinstance(col, pa.ChunkedArray):
        return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
    return col


def _column(t: pa.Table, name: str) -> pa.Array:
    """Column `name` of table `t` as one arrow array (`_array`), found by its index in the schema
    (``t.column(name)`` costs three times as much; a missing or repeated name is left to it)."""
    i = t.schema.get_field_index(name)
    return _array(t.column(i) if i >= 0 else t.column(name))


def _flatten(col) -> tuple[pa.Array, np.ndarray]:
    """(values, offsets) of a list column: row i holds ``values[offsets[i]:offsets[i+1]]`` (null = empty)."""
    arr = _array(col)
    if not arr.null_count:
        # of a slice: into the whole child array (never empty)
        off = _offsets(arr) if pa.types.is_list(arr.type) else arr.offsets.to_numpy().astype(np.int64)
        vals = arr.values
        lo, hi = int(off[0]), int(off[-1])
        if lo or hi != len(vals):
            vals, off = vals.slice(lo, hi - lo), off - lo
        return vals, off
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return pc.list_flatten(arr), offsets


def _lengths(col) -> np.ndarray:
    """Length of every list of a list column (null = 0), without reading the values."""
    arr = _array(col)
    if not arr.null_count:
        off = arr.offsets.to_numpy().astype(np.int64)
        return off[1:] - off[:-1]
    return pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)


def _list_numpy(col) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values as float, NaN where null; offsets; validity, empty if no list is null) of a list
    column, for the kernels: row i holds ``values[offsets[i]:offsets[i + 1]]`` unless invalid.

    Why not `_flatten`: the offsets index the whole child array, so nothing is sliced or
    copied (a few microseconds a column, against a dozen for a normalised copy).  Why read-only,
    all three: numba compiles a kernel per argument type, and read-only is part of the type
    (arrow's zero-copy arrays are; a column with nulls would otherwise compile anew).
    """
    arr = _array(col)
    values = arr.values.to_numpy(zero_copy_only=False)
    if values.dtype != np.float64:
        values = values.astype(np.float64)
    offsets = _offsets(arr) if pa.types.is_list(arr.type) else np.asarray(arr.offsets, dtype=np.int64)
    values.flags.writeable = offsets.flags.writeable = False
    if not arr.null_count:
        return values, offsets, _NO_NULLS
    valid = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    valid.flags.writeable = False
    return values, offsets, valid


_NO_NULLS = np.zeros(0, dtype=bool)
_NO_NULLS.flags.writeable = False


def _list_block(t, names: tuple[str, ...]) -> list[np.ndarray]:
    """(values, offsets, validity) of each list column `names` of table `t`, one after another
    (`_list_numpy`)."""
    return [a for name in names for a in _list_numpy(_column(t, name))]


def _invert_by_size(z: np.ndarray, size: np.ndarray) -> np.ndarray:
    """``inv`` of ``z[e, :size[e], :size[e]]`` for every e, one ``np.linalg.inv`` (LAPACK) per size.

    Why LAPACK and batched by size: the inverses are those the numpy builder computed, bit for bit
    (each matrix is factorised on its own whatever the batch)."""
    out = np.zeros_like(z)
    sizes = np.bincount(size).nonzero()[0].tolist()
    for n in sizes:
        sel = slice(None) if len(sizes) == 1 else (size == n)
        out[sel, :n, :n] = _inv(z[sel, :n, :n])
    return out


def _inv(z: np.ndarray) -> np.ndarray:
    """``np.linalg.inv(z)`` (m, n, n); 1 x 1 matrices by the kernel that repeats it bit for bit."""
    if z.shape[1] == 1:
        return _kernels().inverse_1x1(z.reshape(-1)).reshape(z.shape)
    return np.linalg.inv(z)


def _rows_of(offsets: np.ndarray) -> np.ndarray:
    """Row of every flattened value, from the offsets of `_flatten`."""
    return np.arange(len(offsets) - 1).repeat(offsets[1:] - offsets[:-1])


def _numbers(values, fill: float | int = 0) -> np.ndarray:
    """A numeric (or boolean) arrow array as numpy, nulls read as `fill`."""
    if not len(values):
        return np.zeros(0)
    if values.null_count and not (fill != fill and pa.types.is_floating(values.type)):
        values = pc.fill_null(values, fill)          # (arrow reads a null float as NaN itself)
    return values.to_numpy(zero_copy_only=False)


def _distinct(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row of the first occurrence of each distinct key, in order of first appearance; the number
    of that key for every row).  ``np.unique`` does the same at several times the fixed cost."""
    order = key.argsort(kind="stable")
    ordered = key[order]
    new = np.empty(len(key), dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    first = order[new]                           # by key; stable: each key's first row
    by_appearance = first.argsort(kind="stable")
    rank = np.empty_like(by_appearance)
    rank[by_appearance] = np.arange(len(first))
    number = np.empty(len(key), dtype=np.int64)
    number[order] = rank[new.cumsum() - 1]
    return first[by_appearance], number


@dataclass
class _Terminals:
    """Where the terminals of each row of one element class sit in `NodeIndex`'s terminal numbering:
    row r's terminals are ``index[offsets[r]:offsets[r + 1]]`` (global node, -1 = ground)."""

    offsets: np.ndarray
    index: np.ndarray

    def of_rows(self, rows: np.ndarray, width: int) -> np.ndarray:
        """(len(rows), width) global node indices of the first `width` terminals of each row."""
        return self.index[self.offsets[rows][:, None] + np.arange(width)]


def _strings(col) -> pa.Array:
    arr = _array(col)
    return arr if arr.type == pa.string() else arr.cast(pa.string())


def _same_type(arrays: list[pa.Array]) -> list[pa.Array]:
    """`arrays` cast to the first one's type where they differ (so that they concatenate)."""
    return [a if a.type == arrays[0].type else a.cast(arrays[0].type) for a in arrays]


#: (class, table, bus column, node-list column) of the element classes with one bus per row that
#: name buses before the transformers do, and after
_BEFORE_TRANSFORMERS = (("lines.from", "lines", "from_bus", "f_conn"), ("lines.to", "lines", "to_bus", "t_conn"))
_AFTER_TRANSFORMERS = (("shunts", "shunts", "bus", "conn"), ("sources", "sources", "bus", "conn"))


class NodeIndex:
    """Global numbering of (bus, node) pairs, in bus-table order then node order.

    A bus not in the buses table takes its place where an element first names
    it (lines' from ends, lines' to ends, transformers, shunts, sources); its
    nodes are those its terminals use (node 0, ground, has no row).  Built in
    bulk: every node list (the buses' phases, then each element class's
    terminals, winding by winding for transformers) is concatenated and read
    once, and one kernel (`ybus3_kernels.node_numbering`) encodes the bus names
    in order of appearance (a hash of their UTF-8 bytes, read from the arrow
    buffers), numbers the (bus, node) pairs by their rank on a dense (bus, node)
    grid (the nodes of a feeder span a few numbers, so the grid is a few times
    the number of buses) and writes the node names; ``terminals`` tells the
    stamping code where each element class's terminals sit in that numbering.
    The hash table and the grid stay, so that `lookup` numbers names without a
    Python dict.
    """

    def __init__(self, net: Network) -> None:
        buses = net.table("buses")
        xf = net.table("transformers")
        wbus, bus_off = _flatten(_column(xf, "buses"))
        wconn, win_off = _flatten(_column(xf, "conns"))
        before = [(net.table(t), b, c) for _, t, b, c in _BEFORE_TRANSFORMERS]
        after = [(net.table(t), b, c) for _, t, b, c in _AFTER_TRANSFORMERS]
        # one entry (a bus with its node list) per bus-table row, element row or winding, in naming order
        names = ([_strings(_column(buses, "bus"))] + [_strings(_column(t, b)) for t, b, _ in before]
                 + [_strings(wbus)] + [_strings(_column(t, b)) for t, b, _ in after])
        lists = _same_type([_column(buses, "phases")] + [_column(t, c) for t, _, c in before] +
                           [wconn] + [_column(t, c) for t, _, c in after])
        node, off = _node_lists(pa.concat_arrays(lists))
        self._names_array = pa.concat_arrays(names)
        self._data, self._offsets = _string_buffers(self._names_array)
        a = sum(len(x) for x in names[:1 + len(before)])                # the windings' buses: [a, b)
        (index, self._bus, self._node, self._grid, self._lo, self._span, codes, self._first, self._table, text,
         clean) = _kernels().node_numbering(self._data, self._offsets, a, a + len(wbus), bus_off, win_off, node, off,
                                            len(names[0]))
        self._table_codes = codes[:len(names[0])]             # the code of each buses-table row
        self.names: list[str] = self._node_names(text, clean)
        first = list(accumulate([0] + [len(x) for x in lists]))             # of each class's entries
        classes = [c[0] for c in _BEFORE_TRANSFORMERS] + ["transformers"] + [c[0] for c in _AFTER_TRANSFORMERS]
        self.terminals: dict[str, _Terminals] = {
            name: _Terminals(off[first[k + 1]:first[k + 2] + 1], index) for k, name in enumerate(classes)}
        xf_start = first[1 + len(_BEFORE_TRANSFORMERS)]           # (transformers: by row, not by winding)
        self.terminals["transformers"] = _Terminals(off[xf_start + win_off], index)

    def _node_names(self, text: np.ndarray, clean: bool) -> list[str]:
        """The names ``"bus.k"`` of the numbered nodes: the kernel's newline-joined text split, or,
        when a bus name holds a newline itself, ``bus`` + ``".k"`` one by one."""
        if not len(self._bus):
            return []
        if clean:
            return text.tobytes().decode().split("\n")
        bus_names = self._dictionary.to_pylist()
        return [f"{bus_names[c]}.{k}" for c, k in zip(self._bus.tolist(), self._node.tolist())]

    @cached_property
    def _dictionary(self) -> pa.Array:
        """The distinct bus names, in code order (`ybus3_kernels.encode_names`)."""
        return self._names_array.take(pa.array(self._first))

    @cached_property
    def index(self) -> dict[tuple[str, int], int]:
        """(bus, node) -> global index (built on first use: the bulk paths never need it)."""
        bus_names = self._dictionary.to_pylist()
        return {(bus_names[c], n): i for i, (c, n) in enumerate(zip(self._bus.tolist(), self._node.tolist()))}

    def __call__(self, bus: str, nodes: list[int]) -> list[int]:
        return [self.index[(bus, n)] if n > 0 else -1 for n in nodes]

    def lookup(self, buses, nodes: np.ndarray) -> np.ndarray:
        """Global index of each (``buses[i]``, ``nodes[i]``) pair, in bulk; -1 for ground (node <= 0)
        and for a pair the network does not number (a bus or conductor no branch element uses).

        ``buses``: bus names, one per pair (a list or an arrow string array).  Why in bulk:
        loads and PV name thousands of terminals, and a dict lookup per terminal costs more
        than the solve of a small feeder.  The names are found in the numbering's own hash
        table (`ybus3_kernels.lookup_nodes`), read as one newline-joined text (a list of
        ``str``) or from the arrow buffers; a list of anything else, or an array with nulls,
        through a dict of the bus names.
        """
        nodes = np.asarray(nodes, dtype=np.int64)
        if not len(nodes) or not len(self._bus):
            return np.full(len(nodes), -1, dtype=np.int64)
        query = _query_names(buses, len(nodes))
        if query is None:
            return self._lookup_by_dict(buses, nodes)
        return _kernels().lookup_nodes(*query, nodes, self._data, *self._table, self._grid, self._lo, self._span)

    def _lookup_by_dict(self, buses, nodes: np.ndarray) -> np.ndarray:
        """`lookup` through a dict of the bus names (names that are not all strings)."""
        names = buses if isinstance(buses, list) else _array(buses).to_pylist()
        code_of = self._code_of
        code = np.fromiter((code_of.get(b, -1) for b in names), dtype=np.int64, count=len(names))
        out = np.full(len(nodes), -1, dtype=np.int64)
        on = (code >= 0) & (nodes > 0) & (nodes >= self._lo) & (nodes < self._lo + self._span)
        out[on] = self._grid[code[on] * self._span + nodes[on] - self._lo]
        return out

    def per_node(self, bus_values: np.ndarray) -> np.ndarray:
        """A column of the buses table (one value per row, float) read for every node of the
        numbering; NaN for a node on a bus the table does not list."""
        by_code = np.full(len(self._first), np.nan)
        by_code[self._table_codes] = bus_values
        return by_code[self._bus]

    @cached_property
    def _code_of(self) -> dict[str, int]:
        """Bus name -> its code in the numbering (`_lookup_by_dict`)."""
        return {name: i for i, name in enumerate(self._dictionary.to_pylist())}


#: a list of names with none holding a newline is read as one newline-joined text
_NEWLINE = "\n"
_NO_OFFSETS = np.zeros(0, dtype=np.int64)


def _query_names(buses, count: int) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """(UTF-8 bytes, offsets, whether to split the bytes at newlines instead) of `count` bus names
    for `ybus3_kernels.lookup_nodes`; None when they are not all strings (or not `count`)."""
    if isinstance(buses, list):
        if len(buses) != count:
            return None
        try:
            text = _NEWLINE.join(buses)
            if text.count(_NEWLINE) == count - 1:
                return np.frombuffer(text.encode(), dtype=np.uint8), _NO_OFFSETS, True
        except (TypeError, UnicodeEncodeError):
            return None
        buses = pa.array(buses, pa.string())
    arr = _strings(buses)
    if arr.null_count or len(arr) != count:
        return None
    return (*_string_buffers(arr), False)


def _string_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(UTF-8 bytes, int64 offsets: string i is ``bytes[offsets[i]:offsets[i + 1]]``) of a string
    array, read from its arrow buffers (nulls read as empty strings)."""
    data = arr.buffers()[2]
    return (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)), _offsets(arr)


def _node_lists(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(values as int64, offsets) of a list column of node numbers: list i is
    ``values[offsets[i]:offsets[i + 1]]`` (a null list empty, a null node 0)."""
    values = arr.values
    if arr.null_count or values.null_count or not pa.types.is_list(arr.type):
        nodes, off = _flatten(arr)
        return _numbers(nodes).astype(np.int64), off
    off = _offsets(arr)
    if off[0]:                                 # (into the whole child array)
        values, off = values.slice(off[0]), off - off[0]
    return values.to_numpy().astype(np.int64), off


def _offsets(arr: pa.Array) -> np.ndarray:
    """The offsets (int64) of a ``list`` (or ``string``) array, read from its arrow buffer (a third of
    the cost of ``arr.offsets``; an empty array may have no buffer)."""
    buf = arr.buffers()[1]
    if buf is None:
        return np.zeros(len(arr) + 1, dtype=np.int64)
    return np.frombuffer(buf, dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4).astype(np.int64)


# ------------------------------------------------------------------ lines

#: series impedance and the charging admittance at each end of a line, as (real, imaginary) columns
_LINE_MATRICES = (("r_ohm", "x_ohm"), ("g_from_s", "b_from_s"), ("g_to_s", "b_to_s"))


def _lines(net: Network, nodes: NodeIndex, st: _Stamps) -> None:
    """In-service lines, by number of conductors (smallest first), then in table order: matrices
    gathered and primitives placed by kernels, one LAPACK ``inv`` per size in between."""
    t = net.table("lines")
    if t.num_rows == 0:
        return
    f, to = nodes.terminals["lines.from"], nodes.terminals["lines.to"]
    k = _kernels()
    order, sizes, size, groups = k.line_order(_numbers(_column(t, "status"), False).astype(bool), f.offsets)
    if not len(order):
        return
    start, z, y_from, y_to = k.line_matrices(order, size, *_list_block(t, sum(_LINE_MATRICES, ())))
    ys = np.empty_like(z)
    for n, a, b in groups.tolist():                      # the lines of size n: one block
        ys[start[a]:start[b]] = _inv(z[start[a]:start[b]].reshape(b - a, n, n)).reshape(-1)
    st.add_entries(*k.line_stamps(order, sizes, start, ys, y_from, y_to, f.offsets, to.offsets, f.index))


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
    read from table rows (`from_rows`, a few regulators).  The matrix builder
    reads the same quantities straight from the table's columns (`_windings`).
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


def _winding_y(nw: int, zbase: np.ndarray, rpu: np.ndarray, xsc: np.ndarray, mag: np.ndarray,
               vb: np.ndarray) -> np.ndarray:
    """(m, 2N, 2N) one phase of N-winding transformers, both ends of every winding (see
    `transformer_terminal_y`): `zbase` (m,) ohm on 1 volt, `vb` (m, N) winding volts times tap.

    Every operation is row by row, so a batch may mix structures of N windings."""
    m = len(zbase)
    zb = np.zeros((m, nw - 1, nw - 1), dtype=complex)
    for i in range(nw - 1):
        zb[:, i, i] = (rpu[:, 0] + rpu[:, i + 1] + 1j * xsc[:, i]) * zbase
    k = nw - 1
    for i in range(nw - 1):
        for j in range(i + 1, nw - 1):
            zij = (rpu[:, i + 1] + rpu[:, j + 1] + 1j * xsc[:, k]) * zbase
            zb[:, i, j] = zb[:, j, i] = 0.5 * (zb[:, i, i] + zb[:, j, j] - zij)
            k += 1
    y1 = np.einsum("ki,mkl,lj->mij", _incidence(nw), np.linalg.inv(zb), _incidence(nw))   # N x N on one volt
    y1[:, 1, 1] += mag / 100.0 / zbase
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


@lru_cache(maxsize=None)
def _incidence(nw: int) -> np.ndarray:
    """(N-1, N): winding k+1 against winding 1 (read-only: shared by every build)."""
    a = np.zeros((nw - 1, nw))
    a[:, 0] = -1.0
    a[np.arange(nw - 1), np.arange(1, nw)] = 1.0
    a.flags.writeable = False
    return a


def _terminal_y(b: TransformerBatch) -> np.ndarray:
    vb = np.stack([winding_vbase(b.kv[:, w], b.conns[w], b.nph) for w in range(b.nw)], axis=1) * b.taps
    return _winding_y(b.nw, b.nph / (b.kva1 * 1e3), b.rpu, b.xsc, b.mag, vb)


def transformer_terminal_y(rows: list[dict]) -> np.ndarray:
    """(m, 2N, 2N): one phase of N-winding transformers of one structure, both ends of every winding.

    The engine's model: short-circuit impedances between winding 1 and each
    other winding (and between the others) on a 1-volt, winding-1-kVA base,
    inverted and expanded through the incidence of windings, then scaled by
    the turns (winding volts times tap) of each winding; the magnetising
    branch sits across winding 2.
    """
    return _terminal_y(TransformerBatch.from_rows(rows))


@lru_cache(maxsize=None)
def _winding_ends(structure: tuple) -> tuple[tuple[tuple, ...], tuple[tuple[int, int], ...]]:
    """Where `_place` adds each phase of transformers of `structure` (`transformer_primitives`).

    Per phase: the primitive terminals (winding, conductor) of both ends of every winding, in
    `_winding_y`'s order, as an index of their block in the (m, K, K) primitive and as an index
    of the block's diagonal in the (m, K, K) primitive or, flag set, in its (m, K * K) flat view;
    then (winding, terminal) of every wye neutral.  Why the slices: the ends of a single-phase
    wye transformer are consecutive terminals, and a slice costs a fraction of a fancy index.
    """
    nw, nph, conns, leading = structure
    ncond = nph + 1
    size = nw * ncond
    step = _step(conns, leading)
    phases = []
    for ph in range(nph):
        ends = []
        for w in range(nw):
            lo = nph if conns[w] == "wye" else ((ph + step) % nph if nph > 1 else 1)
            ends += [w * ncond + ph, w * ncond + lo]
        e = np.asarray(ends)
        e.flags.writeable = False
        a, b = ends[0], ends[-1] + 1
        if ends == list(range(a, b)):
            phases.append(((slice(None), slice(a, b), slice(a, b)),
                           (slice(None), slice(a * (size + 1), (b - 1) * (size + 1) + 1, size + 1)), True))
        else:
            phases.append(((slice(None), e[:, None], e[None, :]), (slice(None), e, e), False))
    return tuple(phases), tuple((w, w * ncond + nph) for w in range(nw) if conns[w] == "wye")


def _place(structure: tuple, yterm: np.ndarray, float_y: np.ndarray) -> np.ndarray:
    """(m, N(n+1), N(n+1)) primitives of `structure` from one phase's `yterm` (`_winding_y`) and the
    anti-floating shunt `float_y` (m, N) of each winding."""
    nw, nph = structure[0], structure[1]
    phases, neutrals = _winding_ends(structure)
    prim = np.zeros((len(yterm), nw * (nph + 1), nw * (nph + 1)), dtype=complex)
    flat = prim.reshape(len(yterm), -1)
    at_ends = float_y.repeat(2, axis=1)
    for block, diagonal, on_flat in phases:
        prim[block] += yterm
        (flat if on_flat else prim)[diagonal] += at_ends
    for w, n in neutrals:
        prim[:, n, n] += float_y[:, w]
    return prim


def _antifloat(b: TransformerBatch) -> np.ndarray:
    """(m, nw) the engine's anti-floating shunt of each winding: ppm of the winding's 1-volt base, halved."""
    va_phase = b.kva1 * 1e3 / b.nph
    return np.stack([-1j * b.ppm * 1e-6 * va_phase / winding_vbase(b.kv[:, w], b.conns[w], b.nph) ** 2 / 2.0
                     for w in range(b.nw)], axis=1)


def _primitives(b: TransformerBatch) -> np.ndarray:
    return _place((b.nw, b.nph, b.conns, b.leading), _terminal_y(b), _antifloat(b))


def transformer_primitive_parts(rows: list[dict]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(tap-scaled part at taps 1, anti-floating shunts) of each transformer's primitive, any structures.

    Why two parts: every branch of the winding model scales with the turns of the
    windings it joins and the shunts are added after, so at taps ``t`` the
    primitive is ``D scaled D + fixed`` with ``D`` = diag(1 / t of each terminal's
    winding) -- a regulator's tap step then needs no new winding model.  Computed by
    the matrix builder's kernels, all rows at once (a few regulators: one kernel call
    costs less than the numpy batches of `transformer_primitives`, whose arithmetic
    it repeats bit for bit).
    """
    if not rows:
        return []
    m = len(rows)
    nw, nph, wye, step = _structure_arrays([_structure(r) for r in rows], np.arange(m))
    wmax = int(nw.max())
    kv, r_pct = np.full((m, wmax), np.nan), np.full((m, wmax), np.nan)
    for i, r in enumerate(rows):
        kv[i, :nw[i]] = r["kv"]
        r_pct[i, :nw[i]] = r["r_pct"]
    kva1 = np.array([r["kva"][0] for r in rows], dtype=float)
    scalars = np.array([[r.get(c) for r in rows] for c in _WINDING_SCALARS], dtype=float)
    model = _transformer_model(nw, nph, wye, kv, r_pct, np.ones((m, wmax)), kva1, scalars)
    size = nw * (nph + 1)
    k, width = _kernels(), int(size.max())
    scaled = k.transformer_primitives(nw, nph, wye, step, *model, True, False, width)
    fixed = k.transformer_primitives(nw, nph, wye, step, *model, False, True, width)
    return [(np.ascontiguousarray(scaled[j, :n, :n]), np.ascontiguousarray(fixed[j, :n, :n]))
            for j, n in enumerate(size.tolist())]


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


#: up to this many transformers, `_structures` reads them row by row (a few microseconds a row
#: against some fifty array calls)
_ROW_BY_ROW = 48


def _structures(t: pa.Table, row_by_row: int = _ROW_BY_ROW) -> tuple[np.ndarray, list[tuple]]:
    """(structure number per row, -1 out of service; the structures in order of first appearance).

    A structure is `_structure`'s tuple.  A winding whose connection is anything
    but ``wye`` is modelled as a delta, as in `_primitives`; no connections means
    every winding wye.  A few transformers are read row by row; more, from the
    columns as numbers (windings, phases, which windings are wye, lead/lag), so
    that grouping costs one sort whatever their number.
    """
    nw = _lengths(_column(t, "kv"))
    if t.num_rows <= row_by_row:
        return _structures_by_row(t, nw)
    nph = _numbers(_column(t, "phases"), 0).astype(np.int64)
    nph[nph == 0] = 3
    conn, off = _flatten(_column(t, "connections"))
    count = off[1:] - off[:-1]
    row = _rows_of(off)
    wye = (conn.to_numpy(zero_copy_only=False) == "wye").astype(np.int64)     # null: not wye
    bits = np.bincount(row, weights=wye << (np.arange(len(row)) - off[row]), minlength=len(count)).astype(np.int64)
    default = count == 0                     # no connections given: every winding wye
    count = np.where(default, nw, count)
    bits = np.where(default, (1 << nw) - 1, bits)
    leading = (_numbers(_column(t, "shift_deg"), 0.0) < 0).astype(np.int64)
    live = _numbers(_column(t, "status"), False).astype(bool).nonzero()[0]
    codes = np.full(t.num_rows, -1, dtype=np.int64)
    if not len(live):
        return codes, []
    parts = (nw[live], nph[live], count[live], bits[live], leading[live])
    key = (((parts[0] * 64 + parts[1]) * 64 + parts[2]) << 33) + parts[3] * 2 + parts[4]
    first, codes[live] = _distinct(key)
    return codes, [(w, p, tuple("wye" if (m >> k) & 1 else "delta" for k in range(c)), bool(lead))
                   for w, p, c, m, lead in zip(*(part[first].tolist() for part in parts))]


def _structures_by_row(t, nw: np.ndarray) -> tuple[np.ndarray, list[tuple]]:
    """`_structures` of a few transformers (`nw` windings each), row by row."""
    conns, phases, shift, status = (_column(t, c).to_pylist() for c in ("connections", "phases", "shift_deg", "status"))
    codes = np.full(t.num_rows, -1, dtype=np.int64)
    seen: dict[tuple, int] = {}
    for r, n in enumerate(nw.tolist()):
        if status[r]:
            kinds = tuple("wye" if c == "wye" else "delta" for c in conns[r]) if conns[r] else ("wye",) * n
            codes[r] = seen.setdefault((n, phases[r] or 3, kinds, (shift[r] or 0.0) < 0), len(seen))
    return codes, list(seen)


#: list columns of the winding model (one value per winding; a missing kv or r_pct reads as NaN, a
#: missing tap as 1: `ybus3_kernels.winding_model_of_columns`)
_WINDING_LISTS = ("kv", "r_pct", "taps_pu")
#: scalar columns of the winding model, in `ybus3_kernels.winding_model`'s order
_WINDING_SCALARS = ("noloadloss_pct", "imag_pct", "ppm_antifloat", "xhl_pct", "xht_pct", "xlt_pct")


def _step(conns: tuple[str, ...], leading: bool) -> int:
    """The conductor (k + step) a delta winding's phase k runs to (`transformer_primitives`)."""
    step = -1 if conns[0] == "delta" and conns[1] == "wye" else 1
    return -step if leading else step


def _structure_arrays(structures: list[tuple], code: np.ndarray) -> np.ndarray:
    """(4, len(code)): windings, phases, wye windings (bit w) and `_step` of structures `code`."""
    if not all(2 <= s[0] <= 3 for s in structures):
        raise ValueError("the winding model takes transformers of two or three windings")
    return np.array([_structure_numbers(s) for s in structures], dtype=np.int64)[code].T


@lru_cache(maxsize=None)
def _structure_numbers(structure: tuple) -> tuple[int, int, int, int]:
    """(windings, phases, wye windings (bit w), `_step`) of one structure (a feeder has a few)."""
    nw, nph, conns, leading = structure
    return nw, nph, sum(1 << w for w, c in enumerate(conns) if c == "wye"), _step(conns, leading)


def _transformer_model(nw: np.ndarray, nph: np.ndarray, wye: np.ndarray, kv: np.ndarray, r_pct: np.ndarray,
                       taps: np.ndarray, kva1: np.ndarray, scalars: np.ndarray) -> tuple:
    """(inverse short-circuit impedances, magnetising branch, base impedance, winding volts times tap,
    anti-floating shunts) of transformers (`ybus3_kernels.winding_model`, then LAPACK's ``inv``)."""
    zb, zbase, vb, mag, float_y = _kernels().winding_model(nw, nph, wye, kv, r_pct, taps, kva1, scalars,
                                                           kv.shape[1] - 1)
    return _invert_by_size(zb, nw - 1), mag, zbase, vb, float_y


def _transformers(net: Network, nodes: NodeIndex, st: _Stamps) -> None:
    """In-service transformers, structure by structure in order of first appearance, then in table
    order: winding model and placement by kernels (`transformer_primitives`' arithmetic, bit for bit)."""
    t = net.table("transformers")
    if t.num_rows == 0:
        return
    codes, structures = _structures(t)
    if not structures:
        return
    live = np.flatnonzero(codes >= 0)
    order = live[codes[live].argsort(kind="stable")]
    nw, nph, wye, step = _structure_arrays(structures, codes[order])
    k = _kernels()
    scalars = np.array([_numbers(_column(t, c), np.nan) for c in _WINDING_SCALARS], dtype=float)
    zb, zbase, vb, mag, float_y = k.winding_model_of_columns(order, nw, nph, wye, int(nw.max()),
                                                             *_list_block(t, _WINDING_LISTS + ("kva",)), scalars)
    model = _invert_by_size(zb, nw - 1), mag, zbase, vb, float_y
    terms = nodes.terminals["transformers"]
    st.add_entries(*k.transformer_stamps(nw, nph, wye, step, *model, order, codes[order], terms.offsets, terms.index))


# ------------------------------------------------------------------ shunts and sources

def _shunt_y(b_mvar: float, g_mw: float, vn_kv: float, connection: str, nphases: int) -> complex:
    """Admittance (S) of each phase of a shunt bank: wye phases see the line-to-neutral voltage."""
    if connection == "wye":
        vph = vn_kv * 1e3 / SQRT3 if nphases > 1 else vn_kv * 1e3
    else:
        vph = vn_kv * 1e3
    return complex(g_mw, b_mvar) * 1e6 / nphases / (vph * vph)


@lru_cache(maxsize=None)
def _shunt_ends(connection: str, nphases: int) -> tuple[np.ndarray, ...]:
    """Per phase, the ([a, b], [a, b]) conductor pair (`np.ix_`) its admittance sits between."""
    ends = []
    for k in range(nphases):
        b = nphases if connection == "wye" else ((k + 1) % nphases if nphases > 1 else 1)
        ends.append(np.ix_([k, b], [k, b]))
    return tuple(ends)


_PAIR = np.array([[1, -1], [-1, 1]])


def _shunt_primitives(y: np.ndarray, connection: str, nconds: int, nphases: int) -> np.ndarray:
    """(m, nconds, nconds) primitives of banks of one connection, phase admittance `y` (m,)."""
    prim = np.zeros((len(y), nconds, nconds), dtype=complex)
    per_phase = y[:, None, None] * _PAIR
    for rows, cols in _shunt_ends(connection, nphases):
        prim[:, rows, cols] += per_phase
    return prim


def shunt_primitive(b_mvar: float, g_mw: float, vn_kv: float, connection: str, nconds: int,
                    nphases: int) -> np.ndarray:
    """Primitive over the element's conductors: wye phases to the neutral, or delta phase pairs."""
    y = _shunt_y(b_mvar, g_mw, vn_kv, connection, nphases)
    return _shunt_primitives(np.asarray([y]), connection, nconds, nphases)[0]


def _shunt_phases(connection: str, nconds: int) -> int:
    """Phases of a bank on `nconds` conductors: a wye's last conductor is its neutral; a delta on
    two conductors is one phase between them."""
    return nconds - 1 if connection == "wye" else (1 if nconds == 2 else nconds)


def shunt_row_primitive(row: dict) -> np.ndarray:
    """The primitive of one `shunts` table row over its conductors (`conn`)."""
    conn = row["conn"]
    nph = _shunt_phases(row["connection"], len(conn))
    return shunt_primitive(row["b_mvar"] or 0.0, row["g_mw"] or 0.0, row["vn_kv"] or 0.0,
                           row["connection"], len(conn), nph)


def _column_lists(t, names: tuple[str, ...]) -> list[list]:
    """Columns `names` of table `t` as Python lists (a handful of rows: cheaper than ``to_pylist``)."""
    return [_column(t, name).to_pylist() for name in names]


def _shunts(net: Network, nodes: NodeIndex, st: _Stamps) -> None:
    """In-service shunt banks in table order: phase admittances row by row (a few banks), primitives
    placed by a kernel (`_shunt_primitives`' additions)."""
    t = net.table("shunts")
    if t.num_rows == 0:
        return
    terms = nodes.terminals["shunts"]
    nconds = terms.offsets[1:] - terms.offsets[:-1]
    rows, ys, wye, phases = [], [], [], []
    for i, (status, connection, b, g, vn, k) in enumerate(zip(*_column_lists(
            t, ("status", "connection", "b_mvar", "g_mw", "vn_kv")), nconds.tolist())):
        if status:
            nph = _shunt_phases(connection, k)
            rows.append(i)
            ys.append(_shunt_y(b or 0.0, g or 0.0, vn or 0.0, connection, nph))
            wye.append(connection == "wye")
            phases.append(nph)
    if rows:
        _stamp_rows(st, terms, np.array(rows), _kernels().shunt_primitives(
            np.array(ys, dtype=complex), np.array(wye), nconds[rows], np.array(phases), int(nconds[rows].max())))


def _stamp_rows(st: _Stamps, terms: _Terminals, rows: np.ndarray, prim: np.ndarray) -> None:
    """Stamp primitives `prim` (m, K, K) of element `rows` on all their terminals (K at most)."""
    st.add_entries(*_kernels().row_stamps(prim, rows, terms.offsets, terms.index))


def _sequence_parts(z1: complex, z0: complex) -> tuple[complex, complex]:
    """(self, mutual) phase impedance of a balanced element from sequence impedances."""
    return (2 * z1 + z0) / 3.0, (z0 - z1) / 3.0


def sequence_matrix(z1: complex, z0: complex, n: int) -> np.ndarray:
    """Phase impedance matrix of a balanced element from sequence impedances."""
    zs, zm = _sequence_parts(z1, z0)
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


_SOURCE_COLUMNS = ("conn", "r1_ohm", "x1_ohm", "r0_ohm", "x0_ohm")


def _sources(net: Network, nodes: NodeIndex, st: _Stamps) -> None:
    """Thevenin admittance of every source (LAPACK's ``inv``, one call per size), in table order."""
    t = net.table("sources")
    if t.num_rows == 0:
        return
    size, zm, d = [], [], []
    for conn, r1, x1, r0, x0 in zip(*_column_lists(t, _SOURCE_COLUMNS)):
        zs, m = _sequence_parts(complex(r1, x1), complex(r0, x0))
        size.append(len(conn))
        zm.append(m)
        d.append(zs - m)
    size = np.array(size, dtype=np.int64)
    z = _kernels().sequence_matrices(np.array(zm, dtype=complex), np.array(d, dtype=complex), size, int(size.max()))
    _stamp_rows(st, nodes.terminals["sources"], np.arange(len(size)), _invert_by_size(z, size))


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
    indptr, indices, data = _kernels().csc_from_triplets(
        np.concatenate(st.rows), np.concatenate(st.cols), np.concatenate(st.vals), n)
    y = sp.csc_matrix((data, indices, indptr), shape=(n, n))
    y.has_canonical_format = True   # (the kernel's output is: sorted, duplicates summed)
    return y, nodes

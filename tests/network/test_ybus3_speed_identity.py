"""The batched Y builder stamps exactly what the element-by-element formulas give.

Why: `gatlang.network.ybus3` computes its primitives in batches (lines by
size, transformer winding models by number of windings, shunts by connection),
reads columns in blocks and numbers nodes on a grid, all to keep a small
feeder's build to a few hundred array calls.  The engine comparisons
(tests/network/opendss/test_ybus3.py) check the matrix to a tolerance; these
check the batching itself exactly: the node numbering its docstring states,
and the same triplets, in the same order, as one element (or one structure)
at a time -- so the assembled matrix is the same bit for bit.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from gatlang.network import ybus3
from gatlang.network.model import Network


def _with(net: Network, **tables: pa.Table) -> Network:
    return Network(net.name, net.base_mva, net.frequency_hz, net.balanced, {**net.tables, **tables})


def _replace(table: pa.Table, name: str, values: list) -> pa.Table:
    i = table.schema.get_field_index(name)
    return table.set_column(i, table.schema.field(i), pa.array(values, table.schema.field(i).type))


def _triplets(st: ybus3._Stamps) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not st.vals:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, complex)
    return np.concatenate(st.rows), np.concatenate(st.cols), np.concatenate(st.vals)


def _assert_same_stamps(ours: ybus3._Stamps, reference: ybus3._Stamps) -> None:
    for a, b in zip(_triplets(ours), _triplets(reference)):
        np.testing.assert_array_equal(a, b)


def _odd_transformers(net: Network) -> pa.Table:
    """IEEE 123's transformers with the cases the columns allow: no connections given, a delta-wye,
    a leading shift, one out of service, phases left null."""
    t = net.table("transformers")
    n = t.num_rows
    conns = t.column("connections").to_pylist()
    conns[0], conns[1] = None, ["delta", "wye"]
    shift = [None] * n
    shift[2] = -30.0
    status = [True] * n
    status[3] = False
    phases = t.column("phases").to_pylist()
    phases[4] = None
    for name, values in (("connections", conns), ("shift_deg", shift), ("status", status), ("phases", phases)):
        t = _replace(t, name, values)
    return t


@pytest.mark.parametrize("odd", [False, True])
def test_structures_row_by_row_equal_columnwise(ieee123: Network, odd: bool) -> None:
    t = _odd_transformers(ieee123) if odd else ieee123.table("transformers")
    by_row = ybus3._structures(t, row_by_row=t.num_rows)
    columnwise = ybus3._structures(t, row_by_row=0)
    np.testing.assert_array_equal(by_row[0], columnwise[0])
    assert by_row[1] == columnwise[1]


def _reference_names(net: Network) -> list[str]:
    """The numbering `NodeIndex` documents, written out row by row."""
    order: dict[str, None] = {}
    nodes: dict[str, set[int]] = {}

    def add(bus: str, conn: list[int] | None, all_nodes: bool = False) -> None:
        order.setdefault(bus)
        nodes.setdefault(bus, set()).update(k for k in conn or [] if all_nodes or k > 0)

    for row in net.table("buses").to_pylist():
        add(row["bus"], row["phases"], all_nodes=True)
    lines = net.table("lines").to_pylist()
    for end, conn in (("from_bus", "f_conn"), ("to_bus", "t_conn")):
        for row in lines:
            add(row[end], row[conn])
    for row in net.table("transformers").to_pylist():
        for bus, conn in zip(row["buses"], row["conns"]):
            add(bus, conn)
    for table in ("shunts", "sources"):
        for row in net.table(table).to_pylist():
            add(row["bus"], row["conn"])
    return [f"{bus}.{k}" for bus in order for k in sorted(nodes[bus])]


def test_node_numbering_follows_the_tables(ieee123: Network) -> None:
    buses = ieee123.table("buses")
    dropped = buses.filter(pa.array([i % 10 != 3 for i in range(buses.num_rows)]))   # buses only elements name
    for net in (ieee123, _with(ieee123, buses=dropped)):
        nodes = ybus3.NodeIndex(net)
        names = _reference_names(net)
        assert nodes.names == names
        bus, k = zip(*(name.rsplit(".", 1) for name in names))
        k = np.asarray(k, dtype=np.int64)
        np.testing.assert_array_equal(nodes.lookup(list(bus), k), np.arange(len(names)))
        np.testing.assert_array_equal(nodes.lookup(list(bus), np.zeros_like(k)), -1)
        assert nodes.index == {(b, int(n)): i for i, (b, n) in enumerate(zip(bus, k))}


@pytest.mark.parametrize("odd", [False, True])
def test_transformer_stamps_equal_one_structure_at_a_time(ieee123: Network, odd: bool) -> None:
    net = _with(ieee123, transformers=_odd_transformers(ieee123)) if odd else ieee123
    nodes = ybus3.NodeIndex(net)
    ours = ybus3._Stamps()
    ybus3._transformers(net, nodes, ours)
    t = net.table("transformers")
    rows = t.to_pylist()
    codes, structures = ybus3._structures(t)
    terms, reference = nodes.terminals["transformers"], ybus3._Stamps()
    for g in range(len(structures)):
        sel = np.flatnonzero(codes == g)
        width = int(terms.offsets[sel[0] + 1] - terms.offsets[sel[0]])
        reference.add(terms.of_rows(sel, width), ybus3.transformer_primitives([rows[i] for i in sel]))
    _assert_same_stamps(ours, reference)


def test_shunt_and_source_stamps_equal_row_by_row(ieee123: Network) -> None:
    shunts = ieee123.table("shunts")
    interleaved = shunts.take([1, 0, 2, 0, 3])           # one-phase, three-phase, one-phase, ...
    interleaved = _replace(interleaved, "status", [True, True, False, True, True])
    net = _with(ieee123, shunts=interleaved)
    nodes = ybus3.NodeIndex(net)
    ours, reference = ybus3._Stamps(), ybus3._Stamps()
    ybus3._shunts(net, nodes, ours)
    ybus3._sources(net, nodes, ours)
    for table, prim in (("shunts", ybus3.shunt_row_primitive),
                        ("sources", lambda row: np.linalg.inv(ybus3.source_impedance(row)))):
        terms = nodes.terminals[table]
        for i, row in enumerate(net.table(table).to_pylist()):
            if row.get("status", True):
                reference.add(terms.of_rows(np.asarray([i]), len(row["conn"])), prim(row)[None])
    _assert_same_stamps(ours, reference)


def test_missing_line_charging_reads_as_zero(ieee123: Network) -> None:
    """Null or short charging lists take the per-column path; they read as zeros, bit for bit."""
    lines = ieee123.table("lines")
    zeros = [[0.0] * len(v) for v in lines.column("g_from_s").to_pylist()]
    explicit = lines
    for name in ("g_from_s", "g_to_s"):
        explicit = _replace(explicit, name, zeros)
    g_from = [None if i % 3 == 0 else ([0.0] if i % 3 == 1 else v) for i, v in enumerate(zeros)]
    missing = _replace(_replace(lines, "g_from_s", g_from), "g_to_s", zeros)
    y_explicit, names_explicit = ybus3.build_ybus3(_with(ieee123, lines=explicit))
    y_missing, names_missing = ybus3.build_ybus3(_with(ieee123, lines=missing))
    assert names_missing == names_explicit
    for a, b in ((y_missing.indptr, y_explicit.indptr), (y_missing.indices, y_explicit.indices),
                 (y_missing.data, y_explicit.data)):
        np.testing.assert_array_equal(a, b)

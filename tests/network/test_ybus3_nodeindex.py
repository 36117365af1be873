"""`ybus3.NodeIndex`'s compiled numbering and look-ups against their plain-Python definitions.

Why: the bus names are encoded by a hash of their arrow bytes, the node names written as one
newline-joined text, and `lookup` reads a list of names as one joined text -- each with a fallback
(a bus name holding a newline, a list holding something other than strings, an array with nulls)
that the feeders never exercise.  These check every path against dictionaries built in Python.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from gatlang.network import ybus3, ybus3_kernels
from gatlang.network.model import Network


def _renamed(net: Network, old: str, new: str) -> Network:
    """`net` with bus `old` called `new` in the buses and lines tables."""
    tables = dict(net.tables)
    for table, cols in (("buses", ("bus",)), ("lines", ("from_bus", "to_bus"))):
        t = tables[table]
        for col in cols:
            i = t.schema.get_field_index(col)
            values = [new if v == old else v for v in t.column(col).to_pylist()]
            t = t.set_column(i, t.schema.field(i), pa.array(values, t.schema.field(i).type))
        tables[table] = t
    return Network(net.name, net.base_mva, net.frequency_hz, net.balanced, tables)


def _expected(nodes: ybus3.NodeIndex, buses: list, conds: np.ndarray) -> np.ndarray:
    return np.array([nodes.index.get((b, int(c)), -1) if c > 0 else -1 for b, c in zip(buses, conds)])


@pytest.mark.parametrize("strings", [["b", "a", "b", "", "ab", "a", "é", ""], [], ["x"] * 5])
def test_encode_names_is_dictionary_encode(strings: list[str]) -> None:
    arr = pa.array(strings, pa.string())
    codes, first, *_ = ybus3_kernels.encode_names(*ybus3._string_buffers(arr))
    enc = pc.dictionary_encode(arr)
    np.testing.assert_array_equal(codes, enc.indices.to_numpy(zero_copy_only=False).astype(np.int64))
    assert arr.take(pa.array(first, pa.int64())).to_pylist() == enc.dictionary.to_pylist()


def test_names_are_bus_dot_node(ieee123: Network) -> None:
    nodes = ybus3.NodeIndex(ieee123)
    assert nodes.names == [f"{b}.{k}" for (b, k), _ in sorted(nodes.index.items(), key=lambda kv: kv[1])]
    assert len(set(nodes.names)) == len(nodes.names)


def test_bus_name_with_newline_falls_back(ieee123: Network) -> None:
    plain = ybus3.NodeIndex(ieee123)
    odd = ybus3.NodeIndex(_renamed(ieee123, "1", "one\ntwo"))
    assert odd.names == [n.replace("1.", "one\ntwo.", 1) if n.split(".")[0] == "1" else n for n in plain.names]
    buses = ["one\ntwo", "1", "2", "one\ntwo"]
    conds = np.array([1, 1, 2, 3])
    np.testing.assert_array_equal(odd.lookup(buses, conds), _expected(odd, buses, conds))
    assert odd.lookup(buses, conds)[0] >= 0


@pytest.mark.parametrize("kind", ["list", "string", "large_string", "sliced", "nulls", "not strings"])
def test_lookup_every_input(ieee123: Network, kind: str) -> None:
    nodes = ybus3.NodeIndex(ieee123)
    known = ieee123.table("buses").column("bus").to_pylist()[:40]
    names = [b for b in known for _ in range(3)] + ["nowhere", "", "150r"]
    conds = np.tile(np.array([-1, 0, 1, 2, 3, 4, 7, 127]), len(names))[:len(names)]
    buses: object = names
    expected_names: list = list(names)
    if kind == "string":
        buses = pa.array(names, pa.string())
    elif kind == "large_string":
        buses = pa.chunked_array([pa.array(names, pa.large_string())])
    elif kind == "sliced":
        buses = pa.array(["pad"] * 3 + names, pa.string()).slice(3)
    elif kind == "nulls":
        expected_names[1] = None
        buses = pa.array(expected_names, pa.string())
    elif kind == "not strings":
        expected_names[2] = 7
        buses = expected_names
    got = nodes.lookup(buses, conds)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, _expected(nodes, expected_names, conds))
    assert (got >= 0).sum() > 20


def test_lookup_empty(ieee123: Network) -> None:
    nodes = ybus3.NodeIndex(ieee123)
    assert nodes.lookup([], np.zeros(0)).tolist() == []
    assert nodes.lookup(pa.array([], pa.string()), []).tolist() == []


def test_per_node_and_call(ieee123: Network) -> None:
    nodes = ybus3.NodeIndex(ieee123)
    buses = ieee123.table("buses")
    kv = buses.column("vn_kv").to_numpy(zero_copy_only=False).astype(float)
    by_name = dict(zip(buses.column("bus").to_pylist(), kv))
    expected = [by_name.get(n.rsplit(".", 1)[0], np.nan) for n in nodes.names]
    np.testing.assert_array_equal(nodes.per_node(kv), expected)
    assert nodes("150", [1, 0, 2]) == [nodes.index[("150", 1)], -1, nodes.index[("150", 2)]]

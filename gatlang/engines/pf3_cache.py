"""Memoisation of the expensive, data-only parts of the unbalanced power flow set-up.

Why: a study solves the same network many times (scenarios, hosting-capacity
steps, the regulator and capacitor control loops), and most of the set-up
depends on nothing but the data: the network admittance matrix
(`ybus3.build_ybus3_indexed`), voltage bases, load branches, the factorisation of the
fixed-point matrix, the stacked primitives of the flow computation.  All of
it is kept per *version* of the network's tables: the version is the tuple of
the table objects themselves, so replacing a table (new taps, a switched line,
more PV) builds afresh.  The cache holds the tables it was built from, so an
``id`` can never be recycled into a false hit.

Transformer primitives are also kept per *design* (their parameters): feeders
have thousands of service transformers but only a handful of designs.
"""
from __future__ import annotations

import weakref
from functools import lru_cache
from typing import Callable, TypeVar

import numpy as np
import scipy.sparse as sp

from gatlang.network.model import Network
from gatlang.network.ybus3 import NodeIndex, build_ybus3_indexed, transformer_primitive

T = TypeVar("T")

_PRIM_FIELDS = ("phases", "kv", "kva", "taps_pu", "r_pct", "xhl_pct", "xht_pct", "xlt_pct", "connections",
                "noloadloss_pct", "imag_pct", "ppm_antifloat")


def _freeze(v):
    return tuple(_freeze(x) for x in v) if isinstance(v, (list, tuple)) else v


@lru_cache(maxsize=4096)
def _primitive(key: tuple) -> tuple[np.ndarray, tuple[tuple[int, int], ...]]:
    row = {f: (list(v) if isinstance(v, tuple) else v) for f, v in zip(_PRIM_FIELDS, key)}
    prim, terms = transformer_primitive(row)
    prim.setflags(write=False)
    return prim, tuple(terms)


def primitive(row: dict) -> tuple[np.ndarray, tuple[tuple[int, int], ...]]:
    """``ybus3.transformer_primitive(row)``, computed once per distinct transformer design (read-only)."""
    return _primitive(tuple(_freeze(row.get(f)) for f in _PRIM_FIELDS))


#: id(net) -> {what: (the tables it was built from, value)}
_MEMO: dict[int, dict[object, tuple[tuple, object]]] = {}
#: values kept per network before the least recently used is dropped (a scenario loop over many
#: load scales keeps the network part, which every new scale uses, and drops old scales)
MAX_ENTRIES = 16
#: the tables the admittance matrix, node numbering, voltage bases and regulators are built from
#: (`ybus3.build_ybus3` and `NodeIndex` read buses, lines, transformers, shunts and sources): a
#: study that only changes loads, generators or PV -- a hosting-capacity step -- keeps them
NETWORK_TABLES = ("buses", "lines", "transformers", "shunts", "sources", "regulators")


def _version(net: Network, tables: tuple[str, ...] | None) -> tuple:
    items = net.tables.items() if tables is None else ((t, net.tables.get(t)) for t in tables)
    return tuple(sorted(items, key=lambda kv: kv[0]))


def _same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x[0] == y[0] and x[1] is y[1] for x, y in zip(a, b))


def memo(net: Network, what: object, build: Callable[[], T], tables: tuple[str, ...] | None = None) -> T:
    """``build()`` for this version of ``net``'s tables, computed once (``what`` names the value).

    ``tables``: the tables the value depends on (default: all of them); replacing
    any other table keeps it.
    """
    version = _version(net, tables)
    store = _MEMO.get(id(net))
    if store is None:
        weakref.finalize(net, _MEMO.pop, id(net), None)
        store = _MEMO[id(net)] = {}
    hit = store.pop(what, None)
    if hit is not None and _same(hit[0], version):
        store[what] = hit                       # most recently used last: eviction takes the first
        return hit[1]  # type: ignore[return-value]
    value = build()
    store[what] = (version, value)
    while len(store) > MAX_ENTRIES:       # after the build, which refreshed what it used
        store.pop(next(iter(store)))
    return value


def rows(net: Network, table: str) -> list[dict]:
    """The rows of ``table`` as dicts, [] when the network has no such table.

    (``Network.table`` builds an empty table of the schema for a missing one, which costs
    more than a small feeder's whole solve when done for every absent element class.)
    """
    t = net.tables.get(table)
    return t.to_pylist() if t is not None else []


def column_rows(net: Network, table: str, columns: tuple[str, ...]) -> list[dict]:
    """The rows of ``table`` as dicts of ``columns`` only, [] when the network has no such table.

    (Converting a few columns one by one costs a fraction of ``to_pylist`` on the whole table,
    whose every other column -- source files, ratings -- a solve never reads.)
    """
    t = net.tables.get(table)
    if t is None or t.num_rows == 0:
        return []
    return [dict(zip(columns, values)) for values in zip(*(t.column(c).to_pylist() for c in columns))]


def ybus_indexed(net: Network) -> tuple[sp.csc_matrix, NodeIndex]:
    """``build_ybus3_indexed(net)``, rebuilt only when a table of ``net`` was replaced (shared: read-only)."""
    return memo(net, "ybus", lambda: build_ybus3_indexed(net), NETWORK_TABLES)


def ybus(net: Network) -> tuple[sp.csc_matrix, list[str]]:
    """``build_ybus3(net)``, rebuilt only when a table of ``net`` was replaced (a copy: callers may edit it)."""
    y, nodes = ybus_indexed(net)
    return y.copy(), list(nodes.names)

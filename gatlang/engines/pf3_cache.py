"""Memoisation of the expensive, data-only parts of the unbalanced power flow set-up.

Why: a study solves the same network many times (scenarios, hosting-capacity
steps, the regulator control loop), and two set-up costs do not depend on
anything but the data: the network admittance matrix (`ybus3.build_ybus3`)
and the primitive admittance of each transformer.  Feeders have thousands
of service transformers but only a handful of distinct designs, so a
primitive is computed once per *design* (its parameters), and a matrix once
per *version* of the network's tables (the key holds the identity of every
table, so replacing a table -- new taps, a switched line -- builds afresh).
"""
from __future__ import annotations

import weakref
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from gatlang.network.model import Network
from gatlang.network.ybus3 import build_ybus3, transformer_primitive

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


_Y: dict[int, tuple[tuple, sp.csc_matrix, list[str]]] = {}


def ybus(net: Network) -> tuple[sp.csc_matrix, list[str]]:
    """``build_ybus3(net)``, rebuilt only when a table of ``net`` was replaced."""
    key = tuple((name, id(tbl)) for name, tbl in sorted(net.tables.items()))
    hit = _Y.get(id(net))
    if hit is not None and hit[0] == key:
        return hit[1].copy(), list(hit[2])
    y, names = build_ybus3(net)
    if id(net) not in _Y:
        weakref.finalize(net, _Y.pop, id(net), None)
    _Y[id(net)] = (key, y, names)
    return y.copy(), list(names)

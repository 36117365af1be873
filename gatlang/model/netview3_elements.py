"""Whole elements of a three-phase network as the language sees them: buses, loads, DERs, transformers.

Why beside the conductor-level view (gatlang.model.netview3): formulations are
written per node and per conductor, but a study speaks of elements -- "the
three-phase buses", "every load", "the DERs at this feeder", "transformer
kVA" -- in its own constraints and objectives (`sum(n in b.nodes) ...`,
`for d in ders`).  Each element links to its nodes, so both levels combine.

Powers are the element's rated values in MW / Mvar / MVA (model scale: the
three-phase view's base is 1 MVA, so the numbers are the same).
"""
from __future__ import annotations

import numpy as np

from gatlang.model.netview import Entities, NetView, _incidence
from gatlang.network.model import Network


def add_elements(view: NetView, net: Network, node_bus: np.ndarray) -> None:
    """Add kinds bus, load, der, transformer and their network sets to `view` (in place).

    `node_bus` is the bus name of each node of the view ("" for source nodes).
    """
    names = [b for b in dict.fromkeys(node_bus.tolist()) if b]
    pos = {b: i for i, b in enumerate(names)}
    at = np.asarray([pos.get(b, -1) for b in node_bus], dtype=np.int64)
    on_bus = np.flatnonzero(at >= 0)

    bus = Entities("bus", np.asarray(names, dtype=object))
    members = _incidence(len(names), at[on_bus]) if len(on_bus) else [np.zeros(0, np.int64)] * len(names)
    bus.sets = {"nodes": [on_bus[m] for m in members]}
    kv = {b: v for b, v in zip(net.table("buses").column("bus").to_pylist(), net.table("buses").column("vn_kv").to_pylist())}
    bus.numbers = {"phases": np.asarray([len(m) for m in bus.sets["nodes"]], dtype=float),
                   "base_kv": np.asarray([kv.get(b) or np.nan for b in names], dtype=float)}
    node = view.kinds["node"]
    node.refs["bus"] = np.where(at >= 0, at, 0)          # source nodes point at bus 0; they are not in `buses`
    view.kinds["bus"] = bus
    view.sets["buses"] = ("bus", np.arange(len(names)))

    nodes_of = {b: bus.sets["nodes"][i] for i, b in enumerate(names)}
    _element_kind(view, "load", net.table("loads"), "load", pos, nodes_of,
                  {"p": "p_mw", "q": "q_mvar"}, "loads")
    ders = _ders(net)
    _element_kind(view, "der", ders, "der", pos, nodes_of, {"p": "p_mw", "q": "q_mvar", "s_rated": "s_mva"}, "ders")
    _transformers(view, net, pos)


def _element_kind(view: NetView, kind: str, table, id_col: str, pos: dict[str, int],
                  nodes_of: dict[str, np.ndarray], numbers: dict[str, str], set_name: str) -> None:
    rows = [r for r in table.to_pylist() if r.get("status", True) and r["bus"] in pos]
    ents = Entities(kind, np.asarray([r[id_col] for r in rows], dtype=object))
    ents.numbers = {k: np.asarray([r.get(c) or 0.0 for r in rows], dtype=float) for k, c in numbers.items()}
    ents.numbers["phases"] = np.asarray([len([k for k in (r.get("conn") or []) if 1 <= k <= 3]) or 1 for r in rows],
                                        dtype=float)
    ents.refs = {"bus": np.asarray([pos[r["bus"]] for r in rows], dtype=np.int64)}
    ents.sets = {"nodes": [nodes_of[r["bus"]] for r in rows]}
    view.kinds[kind] = ents
    view.sets[set_name] = (kind, np.arange(len(rows)))


def _ders(net: Network):
    """Generators and PV systems as one table: output in the case and rated apparent power."""
    import pyarrow as pa

    rows = []
    for r in net.table("generators").to_pylist():
        rows.append({"der": r["gen"], "bus": r["bus"], "conn": r["conn"], "status": r["status"],
                     "p_mw": r["p_mw"], "q_mvar": r["q_mvar"], "s_mva": r.get("mbase_mva") or 0.0})
    for r in net.table("pv_systems").to_pylist():
        p = (r["pmpp_mw"] or 0.0) * (r["irradiance"] if r["irradiance"] is not None else 1.0)
        rows.append({"der": r["pv"], "bus": r["bus"], "conn": r["conn"], "status": r["status"],
                     "p_mw": p, "q_mvar": 0.0, "s_mva": (r["kva"] or 0.0) / 1e3})
    return pa.Table.from_pylist(rows) if rows else pa.table({"der": [], "bus": [], "conn": [], "status": [],
                                                              "p_mw": [], "q_mvar": [], "s_mva": []})


def _transformers(view: NetView, net: Network, pos: dict[str, int]) -> None:
    rows = [r for r in net.table("transformers").to_pylist() if r["status"]]
    ents = Entities("transformer", np.asarray([r["transformer"] for r in rows], dtype=object))
    ents.numbers = {"s_rated": np.asarray([(r["kva"] or [0.0])[0] / 1e3 for r in rows], dtype=float),
                    "phases": np.asarray([r["phases"] or 3 for r in rows], dtype=float),
                    "windings": np.asarray([len(r["buses"]) for r in rows], dtype=float)}
    ents.refs = {"from": np.asarray([pos.get(r["buses"][0], 0) for r in rows], dtype=np.int64),
                 "to": np.asarray([pos.get(r["buses"][1], 0) for r in rows], dtype=np.int64)}
    cond = view.kinds["conductor"]
    owner = np.asarray([str(lbl).rsplit(".", 1)[0] for lbl in cond.labels], dtype=object)
    ents.sets = {"conductors": [np.flatnonzero((owner == r["transformer"]) & (cond.numbers["is_line"] == 0))
                                for r in rows]}
    view.kinds["transformer"] = ents
    view.sets["transformers"] = ("transformer", np.arange(len(rows)))

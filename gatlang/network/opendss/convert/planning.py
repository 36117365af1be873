"""The planning view (``dist_nodes`` / ``dist_branches``): one node per bus phase, one branch per phase.

Why: planning formulations (hosting capacity, LinDist3Flow screening) index
everything by bus phase.  Units: r, x in ohm (self impedance of the phase
conductor, element total), b in siemens (total shunt susceptance of the phase),
tap in pu, thermal_limit in amperes (lines' normamps; transformers' rated
current of winding 1); load_p/load_q in MW/Mvar, a load's power split equally
over the phases it touches.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

import pyarrow as pa
import pyarrow.compute as pc

from gatlang.network.model import Network


def _node(bus: str, phase: int) -> str:
    return f"{bus}.{phase}"


def planning_tables(net: Network) -> dict[str, dict[str, list]]:
    buses = net.table("buses")
    load_p: dict[str, float] = defaultdict(float)
    load_q: dict[str, float] = defaultdict(float)
    loads = net.table("loads")
    for bus, phases, p, q, ok in zip(*(loads.column(c).to_pylist()
                                       for c in ("bus", "phases", "p_mw", "q_mvar", "status"))):
        if not ok or not phases:
            continue
        for ph in phases:
            load_p[_node(bus, ph)] += p / len(phases)
            load_q[_node(bus, ph)] += (q or 0.0) / len(phases)
    nodes: dict[str, list] = defaultdict(list)
    for bus, phases, kind in zip(*(buses.column(c).to_pylist() for c in ("bus", "phases", "kind"))):
        for ph in phases or []:
            nid = _node(bus, ph)
            nodes["node_id"].append(nid)
            nodes["phase"].append(ph)
            nodes["type"].append("source" if kind == "ref" else ("load" if nid in load_p else "bus"))
            nodes["v_min"].append(0.95)
            nodes["v_max"].append(1.05)
            nodes["load_p"].append(load_p.get(nid, 0.0))
            nodes["load_q"].append(load_q.get(nid, 0.0))
            nodes["feeder_id"].append(net.name)
    br: dict[str, list] = {k: list(v) for k, v in _line_branches(net.table("lines")).items()}
    br = defaultdict(list, br)
    xf = net.table("transformers")
    for name, buses_, conns, kv, kva, taps, phases, ok in zip(*(xf.column(c).to_pylist() for c in (
            "transformer", "buses", "conns", "kv", "kva", "taps_pu", "phases", "status"))):
        nph = phases or 3
        amps = kva[0] * 1e3 / (kv[0] * 1e3 * (math.sqrt(3) if nph > 1 else 1.0))
        for w in range(1, len(buses_)):
            for k in range(nph):
                a, b = conns[0][k], conns[w][k]
                if a == 0 or b == 0:
                    continue
                br["branch_id"].append(f"transformer.{name}.{w + 1}.{a}")
                br["from_node"].append(_node(buses_[0], a))
                br["to_node"].append(_node(buses_[w], b))
                br["r"].append(None)
                br["x"].append(None)
                br["b"].append(0.0)
                br["tap"].append((taps[0] or 1.0) / (taps[w] or 1.0))
                br["status"].append(bool(ok))
                br["thermal_limit"].append(amps)
    return {"dist_nodes": dict(nodes), "dist_branches": dict(br)}


def _flat(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(values, offsets) of a list column: row i's items are values[offsets[i]:offsets[i + 1]]."""
    arr = col.combine_chunks()
    offsets = arr.offsets.to_numpy()
    values = pc.list_flatten(arr).to_numpy(zero_copy_only=False)
    return values, offsets - offsets[0]


def _line_branches(lines: pa.Table) -> dict[str, np.ndarray]:
    """One branch per live conductor of every line, read from the flat list columns (no Python loop).

    Why vectorised: large feeders have tens of thousands of conductors, and
    converting the matrix columns row by row to Python lists dominated the
    planning view.
    """
    if lines.num_rows == 0:
        return {}
    fc, off = _flat(lines.column("f_conn"))
    tc, _ = _flat(lines.column("t_conn"))
    n = np.diff(off)
    row = np.repeat(np.arange(lines.num_rows), n)
    k = np.arange(len(fc)) - off[row]                      # conductor index within its line
    diag = k * (n[row] + 1)                                 # self term of the conductor in its n x n matrix
    live = (fc != 0) & (tc != 0)
    row, diag = row[live], diag[live]

    def at_diag(name: str) -> np.ndarray:
        col = lines.column(name)
        vals, voff = _flat(col)
        present = np.diff(voff) > 0
        out = np.zeros(len(row))
        ok = present[row]
        out[ok] = vals[voff[row[ok]] + diag[ok]]
        return out

    names = np.asarray(lines.column("line").to_pylist(), dtype=object)
    fb = np.asarray(lines.column("from_bus").to_pylist(), dtype=object)
    tb = np.asarray(lines.column("to_bus").to_pylist(), dtype=object)
    a, b = fc[live].astype(str), tc[live].astype(str)
    dot = np.full(len(row), ".", dtype=object)
    amps = lines.column("normamps_a").to_numpy(zero_copy_only=False)
    status = lines.column("status").to_numpy(zero_copy_only=False)
    return {
        "branch_id": ("line." + names[row] + dot + a).tolist(),
        "from_node": (fb[row] + dot + a).tolist(),
        "to_node": (tb[row] + dot + b).tolist(),
        "r": at_diag("r_ohm").tolist(),
        "x": at_diag("x_ohm").tolist(),
        "b": (at_diag("b_from_s") + at_diag("b_to_s")).tolist(),
        "tap": [1.0] * len(row),
        "status": status[row].astype(bool).tolist(),
        "thermal_limit": [None if x != x else float(x) for x in amps[row]],
    }

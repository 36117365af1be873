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
    br: dict[str, list] = defaultdict(list)
    lines = net.table("lines")
    for row in zip(*(lines.column(c).to_pylist() for c in
                     ("line", "from_bus", "to_bus", "f_conn", "t_conn", "r_ohm", "x_ohm", "b_from_s",
                      "b_to_s", "status", "normamps_a"))):
        name, fb, tb, fc, tc, r, x, bf, bt, ok, amps = row
        n = len(fc)
        diag = np.arange(n) * (n + 1)
        for k, (a, b) in enumerate(zip(fc, tc)):
            if a == 0 or b == 0:
                continue
            br["branch_id"].append(f"line.{name}.{a}")
            br["from_node"].append(_node(fb, a))
            br["to_node"].append(_node(tb, b))
            br["r"].append(r[diag[k]])
            br["x"].append(x[diag[k]])
            br["b"].append((bf[diag[k]] if bf else 0.0) + (bt[diag[k]] if bt else 0.0))
            br["tap"].append(1.0)
            br["status"].append(bool(ok))
            br["thermal_limit"].append(amps)
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

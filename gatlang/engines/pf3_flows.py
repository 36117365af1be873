"""Currents and powers at every terminal of lines and transformers, from solved node voltages.

Why from primitives: an element's terminal currents are its primitive
admittance times its terminal voltages, the same matrices `ybus3` stamps,
so flows and losses are consistent with the equations that were solved
(and compare with the engine's ``CktElement.Currents``/``Powers``).  Lines
are done in stacked numpy batches per conductor count; transformers one
primitive each (they are few).
"""
from __future__ import annotations

import numpy as np

from gatlang.engines.pf3_result import BranchFlows
from gatlang.network.model import Network
from gatlang.engines.pf3_cache import primitive
from gatlang.network.ybus3 import NodeIndex


def _volts(v_full: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.where(idx >= 0, v_full[np.maximum(idx, 0)], 0.0)


def _line_flows(net: Network, nodes: NodeIndex, v_full: np.ndarray, out: dict[str, list]) -> None:
    t = net.table("lines")
    if t.num_rows == 0:
        return
    cols = {c: t.column(c).to_pylist() for c in
            ("line", "from_bus", "to_bus", "f_conn", "t_conn", "r_ohm", "x_ohm", "g_from_s", "b_from_s",
             "g_to_s", "b_to_s", "status")}
    size = np.asarray([len(c) for c in cols["f_conn"]])
    for n in np.unique(size):
        sel = [i for i in np.flatnonzero(size == n) if cols["status"][i]]
        if not sel:
            continue

        def stack(name: str) -> np.ndarray:
            return np.asarray([cols[name][i] if cols[name][i] is not None else [0.0] * (n * n)
                               for i in sel], dtype=float).reshape(len(sel), n, n)

        ys = np.linalg.inv(stack("r_ohm") + 1j * stack("x_ohm"))
        yf = stack("g_from_s") + 1j * stack("b_from_s")
        yt = stack("g_to_s") + 1j * stack("b_to_s")
        fi = np.asarray([nodes(cols["from_bus"][i], cols["f_conn"][i]) for i in sel])
        ti = np.asarray([nodes(cols["to_bus"][i], cols["t_conn"][i]) for i in sel])
        vf, vt = _volts(v_full, fi), _volts(v_full, ti)
        i_f = np.einsum("kij,kj->ki", ys + yf, vf) - np.einsum("kij,kj->ki", ys, vt)
        i_t = np.einsum("kij,kj->ki", ys + yt, vt) - np.einsum("kij,kj->ki", ys, vf)
        names = np.repeat([cols["line"][i] for i in sel], n)
        for term, bus_col, conn_col, cur, volt in ((1, "from_bus", "f_conn", i_f, vf),
                                                  (2, "to_bus", "t_conn", i_t, vt)):
            out["element"].append(names)
            out["kind"].append(np.full(len(names), "line", dtype=object))
            out["terminal"].append(np.full(len(names), term))
            out["bus"].append(np.repeat([cols[bus_col][i] for i in sel], n))
            out["node"].append(np.concatenate([cols[conn_col][i] for i in sel]))
            out["current"].append(cur.ravel())
            out["power_kva"].append((volt * np.conj(cur)).ravel() / 1e3)


def _transformer_flows(net: Network, nodes: NodeIndex, v_full: np.ndarray, out: dict[str, list],
                       taps: dict[str, list[float]]) -> None:
    for row in net.table("transformers").to_pylist():
        if not row["status"]:
            continue
        if row["transformer"] in taps:
            row = dict(row, taps_pu=taps[row["transformer"]])
        prim, terms = primitive(row)
        idx = np.asarray([nodes(row["buses"][w], [row["conns"][w][c]])[0] for w, c in terms])
        vt = _volts(v_full, idx)
        cur = prim @ vt
        m = len(terms)
        out["element"].append(np.full(m, row["transformer"], dtype=object))
        out["kind"].append(np.full(m, "transformer", dtype=object))
        out["terminal"].append(np.asarray([w + 1 for w, _ in terms]))
        out["bus"].append(np.asarray([row["buses"][w] for w, _ in terms], dtype=object))
        out["node"].append(np.asarray([row["conns"][w][c] for w, c in terms]))
        out["current"].append(cur)
        out["power_kva"].append(vt * np.conj(cur) / 1e3)


def branch_flows(net: Network, nodes: NodeIndex, v_full: np.ndarray,
                 taps: dict[str, list[float]] | None = None) -> BranchFlows:
    """Flows of every in-service line and transformer (``taps`` overrides transformer taps)."""
    out: dict[str, list] = {k: [] for k in ("element", "kind", "terminal", "bus", "node", "current",
                                            "power_kva")}
    _line_flows(net, nodes, v_full, out)
    _transformer_flows(net, nodes, v_full, out, taps or {})
    if not out["element"]:
        e = np.zeros(0)
        return BranchFlows(e.astype(object), e.astype(object), e.astype(int), e.astype(object),
                           e.astype(int), e.astype(complex), e.astype(complex))
    cat = {k: np.concatenate(v) for k, v in out.items()}
    return BranchFlows(cat["element"].astype(object), cat["kind"], cat["terminal"].astype(int),
                       cat["bus"].astype(object), cat["node"].astype(int), cat["current"].astype(complex),
                       cat["power_kva"].astype(complex))

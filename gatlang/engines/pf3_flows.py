"""Currents and powers at every terminal of lines and transformers, from solved node voltages.

Why from primitives: an element's terminal currents are its primitive
admittance times its terminal voltages, the same matrices `ybus3` stamps,
so flows and losses are consistent with the equations that were solved
(and compare with the engine's ``CktElement.Currents``/``Powers``).

Why a plan: the primitives, terminal indices and labels depend only on the
data, so they are stacked once per network version (`pf3_cache.memo`) into
groups of equal terminal count; a solve then costs one gather and one
batched matrix-vector product per group.  Transformers whose taps the
control loop moved are evaluated with their present primitive on top.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gatlang.engines.pf3_cache import memo, primitive
from gatlang.engines.pf3_result import BranchFlows
from gatlang.network.model import Network

if TYPE_CHECKING:
    from gatlang.engines.pf3_system import NodeMap


@dataclass
class _Group:
    """Elements with ``k`` terminals: primitives ``prim (m, k, k)`` on node indices ``idx (m, k)``."""

    prim: np.ndarray
    idx: np.ndarray
    element: np.ndarray
    kind: np.ndarray
    terminal: np.ndarray
    bus: np.ndarray
    node: np.ndarray


@dataclass
class _Plan:
    groups: list[_Group]
    rows: dict[str, dict]            # in-service transformer rows by name (taps as in the data)
    xf_slot: dict[str, tuple[int, int, int]]   # transformer -> (group, element row, terminals)
    slot: dict[tuple[str, str], tuple[int, int]]   # (kind, element) -> (group, element row)


def _line_groups(net: Network, nodes: NodeMap) -> list[_Group]:
    t = net.table("lines")
    if t.num_rows == 0:
        return []
    cols = {c: t.column(c).to_pylist() for c in
            ("line", "from_bus", "to_bus", "f_conn", "t_conn", "r_ohm", "x_ohm", "g_from_s", "b_from_s",
             "g_to_s", "b_to_s", "status")}
    size = np.asarray([len(c) for c in cols["f_conn"]])
    out = []
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
        prim = np.block([[ys + yf, -ys], [-ys, ys + yt]])
        idx = np.asarray([nodes(cols["from_bus"][i], cols["f_conn"][i]) + nodes(cols["to_bus"][i], cols["t_conn"][i])
                          for i in sel])
        terminal = np.tile(np.repeat([1, 2], n), len(sel))
        bus = np.asarray([b for i in sel for b in [cols["from_bus"][i]] * n + [cols["to_bus"][i]] * n], dtype=object)
        node = np.asarray([x for i in sel for x in list(cols["f_conn"][i]) + list(cols["t_conn"][i])])
        names = np.repeat(np.asarray([cols["line"][i] for i in sel], dtype=object), 2 * n)
        out.append(_Group(prim, idx, names, np.full(len(names), "line", dtype=object), terminal, bus, node))
    return out


def _transformer_groups(net: Network, nodes: NodeMap) -> tuple[list[_Group], list[dict], dict]:
    rows = [r for r in net.table("transformers").to_pylist() if r["status"]]
    by_size: dict[int, list[tuple[dict, np.ndarray, tuple]]] = {}
    for row in rows:
        prim, terms = primitive(row)
        by_size.setdefault(len(terms), []).append((row, prim, terms))
    groups, slot = [], {}
    for k, items in by_size.items():
        for j, (row, _, _) in enumerate(items):
            slot[row["transformer"]] = (len(groups), j, k)
        idx = np.asarray([nodes(row["buses"][w], [row["conns"][w][c]])[0] for row, _, terms in items
                          for w, c in terms]).reshape(len(items), k)
        groups.append(_Group(
            np.stack([p for _, p, _ in items]), idx,
            np.repeat(np.asarray([r["transformer"] for r, _, _ in items], dtype=object), k),
            np.full(len(items) * k, "transformer", dtype=object),
            np.asarray([w + 1 for _, _, terms in items for w, _ in terms]),
            np.asarray([r["buses"][w] for r, _, terms in items for w, _ in terms], dtype=object),
            np.asarray([r["conns"][w][c] for r, _, terms in items for w, c in terms])))
    return groups, rows, slot


def _plan(net: Network, nodes: NodeMap) -> _Plan:
    xf_groups, rows, slot = _transformer_groups(net, nodes)
    lines = _line_groups(net, nodes)
    slot = {name: (g + len(lines), j, k) for name, (g, j, k) in slot.items()}
    every = {("transformer", name): (g, j) for name, (g, j, _) in slot.items()}
    for gi, g in enumerate(lines):
        for j, name in enumerate(g.element[::g.idx.shape[1]]):
            every[("line", name)] = (gi, j)
    return _Plan(lines + xf_groups, {r["transformer"]: r for r in rows}, slot, every)


def _flow_plan(net: Network, nodes: NodeMap) -> _Plan:
    return memo(net, "flow_plan", lambda: _plan(net, nodes))


@dataclass
class Terminal:
    """Voltages (V) and currents into the element (A) at one terminal's conductors."""

    v: np.ndarray
    i: np.ndarray
    i_all: np.ndarray          # every terminal's conductor currents, terminal 1 first (the engine's buffer)

    @property
    def power_va(self) -> complex:
        """``sum V conj(I)`` over the terminal's conductors (the engine's ``Power[terminal]``)."""
        return complex(np.sum(self.v * np.conj(self.i)))


def terminal(net: Network, nodes: NodeMap, v_full: np.ndarray, kind: str, element: str, term: int,
             taps: dict[str, list[float]] | None = None) -> Terminal | None:
    """One terminal of an in-service line or transformer (None when there is no such element)."""
    plan = _flow_plan(net, nodes)
    hit = plan.slot.get((kind, element))
    if hit is None:
        return None
    g = plan.groups[hit[0]]
    idx = g.idx[hit[1]]
    vt = np.where(idx >= 0, v_full[np.maximum(idx, 0)], 0.0)
    prim = g.prim[hit[1]]
    if kind == "transformer" and taps and element in taps:
        prim = primitive(dict(plan.rows[element], taps_pu=list(taps[element])))[0]
    cur = prim @ vt
    k = len(idx)
    nterm = 2 if kind == "line" else int(max(g.terminal[hit[1] * k:(hit[1] + 1) * k]))
    per = k // nterm
    if not 1 <= term <= nterm:
        return None
    sel = slice((term - 1) * per, term * per)
    return Terminal(vt[sel], cur[sel], cur)


def branch_flows(net: Network, nodes: NodeMap, v_full: np.ndarray,
                 taps: dict[str, list[float]] | None = None) -> BranchFlows:
    """Flows of every in-service line and transformer (``taps`` overrides transformer taps)."""
    plan = _flow_plan(net, nodes)
    vx = np.r_[v_full, 0.0]                         # index -1 (ground) reads the appended 0
    currents, volts = [], []
    for g in plan.groups:
        vt = vx[g.idx]
        currents.append(np.einsum("mij,mj->mi", g.prim, vt))
        volts.append(vt)
    for name, t in (taps or {}).items():
        row = plan.rows.get(name)
        if row is None or list(row["taps_pu"] or []) == list(t):
            continue
        gi, j, _ = plan.xf_slot[name]
        currents[gi][j] = primitive(dict(row, taps_pu=list(t)))[0] @ volts[gi][j]
    if not plan.groups:
        e = np.zeros(0)
        return BranchFlows(e.astype(object), e.astype(object), e.astype(int), e.astype(object),
                           e.astype(int), e.astype(complex), e.astype(complex))
    cur = np.concatenate([c.ravel() for c in currents])
    vol = np.concatenate([v.ravel() for v in volts])
    labels = memo(net, "flow_labels", lambda: {
        f: np.concatenate([getattr(g, f) for g in plan.groups]) for f in ("element", "kind", "terminal", "bus", "node")})
    return BranchFlows(labels["element"], labels["kind"], labels["terminal"].astype(int), labels["bus"],
                       labels["node"].astype(int), cur, vol * np.conj(cur) / 1e3)

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
import pyarrow.compute as pc

from gatlang.engines.pf3_cache import NETWORK_TABLES, memo, primitive
from gatlang.engines.pf3_result import BranchFlows
from gatlang.network.model import Network

if TYPE_CHECKING:
    from gatlang.network.ybus3 import NodeIndex


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


_LINE_COLUMNS = ("line", "from_bus", "to_bus", "f_conn", "t_conn", "r_ohm", "x_ohm", "g_from_s", "b_from_s",
                 "g_to_s", "b_to_s", "status")


def _line_block(cols: dict[str, list], sel: list[int], n: int, nodes: NodeIndex) -> tuple[np.ndarray, np.ndarray]:
    """(primitives (m, 2n, 2n), node indices (m, 2n)) of the lines ``sel``, all with ``n`` conductors."""
    def stack(name: str) -> np.ndarray:
        return np.asarray([cols[name][i] if cols[name][i] is not None else [0.0] * (n * n)
                           for i in sel], dtype=float).reshape(len(sel), n, n)

    ys = np.linalg.inv(stack("r_ohm") + 1j * stack("x_ohm"))
    yf = stack("g_from_s") + 1j * stack("b_from_s")
    yt = stack("g_to_s") + 1j * stack("b_to_s")
    prim = np.block([[ys + yf, -ys], [-ys, ys + yt]])
    idx = np.asarray([nodes(cols["from_bus"][i], cols["f_conn"][i]) + nodes(cols["to_bus"][i], cols["t_conn"][i])
                      for i in sel])
    return prim, idx


def _line_groups(net: Network, nodes: NodeIndex) -> list[_Group]:
    t = net.table("lines")
    if t.num_rows == 0:
        return []
    cols = {c: t.column(c).to_pylist() for c in _LINE_COLUMNS}
    size = np.asarray([len(c) for c in cols["f_conn"]])
    out = []
    for n in np.unique(size):
        sel = [i for i in np.flatnonzero(size == n) if cols["status"][i]]
        if not sel:
            continue
        prim, idx = _line_block(cols, sel, n, nodes)
        terminal = np.tile(np.repeat([1, 2], n), len(sel))
        bus = np.asarray([b for i in sel for b in [cols["from_bus"][i]] * n + [cols["to_bus"][i]] * n], dtype=object)
        node = np.asarray([x for i in sel for x in list(cols["f_conn"][i]) + list(cols["t_conn"][i])])
        names = np.repeat(np.asarray([cols["line"][i] for i in sel], dtype=object), 2 * n)
        out.append(_Group(prim, idx, names, np.full(len(names), "line", dtype=object), terminal, bus, node))
    return out


def _one_element(net: Network, nodes: NodeIndex, kind: str, element: str) -> tuple[np.ndarray, np.ndarray, int, dict] | None:
    """(primitive, node indices, terminals, transformer row or {}) of one in-service element.

    Why not the whole flow plan: a capacitor control reads one line after every
    control round, and the plan of a large feeder costs more than the solve.
    """
    table = "lines" if kind == "line" else "transformers" if kind == "transformer" else None
    if table is None:
        return None
    t = net.table(table)
    hit = pc.index(t.column(kind), element).as_py()
    if hit < 0:
        return None
    if kind == "line":
        cols = {c: t.column(c).slice(hit, 1).to_pylist() for c in _LINE_COLUMNS}
        if not cols["status"][0]:
            return None
        prim, idx = _line_block(cols, [0], len(cols["f_conn"][0]), nodes)
        return prim[0], idx[0], 2, {}
    row = t.slice(hit, 1).to_pylist()[0]
    if not row["status"]:
        return None
    prim, terms = primitive(row)
    idx = np.asarray([nodes(row["buses"][w], [row["conns"][w][c]])[0] for w, c in terms])
    return prim, idx, len(row["kv"]), row


def _transformer_groups(net: Network, nodes: NodeIndex) -> tuple[list[_Group], list[dict], dict]:
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


def _plan(net: Network, nodes: NodeIndex) -> _Plan:
    xf_groups, rows, slot = _transformer_groups(net, nodes)
    lines = _line_groups(net, nodes)
    slot = {name: (g + len(lines), j, k) for name, (g, j, k) in slot.items()}
    return _Plan(lines + xf_groups, {r["transformer"]: r for r in rows}, slot)


def _flow_plan(net: Network, nodes: NodeIndex) -> _Plan:
    return memo(net, "flow_plan", lambda: _plan(net, nodes), NETWORK_TABLES)


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


def terminal(net: Network, nodes: NodeIndex, v_full: np.ndarray, kind: str, element: str, term: int,
             taps: dict[str, list[float]] | None = None) -> Terminal | None:
    """One terminal of an in-service line or transformer (None when there is no such element)."""
    found = memo(net, ("element", kind, element), lambda: _one_element(net, nodes, kind, element), NETWORK_TABLES)
    if found is None:
        return None
    prim, idx, nterm, row = found
    if not 1 <= term <= nterm:
        return None
    if row and taps and element in taps and list(taps[element]) != list(row["taps_pu"] or []):
        prim = primitive(dict(row, taps_pu=list(taps[element])))[0]
    vt = np.where(idx >= 0, v_full[np.maximum(idx, 0)], 0.0)
    cur = prim @ vt
    per = len(idx) // nterm
    sel = slice((term - 1) * per, term * per)
    return Terminal(vt[sel], cur[sel], cur)


@dataclass
class FlowSource:
    """The branch flows of one solution, computed when first asked for (`PF3Result.flows`).

    A class rather than a closure so that a result can be pickled (sent between processes).
    """

    net: Network
    nodes: NodeIndex
    v_full: np.ndarray
    taps: dict[str, list[float]]

    def __call__(self) -> BranchFlows:
        return branch_flows(self.net, self.nodes, self.v_full, self.taps)


def branch_flows(net: Network, nodes: NodeIndex, v_full: np.ndarray,
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
        f: np.concatenate([getattr(g, f) for g in plan.groups]) for f in ("element", "kind", "terminal", "bus", "node")},
        NETWORK_TABLES)
    return BranchFlows(labels["element"], labels["kind"], labels["terminal"].astype(int), labels["bus"],
                       labels["node"].astype(int), cur, vol * np.conj(cur) / 1e3)

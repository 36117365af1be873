"""Three-phase (per node) bus admittance matrix in physical siemens, from the canonical model.

Why physical siemens: the matrix can then be compared entry by entry with the
OpenDSS engine's ``Circuit.SystemY()`` (the oracle), and per-unit kernels can
scale it with `gatlang.network.perunit3` bases without this module knowing
any base.  Nodes are named ``"bus.k"`` (k = conductor node, 4 = explicit
neutral); ground (node 0) is the reference and has no row.

What is included: lines (series impedance and line charging), transformers
(the engine's winding model: short-circuit reactances and winding resistances
on the winding-1 kVA, taps, magnetising branch, anti-floating shunt), shunt
capacitors and reactors, and the Thevenin impedance of each voltage source.
Loads, generators, PV and storage are *injections* and are not in the matrix
(compare with the engine after disabling them).

Each element contributes a primitive admittance matrix over its terminal
nodes; primitives are computed in stacked numpy batches (one ``inv`` per group
of equal size) and assembled once into a sparse matrix.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from gatlang.network.model import Network

SQRT3 = math.sqrt(3.0)


@dataclass
class _Stamps:
    """COO triplets of the system matrix, by global node index (-1 = ground, dropped)."""

    rows: list[np.ndarray] = field(default_factory=list)
    cols: list[np.ndarray] = field(default_factory=list)
    vals: list[np.ndarray] = field(default_factory=list)

    def add(self, idx: np.ndarray, prim: np.ndarray) -> None:
        """Stamp primitives `prim` (m, k, k) on node indices `idx` (m, k)."""
        if prim.size == 0:
            return
        m, k = idx.shape
        r = np.repeat(idx, k, axis=1).reshape(m, k, k)
        c = np.tile(idx, (1, k)).reshape(m, k, k)
        keep = (r >= 0) & (c >= 0)
        self.rows.append(r[keep])
        self.cols.append(c[keep])
        self.vals.append(prim[keep])


class NodeIndex:
    """Global numbering of (bus, node) pairs, in bus-table order then node order."""

    def __init__(self, net: Network) -> None:
        buses = net.table("buses")
        seen: dict[str, set[int]] = {b: set(p or []) for b, p in zip(
            buses.column("bus").to_pylist(), buses.column("phases").to_pylist())}
        for bus, nodes in _terminals(net):
            seen.setdefault(bus, set()).update(n for n in nodes if n > 0)
        self.names: list[str] = []
        self.index: dict[tuple[str, int], int] = {}
        for bus, nodes in seen.items():
            for n in sorted(nodes):
                self.index[(bus, n)] = len(self.names)
                self.names.append(f"{bus}.{n}")

    def __call__(self, bus: str, nodes: list[int]) -> list[int]:
        return [self.index[(bus, n)] if n > 0 else -1 for n in nodes]


def _terminals(net: Network):
    lines = net.table("lines")
    yield from zip(lines.column("from_bus").to_pylist(), lines.column("f_conn").to_pylist())
    yield from zip(lines.column("to_bus").to_pylist(), lines.column("t_conn").to_pylist())
    xf = net.table("transformers")
    for buses, conns in zip(xf.column("buses").to_pylist(), xf.column("conns").to_pylist()):
        yield from zip(buses, conns)
    for name in ("shunts", "sources"):
        t = net.table(name)
        yield from zip(t.column("bus").to_pylist(), t.column("conn").to_pylist())


# ------------------------------------------------------------------ lines

def _lines(net: Network, nodes: NodeIndex, st: _Stamps) -> None:
    t = net.table("lines")
    if t.num_rows == 0:
        return
    cols = {c: t.column(c).to_pylist() for c in
            ("from_bus", "to_bus", "f_conn", "t_conn", "r_ohm", "x_ohm", "g_from_s", "b_from_s",
             "g_to_s", "b_to_s", "status")}
    size = np.asarray([len(c) for c in cols["f_conn"]])
    for n in np.unique(size):
        sel = [i for i in np.flatnonzero(size == n) if cols["status"][i]]
        if not sel:
            continue

        def stack(name: str) -> np.ndarray:
            return np.asarray([cols[name][i] if cols[name][i] is not None else [0.0] * (n * n)
                               for i in sel], dtype=float).reshape(len(sel), n, n)

        z = stack("r_ohm") + 1j * stack("x_ohm")
        ys = np.linalg.inv(z)
        yf = stack("g_from_s") + 1j * stack("b_from_s")
        yt = stack("g_to_s") + 1j * stack("b_to_s")
        prim = np.block([[ys + yf, -ys], [-ys, ys + yt]])
        idx = np.asarray([nodes(cols["from_bus"][i], cols["f_conn"][i]) +
                          nodes(cols["to_bus"][i], cols["t_conn"][i]) for i in sel])
        st.add(idx, prim)


# ------------------------------------------------------------------ transformers

def winding_vbase(kv, connection: str, phases: int):
    """Volts across one winding: line-to-neutral for a multi-phase wye, else the rating."""
    return np.asarray(kv) * 1e3 / (SQRT3 if connection == "wye" and phases > 1 else 1.0)


def _structure(row: dict) -> tuple:
    """Transformers with the same structure share one batched computation."""
    nw = len(row["kv"])
    conns = tuple(row["connections"] or ["wye"] * nw)
    return nw, int(row["phases"] or 3), conns, (row.get("shift_deg") or 0.0) < 0


def transformer_terminal_y(rows: list[dict]) -> np.ndarray:
    """(m, 2N, 2N): one phase of N-winding transformers of one structure, both ends of every winding.

    The engine's model: short-circuit impedances between winding 1 and each
    other winding (and between the others) on a 1-volt, winding-1-kVA base,
    inverted and expanded through the incidence of windings, then scaled by
    the turns (winding volts times tap) of each winding; the magnetising
    branch sits across winding 2.
    """
    nw, nph, conns, _ = _structure(rows[0])
    m = len(rows)
    kv = np.asarray([r["kv"] for r in rows], dtype=float)
    taps = np.asarray([r["taps_pu"] or [1.0] * nw for r in rows], dtype=float)
    rpu = np.asarray([r["r_pct"] for r in rows], dtype=float) / 100.0
    xsc = np.asarray([[r["xhl_pct"]] + ([r["xht_pct"], r["xlt_pct"]] if nw > 2 else []) for r in rows],
                     dtype=float) / 100.0                   # 1-2, 1-3, then 2-3
    zbase = nph / (np.asarray([r["kva"][0] for r in rows], dtype=float) * 1e3)     # ohm on 1 volt
    zb = np.zeros((m, nw - 1, nw - 1), dtype=complex)
    for i in range(nw - 1):
        zb[:, i, i] = (rpu[:, 0] + rpu[:, i + 1] + 1j * xsc[:, i]) * zbase
    k = nw - 1
    for i in range(nw - 1):
        for j in range(i + 1, nw - 1):
            zij = (rpu[:, i + 1] + rpu[:, j + 1] + 1j * xsc[:, k]) * zbase
            zb[:, i, j] = zb[:, j, i] = 0.5 * (zb[:, i, i] + zb[:, j, j] - zij)
            k += 1
    a = np.zeros((nw - 1, nw))
    a[:, 0] = -1.0
    a[np.arange(nw - 1), np.arange(1, nw)] = 1.0
    y1 = np.einsum("ki,mkl,lj->mij", a, np.linalg.inv(zb), a)          # N x N on one volt
    mag = np.asarray([complex(r["noloadloss_pct"] or 0.0, -(r["imag_pct"] or 0.0)) for r in rows])
    y1[:, 1, 1] += mag / 100.0 / zbase
    vb = np.stack([winding_vbase(kv[:, w], conns[w], nph) for w in range(nw)], axis=1) * taps
    turns = np.zeros((m, nw, 2 * nw))
    turns[:, np.arange(nw), 2 * np.arange(nw)] = 1.0 / vb
    turns[:, np.arange(nw), 2 * np.arange(nw) + 1] = -1.0 / vb
    return np.einsum("mki,mkl,mlj->mij", turns, y1, turns)


def transformer_primitives(rows: list[dict]) -> np.ndarray:
    """(m, N(n+1), N(n+1)) primitive Y over (winding, conductor); conductor n is the winding's neutral.

    All `rows` must share `_structure`.  Delta windings follow the engine's
    ANSI 30-degree lag (shift_deg +30): phase k's winding runs from conductor
    k to k+1, or to k-1 when a delta winding 1 feeds a wye winding 2; reversed
    for a leading connection (shift_deg -30).  The engine's anti-floating
    shunt (ppm of the 1-volt base, halved) is added at both ends of every
    winding and once more on a wye neutral.
    """
    nw, nph, conns, leading = _structure(rows[0])
    m = len(rows)
    yterm = transformer_terminal_y(rows)
    ncond = nph + 1
    prim = np.zeros((m, nw * ncond, nw * ncond), dtype=complex)
    step = -1 if conns[0] == "delta" and conns[1] == "wye" else 1
    step = -step if leading else step
    kv = np.asarray([r["kv"] for r in rows], dtype=float)
    ppm = np.asarray([r.get("ppm_antifloat") or 0.0 for r in rows])
    va_phase = np.asarray([r["kva"][0] for r in rows], dtype=float) * 1e3 / nph
    float_y = np.stack([-1j * ppm * 1e-6 * va_phase / winding_vbase(kv[:, w], conns[w], nph) ** 2 / 2.0
                        for w in range(nw)], axis=1)                           # (m, nw)
    for ph in range(nph):
        ends = []
        for w in range(nw):
            lo = nph if conns[w] == "wye" else ((ph + step) % nph if nph > 1 else 1)
            ends += [w * ncond + ph, w * ncond + lo]
        e = np.asarray(ends)
        prim[:, e[:, None], e[None, :]] += yterm
        prim[:, e, e] += np.repeat(float_y, 2, axis=1)
    for w in range(nw):
        if conns[w] == "wye":
            prim[:, w * ncond + nph, w * ncond + nph] += float_y[:, w]
    return prim


def transformer_primitive(row: dict) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """One transformer's primitive Y and its (winding, conductor) terminal order."""
    nw, nph = len(row["kv"]), int(row["phases"] or 3)
    return transformer_primitives([row])[0], [(w, c) for w in range(nw) for c in range(nph + 1)]


def _transformers(net: Network, nodes: NodeIndex, st: _Stamps) -> None:
    groups: dict[tuple, list[dict]] = {}
    for row in net.table("transformers").to_pylist():
        if row["status"]:
            groups.setdefault(_structure(row), []).append(row)
    for rows in groups.values():
        idx = np.asarray([[n for b, c in zip(r["buses"], r["conns"]) for n in nodes(b, c)] for r in rows])
        st.add(idx, transformer_primitives(rows))


# ------------------------------------------------------------------ shunts and sources

def shunt_primitive(b_mvar: float, g_mw: float, vn_kv: float, connection: str, nconds: int,
                    nphases: int) -> np.ndarray:
    """Primitive over the element's conductors: wye phases to the neutral, or delta phase pairs."""
    if connection == "wye":
        vph = vn_kv * 1e3 / SQRT3 if nphases > 1 else vn_kv * 1e3
    else:
        vph = vn_kv * 1e3
    y = complex(g_mw, b_mvar) * 1e6 / nphases / (vph * vph)
    prim = np.zeros((nconds, nconds), dtype=complex)
    for k in range(nphases):
        a = k
        b = nphases if connection == "wye" else ((k + 1) % nphases if nphases > 1 else 1)
        prim[np.ix_([a, b], [a, b])] += y * np.array([[1, -1], [-1, 1]])
    return prim


def _shunts(net: Network, nodes: NodeIndex, st: _Stamps) -> None:
    t = net.table("shunts")
    for row in t.to_pylist():
        if not row["status"]:
            continue
        conn = row["conn"]
        nph = len(conn) - 1 if row["connection"] == "wye" else (1 if len(conn) == 2 else len(conn))
        prim = shunt_primitive(row["b_mvar"] or 0.0, row["g_mw"] or 0.0, row["vn_kv"] or 0.0,
                               row["connection"], len(conn), nph)
        st.add(np.asarray([nodes(row["bus"], conn)]), prim[None])


def sequence_matrix(z1: complex, z0: complex, n: int) -> np.ndarray:
    """Phase impedance matrix of a balanced element from sequence impedances."""
    zs, zm = (2 * z1 + z0) / 3.0, (z0 - z1) / 3.0
    return np.full((n, n), zm, dtype=complex) + np.eye(n) * (zs - zm)


def _sources(net: Network, nodes: NodeIndex, st: _Stamps) -> None:
    t = net.table("sources")
    for row in t.to_pylist():
        conn = row["conn"]
        z = sequence_matrix(complex(row["r1_ohm"], row["x1_ohm"]), complex(row["r0_ohm"], row["x0_ohm"]),
                            len(conn))
        st.add(np.asarray([nodes(row["bus"], conn)]), np.linalg.inv(z)[None])


def build_ybus3(net: Network) -> tuple[sp.csc_matrix, list[str]]:
    """(Y in siemens, node names ``"bus.k"``) of lines, transformers, shunts and source impedances."""
    nodes = NodeIndex(net)
    st = _Stamps()
    _lines(net, nodes, st)
    _transformers(net, nodes, st)
    _shunts(net, nodes, st)
    _sources(net, nodes, st)
    n = len(nodes.names)
    if not st.vals:
        return sp.csc_matrix((n, n), dtype=complex), nodes.names
    y = sp.coo_matrix((np.concatenate(st.vals), (np.concatenate(st.rows), np.concatenate(st.cols))),
                      shape=(n, n)).tocsc()
    y.sum_duplicates()
    return y, nodes.names

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

def winding_vbase(kv: float, connection: str, phases: int) -> float:
    """Volts across one winding: line-to-neutral for a multi-phase wye, else the rating."""
    return kv * 1e3 / SQRT3 if connection == "wye" and phases > 1 else kv * 1e3


def transformer_terminal_y(kv: list[float], kva: list[float], taps: list[float], r_pct: list[float],
                           x_pct: list[float], connections: list[str], phases: int,
                           noloadloss_pct: float = 0.0, imag_pct: float = 0.0) -> np.ndarray:
    """The 2N x 2N admittance of one phase of an N-winding transformer (both ends of every winding).

    The engine's model: short-circuit impedances between winding 1 and each
    other winding (and between the others) on a 1-volt, winding-1-kVA base,
    inverted and expanded through the incidence of windings, then scaled by
    the turns (winding volts times tap) of each winding.
    """
    nw = len(kv)
    va_phase = kva[0] * 1e3 / phases
    zbase = 1.0 / va_phase
    rpu = np.asarray(r_pct) / 100.0
    xsc = np.asarray(x_pct) / 100.0          # 1-2, 1-3, ..., then 2-3, ...
    zb = np.zeros((nw - 1, nw - 1), dtype=complex)
    for i in range(nw - 1):
        zb[i, i] = complex(rpu[0] + rpu[i + 1], xsc[i]) * zbase
    k = nw - 1
    for i in range(nw - 1):
        for j in range(i + 1, nw - 1):
            zij = complex(rpu[i + 1] + rpu[j + 1], xsc[k]) * zbase
            zb[i, j] = zb[j, i] = 0.5 * (zb[i, i] + zb[j, j] - zij)
            k += 1
    a = np.zeros((nw - 1, nw))
    a[:, 0] = -1.0
    a[np.arange(nw - 1), np.arange(1, nw)] = 1.0
    y1 = a.T @ np.linalg.inv(zb) @ a                   # N x N on one volt
    # magnetising branch: the engine places it across winding 2 (one-volt basis)
    y1[1, 1] += complex(noloadloss_pct, -imag_pct) / 100.0 / zbase
    vb = np.asarray([winding_vbase(kv[i], connections[i], phases) * taps[i] for i in range(nw)])
    m = np.zeros((nw, 2 * nw))
    m[np.arange(nw), 2 * np.arange(nw)] = 1.0 / vb
    m[np.arange(nw), 2 * np.arange(nw) + 1] = -1.0 / vb
    return m.T @ y1 @ m


def antifloat_y(kv: float, connection: str, phases: int, kva1: float, ppm: float) -> complex:
    """The engine's anti-floating shunt of one winding conductor: ppm of the 1-volt base, halved."""
    vw = winding_vbase(kv, connection, phases)
    return complex(0.0, -ppm * 1e-6 * kva1 * 1e3 / phases / (vw * vw) / 2.0)


def transformer_primitive(row: dict) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Primitive Y over (winding, conductor) terminals; conductor nph is the winding's neutral."""
    nph = int(row["phases"] or 3)
    nw = len(row["kv"])
    x = [row["xhl_pct"]] + ([row["xht_pct"], row["xlt_pct"]] if nw > 2 else [])
    conns = row["connections"] or ["wye"] * nw
    yterm = transformer_terminal_y(row["kv"], row["kva"], row["taps_pu"] or [1.0] * nw,
                                   row["r_pct"], x, conns, nph, row["noloadloss_pct"] or 0.0,
                                   row["imag_pct"] or 0.0)
    ncond = nph + 1
    prim = np.zeros((nw * ncond, nw * ncond), dtype=complex)
    step = -1 if conns[0] == "delta" and conns[1] == "wye" else 1
    if (row.get("shift_deg") or 0.0) < 0:     # leading ("Euro", Dy11): the other way round
        step = -step
    ppm = row.get("ppm_antifloat") or 0.0
    float_y = np.asarray([antifloat_y(row["kv"][w], conns[w], nph, row["kva"][0], ppm) for w in range(nw)])
    for ph in range(nph):
        ends = []
        for w in range(nw):
            hi = w * ncond + ph
            if conns[w] == "wye":
                lo = w * ncond + nph
            else:
                # ANSI 30-degree lag (engine default, shift_deg +30): phase k's delta winding
                # runs from conductor k to k+1, or to k-1 when a delta winding 1 feeds a wye
                # winding 2; reversed for a leading connection (shift_deg -30)
                lo = w * ncond + ((ph + step) % nph if nph > 1 else 1)
            ends += [hi, lo]
        ends_a = np.asarray(ends)
        prim[np.ix_(ends_a, ends_a)] += yterm
        if ppm:   # engine: a small shunt at both ends of every winding
            prim[ends_a, ends_a] += np.repeat(float_y, 2)
    if ppm:       # ... and once more on a wye winding's neutral
        for w in np.flatnonzero(np.asarray(conns) == "wye"):
            prim[w * ncond + nph, w * ncond + nph] += float_y[w]
    terms = [(w, c) for w in range(nw) for c in range(ncond)]
    return prim, terms


def _transformers(net: Network, nodes: NodeIndex, st: _Stamps) -> None:
    t = net.table("transformers")
    for row in t.to_pylist():
        if not row["status"]:
            continue
        prim, terms = transformer_primitive(row)
        idx = [nodes(row["buses"][w], [row["conns"][w][c]])[0] for w, c in terms]
        st.add(np.asarray([idx]), prim[None])


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

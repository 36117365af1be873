"""The equations of an unbalanced power flow, in per unit, ready for a kernel.

Why: Newton and the fixed-point iteration solve the same nodal equations

    F(v) = Y v - i_src + A i_load(A^T v) = 0

over the energised nodes, with ``Y`` the network admittance (lines,
transformers at their present taps, capacitors, the sources' Thevenin
impedances; `gatlang.network.ybus3`), ``i_src`` the sources' Norton currents
and ``i_load`` the load branches (`pf3_loads`).  Everything they share is
built here once.

Per unit: node voltages are divided by the node's line-to-neutral base and
currents multiplied by it, over ``SBASE`` (1 MVA): ``Y_pu = D Y D / S``.  The
scaling keeps the Jacobian well conditioned across 115 kV and 120 V nodes
and makes the mismatch a power (pu of 1 MVA) for every node.

Neutrals: the model is the importer's, conductor by conductor.  Node 0 is
ground (the reference, no unknown); an explicit neutral conductor (node 4)
is an ordinary unknown, so four-wire lines are solved as four-wire (import
with ``kron_reduce=True`` to solve the Kron-reduced three-wire network).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph

from gatlang.diagnostics import Diagnostic, Span, error, warning
from gatlang.engines import pf3_result as codes
from gatlang.engines.pf3_loads import LoadBranches, build_load_branches
from gatlang.network.model import Network
from gatlang.network.perunit3 import voltage_bases
from gatlang.engines.pf3_cache import primitive, ybus
from gatlang.network.ybus3 import NodeIndex, sequence_matrix

SQRT3 = math.sqrt(3.0)
SBASE = 1e6   # VA


@dataclass
class Regulated:
    """Transformers whose taps may change: their rows and stamp positions."""

    rows: list[dict]                 # transformer table rows (by position in `names`)
    names: list[str]
    terminals: list[np.ndarray]      # full node index per primitive terminal (-1 = ground)


@dataclass
class System3:
    """Per-unit equations over the energised nodes ``live`` (indices into ``names``)."""

    names: list[str]
    vbase: np.ndarray            # V per node (all nodes)
    live: np.ndarray             # energised node indices
    y_phys: sp.csc_matrix        # full, siemens
    ypu: sp.csc_matrix           # live x live, pu
    isrc: np.ndarray             # live, pu
    loads: LoadBranches          # node indices in live numbering (-1 = ground or dead)
    load_scale_pu: np.ndarray    # per branch: vbase^2 / SBASE (converts dI/dd to pu)
    load_vb: np.ndarray          # per branch: the node base of its bus (V)
    nodes: NodeIndex
    regulated: Regulated
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.live)

    # ---------------------------------------------------------------- evaluation
    def branch_voltage(self, v: np.ndarray) -> np.ndarray:
        """Voltage across each load branch, pu of its bus base (ground = 0)."""
        vx = np.r_[v, 0.0]
        return vx[self.loads.a] - vx[self.loads.b]

    def load_injection(self, i_branch_pu: np.ndarray) -> np.ndarray:
        """``A i``: a branch current leaves node a and enters node b (pu, live numbering)."""
        n = self.n
        out = np.bincount(self.loads.a, weights=i_branch_pu.real, minlength=n + 1)[:n] \
            - np.bincount(self.loads.b, weights=i_branch_pu.real, minlength=n + 1)[:n]
        out = out + 1j * (np.bincount(self.loads.a, weights=i_branch_pu.imag, minlength=n + 1)[:n]
                          - np.bincount(self.loads.b, weights=i_branch_pu.imag, minlength=n + 1)[:n])
        return out

    def load_currents_pu(self, v: np.ndarray) -> np.ndarray:
        """Branch currents in pu (``vb * I / SBASE``) at pu voltages ``v``."""
        d = self.branch_voltage(v) * self.load_vb
        return self.loads.currents(d) * self.load_vb / SBASE

    def mismatch(self, v: np.ndarray) -> np.ndarray:
        """``F(v)`` (complex, pu) per live node."""
        return self.ypu @ v - self.isrc + self.load_injection(self.load_currents_pu(v))

    def v_full(self, v: np.ndarray) -> np.ndarray:
        """Volts for every node (0 for de-energised ones)."""
        out = np.zeros(len(self.names), dtype=complex)
        out[self.live] = v * self.vbase[self.live]
        return out

    # ---------------------------------------------------------------- tap changes
    def set_taps(self, changes: dict[int, list[float]]) -> None:
        """Give regulated transformer k the per-winding taps ``changes[k]`` (updates ``ypu``)."""
        rows, cols, vals = [], [], []
        for k, taps in changes.items():
            old = self.regulated.rows[k]
            new = dict(old, taps_pu=list(taps))
            dprim = primitive(new)[0] - primitive(old)[0]
            idx = self.regulated.terminals[k]
            r = np.repeat(idx, len(idx))
            c = np.tile(idx, len(idx))
            keep = (r >= 0) & (c >= 0)
            rows.append(r[keep])
            cols.append(c[keep])
            vals.append(dprim.ravel()[keep])
            self.regulated.rows[k] = new
        if not rows:
            return
        n_all = len(self.names)
        r, c, x = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        self.y_phys = (self.y_phys + sp.coo_matrix((x, (r, c)), shape=(n_all, n_all))).tocsc()
        # the same change in per unit over the live nodes, without rebuilding the whole matrix
        remap = np.full(n_all, -1)
        remap[self.live] = np.arange(self.n)
        lr, lc = remap[r], remap[c]
        ok = (lr >= 0) & (lc >= 0)
        scale = self.vbase[r[ok]] * self.vbase[c[ok]] / SBASE
        self.ypu = (self.ypu + sp.coo_matrix((x[ok] * scale, (lr[ok], lc[ok])), shape=(self.n, self.n))).tocsc()


def _per_unit(y: sp.csc_matrix, vbase: np.ndarray, live: np.ndarray) -> sp.csc_matrix:
    d = sp.diags(vbase[live] / math.sqrt(SBASE))
    return (d @ y[live][:, live] @ d).tocsc()


def node_bases(net: Network, names: list[str]) -> np.ndarray:
    """Line-to-neutral base (V) per node: the bus's ``vn_kv`` (snapped by the importer) or the
    bases carried from the sources; NaN where neither is known."""
    buses = net.table("buses")
    kv = dict(zip(buses.column("bus").to_pylist(), buses.column("vn_kv").to_pylist()))
    carried = voltage_bases(net)
    out = np.full(len(names), np.nan)
    for i, name in enumerate(names):
        bus = name.rsplit(".", 1)[0]
        if kv.get(bus):
            out[i] = kv[bus] * 1e3 / SQRT3
        elif bus in carried:
            out[i] = carried[bus] * 1e3
    return out


def source_injection(net: Network, nodes: NodeIndex) -> tuple[np.ndarray, np.ndarray]:
    """(Norton currents in A per node, node indices of source terminals).

    Each source is an EMF ``pu * basekv / sqrt(3)`` at ``angle - 120 k`` degrees
    on its k-th phase behind its Thevenin impedance (already in Y).
    """
    n = len(nodes.names)
    inj = np.zeros(n, dtype=complex)
    src_nodes: list[int] = []
    for row in net.table("sources").to_pylist():
        conn = row["conn"]
        nph = len(conn)
        z = sequence_matrix(complex(row["r1_ohm"], row["x1_ohm"]), complex(row["r0_ohm"], row["x0_ohm"]), nph)
        mag = (row["pu"] if row["pu"] is not None else 1.0) * (row["vn_kv"] or 0.0) * 1e3 / SQRT3
        ang = np.radians((row["angle_deg"] or 0.0) - 120.0 * np.arange(nph))
        e = mag * np.exp(1j * ang)
        idx = np.asarray(nodes(row["bus"], conn))
        cur = np.linalg.solve(z, e)
        ok = idx >= 0
        np.add.at(inj, idx[ok], cur[ok])
        src_nodes += idx[ok].tolist()
    return inj, np.asarray(src_nodes, dtype=int)


def _regulated(net: Network, nodes: NodeIndex) -> Regulated:
    """Every in-service transformer named by a regulator, with its stamp terminals."""
    regs = net.table("regulators")
    wanted = set(regs.column("transformer").to_pylist())
    xf = net.table("transformers")
    rows, names, terms = [], [], []
    for row in xf.to_pylist():
        if row["transformer"] not in wanted or not row["status"]:
            continue
        _, t = primitive(row)
        rows.append(row)
        names.append(row["transformer"])
        terms.append(np.asarray([nodes(row["buses"][w], [row["conns"][w][c]])[0] for w, c in t]))
    return Regulated(rows, names, terms)


def energised_nodes(y: sp.csc_matrix, src_nodes: np.ndarray) -> np.ndarray:
    """Nodes connected (through non-zero admittances) to a source terminal."""
    n = y.shape[0]
    if n == 0 or len(src_nodes) == 0:
        return np.zeros(n, dtype=bool)
    _, label = csgraph.connected_components(abs(y) > 0, directed=False)
    return np.isin(label, np.unique(label[src_nodes]))


def build_system(net: Network, load_scale: float = 1.0, pv_scale: float = 1.0,
                 span: Span | None = None) -> System3 | None:
    """The per-unit equations of ``net``, or None with an error in ``diagnostics`` (see `last_errors`)."""
    diags: list[Diagnostic] = []
    nodes = NodeIndex(net)
    y, names = ybus(net)
    if names != nodes.names:   # both number nodes the same way; guard against drift
        raise AssertionError("ybus3 node order differs from NodeIndex")
    vbase = node_bases(net, names)
    inj, src_nodes = source_injection(net, nodes)
    live_mask = energised_nodes(y, src_nodes)
    dead = np.flatnonzero(~live_mask)
    if len(dead):
        diags.append(warning(codes.DEENERGISED, f"{len(dead)} node(s) have no path to a source and are "
                             f"left at 0 V: {codes.name_nodes(names, dead)}", span,
                             help="close the switch or add the missing line that connects them, "
                             "or remove the isolated elements"))
    nobase = np.flatnonzero(live_mask & ~np.isfinite(vbase))
    if len(nobase):
        diags.append(warning(codes.NO_BASE, f"{len(nobase)} node(s) have no voltage base; their per-unit "
                             f"values are computed on 1 kV: {codes.name_nodes(names, nobase)}", span,
                             help="list the feeder's voltages with `Set VoltageBases=[...]` in the DSS file"))
        vbase[nobase] = 1e3
    live = np.flatnonzero(live_mask)
    remap = np.full(len(names) + 1, -1, dtype=int)    # full index (or -1 = ground) -> live index
    remap[live] = np.arange(len(live))
    branches, load_diags = build_load_branches(
        net, lambda bus, k: nodes.index.get((bus, k), -1) if k > 0 else -1, load_scale, pv_scale, span)
    diags += load_diags
    # branches touching a dead node carry no current; ground (-1) maps to the extra slot n
    n = len(live)
    a_live, b_live = remap[branches.a], remap[branches.b]
    on = ~((branches.a >= 0) & (a_live < 0)) & ~((branches.b >= 0) & (b_live < 0))
    keep = on & ((a_live >= 0) | (b_live >= 0))
    branches = LoadBranches(np.where(a_live[keep] >= 0, a_live[keep], n), np.where(b_live[keep] >= 0, b_live[keep], n),
                            branches.yeq[keep], branches.coef[keep], branches.edges[keep],
                            branches.vbase[keep], branches.owner[keep], branches.kind[keep])
    ref = np.where(branches.a < n, branches.a, branches.b)
    load_vb = vbase[live][np.minimum(ref, n - 1)] if n else np.zeros(0)
    return System3(
        names=names, vbase=vbase, live=live, y_phys=y, ypu=_per_unit(y, vbase, live),
        isrc=inj[live] * vbase[live] / SBASE, loads=branches, load_scale_pu=load_vb ** 2 / SBASE,
        load_vb=load_vb, nodes=nodes, regulated=_regulated(net, nodes), diagnostics=diags)


def no_source_error(net: Network, span: Span | None) -> Diagnostic:
    return error(codes.NO_SOURCE, f"network `{net.name}` has no voltage source, so nothing fixes the "
                 "voltage of the unbalanced power flow", span,
                 help="define the feeder head as a source (OpenDSS `New Circuit.<name> basekv=...`)")

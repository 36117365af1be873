"""The equations of an unbalanced power flow, in per unit, ready for a kernel.

Why: Newton and the fixed-point iteration solve the same nodal equations

    F(v) = Y v - i_src + A i_load(A^T v) = 0

over the energised nodes, with ``Y`` the network admittance (lines,
transformers at their present taps, capacitors, the sources' Thevenin
impedances; `gatlang.network.ybus3`), ``i_src`` the sources' Norton currents
and ``i_load`` the load branches (`pf3_loads`, kept in per unit so kernels
never convert).  Everything they share is built here once per network
version and scale (`build_system`; the network part -- Y, bases, regulated
transformers -- once per version of the network tables alone), and each
solve gets a cheap clone.  Tap and capacitor steps are written into the
per-unit matrix in place (`System3.stamp`) and logged, so that the linear
solves can be compensated for them instead of refactorised (`pf3_linear`).

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

import copy
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from gatlang.diagnostics import Diagnostic, Span, error, warning
from gatlang.engines import pf3_result as codes
from gatlang.engines.pf3_kernels import (add_branch_admittances, mismatch_into, reachable, retap_into,
                                         scaled_entries, stamp_plan_arrays)
from gatlang.engines.pf3_loads import LoadBranches, build_load_branches
from gatlang.network.model import Network
from gatlang.network.perunit3 import voltage_bases
from gatlang.engines.pf3_cache import NETWORK_TABLES, column_rows, memo, ybus_indexed
from gatlang.network.ybus3 import NodeIndex, source_emf, source_impedance, transformer_primitive_parts

SQRT3 = math.sqrt(3.0)
SBASE = 1e6   # VA



@dataclass
class _StampPlan:
    """Where the entries of one element's primitive land in ``ypu`` (see `System3.stamp`)."""

    sel: np.ndarray        # primitive entries (flat) stored in the pattern
    outside: np.ndarray    # live entries the pattern does not hold (must stay zero)
    pos: np.ndarray        # their positions in ypu.data
    lr: np.ndarray
    lc: np.ndarray
    scale: np.ndarray      # siemens -> pu for each selected entry
    nodes: np.ndarray      # live nodes touched
    all_lr: np.ndarray     # every entry (for the rebuild path)
    all_lc: np.ndarray
    live: np.ndarray
    all_scale: np.ndarray
    distinct: bool = True  # no two entries land on one position (a plain fancy add will do)


def padded_rows(rows: list[np.ndarray], dtype: type, fill: float = 0) -> np.ndarray:
    """Ragged 1-D arrays as the rows of one array, padded with ``fill`` (what compiled loops read)."""
    out = np.full((len(rows), max((len(r) for r in rows), default=0)), fill, dtype=dtype)
    for k, r in enumerate(rows):
        out[k, :len(r)] = r
    return out


def padded_squares(mats: list[np.ndarray], width: int) -> np.ndarray:
    """Square complex matrices of different sizes stacked into (len, width, width), zero-padded."""
    out = np.zeros((len(mats), width, width), dtype=complex)
    for k, m in enumerate(mats):
        out[k, :len(m), :len(m)] = m
    return out


@dataclass
class Regulated:
    """Transformers whose taps may change: their rows and stamp positions."""

    rows: list[dict]                 # transformer table rows (by position in `names`)
    names: list[str]
    terminals: list[np.ndarray]      # full node index per primitive terminal (-1 = ground)
    prims: list[np.ndarray]          # primitive admittance at the present taps (siemens)
    scaled: list[np.ndarray] = field(default_factory=list)    # tap-scaled part at taps 1
    fixed: list[np.ndarray] = field(default_factory=list)     # tap-independent part (anti-float shunts)
    winding: list[np.ndarray] = field(default_factory=list)   # winding of each primitive terminal
    taps: np.ndarray | None = None   # present taps (transformer x winding), made on first use (`tap_array`)

    def copy(self) -> "Regulated":
        """A copy whose rows, primitives and taps may change (the primitive parts stay shared)."""
        return Regulated(list(self.rows), self.names, self.terminals, list(self.prims), self.scaled, self.fixed,
                         self.winding, None if self.taps is None else self.taps.copy())

    def tap_array(self) -> np.ndarray:
        """The present taps as one array (transformer x winding, pu; 1 beyond a transformer's windings),
        kept in step with ``rows`` by `System3.set_taps`."""
        if self.taps is None:
            self.taps = np.ones((len(self.rows), max((len(r["kv"]) for r in self.rows), default=0)))
            for k, r in enumerate(self.rows):
                t = r["taps_pu"] or [1.0] * len(r["kv"])
                self.taps[k, :len(t)] = t
        return self.taps

    def primitive_at(self, k: int, taps: list[float]) -> np.ndarray:
        """Transformer k's primitive at ``taps``, without rebuilding it.

        The engine's winding model (`ybus3.transformer_terminal_y`) scales every
        branch by the turns of the windings it joins, turns = winding volts x tap,
        and adds the anti-float shunts after that; so with ``D`` = diag(1 / tap of
        each terminal's winding), ``Y(taps) = D Y_scaled(1) D + Y_fixed`` exactly.
        """
        d = 1.0 / np.asarray(taps, dtype=float)[self.winding[k]]
        return d[:, None] * self.scaled[k] * d[None, :] + self.fixed[k]


@dataclass
class System3:
    """Per-unit equations over the energised nodes ``live`` (indices into ``names``).

    A ``System3`` is built once per network version and scale (`build_system`)
    and handed to each solve as a :meth:`clone`, whose matrix and regulated
    rows the control loops may change without touching the cached original.
    ``shared`` holds what clones share while their matrix is the original one
    (the factorisation of the fixed-point matrix, the round-off floor).
    """

    names: list[str]
    vbase: np.ndarray            # V per node (all nodes)
    live: np.ndarray             # energised node indices
    ypu: sp.csc_matrix           # live x live, pu
    isrc: np.ndarray             # live, pu
    loads: LoadBranches          # in pu of their bus base; node indices in live numbering (n = ground or dead)
    nodes: NodeIndex             # the matrix builder's own numbering (not rebuilt from the names)
    regulated: Regulated
    diagnostics: list[Diagnostic] = field(default_factory=list)
    shared: dict = field(default_factory=dict)
    #: what every scale of one network version shares (node remap, stamp plans, elimination
    #: order, round-off floor): it depends on the network's matrix alone, not on the loads
    network_shared: dict = field(default_factory=dict)
    #: bumped by every change of ``ypu`` (a factorisation records the version it was made at)
    version: int = 0
    #: every change of ``ypu`` since the cached original, as (live row, live column, pu value)
    changes: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._incidence: tuple[sp.csr_matrix, sp.csr_matrix] | None = None    # (A, A^T), on first use
        self.ypu.sort_indices()
        self._keys: np.ndarray | None = None    # column * n + row of every stored entry of ypu
        # shared by clones and load scales while the pattern is the network's own
        self._plans: dict[bytes, _StampPlan] = self.network_shared.setdefault("plans", {})
        self._changed = np.zeros(0, dtype=np.int64)   # live nodes whose rows `changes` touch (see changed_nodes)
        self._pending: list[np.ndarray] = []          # ... and those of elements stamped since
        self._stamped: set[bytes] = set()             # elements already in one of the two

    @property
    def changed_nodes(self) -> np.ndarray:
        """Live nodes (sorted) whose rows the changes since the cached original touch: merged once
        when asked for (a control round), not once per element stamped."""
        if self._pending:
            self._changed = np.unique(np.concatenate([self._changed, *self._pending]))
            self._pending = []
        return self._changed

    @property
    def n(self) -> int:
        return len(self.live)

    def _inc_pair(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """(A, A^T): incidence of the load branches, +1 at a, -1 at b, ground/dead ends dropped.

        Built on first use: the fixed-point path never needs it (`mismatch_norm` reads
        the branch ends directly), Newton and `mismatch_reference` do.
        """
        if self._incidence is None:
            n, a, b = self.n, self.loads.a, self.loads.b
            k = np.arange(self.loads.n)
            on_a, on_b = a < n, b < n
            inc = sp.csr_matrix((np.r_[np.ones(on_a.sum()), -np.ones(on_b.sum())].astype(complex),
                                 (np.r_[a[on_a], b[on_b]], np.r_[k[on_a], k[on_b]])), shape=(n, self.loads.n))
            self._incidence = (inc, inc.T.tocsr())
        return self._incidence

    def clone(self) -> "System3":
        """A copy whose matrix and regulator rows may be changed (the rest is shared, read-only)."""
        out = copy.copy(self)
        out.ypu = self.ypu.copy()
        out.regulated = self.regulated.copy()
        out.diagnostics = list(self.diagnostics)
        out.changes = list(self.changes)
        out._changed, out._pending = self.changed_nodes, []
        out._stamped = set(self._stamped)
        return out

    # ---------------------------------------------------------------- evaluation
    def branch_voltage(self, v: np.ndarray) -> np.ndarray:
        """Voltage across each load branch, pu of its bus base (ground = 0)."""
        return self._inc_pair()[1] @ v

    def mismatch(self, v: np.ndarray) -> np.ndarray:
        """``F(v)`` (complex, pu) per live node."""
        return self.mismatch_norm(v)[0]

    def mismatch_norm(self, v: np.ndarray) -> tuple[np.ndarray, float]:
        """(``F(v)``, ``max |F|``) in one compiled pass (`pf3_kernels`); NaN norm if F is."""
        out = np.empty(self.n, dtype=complex)
        y, ld = self.ypu, self.loads
        norm = mismatch_into(y.indptr, y.indices, y.data, np.ascontiguousarray(v, dtype=complex), self.isrc,
                             ld.a, ld.b, ld.coef, ld.edges, out)
        return out, float(norm)

    def mismatch_reference(self, v: np.ndarray) -> np.ndarray:
        """``F(v)`` written with sparse products: the definition `mismatch_norm` compiles."""
        inc, inc_t = self._inc_pair()
        return self.ypu @ v - self.isrc + inc @ self.loads.currents(inc_t @ v)

    def v_full(self, v: np.ndarray) -> np.ndarray:
        """Volts for every node (0 for de-energised ones)."""
        out = np.zeros(len(self.names), dtype=complex)
        out[self.live] = v * self.vbase[self.live]
        return out

    def nominal_load_matrix(self) -> sp.csc_matrix:
        """``A diag(Yeq) A^T`` in pu over the live nodes: every load at its nominal admittance."""
        r, c, v = self._load_triplets()
        return sp.csc_matrix((v, (r, c)), shape=(self.n, self.n))

    def _load_triplets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """COO entries of `nominal_load_matrix`: each branch's ``yeq`` at (a,a), (b,b), -yeq at (a,b), (b,a)."""
        a, b, y, n = self.loads.a, self.loads.b, self.loads.yeq, self.n
        r, c, v = np.r_[a, b, a, b], np.r_[a, b, b, a], np.r_[y, y, -y, -y]
        keep = (r < n) & (c < n)
        return r[keep], c[keep], v[keep]

    def fixed_point_matrix(self) -> sp.csc_matrix:
        """``Y + A diag(Yeq) A^T``: the matrix the fixed-point iteration factorises.

        The load entries sit at a branch's two ends (a node to ground, or two phases of
        one bus), which the network's own pattern holds in practice: they are then added
        into a copy of ``ypu``'s values in place; otherwise both sets of triplets are
        assembled in one pass (two sparse products and a sparse sum cost several times more).
        """
        y = self.ypu
        data, held = add_branch_admittances(y.indptr, y.indices, y.data, self.loads.a, self.loads.b, self.loads.yeq)
        if held:
            return sp.csc_matrix((data, y.indices, y.indptr), shape=y.shape)
        r, c, v = self._load_triplets()
        cols = np.repeat(np.arange(self.n), np.diff(y.indptr))
        return sp.csc_matrix((np.r_[y.data, v], (np.r_[y.indices, r], np.r_[cols, c])), shape=(self.n, self.n))

    def row_abs_sums(self, m: sp.csc_matrix | None = None) -> np.ndarray:
        """``sum_j |m_ij|`` per row of ``m`` (default ``ypu``), straight from the CSC arrays."""
        m = self.ypu if m is None else m
        return np.bincount(m.indices, weights=np.abs(m.data), minlength=m.shape[0])

    # ---------------------------------------------------------------- changes of the matrix
    def stamp(self, idx: np.ndarray, dprim: np.ndarray) -> None:
        """Add the primitive change ``dprim`` (siemens) over full node indices ``idx`` (-1 = ground).

        Why in place: a tap or capacitor step changes a handful of entries; writing them into
        ``ypu.data`` keeps the sparsity pattern (and so the symbolic analysis) and costs
        microseconds, where a sparse sum would rebuild the whole matrix.  Where each entry of
        an element's primitive lands is worked out once per element (`_StampPlan`).
        """
        key = np.asarray(idx).tobytes()
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._stamp_plan(np.asarray(idx))
        x = dprim.ravel()
        if len(plan.outside) and np.any(x[plan.outside] != 0):   # an entry the pattern lacks: rebuild
            self._add_outside(plan, x)
            return
        xv = x[plan.sel] * plan.scale
        if plan.distinct:
            self.ypu.data[plan.pos] += xv
        else:
            np.add.at(self.ypu.data, plan.pos, xv)
        self._record(key, plan, xv)

    def _record(self, key: bytes, plan: "_StampPlan", xv: np.ndarray) -> None:
        """Log a stamp made in place (`changes`, `changed_nodes`) and bump the matrix version."""
        self.changes.append((plan.lr, plan.lc, xv))
        if key not in self._stamped:
            self._stamped.add(key)
            self._pending.append(plan.nodes)
        self.version += 1

    def _stamp_plan(self, idx: np.ndarray) -> "_StampPlan":
        return self._stamp_plans([idx])[0]

    def _stamp_plans(self, elements: list[np.ndarray]) -> list["_StampPlan"]:
        """The `_StampPlan` of each element (its full node indices, -1 = ground), found in one pass:
        a control loop's first round moves several regulators, and a plan per call cost more
        than the solve between rounds."""
        sizes = np.asarray([len(idx) for idx in elements], dtype=np.int64)
        flat = np.concatenate(elements).astype(np.int64) if elements else np.zeros(0, dtype=np.int64)
        (bound, lr, lc, live, pos, scale, sel, sel_ptr, out, out_ptr, nodes, nodes_ptr,
         distinct) = stamp_plan_arrays(flat, sizes, self.full_to_live(), self._stored_keys(), self.ypu.shape[0],
                                       self.vbase, SBASE)
        plans = []
        for k in range(len(elements)):
            a, b = bound[k], bound[k + 1]
            ks = sel[sel_ptr[k]:sel_ptr[k + 1]]
            held = ks + a
            plans.append(_StampPlan(ks, out[out_ptr[k]:out_ptr[k + 1]], pos[held], lr[held], lc[held], scale[held],
                                    nodes[nodes_ptr[k]:nodes_ptr[k + 1]], lr[a:b], lc[a:b], live[a:b], scale[a:b],
                                    bool(distinct[k])))
        return plans

    def full_to_live(self) -> np.ndarray:
        """Full node index -> live index (-1: dead; the last slot, index -1, is ground)."""
        remap = self.network_shared.get("remap")
        if remap is None:
            remap = self.network_shared["remap"] = np.full(len(self.names) + 1, -1, dtype=np.int64)
            remap[self.live] = np.arange(self.n)
        return remap

    def _add_outside(self, plan: "_StampPlan", x: np.ndarray) -> None:
        keep = plan.live & (x != 0)
        lr, lc, xv = plan.all_lr[keep], plan.all_lc[keep], x[keep] * plan.all_scale[keep]
        self.ypu = (self.ypu + sp.csc_matrix((xv, (lr, lc)), shape=self.ypu.shape)).tocsc()
        self.ypu.sort_indices()
        self._keys = None
        self._plans = {}                          # positions in the old pattern no longer hold
        self.changes.append((lr, lc, xv))
        self._pending.append(np.r_[lr, lc])
        self.version += 1

    def _stored_keys(self) -> np.ndarray:
        """``column * n + row`` of every stored entry of ``ypu``, in storage order (so sorted)."""
        y = self.ypu
        if self._keys is None:
            original = self._plans is self.network_shared.get("plans")     # the network's own pattern
            keys = self.network_shared.get("keys") if original else None
            if keys is None:
                cols = np.repeat(np.arange(y.shape[1], dtype=np.int64), np.diff(y.indptr))
                keys = cols * y.shape[0] + y.indices
                if original:
                    self.network_shared["keys"] = keys
            self._keys = keys
        return self._keys

    def _entry_positions(self, r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Index of each ``(r, c)`` in ``ypu.data`` (-1 where the entry is not stored)."""
        y, keys = self.ypu, self._stored_keys()
        if not len(keys):
            return np.full(len(r), -1)
        want = c.astype(np.int64) * y.shape[0] + r
        pos = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
        return np.where(keys[pos] == want, pos, -1)

    def regulated_plans(self) -> list["_StampPlan"]:
        """The stamp plan of every regulated transformer (all made in one pass on first use)."""
        reg = self.regulated
        if reg.terminals and reg.terminals[0].tobytes() not in self._plans:
            for idx, plan in zip(reg.terminals, self._stamp_plans(reg.terminals)):
                self._plans[np.asarray(idx).tobytes()] = plan
        return [self._plans[idx.tobytes()] for idx in reg.terminals]

    def commit_taps(self, data: np.ndarray, taps: np.ndarray, prims: np.ndarray,
                    log: tuple[np.ndarray, np.ndarray, np.ndarray], nodes: np.ndarray, stamps: int) -> None:
        """Take over what a compiled control loop did to copies of this system's state
        (`pf3_control_kernel`): the matrix's values, the taps and primitives of the regulated
        transformers (padded arrays), the log of its stamps and the nodes they touched."""
        reg = self.regulated
        self.ypu.data[:] = data
        moved = np.any(taps != reg.tap_array(), axis=1)
        for k, idx in enumerate(reg.terminals):
            reg.prims[k] = prims[k, :len(idx), :len(idx)].copy()
            if moved[k]:
                reg.rows[k] = dict(reg.rows[k], taps_pu=taps[k, :len(reg.rows[k]["kv"])].tolist())
        reg.taps = taps
        if stamps:
            self.changes.append(log)
            self._pending.append(nodes)
            self.version += stamps

    def set_taps(self, changes: dict[int, list[float]]) -> None:
        """Give regulated transformer k the per-winding taps ``changes[k]`` (updates ``ypu``)."""
        reg = self.regulated
        self.regulated_plans()                   # every regulator's plan at once
        for k, taps in changes.items():
            key = reg.terminals[k].tobytes()
            plan = self._plans.get(key)
            prim = None
            if plan is not None:         # the primitive and its stamp in one compiled call
                prim, xv, done = retap_into(reg.scaled[k], reg.fixed[k], reg.winding[k],
                                            np.asarray(taps, dtype=float), reg.prims[k], plan.sel, plan.outside,
                                            plan.pos, plan.scale, self.ypu.data)
                if done:
                    self._record(key, plan, xv)
            if plan is None or not done:
                prim = reg.primitive_at(k, taps) if prim is None else prim
                self.stamp(reg.terminals[k], prim - reg.prims[k])
            reg.rows[k], reg.prims[k] = dict(reg.rows[k], taps_pu=list(taps)), prim
            if reg.taps is not None:
                reg.taps[k, :len(taps)] = taps


def _per_unit(y: sp.csc_matrix, vbase: np.ndarray, live: np.ndarray) -> sp.csc_matrix:
    """``D Y D / S`` over the live nodes, scaling the stored entries in place of two products."""
    y = y.tocsc() if len(live) == y.shape[0] else y[live][:, live].tocsc()
    return sp.csc_matrix((scaled_entries(y.indptr, y.indices, y.data, vbase[live], SBASE), y.indices, y.indptr),
                         shape=y.shape)


def node_bases(net: Network, names: list[str], nodes: NodeIndex | None = None) -> np.ndarray:
    """Line-to-neutral base (V) per node: the bus's ``vn_kv`` (snapped by the importer) or the
    bases carried from the sources; NaN where neither is known.  ``nodes``: the numbering
    ``names`` come from, if at hand (it reads the buses table for every node in bulk)."""
    buses = net.table("buses")
    if nodes is not None:
        vn_kv = buses.column("vn_kv").to_numpy().astype(float)
        out = nodes.per_node(np.where(vn_kv > 0, vn_kv, np.nan)) * (1e3 / SQRT3)
    else:
        kv = dict(zip(buses.column("bus").to_pylist(), buses.column("vn_kv").to_pylist()))
        out = np.asarray([kv.get(name.rsplit(".", 1)[0]) or np.nan for name in names], dtype=float) * (1e3 / SQRT3)
    missing = np.flatnonzero(np.isnan(out))
    if len(missing):                      # only then walk the network from the sources
        carried = voltage_bases(net)
        out[missing] = [carried.get(names[i].rsplit(".", 1)[0], np.nan) * 1e3 for i in missing]
    return out


#: the columns of the sources table `ybus3.source_impedance` and `ybus3.source_emf` read
SOURCE_COLUMNS = ("conn", "r1_ohm", "x1_ohm", "r0_ohm", "x0_ohm", "angle_deg", "pu", "vn_kv")


def source_injection(net: Network, nodes: NodeIndex) -> tuple[np.ndarray, np.ndarray]:
    """(Norton currents in A per node, node indices of source terminals).

    Each source is an EMF ``pu * basekv / sqrt(3)`` at ``angle - 120 k`` degrees
    on its k-th phase behind its Thevenin impedance (already in Y).
    """
    n = len(nodes.names)
    inj = np.zeros(n, dtype=complex)
    terms = nodes.terminals["sources"]                # numbered by the matrix builder, row by row
    src_nodes: list[np.ndarray] = []
    for i, row in enumerate(column_rows(net, "sources", SOURCE_COLUMNS)):
        idx = terms.index[terms.offsets[i]:terms.offsets[i + 1]]
        cur = np.linalg.solve(source_impedance(row), source_emf(row))
        ok = idx >= 0
        np.add.at(inj, idx[ok], cur[ok])
        src_nodes.append(idx[ok])
    return inj, np.concatenate(src_nodes).astype(np.int64) if src_nodes else np.zeros(0, dtype=np.int64)


#: below this many rows the transformers table is read whole (one conversion) rather than filtered
SMALL_TABLE = 64


def _regulated_rows(net: Network) -> tuple[list[int], list[dict]]:
    """(row positions, rows) of the in-service transformers a regulator names."""
    regs = net.tables.get("regulators")
    xf = net.table("transformers")
    if regs is None or regs.num_rows == 0 or xf.num_rows == 0:
        return [], []
    wanted = set(regs.column("transformer").to_pylist())
    pos = [i for i, name in enumerate(xf.column("transformer").to_pylist()) if name in wanted]
    if xf.num_rows <= SMALL_TABLE:
        every = xf.to_pylist()
        rows = [every[i] for i in pos]
    else:
        rows = xf.take(pa.array(pos, type=pa.int64())).to_pylist()
    keep = [k for k, row in enumerate(rows) if row["status"]]
    return [pos[k] for k in keep], [rows[k] for k in keep]


def _regulated(net: Network, nodes: NodeIndex) -> Regulated:
    """Every in-service transformer named by a regulator, with its stamp terminals (as the
    matrix builder numbered them: winding by winding, each winding's conductors in order)."""
    pos, rows = _regulated_rows(net)
    if not rows:
        return Regulated([], [], [], [])
    terms = nodes.terminals["transformers"]
    terminals = [terms.index[terms.offsets[i]:terms.offsets[i + 1]].astype(np.int64) for i in pos]
    winding = [np.repeat(np.arange(len(r["kv"])), int(r["phases"] or 3) + 1) for r in rows]
    parts = transformer_primitive_parts(rows)
    out = Regulated(rows, [r["transformer"] for r in rows], terminals, [], [p[0] for p in parts],
                    [p[1] for p in parts], winding)
    out.prims = [out.primitive_at(k, r["taps_pu"] or [1.0] * len(r["kv"])) for k, r in enumerate(rows)]
    return out


def energised_nodes(y: sp.csc_matrix, src_nodes: np.ndarray) -> np.ndarray:
    """Nodes connected (through non-zero admittances) to a source terminal (Y is structurally
    symmetric, so a walk down its columns finds them; `pf3_kernels.reachable`)."""
    n = y.shape[0]
    if n == 0 or len(src_nodes) == 0:
        return np.zeros(n, dtype=bool)
    y = y.tocsc()
    return reachable(y.indptr, y.indices, y.data, np.asarray(src_nodes, dtype=np.int64))


def build_system(net: Network, load_scale: float = 1.0, pv_scale: float = 1.0,
                 span: Span | None = None) -> System3:
    """The per-unit equations of ``net`` (a fresh clone of the one cached per network version and
    scale); its warnings (dead nodes, missing bases, approximated loads) carry ``span``."""
    cached = memo(net, ("system", float(load_scale), float(pv_scale)),
                  lambda: _build_system(net, load_scale, pv_scale))
    out = cached.clone()
    out.diagnostics = [replace(d, span=span) for d in cached.diagnostics]
    return out


@dataclass
class _NetworkPart:
    """What a System3 takes from the network alone (not from loads, generators or PV)."""

    names: list[str]
    nodes: NodeIndex
    vbase: np.ndarray
    live: np.ndarray
    ypu: sp.csc_matrix
    isrc: np.ndarray
    regulated: Regulated
    diagnostics: list[Diagnostic]
    shared: dict = field(default_factory=dict)    # `System3.network_shared` of every scale


def _network_part(net: Network) -> _NetworkPart:
    diags: list[Diagnostic] = []
    y, nodes = ybus_indexed(net)
    names = nodes.names
    vbase = node_bases(net, names, nodes)
    inj, src_nodes = source_injection(net, nodes)
    live_mask = energised_nodes(y, src_nodes)
    dead = np.flatnonzero(~live_mask)
    if len(dead):
        diags.append(warning(codes.DEENERGISED, f"{len(dead)} node(s) have no path to a source and are "
                             f"left at 0 V: {codes.name_nodes(names, dead)}", None,
                             help="close the switch or add the missing line that connects them, "
                             "or remove the isolated elements"))
    nobase = np.flatnonzero(live_mask & ~np.isfinite(vbase))
    if len(nobase):
        diags.append(warning(codes.NO_BASE, f"{len(nobase)} node(s) have no voltage base; their per-unit "
                             f"values are computed on 1 kV: {codes.name_nodes(names, nobase)}", None,
                             help="list the feeder's voltages with `Set VoltageBases=[...]` in the DSS file"))
        vbase[nobase] = 1e3
    live = np.flatnonzero(live_mask)
    ypu = _per_unit(y, vbase, live)
    ypu.sort_indices()
    return _NetworkPart(names, nodes, vbase, live, ypu, inj[live] * vbase[live] / SBASE,
                        _regulated(net, nodes), diags)


#: the tables load branches are built from (beside the network's, for the node numbering)
LOAD_TABLES = ("loads", "generators", "pv_systems")


def _live_loads(net: Network, part: _NetworkPart, pv_scale: float) -> tuple[LoadBranches, list[Diagnostic]]:
    """The load branches at ``load_scale = 1`` over the live nodes, in per unit (see `_scale_loads`)."""
    names, vbase, live = part.names, part.vbase, part.live
    remap = np.full(len(names) + 1, -1, dtype=int)    # full index (or -1 = ground) -> live index
    remap[live] = np.arange(len(live))
    branches, load_diags = build_load_branches(net, part.nodes, 1.0, pv_scale, None)
    # branches touching a dead node carry no current; ground (-1) maps to the extra slot n
    n = len(live)
    a_live, b_live = remap[branches.a], remap[branches.b]
    on = ~((branches.a >= 0) & (a_live < 0)) & ~((branches.b >= 0) & (b_live < 0))
    keep = on & ((a_live >= 0) | (b_live >= 0))
    a, b = np.where(a_live[keep] >= 0, a_live[keep], n), np.where(b_live[keep] >= 0, b_live[keep], n)
    ref = np.where(a < n, a, b)
    load_vb = vbase[live][np.minimum(ref, n - 1)] if n else np.zeros(0)
    branches = LoadBranches(a, b, branches.yeq[keep], branches.coef[keep], branches.edges[keep],
                            branches.vbase[keep], branches.owner[keep], branches.kind[keep])
    return branches.per_unit(load_vb, SBASE), load_diags


def _scale_loads(loads: LoadBranches, load_scale: float) -> LoadBranches:
    """The branches with every load's power times ``load_scale`` (generators and PV as they are).

    Exact: every coefficient of a load branch (its nominal admittance and the
    region coefficients derived from it, ZIP parts included) is linear in the
    load's power.  PV is not scaled here, because its output is capped at the
    inverter's kVA (`pf3_loads`), which is not linear: ``pv_scale`` keys the cache.
    """
    if load_scale == 1.0:
        return loads
    f = np.where(loads.kind == "load", load_scale, 1.0)
    return LoadBranches(loads.a, loads.b, loads.yeq * f, loads.coef * f[:, None, None], loads.edges, loads.vbase,
                        loads.owner, loads.kind)


def _build_system(net: Network, load_scale: float, pv_scale: float) -> System3:
    part = memo(net, "network_part", lambda: _network_part(net), NETWORK_TABLES)
    loads, load_diags = memo(net, ("live_loads", float(pv_scale)), lambda: _live_loads(net, part, pv_scale),
                             NETWORK_TABLES + LOAD_TABLES)
    regulated = part.regulated
    return System3(
        names=part.names, vbase=part.vbase, live=part.live, ypu=part.ypu, isrc=part.isrc,
        loads=_scale_loads(loads, load_scale), nodes=part.nodes,
        regulated=regulated.copy(),
        diagnostics=part.diagnostics + load_diags, network_shared=part.shared)


def no_source_error(net: Network, span: Span | None) -> Diagnostic:
    return error(codes.NO_SOURCE, f"network `{net.name}` has no voltage source, so nothing fixes the "
                 "voltage of the unbalanced power flow", span,
                 help="define the feeder head as a source (OpenDSS `New Circuit.<name> basekv=...`)")

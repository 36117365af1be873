"""The three-phase network as the language sees it: nodes, admittance couplings, conductors.

Why conductor by conductor: an unbalanced formulation (stdlib/acp_u.gat,
stdlib/lindist3flow.gat) is written per *node* (one conductor of one bus,
OpenDSS's ``bus.k``) and per *conductor* (one phase of one branch).  Every
element here has one index, so the formulations stay plain sums over sets,
and the same elaborator builds them as the balanced ones.

Where the numbers come from: the same data the unbalanced power flow solves:
the nodal admittance matrix (`gatlang.network.ybus3`) of lines, transformers
at their file taps, capacitors and source impedances (validated entry by
entry against OpenDSS's ``SystemY``), the energised nodes and voltage bases of
`gatlang.engines.pf3_system`, the sources' EMFs, and every load, generator
and PV system as a *load branch* (`gatlang.engines.pf3_loads`) whose power is
``S(m) = S_z m^2 + S_i m + S_p`` in the branch voltage magnitude ``m`` (the
engine's model inside its vmin..vmax band).  Loads from a node to ground
are folded into the node (``pd``, ``pd_i``, ``pd_z``); loads between two
nodes (delta, or wye to a floating neutral) are `delta_load` elements.

Sources: each source is an EMF behind its Thevenin impedance.  The view adds
one *source node* per source phase, holding the EMF (``vm_set``, ``va_set``),
coupled to the source bus through the Thevenin admittance, with a
dispatchable `phase_gen` on it: the source's power is that generator's output.

Per unit: node voltages on each node's line-to-neutral base, powers on
``SBASE`` (1 MVA), so ``base_mva = 1`` and every power attribute in MW is also
its model-scale value.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from gatlang.diagnostics import DiagnosticSink, Span
from gatlang.model.netview import Entities, NetView, _incidence
from gatlang.model.netview3_elements import add_elements
from gatlang.network.model import Network
from gatlang.network.ybus3 import NodeIndex, build_ybus3, source_emf, source_impedance, winding_vbase

SQRT3 = math.sqrt(3.0)
UNLIMITED = 1e6          # MW: bound for a source's output (the slack takes what the network needs)
VM_FREE = (0.0, 2.0)     # pu: voltage limits of nodes that have none in the input


def phase_angle(phase: np.ndarray) -> np.ndarray:
    """Nominal angle of conductor 1, 2, 3 (0, -120, +120 degrees), in radians; 0 for a neutral."""
    phase = np.asarray(phase)
    return np.where((phase >= 1) & (phase <= 3), -(phase - 1) * 2.0 * math.pi / 3.0, 0.0)


def from_network3(net: Network, sink: DiagnosticSink, load_scale: float = 1.0, pv_scale: float = 1.0,
                  span: Span | None = None, start: str = "flat", taps: str = "fixed") -> NetView | None:
    """The three-phase view of `net` with a scenario's multipliers, or None (errors in `sink`).

    `start`: "pf" starts at the unbalanced power flow's solution with the file's taps
    (falling back to no-load with a warning, GAT0408); any other value (an OpenDSS file
    holds no solved voltages) at the no-load voltages, which carry every transformer's shift.
    `taps`: "continuous" gives every regulated transformer phase (one named by a RegControl)
    its tap range as `tap_min` .. `tap_max`; "fixed" keeps every tap at the file's value.
    """
    from gatlang.engines.pf3_loads import build_load_branches
    from gatlang.engines.pf3_system import SBASE, energised_nodes, no_source_error, node_bases
    nodes = NodeIndex(net)
    y_phys, all_names = build_ybus3(net)
    src_terminals = [i for row in net.table("sources").to_pylist() for i in nodes(row["bus"], row["conn"]) if i >= 0]
    live_mask = energised_nodes(y_phys, np.asarray(src_terminals, dtype=np.int64))
    if not live_mask.any():
        sink.add(no_source_error(net, span))
        return None
    live_idx = np.flatnonzero(live_mask)
    all_bases = node_bases(net, all_names)
    all_bases[~np.isfinite(all_bases)] = 1e3            # the power flow warns about these (GAT08xx)
    names = [all_names[i] for i in live_idx]
    n = len(names)
    vbase = all_bases[live_idx]
    bus_of = np.asarray([nm.rsplit(".", 1)[0] for nm in names], dtype=object)
    phase = np.asarray([int(nm.rsplit(".", 1)[1]) for nm in names], dtype=np.int64)
    live_of = np.full(len(all_names), -1, dtype=np.int64)
    live_of[live_idx] = np.arange(n)
    d = sp.diags(vbase / math.sqrt(SBASE))
    y_with_switches = (d @ y_phys.tocsr()[live_idx][:, live_idx] @ d).tocsr()
    ypu = (d @ _without_switches(net, y_phys, all_names).tocsr()[live_idx][:, live_idx] @ d).tocoo()

    # ---- sources: a fixed-EMF node per source phase, coupled through the Thevenin admittance
    src_label, src_node, src_e, src_vb = [], [], [], []
    rows, cols, vals = [], [], []
    thevenin: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for row in net.table("sources").to_pylist():
        conn = row["conn"]
        idx = np.asarray(nodes(row["bus"], conn))
        idx = np.where(idx >= 0, live_of[np.maximum(idx, 0)], -1)
        ok = idx >= 0
        if not ok.any():
            continue
        y_th = np.linalg.inv(source_impedance(row))[np.ix_(ok, ok)]
        at = idx[ok]
        vb = vbase[at]
        y_pu = y_th * np.outer(vb, vb) / SBASE
        k = len(src_label)
        virt = n + k + np.arange(len(at))
        emf = source_emf(row)[ok]
        for j, node in enumerate(at):
            src_label.append(f"{row['source']}.{int(np.asarray(conn)[ok][j])}")
            src_node.append(node)
            src_e.append(emf[j] / vb[j])
            src_vb.append(vb[j])
        thevenin.append((row["source"], virt, at, np.linalg.inv(y_pu), np.asarray(conn)[ok]))
        r, c = np.meshgrid(np.arange(len(at)), np.arange(len(at)), indexing="ij")
        for a_idx, b_idx, sign in ((virt, virt, 1.0), (virt, at, -1.0), (at, virt, -1.0)):
            rows.append(a_idx[r].ravel())
            cols.append(b_idx[c].ravel())
            vals.append(sign * y_pu.ravel())
    ns = len(src_label)
    total = n + ns
    rows.append(ypu.row)
    cols.append(ypu.col)
    vals.append(ypu.data)
    yfull = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(total, total)).tocsr()
    yfull.sum_duplicates()
    yfull.eliminate_zeros()
    yc = yfull.tocoo()

    # ---- start point: the no-load voltages (one sparse solve) carry every transformer's shift
    e_src = np.asarray(src_e, dtype=complex)
    v0 = np.ones(total, dtype=complex)
    if ns:
        v0[n:] = e_src
        rhs = -(yfull[:n, n:] @ e_src)     # the sources' Norton currents
        try:       # with the switches' own (tiny) impedances, so the nodes behind them are reached
            v0[:n] = sp.linalg.spsolve(y_with_switches.tocsc(), rhs)
        except RuntimeError:        # singular: keep the flat start with nominal angles
            v0[:n] = np.exp(1j * phase_angle(phase))
    if not np.all(np.isfinite(v0)):
        v0[:n] = np.exp(1j * phase_angle(phase))

    v_start = _pf_start(net, labels_live=names, n_total=total, v0=v0, load_scale=load_scale, pv_scale=pv_scale,
                        sink=sink, span=span) if start == "pf" else None

    # ---- loads: node-to-ground parts fold into the node, node-to-node parts are delta loads
    ld, load_diags = build_load_branches(net, nodes, load_scale, pv_scale, span)
    sink.extend(load_diags)
    # live numbering, ground -> n; a branch touching a dead node carries nothing
    slot = np.r_[live_of, n]                        # index -1 (ground) picks the last entry, n
    a, b = slot[ld.a], slot[ld.b]
    on = (a >= 0) & (b >= 0) & ((a < n) | (b < n))
    a, b = a[on], b[on]
    normal = ld.coef[on, 2, :] if len(ld.a) else np.zeros((0, 3), dtype=complex)
    owner, kind = ld.owner[on], ld.kind[on]
    vb_branch = vbase[np.where(a < n, a, b)]
    # S(m) with m in volts -> coefficients of the pu magnitude on the node base, in MW
    s_z = np.conj(normal[:, 0]) * vb_branch ** 2 / SBASE
    s_i = np.conj(normal[:, 1]) * vb_branch / SBASE
    s_p = np.conj(normal[:, 2]) / SBASE
    to_ground = (b == n) | (a == n)
    node_of = np.where(a < n, a, b)
    grounded = np.flatnonzero(to_ground)      # S(m) is consumed at the node whichever end is ground

    def per_node(values: np.ndarray) -> np.ndarray:
        out = np.zeros(total, dtype=complex)
        np.add.at(out, node_of[grounded], values[grounded])
        return out
    pz, pi, pp = per_node(s_z), per_node(s_i), per_node(s_p)
    delta = np.flatnonzero(~to_ground)

    gs_bs = _shunts_per_node(net, nodes, live_of, vbase, phase, total, SBASE)
    labels = np.asarray(names + [f"source:{s}" for s in src_label], dtype=object)
    node = Entities("node", labels)
    vmin = np.full(total, VM_FREE[0])
    vmax = np.full(total, VM_FREE[1])
    bus_limits = _bus_limits(net)
    for i, bus in enumerate(bus_of):
        lo, hi = bus_limits.get(bus, (None, None))
        vmin[i] = lo if lo is not None else vmin[i]
        vmax[i] = hi if hi is not None else vmax[i]
    vm_set = np.full(total, np.nan)
    va_set = np.full(total, np.nan)
    vm_set[n:] = np.abs(e_src)
    va_set[n:] = np.angle(e_src)
    node.numbers = {
        "phase": np.r_[phase, np.zeros(ns)].astype(float), "vmin": vmin, "vmax": vmax,
        "gs": gs_bs.real, "bs": -gs_bs.imag,
        "pd": pp.real, "qd": pp.imag, "pd_i": pi.real, "qd_i": pi.imag, "pd_z": pz.real, "qd_z": pz.imag,
        "base_kv": np.r_[vbase, np.asarray(src_vb)] / 1e3, "vm0": np.abs(v0), "va0": np.angle(v0),
        "vm_start": np.abs(v_start if v_start is not None else v0),
        "va_start": np.angle(v_start if v_start is not None else v0),
        "vm_set": vm_set, "va_set": va_set,
    }

    coupling = Entities("coupling", np.asarray([f"{labels[r]}~{labels[c]}" for r, c in zip(yc.row, yc.col)],
                                               dtype=object))
    coupling.numbers = {"g": yc.data.real.copy(), "b": yc.data.imag.copy()}
    coupling.refs = {"node": yc.row.astype(np.int64), "other": yc.col.astype(np.int64)}

    gen = Entities("phase_gen", np.asarray(src_label, dtype=object))
    big = np.full(ns, UNLIMITED)
    gen.numbers = {"pmin": -big, "pmax": big, "qmin": -big, "qmax": big,
                   "c2": np.zeros(ns), "c1": np.ones(ns), "c0": np.zeros(ns)}
    gen.refs = {"node": n + np.arange(ns, dtype=np.int64)}

    dl = Entities("delta_load", np.asarray([f"{kind[k]}#{owner[k]}:{labels[a[k]]}-{labels[b[k]]}"
                                            for k in delta], dtype=object))
    dl.numbers = {"p": s_p[delta].real, "q": s_p[delta].imag, "p_i": s_i[delta].real, "q_i": s_i[delta].imag,
                  "p_z": s_z[delta].real, "q_z": s_z[delta].imag}
    dl.refs = {"from": a[delta].astype(np.int64), "to": b[delta].astype(np.int64)}

    cond, cc = _conductors(net, nodes, live_of, vbase, SBASE, thevenin)
    if taps != "continuous":
        cond.numbers["tap_min"] = cond.numbers["tap"].copy()
        cond.numbers["tap_max"] = cond.numbers["tap"].copy()
    node.sets = {"gens": _incidence(total, gen.refs["node"]), "couplings": _incidence(total, coupling.refs["node"]),
                 "delta_out": _incidence(total, dl.refs["from"]), "delta_in": _incidence(total, dl.refs["to"]),
                 "conductors_out": _incidence(total, cond.refs["from"]),
                 "conductors_in": _incidence(total, cond.refs["to"]),
                 "switches_out": _switch_incidence(total, cond, "from"),
                 "switches_in": _switch_incidence(total, cond, "to")}
    cond.sets = {"couplings": _incidence(len(cond), cc.refs["conductor"])}

    kinds = {"node": node, "coupling": coupling, "phase_gen": gen, "delta_load": dl, "conductor": cond,
             "conductor_coupling": cc}
    sets = {
        "nodes": ("node", np.arange(total)), "source_nodes": ("node", n + np.arange(ns)),
        "couplings": ("coupling", np.arange(len(coupling))), "phase_gens": ("phase_gen", np.arange(ns)),
        "delta_loads": ("delta_load", np.arange(len(dl))), "conductors": ("conductor", np.arange(len(cond))),
        "rated_conductors": ("conductor", np.flatnonzero(cond.numbers["rate"] > 0)),
        "rated_lines3": ("conductor", np.flatnonzero(cond.numbers["imax"] > 0)),
        "line_conductors": ("conductor", np.flatnonzero(cond.numbers["is_line"] > 0)),
        "switch_conductors": ("conductor", np.flatnonzero(cond.numbers["is_switch"] > 0)),
        "conductor_couplings": ("conductor_coupling", np.arange(len(cc))),
    }
    view = NetView(net.name, SBASE / 1e6, kinds, sets, {"base_mva": 1.0},
                   meshed=_bus_graph_meshed(net))
    add_elements(view, net, np.r_[bus_of, np.full(ns, "", dtype=object)])
    view.three_phase = True           # type: ignore[attr-defined]
    view.features = _features(net)    # type: ignore[attr-defined]
    return view


def _shunts_per_node(net: Network, nodes: NodeIndex, live_of: np.ndarray, vbase: np.ndarray, phase: np.ndarray,
                     total: int, sbase: float) -> np.ndarray:
    """Capacitors and reactors as a wye-equivalent admittance per node (pu; MW + j Mvar drawn at 1 pu).

    A delta bank's primitive couples its nodes; at nominal (balanced) voltages node i
    draws ``sum_j Y[i, j] V_j / V_i``, which is the equivalent used here.  The exact
    matrix is in Y (the `couplings`) for the AC formulations.  Neutrals count as grounded.
    """
    from gatlang.network.ybus3 import shunt_row_primitive

    out = np.zeros(total, dtype=complex)
    for row in net.table("shunts").to_pylist():
        if not row["status"]:
            continue
        conn = row["conn"]
        prim = shunt_row_primitive(row)
        idx = np.asarray(nodes(row["bus"], conn))
        live = np.where(idx >= 0, live_of[np.maximum(idx, 0)], -1)
        rot = np.exp(1j * phase_angle(np.asarray(conn)))
        for i, li in enumerate(live):
            if li < 0:
                continue
            y_eq = sum(prim[i, j] * rot[j] / rot[i] for j in range(len(conn)) if 1 <= conn[j] <= 3)
            out[li] += np.conj(y_eq) * vbase[li] ** 2 / sbase
    return out


def _switch_incidence(total: int, cond: Entities, end: str) -> list[np.ndarray]:
    """Per node, the closed-switch conductors with that end at the node."""
    sw = np.flatnonzero(cond.numbers["is_switch"] > 0)
    return [sw[cond.refs[end][sw] == i] for i in range(total)] if len(sw) else [sw] * total


def _without_switches(net: Network, y: sp.csc_matrix, names: list[str]) -> sp.csc_matrix:
    """Y of the same nodes (`names`) without the closed switches, which the formulations model as
    ties (equal voltages at both ends).

    Why: the engine's switch is a line of about 1e-7 ohm, an admittance of ~1e7 pu
    beside entries of order 1-100: an optimiser cannot meet the balance of the nodes at
    its ends to any useful accuracy.  The matrix is built again from the network without
    those rows (not by subtracting their stamps, which would leave rounding residue of
    the 1e7 entries) and placed into the numbering of `names`.
    """
    import copy

    import pyarrow.compute as pc

    lines = net.table("lines")
    closed = pc.and_(pc.fill_null(lines.column("switch"), False), pc.fill_null(lines.column("status"), True))
    if not pc.any(closed).as_py():
        return y
    other = copy.copy(net)
    other.tables = {**net.tables, "lines": lines.filter(pc.invert(closed))}
    y_open, open_names = build_ybus3(other)
    at = {name: i for i, name in enumerate(names)}
    place = np.asarray([at[name] for name in open_names], dtype=np.int64)
    coo = y_open.tocoo()
    return sp.coo_matrix((coo.data, (place[coo.row], place[coo.col])), shape=y.shape).tocsc()


def _pf_start(net: Network, labels_live: list[str], n_total: int, v0: np.ndarray, load_scale: float,
              pv_scale: float, sink: DiagnosticSink, span: Span | None) -> np.ndarray | None:
    """Node voltages (pu) of the unbalanced power flow at the file's taps; source nodes keep their EMF."""
    from gatlang.engines.pf3 import solve_unbalanced

    result = solve_unbalanced(net, regulators="fixed", load_scale=load_scale, pv_scale=pv_scale, span=span)
    if not result.converged:
        sink.warning("GAT0408", f"the unbalanced power flow of `{net.name}` did not converge, so the OPF "
                                "starts from the no-load voltages instead", span,
                     help="check it with `run pf ... { phases = unbalanced }`, or use `init = flat`")
        return None
    at = {name: k for k, name in enumerate(result.nodes)}
    v = v0.copy()
    vm, va = np.asarray(result.vm_pu), np.radians(np.asarray(result.va_deg))
    for i, name in enumerate(labels_live):
        k = at.get(name)
        if k is not None and np.isfinite(vm[k]):
            v[i] = vm[k] * np.exp(1j * va[k])
    return v


def _bus_limits(net: Network) -> dict[str, tuple[float | None, float | None]]:
    buses = net.table("buses")
    return {b: (lo, hi) for b, lo, hi in zip(buses.column("bus").to_pylist(), buses.column("vmin_pu").to_pylist(),
                                             buses.column("vmax_pu").to_pylist())}


class _ConductorTable:
    """The conductor and conductor-coupling tables, filled one branch at a time.

    Every branch -- a line's kept phases, one transformer phase, a source's Thevenin
    impedance -- is a block of conductors with an impedance matrix in pu: its diagonal
    gives each conductor's `r`, `x`; every entry is a coupling with the entry of the
    series admittance (the matrix inverse) and the nominal angle between the two phases.
    """

    def __init__(self) -> None:
        self.cols: dict[str, list] = {k: [] for k in ("from", "to", "tap", "tap_min", "tap_max", "rate", "b_fr",
                                                      "b_to", "label", "is_line", "is_switch")}
        self.z_diag: list[complex] = []
        self.c_row: list[int] = []
        self.c_col: list[int] = []
        self.c_z: list[complex] = []
        self.c_y: list[complex] = []
        self.c_ang: list[float] = []

    def add(self, labels: list[str], f: list[int], t: list[int], z_pu: np.ndarray, phases: np.ndarray,
            **per_conductor: Any) -> None:
        """One branch; `per_conductor` gives each remaining column, a value or one per conductor."""
        first, n = len(self.z_diag), len(labels)
        for k in range(n):
            for name, value in per_conductor.items():
                self.cols[name].append(value[k] if isinstance(value, (list, np.ndarray)) else value)
        self.cols["from"] += f
        self.cols["to"] += t
        self.cols["label"] += labels
        self.z_diag += list(np.diag(z_pu))
        y_pu = np.linalg.inv(z_pu) if np.all(np.abs(np.diag(z_pu)) > 0) else np.zeros_like(z_pu)
        ang = phase_angle(phases)
        for j in range(n):
            for jj in range(n):
                self.c_row.append(first + j)
                self.c_col.append(first + jj)
                self.c_z.append(z_pu[j, jj])
                self.c_y.append(y_pu[j, jj])
                self.c_ang.append(float(ang[j] - ang[jj]))

    def entities(self, sbase: float) -> tuple[Entities, Entities]:
        c = self.cols
        labels = c["label"]
        cond = Entities("conductor", np.asarray(labels, dtype=object))
        rate = np.asarray(c["rate"], dtype=float)
        is_switch = np.asarray(c["is_switch"], dtype=bool)
        is_line = np.asarray(c["is_line"], dtype=bool) & ~is_switch
        z = np.asarray(self.z_diag, dtype=complex)
        cond.numbers = {"r": z.real.copy(), "x": z.imag.copy(),
                        **{k: np.asarray(c[k], dtype=float) for k in ("tap", "tap_min", "tap_max", "b_fr", "b_to")},
                        "rate": rate, "imax": np.where(is_line, rate * 1e6 / sbase, 0.0),
                        "is_line": is_line.astype(float), "is_switch": is_switch.astype(float)}
        cond.refs = {"from": np.asarray(c["from"], dtype=np.int64), "to": np.asarray(c["to"], dtype=np.int64)}
        cc = Entities("conductor_coupling", np.asarray([f"{labels[a]}~{labels[b]}"
                                                        for a, b in zip(self.c_row, self.c_col)], dtype=object))
        cz, cy = np.asarray(self.c_z, dtype=complex), np.asarray(self.c_y, dtype=complex)
        cc.numbers = {"r": cz.real.copy(), "x": cz.imag.copy(), "g": cy.real.copy(), "b": cy.imag.copy(),
                      "angle": np.asarray(self.c_ang, dtype=float)}
        cc.refs = {"conductor": np.asarray(self.c_row, dtype=np.int64),
                   "other": np.asarray(self.c_col, dtype=np.int64)}
        return cond, cc


def _conductors(net: Network, nodes: "NodeIndex", live_of: np.ndarray, vbase: np.ndarray, sbase: float,
                thevenin: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = ()
                ) -> tuple[Entities, Entities]:
    """Every phase of every line, switch and two-winding transformer, with its series impedance in pu.

    Lines: the phase impedance matrix (ohm) scaled by the node bases at the from end.
    Sources: their Thevenin impedance, from the source node (the EMF) to the source bus.
    Transformers: one uncoupled conductor per phase, the short-circuit impedance on the
    phase kVA referred to winding 2, and ``tap`` = the ratio of the node voltages
    (to/from, pu) the turns give at no load.  Conductors 4 (explicit neutrals) are left out:
    the branch-flow formulations are written for three-wire (Kron-reduced) feeders.
    """
    table = _ConductorTable()
    regulated = set(net.table("regulators").column("transformer").to_pylist())

    def live(bus: str, k: int) -> int:
        j = nodes.index.get((bus, k), -1)
        return int(live_of[j]) if j >= 0 else -1

    def square(values: list | None, m: int) -> np.ndarray:
        return np.asarray(values or [0.0] * m * m, dtype=float).reshape(m, m)

    for row in net.table("lines").to_pylist():
        if not row["status"]:
            continue
        fc, tc = row["f_conn"] or [], row["t_conn"] or []
        keep = [k for k in range(len(fc)) if 1 <= fc[k] <= 3 and live(row["from_bus"], fc[k]) >= 0
                and live(row["to_bus"], tc[k]) >= 0]
        if not keep:
            continue
        m = len(fc)
        z = square(row["r_ohm"], m) + 1j * square(row["x_ohm"], m)
        f = [live(row["from_bus"], fc[k]) for k in keep]
        t = [live(row["to_bus"], tc[k]) for k in keep]
        vb_f, vb_t = vbase[np.asarray(f)], vbase[np.asarray(t)]
        diag = np.asarray(keep)
        table.add([f"{row['line']}.{fc[k]}" for k in keep], f, t,
                  z[np.ix_(keep, keep)] * sbase / np.outer(vb_f, vb_f), np.asarray([fc[k] for k in keep]),
                  tap=1.0, tap_min=1.0, tap_max=1.0,
                  rate=(row["normamps_a"] or 0.0) * vb_f / 1e6,   # MVA per phase at nominal = pu current on 1 MVA
                  b_fr=square(row["b_from_s"], m)[diag, diag] * vb_f ** 2 / sbase,
                  b_to=square(row["b_to_s"], m)[diag, diag] * vb_t ** 2 / sbase,
                  is_line=True, is_switch=bool(row["switch"]))

    for row in net.table("transformers").to_pylist():
        if not row["status"] or len(row["buses"]) != 2:
            continue
        nph = int(row["phases"] or 3)
        conns = row["connections"] or ["wye", "wye"]
        kv = np.asarray(row["kv"], dtype=float)
        taps = np.asarray(row["taps_pu"] or [1.0, 1.0], dtype=float)
        wv = [float(winding_vbase(kv[w], conns[w], nph)) for w in range(2)]
        per_node = [1.0 if conns[w] == "wye" or nph == 1 else SQRT3 for w in range(2)]
        ratio_nodes = (wv[1] * taps[1] / per_node[1]) / (wv[0] * taps[0] / per_node[0])
        r_pct = row["r_pct"] or [0.0, 0.0]
        z_tr = complex(r_pct[0] + r_pct[1], row["xhl_pct"] or 0.0) / 100.0
        s_phase = (row["kva"][0] if row["kva"] else 1.0) * 1e3 / nph
        fb, tb = row["buses"]
        for k in range(nph):
            a_node, b_node = live(fb, row["conns"][0][k]), live(tb, row["conns"][1][k])
            if a_node < 0 or b_node < 0:
                continue
            beta = (wv[1] * taps[1] / per_node[1]) / vbase[b_node]
            tap = ratio_nodes * vbase[a_node] / vbase[b_node]
            # the regulated winding is winding 2; its range scales the ratio
            span = ((row["tap_min_pu"] or 0.9) / taps[1], (row["tap_max_pu"] or 1.1) / taps[1]) \
                if row["transformer"] in regulated and taps[1] > 0 else (1.0, 1.0)
            table.add([f"{row['transformer']}.{k + 1}"], [a_node], [b_node],
                      np.asarray([[z_tr * sbase / s_phase * beta ** 2]]), np.zeros(1),
                      tap=tap, tap_min=tap * span[0], tap_max=tap * span[1], rate=s_phase / 1e6,
                      b_fr=0.0, b_to=0.0, is_line=False, is_switch=False)

    for name, virt, at, z_pu, conn in thevenin:
        table.add([f"source:{name}.{int(k)}" for k in conn], [int(v) for v in virt], [int(a) for a in at], z_pu,
                  np.asarray(conn), tap=1.0, tap_min=1.0, tap_max=1.0, rate=0.0, b_fr=0.0, b_to=0.0,
                  is_line=False, is_switch=False)
    return table.entities(sbase)


def _bus_graph_meshed(net: Network) -> bool:
    """Loops among buses (closed lines and transformers).

    Branches in parallel between the same two buses count once: a feeder's single-phase
    regulators (one transformer per phase, IEEE 13 and 123) are one branch of the tree."""
    from gatlang.model.netview import _is_meshed

    ends: list[tuple[str, str]] = []
    for row in net.table("lines").to_pylist():
        if row["status"]:
            ends.append((row["from_bus"], row["to_bus"]))
    for row in net.table("transformers").to_pylist():
        if row["status"]:
            ends += [(row["buses"][0], b) for b in row["buses"][1:]]
    ends = sorted({tuple(sorted(e)) for e in ends if e[0] != e[1]})
    buses = sorted({b for e in ends for b in e})
    pos = {b: i for i, b in enumerate(buses)}
    f = np.asarray([pos[a] for a, _ in ends], dtype=np.int64)
    t = np.asarray([pos[b] for _, b in ends], dtype=np.int64)
    return _is_meshed(len(buses), f, t)


def _features(net: Network) -> set[str]:
    feats = {"three_phase", "reactive_power"}
    for row in net.table("transformers").to_pylist():
        if row["status"] and any(abs(t - 1.0) > 1e-12 for t in (row["taps_pu"] or [])):
            feats.add("off_nominal_taps")
        if row["status"] and "delta" in (row["connections"] or []):
            feats.add("delta_transformers")
        if row["status"] and len(row["buses"]) > 2:
            feats.add("multiwinding_transformers")
    return feats

"""Balanced per-unit case: the array view of a one-phase (positive-sequence) network.

Why: power flow and the balanced OPF formulations want flat numpy arrays indexed
0..n-1 (as MATPOWER's bus/gen/branch matrices), built once per network, not
per-element objects.  `from_network` (in this module) lowers a canonical
`Network` to it; kernels never read importer output directly.

All quantities are per unit on `base_mva` and the bus base voltages; angles are
radians.  Bus types follow MATPOWER: 1 PQ, 2 PV, 3 reference, 4 isolated.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from gatlang.diagnostics import DiagnosticSink, Span
from gatlang.network.model import Network

PQ, PV, REF, NONE = 1, 2, 3, 4


@dataclass
class BalancedCase:
    name: str
    base_mva: float
    # buses (n)
    bus_id: np.ndarray          # external ids (str), e.g. MATPOWER bus numbers as text
    bus_type: np.ndarray        # int8: PQ/PV/REF/NONE
    pd: np.ndarray              # load, pu
    qd: np.ndarray
    gs: np.ndarray              # shunt conductance, pu at V = 1 pu
    bs: np.ndarray              # shunt susceptance, pu at V = 1 pu
    vm: np.ndarray              # initial magnitude, pu
    va: np.ndarray              # initial angle, rad
    base_kv: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    # generators (g); only in-service generators are kept
    gen_id: np.ndarray
    gen_bus: np.ndarray         # int index into buses
    pg: np.ndarray
    qg: np.ndarray
    pmin: np.ndarray
    pmax: np.ndarray
    qmin: np.ndarray
    qmax: np.ndarray
    vg: np.ndarray              # voltage set point, pu
    # generator cost: polynomial c2*P^2 + c1*P + c0 with P in MW, cost in $/h
    cost_c2: np.ndarray
    cost_c1: np.ndarray
    cost_c0: np.ndarray
    # piecewise-linear costs: per generator None or an (k, 2) array of (MW, $/h) points
    cost_pwl: list = field(default_factory=list)
    # branches (m); only in-service branches are kept
    branch_id: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    f: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    t: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    r: np.ndarray = field(default_factory=lambda: np.zeros(0))
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    b: np.ndarray = field(default_factory=lambda: np.zeros(0))      # total line charging, pu
    rate_a: np.ndarray = field(default_factory=lambda: np.zeros(0))  # pu MVA; 0 = unlimited
    tap: np.ndarray = field(default_factory=lambda: np.zeros(0))     # off-nominal ratio at 'from' side; 1.0 for lines
    shift: np.ndarray = field(default_factory=lambda: np.zeros(0))   # rad
    angmin: np.ndarray = field(default_factory=lambda: np.zeros(0))  # rad
    angmax: np.ndarray = field(default_factory=lambda: np.zeros(0))  # rad
    # where each branch came from: True for a row of `transformers`, False for `lines`,
    # and the 0-based row in that table (results are written back through these)
    is_transformer: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    branch_source_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # row of `generators` for each generator (-1: made from a `sources` row, id "source:<name>")
    gen_source_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_bus(self) -> int:
        return len(self.bus_id)

    @property
    def n_gen(self) -> int:
        return len(self.gen_id)

    @property
    def n_branch(self) -> int:
        return len(self.branch_id)


# ====================================================================== lowering

#: diagnostic codes of the lowering
NOT_MODELLED = "GAT0536"     # warning: element kind kept in the network but not in the case
NOT_BALANCED = "GAT0537"     # error: multi-phase data cannot be lowered to one phase
ASYMMETRIC = "GAT0538"       # warning: branch shunts not representable in the pi model (approximated)
BAD_REFERENCE = "GAT0539"    # error: an element names a bus that does not exist

KIND_TO_TYPE = {"pq": PQ, "pv": PV, "ref": REF, "isolated": NONE}


def _num(tbl: pa.Table, col: str, default: float) -> np.ndarray:
    """A float column as numpy, nulls (and NaN) replaced by `default` (vectorised)."""
    arr = tbl.column(col).to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
    arr[np.isnan(arr)] = default
    return arr


def _bool(tbl: pa.Table, col: str, default: bool = True) -> np.ndarray:
    col_ = tbl.column(col).fill_null(default)
    return col_.to_numpy(zero_copy_only=False).astype(bool)


def _strs(tbl: pa.Table, col: str) -> np.ndarray:
    return np.asarray(tbl.column(col).to_pylist(), dtype=object)


def _list_item(tbl: pa.Table, col: str, k: int, default: float) -> np.ndarray:
    """Element `k` of a list<float64> column (a 1x1 matrix, a per-winding value); nulls -> default."""
    chunked = tbl.column(col)
    out = np.full(tbl.num_rows, default, dtype=np.float64)
    if tbl.num_rows == 0:
        return out
    arr = chunked.combine_chunks()
    lengths = arr.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
    has = lengths > k
    if has.any():
        starts = arr.offsets.to_numpy()[:-1]
        flat = arr.values.to_numpy(zero_copy_only=False).astype(np.float64)
        # offsets are relative to `values`; `arr.offset` is 0 after combine_chunks on fresh tables
        vals = flat[starts[has] + k]
        vals[np.isnan(vals)] = default
        out[has] = vals
    return out


def _list_lengths(tbl: pa.Table, col: str) -> np.ndarray:
    if tbl.num_rows == 0:
        return np.zeros(0, dtype=np.int64)
    return tbl.column(col).combine_chunks().value_lengths().fill_null(0).to_numpy(zero_copy_only=False)


def _origin(tbl: pa.Table, i: int, fallback: str) -> Span:
    """Where row `i` of an element table came from (its input file:line), for diagnostics."""
    f = tbl.column("source_file")[i].as_py() if "source_file" in tbl.column_names else None
    ln = tbl.column("source_line")[i].as_py() if "source_line" in tbl.column_names else None
    return Span.point(f or fallback, ln or 1)


class _Lowering:
    """Lowers one `Network`; collects diagnostics; each method handles one table."""

    def __init__(self, net: Network, sink: DiagnosticSink) -> None:
        self.net, self.sink = net, sink
        self.base = float(net.base_mva)
        buses = net.table("buses")
        self.bus_id = _strs(buses, "bus")
        self.n = len(self.bus_id)
        self.bus_ids = buses.column("bus").combine_chunks() if self.n else pa.array([], pa.string())
        vn = _num(buses, "vn_kv", 0.0)
        self.base_kv = vn
        # 0/unknown base voltage: per-unit data, converted with a 1 kV base (docs/network-model.md)
        self.vb = np.where(vn > 0, vn, 1.0)
        self.ok = True

    def index(self, tbl: pa.Table, col: str, table: str) -> np.ndarray:
        """0-based bus index of every row's `col`; reports unknown buses (GAT0539)."""
        if tbl.num_rows == 0:
            return np.zeros(0, dtype=np.int64)
        import pyarrow.compute as pc
        idx = pc.index_in(tbl.column(col), value_set=self.bus_ids).to_numpy(zero_copy_only=False)
        bad = np.isnan(idx) if idx.dtype.kind == "f" else np.zeros(len(idx), bool)
        for i in np.flatnonzero(bad)[:10]:
            self.sink.error(BAD_REFERENCE, f"{table} row {i + 1} names bus "
                            f"`{tbl.column(col)[int(i)].as_py()}`, which is not in `buses`",
                            _origin(tbl, int(i), self.net.name),
                            help="every element must connect to a bus of the `buses` table")
        if bad.any():
            self.ok = False
            return np.zeros(len(idx), dtype=np.int64)
        return np.nan_to_num(idx).astype(np.int64)

    def one_phase(self, tbl: pa.Table, table: str, cols: tuple[str, ...]) -> bool:
        """True if every matrix column holds 1x1 values (or nulls); else GAT0537."""
        for col in cols:
            lengths = _list_lengths(tbl, col)
            bad = np.flatnonzero(lengths > 1)
            if len(bad):
                self.sink.error(NOT_BALANCED, f"{table} `{tbl.column(tbl.column_names[0])[int(bad[0])]}` "
                                f"has a {int(np.sqrt(lengths[bad[0]]))}-phase `{col}`; the balanced "
                                "case is one-phase", _origin(tbl, int(bad[0]), self.net.name),
                                help="use the unbalanced (multi-phase) formulations for this network")
                self.ok = False
                return False
        return True

    def per_bus(self, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.bincount(idx, weights=values, minlength=self.n) if len(idx) else np.zeros(self.n)

    def not_modelled(self, table: str, what: str) -> None:
        tbl = self.net.table(table)
        if tbl.num_rows == 0:
            return
        on = _bool(tbl, "status") if "status" in tbl.column_names else np.ones(tbl.num_rows, bool)
        k = int(on.sum())
        if k:
            i = int(np.flatnonzero(on)[0])
            self.sink.warning(NOT_MODELLED, f"{k} {what} in table `{table}` are not part of the "
                              "balanced case (power flow and OPF ignore them)",
                              _origin(tbl, i, self.net.name),
                              help="model them explicitly (e.g. as generators) if they matter")


def _warn_asymmetric(low: _Lowering, tbl: pa.Table, mask: np.ndarray, what: str) -> None:
    if mask.any():
        i = int(np.flatnonzero(mask)[0])
        low.sink.warning(ASYMMETRIC, f"{int(mask.sum())} line(s) have {what}; the balanced pi model "
                         "uses the total, split equally between the ends",
                         _origin(tbl, i, low.net.name),
                         help="MATPOWER's branch model has one symmetric charging susceptance")


def _lower_lines(low: _Lowering) -> dict[str, np.ndarray]:
    tbl = low.net.table("lines")
    low.one_phase(tbl, "line", ("r_ohm", "x_ohm", "g_from_s", "b_from_s", "g_to_s", "b_to_s"))
    on = np.flatnonzero(_bool(tbl, "status"))
    tbl = tbl.take(pa.array(on, pa.int64()))
    f = low.index(tbl, "from_bus", "line")
    t = low.index(tbl, "to_bus", "line")
    zb = low.vb[f] ** 2 / low.base if len(f) else np.zeros(0)   # from-bus base (MATPOWER's rule)
    r = _list_item(tbl, "r_ohm", 0, 0.0) / zb if len(f) else np.zeros(0)
    x = _list_item(tbl, "x_ohm", 0, 0.0) / zb if len(f) else np.zeros(0)
    bf, bt = (_list_item(tbl, c, 0, 0.0) for c in ("b_from_s", "b_to_s"))
    gf, gt = (_list_item(tbl, c, 0, 0.0) for c in ("g_from_s", "g_to_s"))
    _warn_asymmetric(low, tbl, ~np.isclose(bf, bt, rtol=1e-9, atol=1e-15), "unequal end susceptances")
    _warn_asymmetric(low, tbl, (gf != 0) | (gt != 0), "shunt conductance (moved to the end buses)")
    switch = _bool(tbl, "switch", False) & (r == 0) & (x == 0)
    x = np.where(switch, 1e-4, x)   # a closed ideal switch: a tiny reactance keeps Ybus finite
    return {
        "f": f, "t": t, "r": r, "x": x, "b": (bf + bt) * zb,
        "g_ends": np.stack([gf * zb, gt * zb]) if len(f) else np.zeros((2, 0)),
        "rate_a": _num(tbl, "rate_a_mva", 0.0) / low.base,
        "tap": np.ones(len(f)), "shift": np.zeros(len(f)),
        "angmin": np.deg2rad(_num(tbl, "angmin_deg", -360.0)),
        "angmax": np.deg2rad(_num(tbl, "angmax_deg", 360.0)),
        "id": _strs(tbl, "line"), "src": on, "line_no": _num(tbl, "source_line", np.inf),
    }


def _lower_transformers(low: _Lowering) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Two-winding transformers -> tap/shift branches; also magnetising shunts per bus (gs, bs).

    Model (MATPOWER's): an ideal transformer of ratio tau = (kv1*tap1/Vb_f)/(kv2*tap2/Vb_t)
    at the from end, then the series impedance.  Impedances in % are on the winding-1
    kVA and the winding rated voltage, so on the system base
    z = z% / 100 * base_mva / (kva1/1000) * (kv2/Vb_t)^2 (the impedance sits on the to side).
    """
    tbl = low.net.table("transformers")
    on = _bool(tbl, "status")
    windings = _num(tbl, "windings", 2.0)
    three = on & (windings != 2)
    for i in np.flatnonzero(on & (windings != 2) & (windings != 3))[:10]:
        low.sink.error(NOT_BALANCED, f"transformer `{tbl.column('transformer')[int(i)]}` has "
                       f"{int(windings[i])} windings; the balanced case takes two- and three-winding "
                       "transformers", _origin(tbl, int(i), low.net.name),
                       help="split it into two-winding transformers around a star bus")
        low.ok = False
    phases = _num(tbl, "phases", 1.0)
    if (on & (phases > 1)).any() and not low.net.balanced:
        i = int(np.flatnonzero(on & (phases > 1))[0])
        low.sink.error(NOT_BALANCED, f"transformer `{tbl.column('transformer')[i]}` is "
                       f"{int(phases[i])}-phase in an unbalanced network",
                       _origin(tbl, i, low.net.name),
                       help="use the unbalanced (multi-phase) formulations for this network")
        low.ok = False
    rows = np.flatnonzero(on & ~three)
    tbl = tbl.take(pa.array(rows, pa.int64()))
    k = tbl.num_rows
    buses = tbl.column("buses").combine_chunks() if k else None
    if k:
        import pyarrow.compute as pc
        fb = pa.table({"b": pc.list_element(buses, 0)})
        tb = pa.table({"b": pc.list_element(buses, 1)})
        f = low.index(fb, "b", "transformer")
        t = low.index(tb, "b", "transformer")
    else:
        f = t = np.zeros(0, dtype=np.int64)
    vbf, vbt = low.vb[f], low.vb[t]
    kv1 = _list_item(tbl, "kv", 0, 0.0)
    kv2 = _list_item(tbl, "kv", 1, 0.0)
    kv1 = np.where(kv1 > 0, kv1, vbf)   # unknown rating: the bus base (MATPOWER data with baseKV 0)
    kv2 = np.where(kv2 > 0, kv2, vbt)
    s_mva = _list_item(tbl, "kva", 0, low.base * 1000.0) / 1000.0
    s_mva = np.where(s_mva > 0, s_mva, low.base)
    tap1 = _list_item(tbl, "taps_pu", 0, 1.0)
    tap2 = _list_item(tbl, "taps_pu", 1, 1.0)
    r_pct = _list_item(tbl, "r_pct", 0, 0.0) + _list_item(tbl, "r_pct", 1, 0.0)
    x_pct = _num(tbl, "xhl_pct", 0.0)
    zscale = low.base / s_mva * (kv2 / vbt) ** 2 / 100.0
    yscale = s_mva / low.base * (vbf / kv1) ** 2      # admittance on winding 1 -> system base
    ratio = (kv1 * tap1 / vbf) / (kv2 * tap2 / vbt)
    gs = low.per_bus(f, _num(tbl, "noloadloss_pct", 0.0) / 100.0 * s_mva / low.base)
    bs = low.per_bus(f, -_num(tbl, "imag_pct", 0.0) / 100.0 * s_mva / low.base)
    branch = {
        "f": f, "t": t, "r": r_pct * zscale, "x": x_pct * zscale,
        "b": _num(tbl, "b_charging_pu", 0.0) * yscale,
        "g_ends": np.zeros((2, k)),
        "rate_a": _num(tbl, "rate_a_mva", 0.0) / low.base,
        "tap": ratio, "shift": np.deg2rad(_num(tbl, "shift_deg", 0.0)),
        "angmin": np.deg2rad(_num(tbl, "angmin_deg", -360.0)),
        "angmax": np.deg2rad(_num(tbl, "angmax_deg", 360.0)),
        "id": _strs(tbl, "transformer"), "src": rows, "line_no": _num(tbl, "source_line", np.inf),
    }
    return branch, gs, bs


def _lower_three_winding(low: _Lowering) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray,
                                                   np.ndarray]:
    """Three-winding transformers -> a star bus each and three branches winding bus -> star.

    Star impedances: z_1 = (z_12 + z_13 - z_23) / 2 (and cyclically), from the
    pairwise reactances (xhl, xht, xlt) and per-winding resistances (r_pct), all in
    % on the winding-1 kVA; the star bus is in per unit of the rated voltages, so
    each branch has the ratio kv_w * tap_w / Vb_w and no voltage rescaling of z.
    Returns (branches, gs, bs, star bus ids); star buses get indices n, n+1, ...
    """
    tbl = low.net.table("transformers")
    rows = np.flatnonzero(_bool(tbl, "status") & (_num(tbl, "windings", 2.0) == 3))
    tbl = tbl.take(pa.array(rows, pa.int64()))
    k = tbl.num_rows
    empty = np.zeros(0)
    if k == 0:
        return ({key: empty for key in ("f", "t", "r", "x", "b", "rate_a", "tap", "shift", "angmin",
                                        "angmax", "line_no")}
                | {"g_ends": np.zeros((2, 0)), "id": np.zeros(0, dtype=object),
                   "src": np.zeros(0, dtype=np.int64)}, np.zeros(low.n), np.zeros(low.n),
                np.zeros(0, dtype=object))
    import pyarrow.compute as pc
    buses = tbl.column("buses").combine_chunks()
    idx = [low.index(pa.table({"b": pc.list_element(buses, w)}), "b", "transformer") for w in range(3)]
    s_mva = _list_item(tbl, "kva", 0, low.base * 1000.0) / 1000.0
    s_mva = np.where(s_mva > 0, s_mva, low.base)
    scale = low.base / s_mva / 100.0
    x12, x13, x23 = (_num(tbl, c, 0.0) for c in ("xhl_pct", "xht_pct", "xlt_pct"))
    x_star = [(x12 + x13 - x23) / 2, (x12 + x23 - x13) / 2, (x13 + x23 - x12) / 2]
    star = low.n + np.arange(k)
    ids = _strs(tbl, "transformer")
    parts = []
    for w in range(3):
        vb = low.vb[idx[w]]
        kv = _list_item(tbl, "kv", w, 0.0)
        kv = np.where(kv > 0, kv, vb)
        parts.append({
            "f": idx[w], "t": star, "r": _list_item(tbl, "r_pct", w, 0.0) * scale, "x": x_star[w] * scale,
            "b": np.zeros(k), "rate_a": _num(tbl, "rate_a_mva", 0.0) / low.base,
            "tap": kv * _list_item(tbl, "taps_pu", w, 1.0) / vb,
            "shift": np.deg2rad(_num(tbl, "shift_deg", 0.0)) if w == 0 else np.zeros(k),
            "angmin": np.full(k, -2 * np.pi), "angmax": np.full(k, 2 * np.pi),
            "id": np.array([f"{i}:{w + 1}" for i in ids], dtype=object), "src": rows,
            "line_no": _num(tbl, "source_line", np.inf) + w * 1e-3,
        })
    branch = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    branch["g_ends"] = np.zeros((2, 3 * k))
    gs = low.per_bus(idx[0], _num(tbl, "noloadloss_pct", 0.0) / 100.0 * s_mva / low.base)
    bs = low.per_bus(idx[0], -_num(tbl, "imag_pct", 0.0) / 100.0 * s_mva / low.base)
    return branch, gs, bs, np.array([f"{i}:star" for i in ids], dtype=object)


def _costs(tbl: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Polynomial cost -> (c2, c1, c0) ($/h, P in MW); piecewise linear -> (k, 2) point arrays.

    Terms of degree > 2 are dropped (the importer warned when they were non-zero).
    """
    n = tbl.num_rows
    c = np.zeros((3, n))
    pwl: list = [None] * n
    models = tbl.column("cost_model").to_pylist()
    coeffs = tbl.column("cost_coeffs").to_pylist()
    for i, (m, cc) in enumerate(zip(models, coeffs)):   # one small list per generator, O(n_gen)
        if not cc:
            continue
        if m == 2:
            tail = cc[-3:]
            c[3 - len(tail):, i] = tail
        elif m == 1:
            pts = np.asarray(cc, dtype=np.float64)
            pwl[i] = pts[: len(pts) // 2 * 2].reshape(-1, 2)
    return c[0], c[1], c[2], pwl


def from_network(net: Network, sink: DiagnosticSink | None = None) -> BalancedCase:
    """Lower a balanced `Network` (MATPOWER, PSS/E, Parquet tables) to a `BalancedCase`.

    Only in-service elements are kept; loads and shunts are summed per bus;
    transformers become tap/shift branches; branches are in input order (by
    source line where known, which for MATPOWER is the order of `mpc.branch`).
    Problems go to `sink`; if the network cannot be lowered a `GatError` is raised.
    """
    from gatlang.diagnostics import GatError

    own = DiagnosticSink()
    low = _Lowering(net, own)
    buses = net.table("buses")
    kind = np.asarray([k or "pq" for k in buses.column("kind").to_pylist()], dtype=object)
    bus_type = np.array([KIND_TO_TYPE.get(k, PQ) for k in kind], dtype=np.int8)

    loads = net.table("loads")
    on = _bool(loads, "status")
    li = low.index(loads, "bus", "load")
    pd = low.per_bus(li[on], _num(loads, "p_mw", 0.0)[on]) / low.base
    qd = low.per_bus(li[on], _num(loads, "q_mvar", 0.0)[on]) / low.base
    model = np.asarray(loads.column("model").fill_null("constant_power").to_pylist(), dtype=object) \
        if loads.num_rows else np.zeros(0, dtype=object)
    other = on & (model != "constant_power")
    if other.any():
        i = int(np.flatnonzero(other)[0])
        own.warning(NOT_MODELLED, f"{int(other.sum())} load(s) are not constant-power; the balanced "
                    "case treats them as constant power at their rated values",
                    _origin(loads, i, net.name), help="voltage-dependent loads need the unbalanced engines")

    shunts = net.table("shunts")
    on = _bool(shunts, "status")
    si = low.index(shunts, "bus", "shunt")
    gs = low.per_bus(si[on], _num(shunts, "g_mw", 0.0)[on]) / low.base
    bs = low.per_bus(si[on], _num(shunts, "b_mvar", 0.0)[on]) / low.base

    lines = _lower_lines(low)
    xf, xgs, xbs = _lower_transformers(low)
    x3, x3gs, x3bs, star_id = _lower_three_winding(low)
    gs = gs + xgs + x3gs + low.per_bus(lines["f"], lines["g_ends"][0]) + low.per_bus(lines["t"], lines["g_ends"][1])
    bs = bs + xbs + x3bs
    parts = [lines, xf, x3]
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0] if k != "g_ends"}
    is_xf = np.r_[np.zeros(len(lines["f"]), bool), np.ones(len(xf["f"]) + len(x3["f"]), bool)]
    order = np.argsort(cat["line_no"], kind="stable")
    ns = len(star_id)   # star buses of three-winding transformers, after the network's buses
    pad = lambda a, v=0.0: np.concatenate([a, np.full(ns, v, dtype=np.asarray(a).dtype)])  # noqa: E731

    gens = net.table("generators")
    on = np.flatnonzero(_bool(gens, "status"))
    gens = gens.take(pa.array(on, pa.int64()))
    gi = low.index(gens, "bus", "generator")
    c2, c1, c0, pwl = _costs(gens)
    g = {
        "gen_id": _strs(gens, "gen"), "gen_bus": gi,
        "pg": _num(gens, "p_mw", 0.0) / low.base, "qg": _num(gens, "q_mvar", 0.0) / low.base,
        "pmin": _num(gens, "pmin_mw", 0.0) / low.base, "pmax": _num(gens, "pmax_mw", np.inf) / low.base,
        "qmin": _num(gens, "qmin_mvar", -np.inf) / low.base,
        "qmax": _num(gens, "qmax_mvar", np.inf) / low.base,
        "vg": _num(gens, "vg_pu", 1.0), "src": on.astype(np.int64),
        "c2": c2, "c1": c1, "c0": c0,
    }
    sources = net.table("sources")
    if sources.num_rows:   # a voltage source is a slack generator without limits or cost
        si_ = low.index(sources, "bus", "source")
        k = sources.num_rows
        bus_type[si_] = REF
        extra = {
            "gen_id": np.array([f"source:{s}" for s in _strs(sources, "source")], dtype=object),
            "gen_bus": si_, "pg": np.zeros(k), "qg": np.zeros(k),
            "pmin": np.full(k, -np.inf), "pmax": np.full(k, np.inf),
            "qmin": np.full(k, -np.inf), "qmax": np.full(k, np.inf),
            "vg": _num(sources, "pu", 1.0), "src": np.full(k, -1, dtype=np.int64),
            "c2": np.zeros(k), "c1": np.zeros(k), "c0": np.zeros(k),
        }
        g = {key: np.concatenate([g[key], extra[key]]) for key in g}
        pwl = pwl + [None] * k
    for table, what in (("dclines", "DC line(s)"), ("pv_systems", "PV system(s)"),
                        ("storage", "storage unit(s)")):
        low.not_modelled(table, what)

    if sink is not None:
        sink.extend(own.items)
    if not low.ok or own.has_errors:
        raise GatError(own.errors)
    return BalancedCase(
        name=net.name, base_mva=low.base,
        bus_id=np.concatenate([low.bus_id, star_id]), bus_type=pad(bus_type, PQ), pd=pad(pd), qd=pad(qd),
        gs=pad(gs), bs=pad(bs), vm=pad(_num(buses, "vm_pu", 1.0), 1.0),
        va=pad(np.deg2rad(_num(buses, "va_deg", 0.0))), base_kv=pad(low.base_kv, 1.0),
        vmin=pad(_num(buses, "vmin_pu", 0.9), 0.9), vmax=pad(_num(buses, "vmax_pu", 1.1), 1.1),
        gen_id=g["gen_id"], gen_bus=np.asarray(g["gen_bus"], dtype=np.int64), pg=g["pg"], qg=g["qg"], pmin=g["pmin"],
        pmax=g["pmax"], qmin=g["qmin"], qmax=g["qmax"], vg=g["vg"],
        cost_c2=g["c2"], cost_c1=g["c1"], cost_c0=g["c0"], cost_pwl=pwl,
        branch_id=cat["id"][order], f=cat["f"][order].astype(np.int64), t=cat["t"][order].astype(np.int64), r=cat["r"][order],
        x=cat["x"][order], b=cat["b"][order], rate_a=cat["rate_a"][order], tap=cat["tap"][order],
        shift=cat["shift"][order], angmin=cat["angmin"][order], angmax=cat["angmax"][order],
        is_transformer=is_xf[order], branch_source_index=cat["src"][order].astype(np.int64),
        gen_source_index=g["src"],
    )

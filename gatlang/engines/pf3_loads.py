"""Voltage-dependent injections (loads, generators, PV) as vectorised *load branches*.

Why branches: every OpenDSS load model draws, on each of its phases, a current
between two nodes (phase to neutral/ground for wye, phase to phase for
delta) that is ``I = y(|d|) * d``, with ``d`` the voltage across the branch
and ``y`` a complex function of its magnitude only.  The engine's models
(Load.pas ``DoConstantPQLoad``, ``DoConstantZLoad``, ``DoConstantILoad``,
``DoZIPVModel``, ``DoMotorTypeLoad``, ``DoCVRModel``) are piecewise in
``m = |d|``:

* ``m <= vlow``      constant impedance ``Yeq`` (the nominal admittance);
* ``vlow < m <= vmin``  current linear in ``m`` between the two ends (the
  engine's ``InterpolateY95_YLow`` / ``InterpolateY95I_YLow``);
* ``vmin < m <= vmax``  the model proper;
* ``m > vmax``       constant impedance at the upper limit.

In each region ``y(m) = c0 + c1/m + c2/m^2``, so one array of coefficients
``(n, 4 regions, 3)`` describes every branch of every model, and one
vectorised evaluation gives the currents and the derivatives Newton needs
(``dI/d Re d`` and ``dI/d Im d``).  A ZIP load is three branches (its Z, I and
P parts), each with its own scaled ``Yeq``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gatlang.diagnostics import Diagnostic, Span, warning
from gatlang.engines import pf3_result as codes
from gatlang.engines.pf3_cache import rows as table_rows
from gatlang.network.model import Network

SQRT3 = math.sqrt(3.0)
#: the engine's Vlowpu (below it every model is a constant impedance)
VLOW_PU = 0.50
# region kinds of the outer (out-of-range) behaviour
_OUT_P, _OUT_I, _OUT_Z = 0, 1, 2


@dataclass
class LoadBranches:
    """Arrays over load branches; ``a``/``b`` are node indices (-1 = ground).

    ``coef[k, r, :]`` = (c0, c1, c2) of branch k in region r (0: below vlow,
    1: vlow..vmin, 2: vmin..vmax, 3: above vmax), in siemens with ``m`` in
    volts; ``edges[k]`` = (vlow, vmin, vmax) in volts.  ``owner`` is the row
    of the element in ``kind``'s table, for reporting.
    """

    a: np.ndarray
    b: np.ndarray
    yeq: np.ndarray
    coef: np.ndarray
    edges: np.ndarray
    vbase: np.ndarray
    owner: np.ndarray
    kind: np.ndarray

    def __post_init__(self) -> None:
        # flat (n*4, 3) view and row offsets: one gather picks every branch's region coefficients
        self._flat = self.coef.reshape(-1, 3)
        self._row = np.arange(self.n) * 4
        self._edges = [np.ascontiguousarray(self.edges[:, j]) for j in range(3)]   # contiguous compares

    @property
    def n(self) -> int:
        return len(self.a)

    def per_unit(self, vb: np.ndarray, sbase: float) -> "LoadBranches":
        """The same branches with voltages in pu of ``vb`` (per branch) and currents in pu of
        ``sbase / vb``: ``I_pu(d_pu) = vb/S * I(vb d_pu)``, so ``c0, c1, c2`` scale by
        ``vb^2/S, vb/S, 1/S`` and the region edges by ``1/vb``.  Kernels then never convert."""
        scale = np.stack([vb * vb, vb, np.ones_like(vb)], axis=1) / sbase
        return LoadBranches(self.a, self.b, self.yeq * vb * vb / sbase, self.coef * scale[:, None, :],
                            self.edges / vb[:, None], self.vbase, self.owner, self.kind)

    def admittance(self, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``y(m)`` and ``dy/dm`` per branch (vectorised over the regions)."""
        c, inv = self._coefficients(m)
        y = c[:, 0] + (c[:, 1] + c[:, 2] * inv) * inv
        dy = -(c[:, 1] + 2.0 * c[:, 2] * inv) * inv * inv
        return y, dy

    def _coefficients(self, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        e0, e1, e2 = self._edges
        region = self._row + (m > e0) + (m > e1) + (m > e2)
        inv = np.divide(1.0, m, out=np.zeros_like(m), where=m > 0)     # no errstate: it costs more
        return self._flat[region], inv

    def currents(self, d: np.ndarray) -> np.ndarray:
        """Current drawn by each branch (from node a to node b) at branch voltages ``d``."""
        c, inv = self._coefficients(np.abs(d))
        return (c[:, 0] + (c[:, 1] + c[:, 2] * inv) * inv) * d

    def currents_and_derivatives(self, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(I, dI/d Re d, dI/d Im d): ``I = y(m) d`` so ``dI/dx = y dx + d y'(m) dm/dx``."""
        m = np.abs(d)
        y, dy = self.admittance(m)
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(m > 0, d / m, 0.0)
        i = y * d
        return i, y + d * dy * u.real, 1j * y + d * dy * u.imag


# ---------------------------------------------------------------- coefficients per model

def _region_coefficients(yeq: np.ndarray, vb: np.ndarray, vmin: np.ndarray, vmax: np.ndarray,
                         normal: np.ndarray, outer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(coef (n,4,3), edges (n,3)) from the nominal admittance and the in-range coefficients.

    ``normal`` (n,3) are (c0, c1, c2) between vmin and vmax; ``outer`` says how
    the engine extends the model outside that range (P-like, I-like or Z).
    """
    n = len(yeq)
    coef = np.zeros((n, 4, 3), dtype=complex)
    vlow = VLOW_PU * vb
    v95, v105 = vmin * vb, vmax * vb
    coef[:, 0, 0] = yeq
    # between vlow and vmin: I(m) = yeq vlow + k (m - vlow), k from the current at vmin
    i95 = np.where(outer == _OUT_I, yeq * vb, np.where(vmin > 0, yeq * vb / np.where(vmin > 0, vmin, 1), 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(v95 > vlow, (i95 - yeq * vlow) / (v95 - vlow), 0.0)
    coef[:, 1, 0] = k
    coef[:, 1, 1] = yeq * vlow - k * vlow
    coef[:, 2] = normal
    upper = np.where(outer == _OUT_I, yeq / np.where(vmax > 0, vmax, 1.0),
                     yeq / np.where(vmax > 0, vmax * vmax, 1.0))
    coef[:, 3, 0] = np.where(vmax > 0, upper, yeq)
    z = outer == _OUT_Z
    coef[z] = 0.0
    coef[z, :, 0] = yeq[z, None]
    edges = np.stack([vlow, v95, v105], axis=1)
    return coef, edges


def _normal_coefficients(model: np.ndarray, yeq: np.ndarray, vb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """In-range (c0, c1, c2) and outer kind for the engine's load models 1-7 (8 is split elsewhere)."""
    n = len(model)
    c = np.zeros((n, 3), dtype=complex)
    outer = np.full(n, _OUT_P)
    p = (model == 1) | (model == 6) | (model == 7)          # constant P (fixed Q models: P part)
    c[p, 2] = yeq[p] * vb[p] ** 2
    z = model == 2
    c[z, 0] = yeq[z]
    outer[z] = _OUT_Z
    i = model == 5
    c[i, 1] = yeq[i] * vb[i]
    outer[i] = _OUT_I
    motor = model == 3                                        # constant P, Q as an impedance
    c[motor, 2] = yeq[motor].real * vb[motor] ** 2
    c[motor, 0] = 1j * yeq[motor].imag
    cvr = model == 4                                          # default CVR factors: P ~ V, Q ~ V^2
    c[cvr, 1] = yeq[cvr].real * vb[cvr]
    c[cvr, 0] = 1j * yeq[cvr].imag
    return c, outer


# ---------------------------------------------------------------- building from the tables

def _branch_ends(conn: list[int], connection: str) -> tuple[list[tuple[int, int]], int]:
    """(node pairs, number of phases) of a one-terminal element, the engine's way."""
    if connection == "wye":
        nph = len(conn) - 1
        return [(conn[k], conn[-1]) for k in range(nph)], nph
    if len(conn) == 2:
        return [(conn[0], conn[1])], 1
    return [(conn[k], conn[(k + 1) % len(conn)]) for k in range(len(conn))], len(conn)


def _phase_vbase(kv: float, connection: str, nphases: int) -> float:
    """The engine's VBase: line-to-neutral for a 2- or 3-phase wye element, else the kV given."""
    return kv * 1e3 / SQRT3 if connection == "wye" and nphases > 1 else kv * 1e3


@dataclass
class _Rows:
    a: list[int]
    b: list[int]
    s: list[complex]       # VA per branch (consumed)
    vb: list[float]
    vmin: list[float]
    vmax: list[float]
    model: list[int]
    owner: list[int]
    kind: list[str]
    zipv: list[list[float] | None]

    @classmethod
    def empty(cls) -> "_Rows":
        return cls([], [], [], [], [], [], [], [], [], [])


def _add_element(rows: _Rows, node, bus: str, conn: list[int], connection: str, kv: float, s_total: complex,
                 vmin: float, vmax: float, model: int, owner: int, kind: str,
                 zipv: list[float] | None = None) -> None:
    pairs, nph = _branch_ends(conn, connection)
    vb = _phase_vbase(kv, connection, nph)
    for na, nb in pairs:
        rows.a.append(node(bus, na))
        rows.b.append(node(bus, nb))
        rows.s.append(s_total / nph)
        rows.vb.append(vb)
        rows.vmin.append(vmin)
        rows.vmax.append(vmax)
        rows.model.append(model)
        rows.owner.append(owner)
        rows.kind.append(kind)
        rows.zipv.append(zipv)


def build_load_branches(net: Network, node, load_scale: float = 1.0, pv_scale: float = 1.0,
                        span: Span | None = None) -> tuple[LoadBranches, list[Diagnostic]]:
    """Load branches of every in-service load, generator and PV system.

    ``node(bus, k)`` maps a conductor to its node index (-1 for ground).
    Generators and PV systems are negative constant-power loads (the engine's
    generator model 1 and a PV system at its ``pf`` with output
    ``pmpp * irradiance``, capped at ``kva``), with the engine's 0.90/1.10 pu
    limits.  Returns the branches and warnings for approximated models.
    """
    diags: list[Diagnostic] = []
    rows = _Rows.empty()
    approx: list[str] = []
    for i, r in enumerate(table_rows(net, "loads")):
        if not r["status"]:
            continue
        model = int(r["dss_model"] or {"constant_power": 1, "constant_impedance": 2,
                                       "constant_current": 5, "zip": 8}.get(r["model"], 1))
        zipv = list(r["zipv"] or []) if model == 8 else None
        if zipv is not None:
            if len(zipv) < 6:
                approx.append(f"{r['load']} (ZIP without 7 coefficients: constant power)")
                model, zipv = 1, None
            elif len(zipv) > 6 and zipv[6] > 0:
                approx.append(f"{r['load']} (ZIP low-voltage cut-off ignored)")
        elif model in (6, 7):
            approx.append(f"{r['load']} (model {model}: fixed Q taken as constant power)")
        s = complex(r["p_mw"] or 0.0, r["q_mvar"] or 0.0) * 1e6 * load_scale
        _add_element(rows, node, r["bus"], r["conn"], r["connection"] or "wye", r["vn_kv"] or 12.47, s,
                     r["vminpu"] if r["vminpu"] is not None else 0.95,
                     r["vmaxpu"] if r["vmaxpu"] is not None else 1.05, model, i, "load", zipv)
    for i, r in enumerate(table_rows(net, "generators")):
        if not r["status"]:
            continue
        s = -complex(r["p_mw"] or 0.0, r["q_mvar"] or 0.0) * 1e6
        vn = (r.get("vn_kv") or _bus_kv(net, r["bus"]))
        _add_element(rows, node, r["bus"], r["conn"], "wye", vn, s, 0.90, 1.10, 1, i, "generator")
    for i, r in enumerate(table_rows(net, "pv_systems")):
        if not r["status"]:
            continue
        p = (r["pmpp_mw"] or 0.0) * (r["irradiance"] if r["irradiance"] is not None else 1.0) * pv_scale
        kva = (r["kva"] or 0.0) / 1e3
        pf = r["pf"] if r["pf"] else 1.0
        q = p * math.sqrt(max(1.0 / (pf * pf) - 1.0, 0.0)) * math.copysign(1.0, pf)
        if kva > 0 and abs(complex(p, q)) > kva:
            scale = kva / abs(complex(p, q))
            p, q = p * scale, q * scale
        _add_element(rows, node, r["bus"], r["conn"], "wye", r["vn_kv"] or 12.47, -complex(p, q) * 1e6,
                     0.90, 1.10, 1, i, "pv")
    if approx:
        diags.append(warning(codes.LOAD_MODEL_APPROX, f"{len(approx)} load(s) use a model solved with an "
                             f"approximation: {', '.join(approx[:5])}" + (" ..." if len(approx) > 5 else ""),
                             span, help="use load models 1, 2, 3, 4, 5 or 8 for an exact match with OpenDSS"))
    return _assemble(rows), diags


def _bus_kv(net: Network, bus: str) -> float:
    buses = net.table("buses")
    names = buses.column("bus").to_pylist()
    kv = buses.column("vn_kv").to_pylist()
    try:
        return kv[names.index(bus)] or 12.47
    except ValueError:
        return 12.47


def _assemble(rows: _Rows) -> LoadBranches:
    vb = np.asarray(rows.vb, dtype=float)
    s = np.asarray(rows.s, dtype=complex)
    with np.errstate(divide="ignore", invalid="ignore"):
        yeq = np.where(vb > 0, np.conj(s) / (vb * vb), 0.0)
    model = np.asarray(rows.model, dtype=int)
    vmin, vmax = np.asarray(rows.vmin, dtype=float), np.asarray(rows.vmax, dtype=float)
    a, b = np.asarray(rows.a, dtype=int), np.asarray(rows.b, dtype=int)
    owner, kind = np.asarray(rows.owner, dtype=int), np.asarray(rows.kind, dtype=object)
    normal, outer = _normal_coefficients(model, yeq, vb)
    # ZIP loads: one branch per part (Z, I, P), real and imaginary parts scaled separately
    ex = np.flatnonzero(model == 8)
    if len(ex):
        zp = np.asarray([rows.zipv[k][:6] for k in ex], dtype=float)  # type: ignore[index]
        parts_y = [yeq[ex].real * zp[:, j] + 1j * yeq[ex].imag * zp[:, j + 3] for j in range(3)]
        new_y = np.concatenate(parts_y)
        new_outer = np.repeat([_OUT_Z, _OUT_I, _OUT_P], len(ex))
        new_normal = np.zeros((3 * len(ex), 3), dtype=complex)
        vbx = np.tile(vb[ex], 3)
        new_normal[: len(ex), 0] = parts_y[0]
        new_normal[len(ex): 2 * len(ex), 1] = parts_y[1] * vb[ex]
        new_normal[2 * len(ex):, 2] = parts_y[2] * vb[ex] ** 2
        keep = np.ones(len(model), dtype=bool)
        keep[ex] = False
        idx = np.r_[np.flatnonzero(keep), np.tile(ex, 3)]
        yeq = np.r_[yeq[keep], new_y]
        normal = np.r_[normal[keep], new_normal]
        outer = np.r_[outer[keep], new_outer]
        vb = np.r_[vb[keep], vbx]
        a, b, vmin, vmax, owner, kind = a[idx], b[idx], vmin[idx], vmax[idx], owner[idx], kind[idx]
    coef, edges = _region_coefficients(yeq, vb, vmin, vmax, normal, outer)
    return LoadBranches(a, b, yeq, coef, edges, vb, owner, kind)

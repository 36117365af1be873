"""Line impedances from conductor geometry (LineGeometry / LineSpacing + WireData).

Why here: feeders exported from GIS (EPRI ckt5, IEEE 9500) describe lines by
conductor positions and wire data instead of line codes.  The series
impedance follows the engine's default earth model (Deri's complex-depth
approximation of Carson) with the conductor's internal impedance from its DC
resistance and radius (skin effect through Bessel functions, real part kept
at power frequency) and the geometric mean radius for the internal inductance;
shunt capacitance comes from Maxwell's potential coefficients.  Neutral
conductors are eliminated by Kron reduction when the geometry says
``reduce=y``.  Concentric-neutral and tape-shielded cables are not computed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import iv

from gatlang.diagnostics import DiagnosticSink, Span

from .. import codes
from ..script import Circuit, DssObject
from ..values import number, numbers, strings
from .common import positive

MU0 = 12.56637e-7          # the engine's value (4 pi 1e-7 rounded)
EPS0 = 8.854e-12            # the engine's value
#: length unit -> metres (``none`` taken as metres)
_CN_PROPS = ("k", "diastrand", "gmrstrand", "rstrand", "epsr", "inslayer", "diains", "diacable")
UNITS_M = {"none": 1.0, "mi": 1609.344, "kft": 304.8, "km": 1000.0, "m": 1.0, "ft": 0.3048,
           "in": 0.0254, "cm": 0.01, "mm": 0.001}


@dataclass
class Wire:
    rdc: float          # ohm per metre
    rac: float
    gmr: float          # metres
    radius: float
    capradius: float
    normamps: float
    cn: "Concentric | None" = None


@dataclass
class Concentric:
    """Concentric-neutral cable data (CNData), lengths in metres, resistance in ohm per metre."""

    k: int
    dia_strand: float
    gmr_strand: float
    r_strand: float
    eps_r: float
    ins_layer: float
    dia_ins: float
    dia_cable: float


def _unit(v, sink: DiagnosticSink) -> str | None:
    u = v.text.strip().lower()
    if u not in UNITS_M:
        sink.error(codes.UNKNOWN_UNIT, f"`{v.text}` is not a length unit", v.span,
                   help=f"use one of: {', '.join(UNITS_M)}")
        return None
    return u


def read_wire(obj: DssObject, sink: DiagnosticSink) -> Wire:
    """WireData with the engine's fill-ins: Rdc = Rac/1.02 (and back), GMR = 0.7788 radius."""
    vals: dict[str, float] = {}
    units = {"runits": "none", "gmrunits": "none", "radunits": "none"}
    for a in obj.assignments:
        if a.prop in units:
            u = _unit(a.value, sink)
            if u:
                units[a.prop] = u
        elif a.prop in ("rdc", "rac", "gmrac", "radius", "diam", "capradius", "normamps", *_CN_PROPS):
            x = number(a.value, sink, a.prop)
            if x is not None:
                vals[a.prop] = x
                if a.prop == "diam":
                    vals["radius"] = x / 2.0
    per_m = 1.0 / UNITS_M[units["runits"]]
    rdc = vals.get("rdc", vals.get("rac", 0.0) / 1.02) * per_m
    rac = vals.get("rac", rdc / per_m * 1.02) * per_m
    radius = vals.get("radius", 0.0) * UNITS_M[units["radunits"]]
    gmr = vals["gmrac"] * UNITS_M[units["gmrunits"]] if "gmrac" in vals else 0.7788 * radius
    cap = vals["capradius"] * UNITS_M[units["radunits"]] if "capradius" in vals else radius
    cn = None
    if obj.cls == "cndata":
        rad = UNITS_M[units["radunits"]]
        dia_strand = vals.get("diastrand", 0.0) * rad
        cn = Concentric(int(vals.get("k", 2)), dia_strand,
                        vals["gmrstrand"] * UNITS_M[units["gmrunits"]] if "gmrstrand" in vals
                        else 0.7788 * dia_strand / 2,
                        vals.get("rstrand", 0.0) * per_m, vals.get("epsr", 2.3),
                        vals.get("inslayer", 0.0) * rad, vals.get("diains", 0.0) * rad,
                        vals.get("diacable", 0.0) * rad)
    return Wire(rdc, rac, gmr, radius, cap, vals.get("normamps", 400.0), cn)


@dataclass
class Layout:
    """Conductor positions (metres), wires, phases and whether to Kron-reduce the rest."""

    x: np.ndarray
    h: np.ndarray
    wires: list[Wire]
    nphases: int
    reduce: bool
    units: str


def _positions(obj: DssObject, sink: DiagnosticSink, wires: dict[str, Wire]) -> Layout | None:
    """Replay a LineGeometry or LineSpacing: ``cond=k`` selects the conductor ``x``/``h``/``wire`` set."""
    nconds, nph, active, units, reduce = 3, 3, 0, "ft", False
    xs: dict[int, float] = {}
    hs: dict[int, float] = {}
    ws: dict[int, str] = {}
    unit_of: dict[int, str] = {}
    for a in obj.assignments:
        p, v = a.prop, a.value
        if p in ("nconds", "nphases", "cond"):
            k = number(v, sink, p)
            if k is None or k < 1:
                continue
            if p == "nconds":
                nconds = int(k)
            elif p == "nphases":
                nph = int(k)
            else:
                active = int(k) - 1
        elif p in ("x", "h"):
            vals = numbers(v, sink, p)
            if vals is None:
                continue
            target = xs if p == "x" else hs
            if obj.cls == "linespacing" or len(vals) > 1:
                target.update(enumerate(vals))
            else:
                target[active] = vals[0]
                unit_of.setdefault(active, units)
        elif p == "units":
            u = _unit(v, sink)
            if u:
                units = u
                unit_of[active] = u
        elif p in ("wire", "cncable", "tscable"):
            ws[active] = v.text.strip().lower()
        elif p in ("wires", "cncables", "tscables"):
            ws.update(enumerate(t.lower() for t in strings(v)))
        elif p == "reduce":
            reduce = v.text.strip().lower()[:1] in ("y", "t")
    missing = [k + 1 for k in range(nconds) if k not in xs or k not in hs]
    if missing:
        sink.error(codes.BAD_ARRAY_LENGTH, f"{obj.cls} `{obj.display}`: conductor {missing[0]} has no "
                   "position", obj.span, help="give every conductor `cond=k x=... h=...`")
        return None
    scale = np.asarray([UNITS_M[unit_of.get(k, units)] for k in range(nconds)])
    layout_wires = []
    for k in range(nconds):
        w = wires.get(ws.get(k, ""))
        layout_wires.append(w)          # type: ignore[arg-type]
    return Layout(np.asarray([xs[k] for k in range(nconds)]) * scale,
                  np.asarray([hs[k] for k in range(nconds)]) * scale,
                  layout_wires, nph, reduce, units)


def _check_layout(x: np.ndarray, h: np.ndarray, rdc: np.ndarray, gmr: np.ndarray, rad: np.ndarray,
                  lay: Layout) -> None:
    """Data the formulas need: positive resistances and radii, distinct positions, not on the ground."""
    if not (np.all(rdc > 0) and np.all(gmr > 0) and np.all(rad > 0)):
        raise ValueError("a wire has no positive resistance, GMR or radius")
    if np.any(h == 0):
        raise ValueError("a conductor is at height 0")
    pts = np.stack([x, h], axis=1)
    d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    if np.any(d[~np.eye(len(x), dtype=bool)] <= 0):
        raise ValueError("two conductors are at the same position")
    for wi in lay.wires[:lay.nphases]:
        c = wi.cn
        if c is not None and not (c.k >= 1 and c.dia_strand > 0 and c.gmr_strand > 0 and c.r_strand > 0
                                  and c.dia_cable > c.dia_strand and 0 < c.ins_layer < c.dia_ins / 2):
            raise ValueError("concentric-neutral data are incomplete (k, strands, insulation, diameters)")


def kron_eliminate(m: np.ndarray, keep: int) -> np.ndarray:
    return m[:keep, :keep] - m[:keep, keep:] @ np.linalg.solve(m[keep:, keep:], m[keep:, :keep])


def line_constants(lay: Layout, freq: float, rho: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R, X [ohm/m], C [nF/m]) of the layout at `freq`, earth resistivity `rho` (ohm m)."""
    w = 2 * math.pi * freq
    x, h = lay.x, lay.h
    rdc = np.asarray([wi.rdc for wi in lay.wires])
    gmr = np.asarray([wi.gmr for wi in lay.wires])
    cap = np.asarray([wi.capradius for wi in lay.wires])
    rad = np.asarray([wi.radius for wi in lay.wires])
    _check_layout(x, h, rdc, gmr, np.where(cap > 0, cap, rad), lay)
    a = (1 + 1j) * np.sqrt(w * MU0 / (2 * math.pi * rdc))
    with np.errstate(all="ignore"):          # Bessel ratio of large arguments: replaced by 1 below
        ratio = np.where(np.abs(a) > 35, 1.0, iv(0, a) / iv(1, a))
    rint = (rdc * a / 2 * ratio).real
    rint = np.where(np.abs(a) > 35, (rdc * a / 2).real, rint)
    p = 1.0 / np.sqrt(1j * w * MU0 / rho)               # complex depth
    lf = 1j * w * MU0 / (2 * math.pi)
    dx = x[:, None] - x[None, :]
    dist = np.hypot(dx, h[:, None] - h[None, :])
    n = len(x)
    eye = np.eye(n, dtype=bool)
    safe = np.where(eye, 1.0, dist)
    ha = np.abs(h)                                      # buried cables: depth below ground
    earth = lf * np.log(np.sqrt((ha[:, None] + ha[None, :] + 2 * p) ** 2 + dx ** 2))
    z = np.where(eye, rint[:, None] + lf * np.log(1.0 / gmr)[:, None] + earth, lf * np.log(1.0 / safe) + earth)
    cns = [wi.cn for wi in lay.wires[:lay.nphases]]
    if any(c is not None for c in cns):
        return _with_neutrals(z, earth, safe, lay, cns, lf, w)
    image = np.hypot(dx, h[:, None] + h[None, :])
    pm = np.where(eye, np.log(2 * h / np.where(cap > 0, cap, rad))[:, None] * np.ones(n), np.log(image / safe))
    pm = pm / (2 * math.pi * EPS0)
    if lay.reduce and n > lay.nphases:
        z = kron_eliminate(z, lay.nphases)
        pm = kron_eliminate(pm, lay.nphases)
    c = np.linalg.inv(pm) * 1e9
    return z.real, z.imag, c


def _with_neutrals(z: np.ndarray, earth: np.ndarray, dist: np.ndarray, lay: Layout,
                   cns: list["Concentric | None"], lf: complex, w: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concentric-neutral cables: each neutral is an extra conductor (strands on a circle), reduced away.

    The neutral's resistance is the strand's over k, its GMR the k-strand bundle
    GMR on the circle of radius (D_cable - d_strand)/2; the distance from a
    neutral to its own core is that radius, to another conductor the k-th root
    of (D^k - R^k).  Capacitance is the coaxial insulation's, core to neutral.
    """
    n, nph = z.shape[0], lay.nphases
    if any(c is None for c in cns):
        raise ValueError("a geometry mixing bare phase wires and concentric-neutral cables")
    m = n + nph
    big = np.zeros((m, m), dtype=complex)
    big[:n, :n] = z
    rad = np.asarray([0.5 * (c.dia_cable - c.dia_strand) for c in cns])      # type: ignore[union-attr]
    k = np.asarray([c.k for c in cns], dtype=float)                         # type: ignore[union-attr]
    for i, c in enumerate(cns):
        assert c is not None
        gmr_cn = (c.gmr_strand * c.k * rad[i] ** (c.k - 1.0)) ** (1.0 / c.k)
        big[n + i, n + i] = c.r_strand / c.k + lf * math.log(1.0 / gmr_cn) + earth[i, i]
        for j in range(i):
            big[n + i, n + j] = big[n + j, n + i] = lf * np.log(1.0 / dist[i, j]) + earth[i, j]
        for j in range(n):
            if i != j and dist[i, j] <= rad[i]:
                raise ValueError("a conductor lies inside a cable's concentric neutral")
            d = rad[i] if i == j else (dist[i, j] ** k[i] - rad[i] ** k[i]) ** (1.0 / k[i])
            big[n + i, j] = big[j, n + i] = lf * np.log(1.0 / d) + earth[i, j]
    zr = kron_eliminate(big, nph)
    c_nf = np.diag([2 * math.pi * EPS0 * c.eps_r                            # type: ignore[union-attr]
                    / math.log((0.5 * c.dia_ins) / (0.5 * c.dia_ins - c.ins_layer)) * 1e9 for c in cns])
    return zr.real, zr.imag, c_nf


def geometry_impedance(line: DssObject, circuit: Circuit, sink: DiagnosticSink, freq: float,
                       wires: dict[str, Wire], cache: dict | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, str] | None:
    """(R, X, C per metre, normamps, units of the geometry) of a line given by geometry/spacing.

    `cache` (one dict per import) keeps the result per (geometry or spacing,
    wires, rho): large feeders have thousands of lines on a handful of
    geometries, and the line constants are the importer's most expensive step.
    """
    vals = line.last()
    span: Span = line.span
    if "tscables" in vals:
        sink.warning(codes.GEOMETRY_NOT_COMPUTED, f"line `{line.display}` uses tape-shielded cables; "
                     "their impedances are not computed, the line is not imported", span,
                     help="give the line a `linecode=` instead")
        return None
    if "geometry" not in vals and "spacing" not in vals:
        sink.warning(codes.GEOMETRY_NOT_COMPUTED, f"line `{line.display}` names cables but no `spacing=`; "
                     "the line is not imported", span, help="give the line a `spacing=` or a `linecode=`")
        return None
    if "geometry" in vals:
        ref, cls = vals["geometry"], "linegeometry"
    else:
        ref, cls = vals.get("spacing"), "linespacing"
    obj = circuit.find(cls, ref.text.strip()) if ref is not None else None
    if obj is None:
        where = ref.span if ref is not None else span
        sink.error(codes.UNKNOWN_OBJECT, f"{cls} `{ref.text if ref else ''}` is not defined", where,
                   help=f"define it with `New {cls}.<name>` before the line")
        return None
    names = [*(strings(vals["cncables"]) if "cncables" in vals else []),
             *(strings(vals["wires"]) if "wires" in vals else [])] if cls == "linespacing" else []
    key = (cls, obj.name, tuple(nm.lower() for nm in names), vals["rho"].text if "rho" in vals else None)
    if cache is None or key not in cache:
        outcome = _layout_constants(obj, cls, names, vals, sink, freq, wires)
        if cache is not None:
            cache[key] = outcome
    else:
        outcome = cache[key]
    if outcome is None:                       # the layout itself is bad: reported once, where it is
        return None
    if isinstance(outcome, str):
        sink.warning(codes.GEOMETRY_NOT_COMPUTED, f"line `{line.display}`: {cls} `{obj.display}` {outcome}; "
                     "the line is not imported", span,
                     help="define every conductor with `New WireData.<name>` and check the conductor "
                          "positions and wire data, or give a `linecode=`")
        return None
    return outcome


def _layout_constants(obj: DssObject, cls: str, names: list[str], vals: dict, sink: DiagnosticSink,
                      freq: float, wires: dict[str, Wire]):
    """Line constants of one geometry/spacing: a tuple, None (bad layout, reported) or why not (str)."""
    lay = _positions(obj, sink, wires)
    if lay is None:
        return None
    if cls == "linespacing":
        lay.wires = [wires.get(nm.lower()) for nm in names[:len(lay.x)]]   # type: ignore[misc]
        lay.reduce = True
    if len(lay.wires) < len(lay.x) or any(w is None for w in lay.wires):
        return "names wires that are not WireData (cables or undefined)"
    rho = positive(vals["rho"], sink, "rho") if "rho" in vals else 100.0
    try:
        with np.errstate(all="raise"):       # overflow or 0/0 in odd data: reported, not propagated
            r, x, c = line_constants(lay, freq, rho or 100.0)
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError, OverflowError, FloatingPointError) as exc:
        return f"impedances cannot be computed ({exc})"
    return r, x, c, lay.wires[0].normamps, lay.units


def wires_of(circuit: Circuit, sink: DiagnosticSink) -> dict[str, Wire]:
    """WireData and CNData by name (tape-shielded cables are not computed)."""
    return {o.name: read_wire(o, sink) for cls in ("wiredata", "cndata") for o in circuit.of(cls)}

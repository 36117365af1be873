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

MU0 = 12.56637e-7          # the engine's value (4 pi 1e-7 rounded)
EPS0 = 8.854e-12            # the engine's value
#: length unit -> metres (``none`` taken as metres)
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
        elif a.prop in ("rdc", "rac", "gmrac", "radius", "diam", "capradius", "normamps"):
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
    return Wire(rdc, rac, gmr, radius, cap, vals.get("normamps", 400.0))


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
        elif p == "wire":
            ws[active] = v.text.strip().lower()
        elif p == "wires":
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
    a = (1 + 1j) * np.sqrt(w * MU0 / (2 * math.pi * rdc))
    with np.errstate(all="ignore"):
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
    earth = lf * np.log(np.sqrt((h[:, None] + h[None, :] + 2 * p) ** 2 + dx ** 2))
    z = np.where(eye, rint[:, None] + lf * np.log(1.0 / gmr)[:, None] + earth, lf * np.log(1.0 / safe) + earth)
    image = np.hypot(dx, h[:, None] + h[None, :])
    pm = np.where(eye, np.log(2 * h / np.where(cap > 0, cap, rad))[:, None] * np.ones(n), np.log(image / safe))
    pm = pm / (2 * math.pi * EPS0)
    if lay.reduce and n > lay.nphases:
        z = kron_eliminate(z, lay.nphases)
        pm = kron_eliminate(pm, lay.nphases)
    c = np.linalg.inv(pm) * 1e9
    return z.real, z.imag, c


def geometry_impedance(line: DssObject, circuit: Circuit, sink: DiagnosticSink, freq: float,
                       wires: dict[str, Wire]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, str] | None:
    """(R, X, C per metre, normamps, units of the geometry) of a line given by geometry/spacing."""
    vals = line.last()
    span: Span = line.span
    if "cncables" in vals or "tscables" in vals:
        sink.warning(codes.GEOMETRY_NOT_COMPUTED, f"line `{line.display}` uses cable data (CN/TS); "
                     "cable impedances are not computed, the line is not imported", span,
                     help="give the line a `linecode=` instead")
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
    lay = _positions(obj, sink, wires)
    if lay is None:
        return None
    if cls == "linespacing":
        names = strings(vals["wires"]) if "wires" in vals else []
        lay.wires = [wires.get(nm.lower()) for nm in names[:len(lay.x)]]   # type: ignore[misc]
        lay.reduce = True
    if len(lay.wires) < len(lay.x) or any(w is None for w in lay.wires):
        sink.warning(codes.GEOMETRY_NOT_COMPUTED, f"line `{line.display}`: {cls} `{obj.display}` names wires "
                     "that are not WireData (cables or undefined); the line is not imported", span,
                     help="define every conductor with `New WireData.<name>`")
        return None
    rho = number(vals["rho"], sink, "rho") if "rho" in vals else 100.0
    r, x, c = line_constants(lay, freq, rho or 100.0)
    return r, x, c, lay.wires[0].normamps, lay.units


def wires_of(circuit: Circuit, sink: DiagnosticSink) -> dict[str, Wire]:
    return {o.name: read_wire(o, sink) for o in circuit.of("wiredata")}

"""Line impedances from conductor geometry (LineGeometry / LineSpacing + WireData).

Why here: feeders exported from GIS (EPRI ckt5, IEEE 9500) describe lines by
conductor positions and wire data instead of line codes.  The series
impedance follows the engine's default earth model (Deri's complex-depth
approximation of Carson) with the conductor's internal impedance from its DC
resistance and radius (skin effect through Bessel functions, real part kept
at power frequency) and the geometric mean radius for the internal inductance;
shunt capacitance comes from Maxwell's potential coefficients.  Neutral
conductors are eliminated by Kron reduction when the geometry says
``reduce=y``.  Cables (concentric-neutral CNData, tape-shielded TSData) add
their shield as one more conductor per phase, reduced away as the engine does.
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
_CN_PROPS = ("k", "diastrand", "gmrstrand", "rstrand", "epsr", "inslayer", "diains", "diacable",
             "diashield", "tapelayer", "tapelap")
UNITS_M = {"none": 1.0, "mi": 1609.344, "kft": 304.8, "km": 1000.0, "m": 1.0, "ft": 0.3048,
           "in": 0.0254, "cm": 0.01, "mm": 0.001}


RHO_TS = 2.3718e-8          # the engine's resistivity of a copper tape shield (ohm m)


@dataclass
class Cable:
    """Insulation of a cable (CNData/TSData), lengths in metres: the capacitance core to shield."""

    eps_r: float
    ins_layer: float
    dia_ins: float
    dia_cable: float

    def capacitance(self) -> float:
        """Coaxial capacitance (F/m) of the insulation layer."""
        outer = 0.5 * self.dia_ins
        return 2 * math.pi * EPS0 * self.eps_r / math.log(outer / (outer - self.ins_layer))


@dataclass
class Concentric(Cable):
    """Concentric-neutral cable data (CNData), lengths in metres, resistance in ohm per metre.

    The neutral's resistance is the strand's over k, its GMR the k-strand bundle
    GMR on the circle of radius (D_cable - d_strand)/2; the distance from the
    neutral to its own core is that radius, to another core or bare wire the
    k-th root of (D^k - R^k), to another cable's shield D.
    """

    k: int = 2
    dia_strand: float = 0.0
    gmr_strand: float = 0.0
    r_strand: float = 0.0

    @property
    def radius(self) -> float:
        return 0.5 * (self.dia_cable - self.dia_strand)

    def shield_r(self) -> float:
        return self.r_strand / self.k

    def shield_gmr(self) -> float:
        return (self.gmr_strand * self.k * self.radius ** (self.k - 1.0)) ** (1.0 / self.k)

    def own_distance(self) -> float:
        return self.radius

    def distance_to(self, d: np.ndarray) -> np.ndarray:
        if np.any(d <= self.radius):
            raise ValueError("a conductor lies inside a cable's concentric neutral")
        return (d ** self.k - self.radius ** self.k) ** (1.0 / self.k)

    def check(self) -> bool:
        return (self.k >= 1 and self.dia_strand > 0 and self.gmr_strand > 0 and self.r_strand > 0
                and self.dia_cable > self.dia_strand)


@dataclass
class TapeShield(Cable):
    """Tape-shielded cable data (TSData), lengths in metres.

    The engine's model (after Kersting): the tape is a tube of copper of
    thickness ``tape_layer`` at the mean diameter ``dia_shield - tape_layer``,
    its resistance 0.3183 rho / (D_s T sqrt(50 / (100 - lap))) per metre; the
    distance from the shield to its own core is that mean radius (also its
    GMR), to every other conductor the distance between the cable centres.
    """

    dia_shield: float = 0.0
    tape_layer: float = 0.0
    tape_lap: float = 20.0

    def shield_r(self) -> float:
        return 0.3183 * RHO_TS / (self.dia_shield * self.tape_layer * math.sqrt(50.0 / (100.0 - self.tape_lap)))

    def shield_gmr(self) -> float:
        return 0.5 * (self.dia_shield - self.tape_layer)

    def own_distance(self) -> float:
        return self.shield_gmr()

    def distance_to(self, d: np.ndarray) -> np.ndarray:
        return d

    def check(self) -> bool:
        return self.dia_shield > self.tape_layer > 0 and 0 <= self.tape_lap < 100


@dataclass
class Wire:
    rdc: float          # ohm per metre
    rac: float
    gmr: float          # metres
    radius: float
    capradius: float
    normamps: float
    cable: "Concentric | TapeShield | None" = None   # the cable around the core, if any


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
    cable: Concentric | TapeShield | None = None
    rad = UNITS_M[units["radunits"]]
    if obj.cls in ("cndata", "tsdata"):          # cable dimensions are in the radius unit
        insulation = (vals.get("epsr", 2.3), vals.get("inslayer", 0.0) * rad, vals.get("diains", 0.0) * rad,
                      vals.get("diacable", 0.0) * rad)
    if obj.cls == "cndata":
        dia_strand = vals.get("diastrand", 0.0) * rad
        cable = Concentric(*insulation, k=int(vals.get("k", 2)), dia_strand=dia_strand,
                        gmr_strand=vals["gmrstrand"] * UNITS_M[units["gmrunits"]] if "gmrstrand" in vals
                        else 0.7788 * dia_strand / 2,
                        r_strand=vals.get("rstrand", 0.0) * per_m)
    elif obj.cls == "tsdata":
        cable = TapeShield(*insulation, dia_shield=vals.get("diashield", 0.0) * rad,
                        tape_layer=vals.get("tapelayer", 0.0) * rad, tape_lap=vals.get("tapelap", 20.0))
    return Wire(rdc, rac, gmr, radius, cap, vals.get("normamps", 400.0), cable)


@dataclass
class Layout:
    """Conductor positions (metres), wires, phases and whether to Kron-reduce the rest."""

    x: np.ndarray
    h: np.ndarray
    wires: list[Wire]
    nphases: int
    reduce: bool
    units: str


def _positions(obj: DssObject, sink: DiagnosticSink, wires: dict[str, Wire],
               circuit: Circuit | None = None) -> Layout | None:
    """Replay a LineGeometry or LineSpacing: ``cond=k`` selects the conductor ``x``/``h``/``wire`` set.

    As the engine: a geometry's ``spacing=`` copies the spacing's positions and
    unit; ``cncables=``/``tscables=`` name the phase conductors and leave the
    last phase active, so that a following ``wires=`` names the bare neutrals.
    """
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
            if vals == []:                    # `h=` with nothing after it
                sink.error(codes.BAD_NUMBER, f"`{p}=` has no value", v.span,
                           help="give the conductor's horizontal position (x) and height (h), e.g. `x=0 h=28 "
                                "units=ft`; underground conductors have negative heights")
            if not vals:
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
        elif p in ("cncables", "tscables"):
            ws.update(enumerate(t.lower() for t in strings(v)[:nph]))
            active = nph - 1
        elif p == "wires":
            cable = wires.get(ws.get(active, "")) if obj.cls == "linegeometry" else None
            start = nph if cable is not None and cable.cable is not None else 0
            ws.update(enumerate((t.lower() for t in strings(v)), start))
        elif p == "spacing" and circuit is not None and obj.cls == "linegeometry":
            spacing = _spacing_positions(v, nconds, circuit, sink)
            if spacing is not None:
                units, sx, sh = spacing
                xs.update(enumerate(sx))
                hs.update(enumerate(sh))
                unit_of.update((k, units) for k in range(nconds))
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


def _spacing_positions(v, nconds: int, circuit: Circuit, sink: DiagnosticSink
                       ) -> tuple[str, list[float], list[float]] | None:
    """(unit, x, h) of the LineSpacing a geometry's ``spacing=`` names, in the spacing's unit."""
    obj = circuit.find("linespacing", v.text.strip())
    if obj is None:
        sink.error(codes.UNKNOWN_OBJECT, f"linespacing `{v.text}` is not defined", v.span,
                   help="define it with `New LineSpacing.<name>` before the geometry")
        return None
    lay = _positions(obj, sink, {})
    if lay is None:
        return None
    if len(lay.x) != nconds:
        sink.error(codes.BAD_ARRAY_LENGTH, f"linespacing `{obj.display}` has {len(lay.x)} conductors, the "
                   f"geometry {nconds}", v.span, help="give the geometry `nconds=` equal to the spacing's")
        return None
    f = UNITS_M[lay.units]
    return lay.units, list(lay.x / f), list(lay.h / f)


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
        c = wi.cable
        if c is not None and not (c.check() and 0 < c.ins_layer < c.dia_ins / 2):
            what = "concentric-neutral data (k, strands" if isinstance(c, Concentric) else \
                "tape-shield data (shield diameter, tape thickness and lap"
            raise ValueError(f"{what}, insulation, diameters) are incomplete")


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
    cns = [wi.cable for wi in lay.wires[:lay.nphases]]
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
                   cns: list["Concentric | TapeShield | None"], lf: complex, w: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cables: each shield (concentric neutral or tape) is an extra conductor at its core, reduced away.

    The cable classes give the shield's resistance, GMR and distances
    (`Concentric`, `TapeShield`); shields of different cables are the
    distance between the cable centres apart.  Capacitance is the coaxial
    insulation's, core to shield.
    """
    n, nph = z.shape[0], lay.nphases
    if any(c is None for c in cns):
        raise ValueError("a geometry mixing bare phase wires and cables")
    m = n + nph
    big = np.zeros((m, m), dtype=complex)
    big[:n, :n] = z
    for i, c in enumerate(cns):
        assert c is not None
        big[n + i, n + i] = c.shield_r() + lf * math.log(1.0 / c.shield_gmr()) + earth[i, i]
        for j in range(i):
            big[n + i, n + j] = big[n + j, n + i] = lf * np.log(1.0 / dist[i, j]) + earth[i, j]
        others = np.arange(n) != i
        d = np.empty(n)
        d[i] = c.own_distance()
        d[others] = c.distance_to(dist[i, others])
        big[n + i, :n] = big[:n, n + i] = lf * np.log(1.0 / d) + earth[i, :n]
    zr = kron_eliminate(big, nph)
    c_nf = np.diag([c.capacitance() * 1e9 for c in cns])                 # type: ignore[union-attr]
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
    # a spacing's conductors: the phase cables first, then bare wires (neutrals, or all when no cables)
    names = [nm for k in ("cncables", "tscables", "wires") if cls == "linespacing" and k in vals
             for nm in strings(vals[k])]
    key = (cls, obj.name, tuple(nm.lower() for nm in names), vals["rho"].text if "rho" in vals else None)
    if cache is None or key not in cache:
        outcome = _layout_constants(obj, cls, names, vals, sink, freq, wires, circuit)
        if cache is not None:
            cache[key] = outcome
    else:
        outcome = cache[key]
    if outcome is None:                       # the layout itself is bad: reported once, where it is
        return None
    if isinstance(outcome, str):
        sink.warning(codes.GEOMETRY_NOT_COMPUTED, f"line `{line.display}`: {cls} `{obj.display}` {outcome}; "
                     "the line is not imported", span,
                     help="define every conductor (`New WireData.<name>`, CNData or TSData for cables) and "
                          "check the conductor positions and data, or give a `linecode=`")
        return None
    return outcome


def _layout_constants(obj: DssObject, cls: str, names: list[str], vals: dict, sink: DiagnosticSink,
                      freq: float, wires: dict[str, Wire], circuit: Circuit):
    """Line constants of one geometry/spacing: a tuple, None (bad layout, reported) or why not (str)."""
    lay = _positions(obj, sink, wires, circuit)
    if lay is None:
        return None
    if cls == "linespacing":
        lay.wires = [wires.get(nm.lower()) for nm in names[:len(lay.x)]]   # type: ignore[misc]
        lay.reduce = True
    if len(lay.wires) < len(lay.x) or any(w is None for w in lay.wires):
        return "names conductors that are not defined (WireData, CNData or TSData)"
    rho = positive(vals["rho"], sink, "rho") if "rho" in vals else 100.0
    try:
        with np.errstate(all="raise"):       # overflow or 0/0 in odd data: reported, not propagated
            r, x, c = line_constants(lay, freq, rho or 100.0)
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError, OverflowError, FloatingPointError) as exc:
        return f"impedances cannot be computed ({exc})"
    return r, x, c, lay.wires[0].normamps, lay.units


#: the classes of conductor data a geometry or spacing can name
CONDUCTOR_CLASSES = ("wiredata", "cndata", "tsdata")


def wires_of(circuit: Circuit, sink: DiagnosticSink) -> dict[str, Wire]:
    """Bare wires (WireData) and cables (CNData, TSData) by name."""
    return {o.name: read_wire(o, sink) for cls in CONDUCTOR_CLASSES for o in circuit.of(cls)}

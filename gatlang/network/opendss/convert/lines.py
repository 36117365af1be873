"""LineCode and Line objects -> rows of the ``lines`` table (total ohm/siemens matrices).

Why assignments are replayed in order: in OpenDSS ``linecode=`` copies the
code's matrices, a later ``r1=`` switches the line back to sequence data, and
``switch=y`` overwrites impedances that later properties may overwrite again.
The last-value-wins view is not enough, so `PerLength` follows the engine's
state machine for exactly these properties.

Length units follow the engine's bookkeeping of a Line (Line.pas), checked
against ``SystemY()``:

* the impedance is multiplied by ``length / convert``; ``linecode=`` sets
  ``convert`` to one code unit expressed in the line's present unit, ``units=``
  recomputes it from the code's unit when a code is in use and otherwise
  multiplies it by the step from the previous unit to the new one (so without
  a code ``units=km`` alone changes nothing, but ``units=km units=ft`` does);
* sequence data (``r1``..``c0``, ``b1``/``b0``), matrices and ``switch=y``
  drop the code and reset the unit to none and ``convert`` to 1;
* sequence data set on the line (or ``switch=y``) without any capacitance
  (``c1``/``c0``/``b1``/``b0``/``cmatrix``) make the engine read the capacitance
  it holds as per kft and convert it to the line's final unit, and rebuild
  the matrices from the sequence data even if matrices were given later.
"""
from __future__ import annotations

import copy

import math
from dataclasses import dataclass, field, replace

import numpy as np

from gatlang.diagnostics import DiagnosticSink

from .. import codes
from ..script import Circuit, DssObject
from ..values import matrix, number
from .common import Reader, Rows, conductor_nodes, positive, provenance
from .geometry import CONDUCTOR_CLASSES, geometry_impedance, wires_of

#: length unit -> km
UNITS_KM = {"none": None, "mi": 1.609344, "kft": 0.3048, "km": 1.0, "m": 1e-3, "ft": 3.048e-4,
            "in": 2.54e-5, "cm": 1e-5, "mm": 1e-6}
_SEQ = ("r1", "x1", "r0", "x0", "c1", "c0", "b1", "b0")
# engine defaults of a Line without linecode (ohm and nF per unit length)
_LINE_SEQ_DEFAULTS = {"r1": 0.058, "x1": 0.1206, "r0": 0.1784, "x0": 0.4047, "c1": 3.4, "c0": 1.6}
_CODE_SEQ_DEFAULTS = {"r1": 0.058, "x1": 0.1206, "r0": 0.1784, "x0": 0.4047, "c1": 3.4, "c0": 1.6}
_SWITCH = {"r1": 1.0, "x1": 1.0, "r0": 1.0, "x0": 1.0, "c1": 1.1, "c0": 1.0}


def unit_step(frm: str, to: str) -> float:
    """One `frm` expressed in `to` (the engine's ConvertLineUnits: 1 when either is ``none``)."""
    if frm == "none" or to == "none":
        return 1.0
    return UNITS_KM[frm] / UNITS_KM[to]


def new_length_state() -> dict:
    """A Line's length bookkeeping as the engine creates it (1 unit, no unit, no conversion)."""
    return {"length": 1.0, "units": "none", "convert": 1.0, "cap": False, "sym_changed": False}


def _drop_code(state: dict) -> None:
    """What sequence data, matrices and ``switch=y`` do: no code, and no length unit (ResetLengthUnits)."""
    state.pop("linecode", None)
    state.pop("linecode_span", None)
    state["units"], state["convert"] = "none", 1.0


@dataclass
class PerLength:
    """Impedance data per unit length, as the engine holds it while reading properties."""

    nphases: int
    seq: dict[str, float]
    r: np.ndarray | None = None          # explicit matrices override the sequence data
    x: np.ndarray | None = None
    c: np.ndarray | None = None          # nF per unit length
    units: str = "none"
    normamps: float = 400.0
    emergamps: float = 600.0
    from_matrices: bool = field(default=False)
    basefreq: float = 60.0            # frequency the data are given at
    rg: float = 0.01805               # earth-return correction when used at another frequency
    xg: float = 0.155081
    rho: float = 100.0

    def at_frequency(self, r: np.ndarray, x: np.ndarray, freq: float) -> tuple[np.ndarray, np.ndarray]:
        """R and X at `freq` with the engine's earth-return correction (identity at basefreq)."""
        fm = freq / self.basefreq
        if fm == 1.0:
            return r, x
        xgmod = 0.5 * self.xg / math.log(658.5 * math.sqrt(self.rho / self.basefreq)) * math.log(fm) \
            if self.xg else 0.0
        return r + self.rg * (fm - 1.0), (x - xgmod) * fm

    def matrices(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(R, X, C[nF]) per unit length; sequence data expanded as Zs=(2Z1+Z0)/3, Zm=(Z0-Z1)/3
        (one phase: Z1)."""
        n = self.nphases

        def expand(a1: float, a0: float) -> np.ndarray:
            if n == 1:                      # engine: a one-phase line takes the positive sequence
                return np.array([[a1]])
            s, m = (2 * a1 + a0) / 3.0, (a0 - a1) / 3.0
            return np.full((n, n), m) + np.eye(n) * (s - m)

        r = self.r if self.r is not None else expand(self.seq["r1"], self.seq["r0"])
        x = self.x if self.x is not None else expand(self.seq["x1"], self.seq["x0"])
        c = self.c if self.c is not None else expand(self.seq["c1"], self.seq["c0"])
        return r, x, c


def _set_matrix(pl: PerLength, prop: str, value, sink: DiagnosticSink) -> None:
    m = matrix(value, pl.nphases, sink, prop)
    if m is None:
        return
    setattr(pl, {"rmatrix": "r", "xmatrix": "x", "cmatrix": "c"}[prop], m)


def _apply(pl: PerLength, obj: DssObject, sink: DiagnosticSink, freq: float,
           codes_: dict[str, PerLength] | None, state: dict) -> PerLength:
    """Replay `obj`'s assignments that shape its per-length impedance.

    `codes_` is None for a LineCode, whose unit is a plain property; for a Line
    the length bookkeeping in `state` follows the engine (module docstring).
    """
    line = codes_ is not None
    todo = obj.assignments
    for i, a in enumerate(todo):
        pl = _assign(pl, a, sink, codes_, state, line)
        if line and a.inherited and (i + 1 == len(todo) or not todo[i + 1].inherited):
            pl = _after_like(pl, state)
    return pl


def _after_like(pl: PerLength, state: dict) -> PerLength:
    """The end of the assignments `like=` copied: the engine copies the other line's matrices as they
    were last computed (sequence data set since then are not in them yet), its length and whether
    it had a capacitance, but neither its code nor its length unit."""
    if state["sym_changed"]:
        seq, r, x, c = state["stale"]
        pl.r, pl.x, pl.c = PerLength(pl.nphases, seq, r, x, c).matrices()
    state.pop("linecode", None)
    state.pop("linecode_span", None)
    state.update(units="none", convert=1.0, sym_changed=False)
    return pl


def _pending(pl: PerLength, state: dict) -> None:
    """Before sequence data change on a Line: remember the matrices the engine still holds."""
    if not state["sym_changed"]:
        state["stale"] = (dict(pl.seq), pl.r, pl.x, pl.c)
    state["sym_changed"] = True


def _assign(pl: PerLength, a, sink: DiagnosticSink, codes_: dict[str, PerLength] | None, state: dict,
            line: bool) -> PerLength:
    """One assignment of a LineCode (`line` False) or Line; returns the (possibly new) `pl`."""
    p, v = a.prop, a.value
    if p in ("phases", "nphases"):
        k = number(v, sink, p)
        if k is None or k < 1 or k != int(k):
            if k is not None:
                sink.error(codes.BAD_VALUE, f"`{p}` must be a positive whole number, got `{v.text}`",
                           v.span, help="e.g. `phases=3`")
            return pl
        if int(k) != pl.nphases:
            if state.get("linecode_span") is not None and p == "phases" and pl.from_matrices:
                sink.error(codes.INCONSISTENT_PHASES,
                           f"`phases={int(k)}` disagrees with linecode `{state['linecode']}` "
                           f"({pl.nphases} phases)", v.span,
                           help="use a linecode with as many phases as the line, or drop `phases=`")
                return pl
            pl = replace(pl, nphases=int(k), r=None, x=None, c=None, from_matrices=False)
            state["sym_changed"] = False           # the engine recomputes the matrices here
    elif p == "linecode" and codes_ is not None:
        code = codes_.get(v.text.strip().lower())
        if code is None:
            sink.error(codes.UNKNOWN_OBJECT, f"linecode `{v.text}` is not defined", v.span,
                       help="define it with `New LineCode.<name>` before the line (or check the "
                            "Redirect that should define it)")
            return pl
        seq = pl.seq
        pl = copy.copy(code)               # (dataclasses.replace is ten times slower)
        if code.from_matrices:
            pl.seq = dict(seq)             # engine: a matrix code leaves the line's sequence data
        else:
            pl.seq = dict(code.seq)
            state["sym_changed"] = False   # ... a sequence code recomputes the matrices
        if a.inherited:
            # engine: `like=` copies the impedances per unit length, not the code and its units
            pl.units = "none"
            state.pop("linecode", None)
        else:
            state["linecode"], state["linecode_span"] = v.text.strip().lower(), v.span
            state["convert"] = unit_step(code.units, state["units"])
    elif p in _SEQ:
        k = number(v, sink, p)
        if k is None:
            return pl
        if p in ("b1", "b0"):            # microsiemens per length -> nF
            p, k = "c" + p[1], k / (2 * math.pi * pl.basefreq) * 1e3
        if line:
            _pending(pl, state)
            _drop_code(state)
            state["cap"] = state["cap"] or p in ("c1", "c0")
        pl.seq[p] = k
        pl.r = pl.x = pl.c = None
        pl.from_matrices = False
    elif p in ("rmatrix", "xmatrix", "cmatrix"):
        _set_matrix(pl, p, v, sink)
        pl.from_matrices = True
        if line:
            _drop_code(state)
            state["cap"] = state["cap"] or p == "cmatrix"
    elif p == "units":
        u = v.text.strip().lower()
        if u not in UNITS_KM:
            sink.error(codes.UNKNOWN_UNIT, f"`{v.text}` is not a length unit", v.span,
                       help=f"use one of: {', '.join(UNITS_KM)}")
            return pl
        if state.get("linecode"):
            state["convert"] = unit_step(pl.units, u)
        elif line:
            state["convert"] *= unit_step(state["units"], u)
        state["units"] = u
    elif p == "length":
        k = number(v, sink, p)
        if k is not None:
            state["length"] = k
    elif p == "switch" and v.text.strip().lower()[:1] in ("y", "t"):
        if line:
            _pending(pl, state)
            _drop_code(state)
        pl.seq.update(_SWITCH)
        pl.r = pl.x = pl.c = None
        pl.from_matrices = False
        state["length"], state["switch"] = 0.001, True
    elif p in ("normamps", "emergamps", "rg", "xg"):
        k = number(v, sink, p)
        if k is not None:
            setattr(pl, p, k)
    elif p in ("basefreq", "rho"):
        k = positive(v, sink, p)
        if k is not None:
            setattr(pl, p, k)
    return pl


def linecodes(circuit: Circuit, sink: DiagnosticSink, freq: float) -> dict[str, PerLength]:
    out: dict[str, PerLength] = {}
    for obj in circuit.of("linecode"):
        state = new_length_state()
        pl = _apply(PerLength(3, dict(_CODE_SEQ_DEFAULTS), basefreq=obj.base_freq), obj, sink, freq, None,
                    state)
        pl.units = state.get("units", "none")
        out[obj.name] = pl
    return out


def convert_lines(circuit: Circuit, sink: DiagnosticSink, freq: float) -> Rows:
    codes_ = linecodes(circuit, sink, freq)
    rows = Rows()
    objs: list[DssObject] = []
    omega = 2 * math.pi * freq
    wires = wires_of(circuit, sink) if any(circuit.of(c) for c in CONDUCTOR_CLASSES) else {}
    geometry_cache: dict = {}
    for obj in circuit.of("line"):
        r_ = Reader(obj, sink)
        state = new_length_state()
        pl = _apply(PerLength(3, dict(_LINE_SEQ_DEFAULTS), basefreq=obj.base_freq), obj, sink, freq, codes_,
                    state)
        if any(r_.has(g) for g in ("geometry", "spacing", "cncables", "tscables")):
            geo = geometry_impedance(obj, circuit, sink, freq, wires, geometry_cache)
            if geo is None:
                continue
            r, x, c, amps, units = geo
            pl = PerLength(r.shape[0], dict(pl.seq), r, x, c, "m", amps, amps * 1.5, True, basefreq=freq)
            state["linecode"] = None
            state["geometry_units"] = units
            # engine: the geometry's constants are per metre, a length without units is in metres
            state["convert"] = unit_step("m", state["units"] if state["units"] != "none" else "m")
            state["sym_changed"] = False
        rows.add(**_line_row(obj, r_, pl, state, omega))
        objs.append(obj)
    keep = _invertible(rows, objs, sink)
    rows.rows = [r for r, ok in zip(rows.rows, keep) if ok]
    return rows


def _invertible(rows: Rows, objs: list[DssObject], sink: DiagnosticSink) -> np.ndarray:
    """Which lines have a series impedance the network equations can invert.

    Zero length or all-zero impedance data cannot be inverted; checked in one
    batched singular-value computation per matrix size.
    """
    size = np.asarray([len(r["f_conn"]) for r in rows.rows], dtype=int)
    keep = np.ones(len(rows.rows), dtype=bool)
    for n in np.unique(size):
        idx = np.flatnonzero(size == n)
        z = np.asarray([np.asarray(rows.rows[i]["r_ohm"]) + 1j * np.asarray(rows.rows[i]["x_ohm"])
                        for i in idx]).reshape(len(idx), n, n)
        finite = np.isfinite(z).all(axis=(1, 2))
        sv = np.linalg.svd(np.where(finite[:, None, None], z, 0), compute_uv=False)
        ok = finite & (sv[:, -1] > sv[:, 0] * 1e-15) & (sv[:, 0] > 0)
        keep[idx] = ok
        for i in idx[~ok]:
            sink.error(codes.SINGULAR_IMPEDANCE, f"line `{objs[i].display}` has a singular series impedance "
                       "(zero length or zero impedance data)", objs[i].span,
                       help="give the line a length and non-zero r/x; model a closed tie as `switch=y`")
    return keep


def _line_row(obj: DssObject, r_: Reader, pl: PerLength, state: dict, omega: float) -> dict:
    n = pl.nphases
    length, units = state["length"], state["units"]
    code_units = pl.units if state.get("linecode") or "geometry_units" in state else "none"
    if "geometry_units" in state and units == "none":     # engine: a length without units is in metres
        units = "m"
    length_unit = units if units != "none" else code_units
    length_km = length * UNITS_KM[length_unit] if length_unit != "none" else None
    sym_changed = state.get("sym_changed", False)
    if sym_changed:                           # engine: pending sequence data rebuild the matrices
        pl = replace(pl, r=None, x=None, c=None)
    r, x, c = pl.matrices()
    if sym_changed and not state.get("cap", False):
        c = c / unit_step("kft", units)       # engine: capacitance never given is taken per kft
    r, x = pl.at_frequency(r, x, omega / (2 * math.pi))
    scale = length / state.get("convert", 1.0)
    b_half = omega * c * 1e-9 * scale / 2.0
    b1, b2 = r_.bus("bus1"), r_.bus("bus2")
    f_conn = conductor_nodes(b1, n, n)
    t_conn = conductor_nodes(b2, n, n)
    return dict(
        line=obj.name, from_bus=b1.bus if b1 else "", to_bus=b2.bus if b2 else "",
        f_conn=f_conn, t_conn=t_conn, length_km=length_km,
        r_ohm=(r * scale).ravel().tolist(), x_ohm=(x * scale).ravel().tolist(),
        g_from_s=[0.0] * (n * n), b_from_s=b_half.ravel().tolist(),
        g_to_s=[0.0] * (n * n), b_to_s=b_half.ravel().tolist(),
        normamps_a=pl.normamps, emergamps_a=pl.emergamps,
        status=obj.enabled, switch=bool(state.get("switch", False)) or r_.flag("switch"),
        linecode=state.get("linecode"), **provenance(obj),
    )

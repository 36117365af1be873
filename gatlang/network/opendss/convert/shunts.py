"""Capacitor / Reactor / CapControl objects -> ``shunts``, ``lines`` (series elements), ``cap_controls``.

Why `vn_kv` is kept as written: OpenDSS reads a capacitor's ``kv`` as
line-to-line for several phases or delta, and line-to-neutral for a one-phase
wye bank.  The admittance per phase (gatlang.network.ybus3) follows that rule,
so the value is stored unchanged rather than converted with a guess.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gatlang.diagnostics import DiagnosticSink

from .. import codes
from ..script import Circuit
from .common import CONN, Reader, Rows, element_conductors, phases_of, provenance
from ..values import conductor_nodes, number, numbers


def _is_grounded_bus2(r: Reader) -> bool:
    if not r.has("bus2"):                   # engine default: bus1 with every node grounded
        return True
    b2 = r.bus("bus2")
    b1 = r.bus("bus1")
    return b2 is None or (b1 is not None and b2.bus == b1.bus and all(n == 0 for n in b2.nodes))


def _star_point(r: Reader, nph: int) -> int | None:
    """The node a capacitor's second terminal ties together, when it is a shunt; else None (series).

    The engine reads ``bus2`` as a second terminal; when it is bus1 again with
    one node for every phase (``bus2=a.0.0.0`` or ``bus2=a.4.4.4``) the bank is
    a wye shunt to that node, and without ``bus2`` it is grounded.
    """
    if not r.has("bus2"):
        return 0
    b1, b2 = r.bus("bus1"), r.bus("bus2")
    if b1 is None or b2 is None:
        return 0
    nodes = set(conductor_nodes(b2, nph, nph))
    if b2.bus == b1.bus and len(nodes) == 1:
        return nodes.pop()
    return None


@dataclass
class CapacitorSteps:
    """Per-step ratings of a bank as the engine holds them after reading its properties in order."""

    kvar: np.ndarray
    cuf: np.ndarray
    r: np.ndarray
    xl: np.ndarray
    states: np.ndarray
    spec: str                      # "kvar", "cuf" or "cmatrix": whichever was given last


def _fit(values: list[float], n: int, fill: float) -> np.ndarray:
    """`values` over `n` steps: the first `n`, the missing ones `fill`."""
    return np.asarray((list(values) + [fill] * n)[:n], dtype=float)


def capacitor_steps(r: Reader) -> CapacitorSteps:
    """Replay ``numsteps``/``kvar``/``cuf``/``r``/``xl``/``states`` in order (measured on the engine).

    Measured with opendssdirect 0.9.4 (DSS C-API 0.14.5): ``numsteps`` splits
    the bank's present total evenly over the new steps; ``kvar=`` gives every
    step its *first* value (``numsteps=3 kvar=[600 300 150]`` is 3 x 600
    kvar); ``cuf``, ``r``, ``xl`` and ``states`` give the first steps one value
    each and leave the others at 0.
    """
    n = 1
    st = CapacitorSteps(np.array([1200.0]), np.zeros(1), np.zeros(1), np.zeros(1), np.ones(1), "kvar")
    for a in r.obj.assignments:
        if a.prop == "numsteps":
            m = int(number(a.value, r.sink, "numsteps") or 1)
            if m < 1 or m == n:
                continue
            st.kvar, st.cuf = np.full(m, st.kvar.sum() / m), np.full(m, st.cuf.sum() / m)
            st.r, st.xl = _fit(list(st.r), m, 0.0), _fit(list(st.xl), m, 0.0)
            st.states, n = np.ones(m), m
        elif a.prop in ("kvar", "cuf", "r", "xl", "states"):
            vals = numbers(a.value, r.sink, a.prop)
            if not vals:
                continue
            if a.prop == "kvar":
                st.kvar = np.full(n, vals[0])
                if len(set(vals)) > 1 or len(vals) > n:
                    _step_warning(r, a.value, f"`kvar` lists {len(vals)} value(s) for {n} step(s); as the "
                                  f"engine, every step is read as {vals[0]:g} kvar")
            else:
                if len(vals) > n:
                    _step_warning(r, a.value, f"`{a.prop}` lists {len(vals)} value(s) for {n} step(s); "
                                  "the values after the last step are ignored")
                setattr(st, a.prop, _fit(vals, n, 0.0))
            if a.prop in ("kvar", "cuf"):
                st.spec = a.prop
        elif a.prop == "cmatrix":
            st.spec = "cmatrix"
    return st


def _step_warning(r: Reader, value, message: str) -> None:
    r.sink.warning(codes.STEP_ARRAY_LENGTH, f"capacitor `{r.obj.display}`: {message}", value.span,
                   help="set `numsteps=` first; give equal steps as one `kvar=` value, unequal ones with `cuf=`")


def capacitor_phase_y(r: Reader, nph: int, vph_kv: float, freq: float) -> complex:
    """Admittance of one phase of a capacitor bank (siemens, at the network frequency), steps summed.

    Why per step: each step is its own capacitor (``kvar`` or ``cuf``) in
    series with its own ``r`` + ``j xl``; the engine adds the switched-in steps
    in parallel.  Reactances scale with the frequency ratio (the ratings are at
    the element's base frequency).  A ``cmatrix`` bank is reported and read
    from its kvar.
    """
    st = capacitor_steps(r)
    if st.spec == "cmatrix":
        r.sink.warning(codes.PROPERTY_IGNORED, f"capacitor `{r.obj.display}`: a `cmatrix=` bank is not "
                       "represented; it is imported from kvar/kv", r.where("cmatrix"),
                       help="give the bank as `kvar=` and `kv=` (or `cuf=`)")
    fm = r.freq_ratio(freq)
    if st.spec == "cuf":
        b_base = 2.0 * math.pi * freq / fm * st.cuf * 1e-6
    else:
        b_base = st.kvar * 1e3 / nph / (vph_kv * 1e3) ** 2
    z = st.r + 1j * st.xl * fm
    with np.errstate(divide="ignore"):
        zc = np.where(b_base > 0, -1j / np.where(b_base > 0, b_base * fm, 1.0), np.inf)
    y = np.where(st.states > 0, 1.0 / (z + zc), 0.0)
    return complex(np.sum(y))


def _phase_kv(kv: float, connection: str, nph: int) -> float:
    """Volts across one phase of the bank: the engine reads ``kv`` as line-to-line except 1-phase wye."""
    return kv / math.sqrt(3) if connection == "wye" and nph > 1 else kv


def convert_capacitors(circuit: Circuit, sink: DiagnosticSink, freq: float) -> tuple[Rows, Rows]:
    """Capacitor banks -> shunts (g/b at nominal voltage), series capacitors (bus2 a second bus) -> lines.

    Shunt rows keep ``kv`` as written and carry the bank's exact admittance as
    ``g_mw``/``b_mvar`` at that voltage (the steps' ``r``/``xl`` included).  A
    series capacitor is a `lines` row named ``capacitor.<name>`` whose series
    impedance is the steps' parallel impedance on each phase (no charging), as
    the engine's primitive Y: a delta bank is always a shunt (the engine then
    ignores ``bus2``).
    """
    shunts, lines = Rows(), Rows()
    for obj in circuit.of("capacitor"):
        r = Reader(obj, sink)
        nph = int(r.num("phases", 3) or 3)
        connection = r.choice("conn", CONN, "wye")
        kv = r.num("kv", 12.47) or 12.47
        y = capacitor_phase_y(r, nph, _phase_kv(kv, connection, nph), freq)
        ref = r.bus("bus1")
        star = _star_point(r, nph) if connection == "wye" else 0
        if star is not None:
            conn = element_conductors(ref, nph, connection)
            if connection == "wye":
                conn[-1] = star
            s_total = y * nph * (_phase_kv(kv, connection, nph) * 1e3) ** 2 / 1e6
            shunts.add(shunt=obj.name, bus=ref.bus if ref else "", conn=conn, phases=phases_of(conn),
                       connection=connection, vn_kv=kv, g_mw=s_total.real, b_mvar=s_total.imag,
                       status=obj.enabled, **provenance(obj))
            continue
        b2 = r.bus("bus2")
        z = 1.0 / y if y != 0 else None
        zeros = [0.0] * (nph * nph)
        eye = np.eye(nph).ravel()
        lines.add(line=f"capacitor.{obj.name}", from_bus=ref.bus if ref else "", to_bus=b2.bus if b2 else "",
                  f_conn=conductor_nodes(ref, nph, nph), t_conn=conductor_nodes(b2, nph, nph),
                  length_km=None, r_ohm=list(eye * (z.real if z else 0.0)),
                  x_ohm=list(eye * (z.imag if z else 0.0)), g_from_s=zeros, b_from_s=zeros, g_to_s=zeros,
                  b_to_s=zeros, status=obj.enabled and z is not None, switch=False, linecode=None,
                  **provenance(obj))
    return shunts, lines


def convert_reactors(circuit: Circuit, sink: DiagnosticSink, freq: float) -> tuple[Rows, Rows]:
    """Shunt reactors -> shunts (negative b); series reactors (with bus2) -> lines."""
    shunts, lines = Rows(), Rows()
    for obj in circuit.of("reactor"):
        r = Reader(obj, sink)
        nph = int(r.num("phases", 3) or 3)
        connection = r.choice("conn", CONN, "wye")
        kv = r.num("kv", 12.47) or 12.47
        kvar = r.num("kvar", 100.0) or 100.0
        fm = r.freq_ratio(freq)
        ref = r.bus("bus1")
        if _is_grounded_bus2(r):
            conn = element_conductors(ref, nph, connection)
            rows = dict(shunt=obj.name, bus=ref.bus if ref else "", conn=conn, phases=phases_of(conn),
                        connection=connection, vn_kv=kv, g_mw=0.0, b_mvar=-kvar / 1e3 / fm,
                        status=obj.enabled, **provenance(obj))
            shunts.add(**rows)
            continue
        if r.has("x") or r.has("r"):
            rr, xx = r.num("r", 0.0) or 0.0, r.num("x", 0.0) or 0.0
        else:
            rr, xx = 0.0, kv * kv * 1e3 / kvar
        xx *= fm
        b2 = r.bus("bus2")
        diag = [[rr if i == j else 0.0 for j in range(nph)] for i in range(nph)]
        xdiag = [[xx if i == j else 0.0 for j in range(nph)] for i in range(nph)]
        zeros = [0.0] * (nph * nph)
        lines.add(line=f"reactor.{obj.name}", from_bus=ref.bus if ref else "",
                  to_bus=b2.bus if b2 else "", f_conn=conductor_nodes(ref, nph, nph),
                  t_conn=conductor_nodes(b2, nph, nph), length_km=None,
                  r_ohm=sum(diag, []), x_ohm=sum(xdiag, []), g_from_s=zeros, b_from_s=zeros,
                  g_to_s=zeros, b_to_s=zeros, status=obj.enabled, switch=False, linecode=None,
                  **provenance(obj))
    return shunts, lines


def convert_capcontrols(circuit: Circuit, sink: DiagnosticSink) -> Rows:
    rows = Rows()
    for obj in circuit.of("capcontrol"):
        r = Reader(obj, sink)
        cap = r.text("capacitor").lower()
        if circuit.find("capacitor", cap) is None:
            sink.error(codes.UNKNOWN_OBJECT, f"capcontrol `{obj.display}` switches capacitor `{cap}`, which "
                       "is not defined", r.where("capacitor"), help="name an existing capacitor")
            continue
        kind = r.text("type", "current").lower()
        rows.add(cap_control=obj.name, capacitor=cap, type=kind, element=r.text("element").lower(),
                 terminal=int(r.num("terminal", 1) or 1), on_setting=r.num("onsetting", 300.0),
                 off_setting=r.num("offsetting", 200.0), ptratio=r.num("ptratio", 60.0),
                 ctratio=r.num("ctratio", 60.0), delay_s=r.num("delay", 15.0), **provenance(obj))
    return rows

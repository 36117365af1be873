"""Capacitor / Reactor / CapControl objects -> ``shunts``, ``lines`` (series reactors), ``cap_controls``.

Why `vn_kv` is kept as written: OpenDSS reads a capacitor's ``kv`` as
line-to-line for several phases or delta, and line-to-neutral for a one-phase
wye bank.  The admittance per phase (gatlang.network.ybus3) follows that rule,
so the value is stored unchanged rather than converted with a guess.
"""
from __future__ import annotations

from gatlang.diagnostics import DiagnosticSink

from .. import codes
from ..script import Circuit
from .common import CONN, Reader, Rows, check_length, element_conductors, phases_of, provenance
from ..values import conductor_nodes


def _is_grounded_bus2(r: Reader) -> bool:
    if not r.has("bus2"):                   # engine default: bus1 with every node grounded
        return True
    b2 = r.bus("bus2")
    b1 = r.bus("bus1")
    return b2 is None or (b1 is not None and b2.bus == b1.bus and all(n == 0 for n in b2.nodes))


def convert_capacitors(circuit: Circuit, sink: DiagnosticSink, freq: float) -> Rows:
    """Shunt capacitor banks; b at the network frequency `freq` (kvar are rated at the base frequency)."""
    rows = Rows()
    for obj in circuit.of("capacitor"):
        r = Reader(obj, sink)
        nph = int(r.num("phases", 3) or 3)
        connection = r.choice("conn", CONN, "wye")
        kvar = r.nums("kvar") or [1200.0]
        states = r.nums("states") or [1.0] * len(kvar)
        if not check_length(r, "states", states, len(kvar)):
            states = [1.0] * len(kvar)
        for prop in ("cmatrix", "cuf", "r", "xl"):
            if r.has(prop) and (r.nums(prop) or [0.0]) != [0.0] * len(r.nums(prop) or [0.0]):
                sink.warning(codes.PROPERTY_IGNORED, f"capacitor `{obj.display}`: `{prop}=` is not "
                             "represented; the bank is imported from kvar/kv", r.where(prop),
                             help="give the bank as `kvar=` and `kv=`")
        if not _is_grounded_bus2(r):
            sink.warning(codes.NOT_MODELLED, f"capacitor `{obj.display}` is a series capacitor (bus2 is "
                         "not ground); series capacitors are not imported", r.where("bus2"),
                         help="model it as a line with negative reactance")
            continue
        ref = r.bus("bus1")
        conn = element_conductors(ref, nph, connection)
        total = sum(k * s for k, s in zip(kvar, states))
        rows.add(shunt=obj.name, bus=ref.bus if ref else "", conn=conn, phases=phases_of(conn),
                 connection=connection, vn_kv=r.num("kv", 12.47), g_mw=0.0,
                 b_mvar=total / 1e3 * r.freq_ratio(freq),
                 status=obj.enabled, **provenance(obj))
    return rows


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

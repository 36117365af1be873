"""One-terminal elements -> ``loads``, ``generators``, ``pv_systems``, ``storage``, ``sources``.

Why one module: these elements share the bus/phases/connection reading and the
"which of kW/kvar/PF/kVA was written last" rule that decides the reactive power.
"""
from __future__ import annotations

import math

from gatlang.diagnostics import DiagnosticSink

from .. import codes
from ..script import Circuit
from ..values import Value, number
from .common import CONN, Reader, Rows, element_conductors, phases_of, provenance

LOAD_MODELS = {1: "constant_power", 2: "constant_impedance", 5: "constant_current", 8: "zip"}
_POWER_PROPS = ("kw", "kvar", "pf", "kva")


def power(r: Reader, kw: float, pf: float, generator: bool) -> tuple[float, float]:
    """(kW, kvar) as the engine leaves them after reading kW/kvar/PF/kVA in order.

    Measured on the engine (opendssdirect): for a *load* the last of kW, kvar
    and kVA decides how the power is specified (kW+PF, kW+kvar, kVA+PF) and
    ``pf=`` only changes the power factor value -- but at the end of every
    command (``New``, ``Edit``, ``~``, ``BatchEdit``) the engine recomputes the
    load's derived data: a kW+kvar load gets the power factor of its kW/kvar,
    a kVA+PF load the kW of its kVA, so ``kw=1 kvar=0.5`` then ``Edit kw=5``
    is 5 kW at that power factor (2.5 kvar).  For a *generator* the last of
    kW, kvar and PF decides, ``kvar=`` also resets the power factor to the
    current kW/kvar ratio, and kVA does not change the power.
    """
    kvar, spec, kva = 0.0, "pf", 0.0
    command = None
    for a in r.obj.assignments:
        if a.prop not in _POWER_PROPS:
            continue
        if not generator and command is not None and a.command != command:
            kw, pf = _end_of_command(kw, kvar, kva, pf, spec)
        command = a.command
        x = number(a.value, r.sink, a.prop)
        if x is None:
            continue
        if a.prop == "pf":
            if x == 0 or not -1.0 <= x <= 1.0:
                r.sink.error(codes.BAD_VALUE, f"power factor `{a.value.text}` must be in -1..1 and not 0",
                             a.value.span, help="a power factor such as `pf=0.95` (negative: leading)")
                continue
            pf = x
            if generator:
                spec = "pf"
        elif a.prop == "kw":
            kw, spec = x, "pf"
        elif a.prop == "kvar":
            kvar, spec = x, "kvar"
            if generator and (kw or kvar):
                pf = _pf_of(kw, kvar)
        elif not generator:
            kva, spec = x, "kva"
    if spec == "kva":
        kw = kva * abs(pf)
    if spec != "kvar":
        kvar = kw * math.sqrt(1.0 / (pf * pf) - 1.0) * math.copysign(1.0, pf)
    return kw, kvar


def _pf_of(kw: float, kvar: float) -> float:
    """Power factor of kW/kvar, negative when the kvar is (the engine's sign convention)."""
    return math.copysign(abs(kw) / math.hypot(kw, kvar), kvar if kvar else 1.0)


def _end_of_command(kw: float, kvar: float, kva: float, pf: float, spec: str) -> tuple[float, float]:
    """(kW, PF) of a load after the engine recomputes it at the end of a command."""
    if spec == "kvar" and (kw or kvar):
        return kw, _pf_of(kw, kvar)
    if spec == "kva":
        return kva * abs(pf), pf
    return kw, pf


def _terminal(r: Reader, default_phases: int = 3) -> dict:
    """bus, conn (terminal nodes), phases and connection of a one-terminal element."""
    nph = int(r.num("phases", default_phases) or default_phases)
    if nph < 1:
        r.sink.error(codes.BAD_VALUE, f"`phases={nph}` must be at least 1", r.where("phases"),
                     help="e.g. `phases=1`")
        nph = 1
    connection = r.choice("conn", CONN, "wye")
    ref = r.bus("bus1")
    if ref is not None and len([n for n in ref.nodes if n != 0]) > nph + 1:
        r.sink.warning(codes.INCONSISTENT_PHASES, f"bus `{r.text('bus1')}` lists more nodes than the "
                       f"{nph} phase(s) of {r.obj.cls} `{r.obj.display}`; as in OpenDSS the node after "
                       "the phases is its neutral and the rest are ignored", r.where("bus1"),
                       help="make `phases=` match the nodes after the bus name")
    conn = element_conductors(ref, nph, connection)
    return dict(bus=ref.bus if ref else "", conn=conn, phases=phases_of(conn), connection=connection,
                nphases=nph)


def convert_loads(circuit: Circuit, sink: DiagnosticSink) -> Rows:
    rows = Rows()
    for obj in circuit.of("load"):
        r = Reader(obj, sink)
        t = _terminal(r)
        p_kw, q_kvar = power(r, 10.0, 0.88, generator=False)
        model = int(r.num("model", 1) or 1)
        if not 1 <= model <= 8:
            sink.error(codes.BAD_VALUE, f"load model {model} does not exist", r.where("model"),
                       help="OpenDSS load models are 1..8 (1 constant P, 2 constant Z, 5 constant I, 8 ZIP)")
        zipv = r.nums("zipv")
        rows.add(load=obj.name, bus=t["bus"], conn=t["conn"], phases=t["phases"],
                 connection=t["connection"], model=LOAD_MODELS.get(model, "other"), dss_model=model,
                 p_mw=p_kw / 1e3, q_mvar=q_kvar / 1e3, vn_kv=r.num("kv", 12.47), zipv=zipv,
                 vminpu=r.num("vminpu", 0.95), vmaxpu=r.num("vmaxpu", 1.05), status=obj.enabled,
                 **provenance(obj))
    return rows


def convert_generators(circuit: Circuit, sink: DiagnosticSink) -> Rows:
    rows = Rows()
    for obj in circuit.of("generator"):
        r = Reader(obj, sink)
        t = _terminal(r)
        p_kw, q_kvar = power(r, 1000.0, 0.88, generator=True)
        kva = r.num("kva", p_kw * 1.2) or 0.0
        rows.add(gen=obj.name, bus=t["bus"], conn=t["conn"], phases=t["phases"], p_mw=p_kw / 1e3,
                 q_mvar=q_kvar / 1e3, pmin_mw=0.0, pmax_mw=p_kw / 1e3,
                 qmin_mvar=(r.num("minkvar", -q_kvar) or 0.0) / 1e3,
                 qmax_mvar=(r.num("maxkvar", 2 * q_kvar) or 0.0) / 1e3,
                 vg_pu=r.num("vpu", 1.0), mbase_mva=kva / 1e3, status=obj.enabled, **provenance(obj))
    return rows


def convert_pv(circuit: Circuit, sink: DiagnosticSink) -> Rows:
    rows = Rows()
    for obj in circuit.of("pvsystem"):
        r = Reader(obj, sink)
        t = _terminal(r)
        rows.add(pv=obj.name, bus=t["bus"], conn=t["conn"], phases=t["phases"], vn_kv=r.num("kv", 12.47),
                 kva=r.num("kva", 500.0), pmpp_mw=(r.num("pmpp", 500.0) or 0.0) / 1e3,
                 irradiance=r.num("irradiance", 1.0), pf=r.num("pf", 1.0), status=obj.enabled,
                 **provenance(obj))
    return rows


def convert_storage(circuit: Circuit, sink: DiagnosticSink) -> Rows:
    rows = Rows()
    for obj in circuit.of("storage"):
        r = Reader(obj, sink)
        t = _terminal(r)
        rated = r.num("kwhrated", 50.0) or 0.0
        if r.has("kwhstored"):
            soc = 100.0 * (r.num("kwhstored", 0.0) or 0.0) / rated if rated else 0.0
        else:
            soc = r.num("%stored", 100.0)
        rows.add(storage=obj.name, bus=t["bus"], conn=t["conn"], phases=t["phases"],
                 vn_kv=r.num("kv", 12.47), p_rated_mw=(r.num("kwrated", 25.0) or 0.0) / 1e3,
                 energy_mwh=rated / 1e3, soc_pct=soc, eff_charge_pct=r.num("%effcharge", 90.0),
                 eff_discharge_pct=r.num("%effdischarge", 90.0), status=obj.enabled, **provenance(obj))
    return rows


# ------------------------------------------------------------------ Vsource

_Z_GROUPS = {"mvasc3": "mva", "mvasc1": "mva", "isc3": "isc", "isc1": "isc", "r1": "ohm", "x1": "ohm",
             "r0": "ohm", "x0": "ohm", "z1": "zvec", "z0": "zvec", "puz1": "puz", "puz0": "puz"}


def source_impedance(r: Reader) -> tuple[float, float, float, float]:
    """(R1, X1, R0, X0) in ohm, as the engine derives them from whichever data came last."""
    kv = r.num("basekv", 115.0) or 115.0
    spec = "mva"
    for a in r.obj.assignments:
        spec = _Z_GROUPS.get(a.prop, spec)
    x1r1, x0r0 = r.num("x1r1", 4.0) or 4.0, r.num("x0r0", 3.0) or 3.0
    if spec == "ohm":
        return (r.num("r1", 1.65) or 0.0, r.num("x1", 6.6) or 0.0, r.num("r0", 1.9) or 0.0,
                r.num("x0", 5.7) or 0.0)
    if spec == "zvec":
        z1 = r.nums("z1") or [1.65, 6.6]
        z0 = r.nums("z0") or z1
        return z1[0], z1[1] if len(z1) > 1 else 0.0, z0[0], z0[1] if len(z0) > 1 else 0.0
    if spec == "puz":
        zb = kv * kv / (r.num("basemva", 100.0) or 100.0)
        z1 = r.nums("puz1") or [0.0, 0.0]
        z0 = r.nums("puz0") or z1
        return (z1[0] * zb, (z1[1] if len(z1) > 1 else 0.0) * zb, z0[0] * zb,
                (z0[1] if len(z0) > 1 else 0.0) * zb)
    if spec == "isc":
        isc3, isc1 = r.num("isc3", 10000.0) or 1e4, r.num("isc1", 10500.0) or 1.05e4
        mva3 = math.sqrt(3) * kv * isc3 / 1e3
    else:
        mva3 = r.num("mvasc3", 2000.0) or 2000.0
        isc1 = (r.num("mvasc1", 2100.0) or 2100.0) * 1e3 / (math.sqrt(3) * kv)
    x1 = kv * kv / mva3 / math.sqrt(1.0 + 1.0 / (x1r1 * x1r1))
    r1 = x1 / x1r1
    a = 1.0 + x0r0 * x0r0
    b = 4.0 * (r1 + x1 * x0r0)
    c = 4.0 * (r1 * r1 + x1 * x1) - (3.0 * kv * 1e3 / math.sqrt(3) / isc1) ** 2
    r0 = (-b + math.sqrt(max(b * b - 4 * a * c, 0.0))) / (2 * a)
    return r1, x1, r0, r0 * x0r0


def convert_sources(circuit: Circuit, sink: DiagnosticSink, freq: float) -> Rows:
    """Voltage sources; reactances at the network frequency `freq`."""
    rows = Rows()
    for obj in circuit.of("vsource"):
        r = Reader(obj, sink)
        if not r.has("bus1"):                    # the circuit's source sits on `sourcebus`
            r.values["bus1"] = Value("sourcebus", "", obj.span)
        t = _terminal(r)
        r1, x1, r0, x0 = source_impedance(r)
        fm = r.freq_ratio(freq)
        x1, x0 = x1 * fm, x0 * fm
        if not all(map(math.isfinite, (r1, x1, r0, x0))) or (r1 == 0 and x1 == 0) or (r0 == 0 and x0 == 0):
            sink.error(codes.SINGULAR_IMPEDANCE, f"voltage source `{obj.display}` has a zero or undefined "
                       "impedance", obj.span, help="give it a short-circuit level (MVAsc3/MVAsc1) or "
                       "non-zero R1/X1 and R0/X0")
            continue
        rows.add(source=obj.name, bus=t["bus"], conn=t["conn"][: t["nphases"]], phases=t["phases"],
                 vn_kv=r.num("basekv", 115.0), pu=r.num("pu", 1.0), angle_deg=r.num("angle", 0.0),
                 r1_ohm=r1, x1_ohm=x1, r0_ohm=r0, x0_ohm=x0, **provenance(obj))
    return rows


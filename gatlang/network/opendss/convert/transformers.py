"""Transformer / XfmrCode / RegControl objects -> ``transformers`` and ``regulators`` rows.

Why a replay of assignments: ``wdg=2`` makes the following ``bus=``/``kv=``/
``%r=`` apply to winding 2, ``windings=3`` re-dimensions the winding arrays,
``%loadloss`` overwrites the two first windings' ``%r``, and ``xfmrcode=``
copies a code's settings at that point.  `Windings` follows the engine's
order of evaluation for those properties.

AutoTrans objects share the replay; a two-winding autotransformer (series
winding H-X, common winding X-neutral, neutral grounded) becomes the
equivalent two-winding wye-wye transformer row (see `autotrans_equivalent`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gatlang.diagnostics import DiagnosticSink

from .. import codes
from ..script import Circuit, DssObject
from ..values import BusRef, Value, bus_ref, number, numbers, strings
from .common import Reader, Rows, conductor_nodes, connection_kind, provenance

_PER_WINDING = {"bus": "bus", "conn": "conn", "kv": "kv", "kva": "kva", "tap": "tap", "%r": "r_pct"}
_ARRAYS = {"buses": "bus", "conns": "conn", "kvs": "kv", "kvas": "kva", "taps": "tap", "%rs": "r_pct"}
_X = {"xhl": "xhl", "x12": "xhl", "xht": "xht", "x13": "xht", "xlt": "xlt", "x23": "xlt",
      "xhx": "xhl", "xxt": "xlt"}                       # (the last two: AutoTrans names)


@dataclass
class Winding:
    bus: BusRef | None = None
    conn: str = "wye"
    kv: float = 12.47
    kva: float = 1000.0
    tap: float = 1.0
    r_pct: float = 0.2


@dataclass
class XfState:
    """The engine's view of a transformer while its properties are read."""

    phases: int = 3
    windings: list[Winding] = field(default_factory=lambda: [Winding(), Winding()])
    active: int = 0
    x: dict[str, float] = field(default_factory=lambda: {"xhl": 7.0, "xht": 35.0, "xlt": 30.0})
    scalars: dict[str, float] = field(default_factory=lambda: {
        "%noloadloss": 0.0, "%imag": 0.0, "ppm_antifloat": 1.0, "maxtap": 1.1, "mintap": 0.9,
        "numtaps": 32.0})
    normhkva: float | None = None
    code: str | None = None
    auto: bool = False          # an AutoTrans: winding connections may be `series`


def autotrans_state() -> XfState:
    """An AutoTrans as the engine creates it: series winding 115 kV, common winding 12.47 kV, XHX 10 %."""
    return XfState(windings=[Winding(conn="series", kv=115.0), Winding(kv=12.47)],
                   x={"xhl": 10.0, "xht": 35.0, "xlt": 30.0}, auto=True)


def _set_winding(w: Winding, attr: str, v: Value, sink: DiagnosticSink, auto: bool = False) -> None:
    if attr == "bus":
        ref = bus_ref(v, sink)
        if ref is not None:
            w.bus = ref
    elif attr == "conn":
        kind = "series" if auto and v.text.strip().lower()[:1] == "s" else connection_kind(v.text)
        if kind is None:
            sink.error(codes.BAD_VALUE, f"`{v.text}` is not a winding connection", v.span,
                       help="use `wye` (`y`, `ln`) or `delta` (`d`, `ll`)")
            return
        w.conn = kind
    else:
        x = number(v, sink, attr)
        if x is not None:
            setattr(w, attr, x)


def _replay(st: XfState, obj: DssObject, sink: DiagnosticSink, xcodes: dict[str, DssObject]) -> None:
    for a in obj.assignments:
        p, v = a.prop, a.value
        if p in ("phases", "windings"):
            k = number(v, sink, p)
            if k is None or k < 1 or k != int(k) or (p == "windings" and k < 2):
                if k is not None:
                    sink.error(codes.BAD_WINDING, f"`{p}={v.text}` is not a valid count", v.span,
                               help="a transformer has 1 to 3 phases and at least 2 windings")
                continue
            if p == "phases":
                st.phases = int(k)
            else:
                st.windings = [Winding() for _ in range(int(k))]
                if st.auto:            # engine: an AutoTrans's first winding is the series one
                    st.windings[0] = Winding(conn="series", kv=115.0)
                st.active = 0
                if k >= 3:   # engine: re-dimensioning fills X13, X23 with 30 % (its getter says 35)
                    st.x["xht"] = st.x["xlt"] = 30.0
        elif p == "wdg":
            k = number(v, sink, p)
            if k is None or not 1 <= k <= len(st.windings):
                if k is not None:
                    sink.error(codes.BAD_WINDING, f"winding {v.text} does not exist: the transformer has "
                               f"{len(st.windings)} windings", v.span,
                               help="set `windings=` before `wdg=`")
                continue
            st.active = int(k) - 1
        elif p in _PER_WINDING:
            _set_winding(st.windings[st.active], _PER_WINDING[p], v, sink, st.auto)
        elif p in _ARRAYS:
            items = [t for t in strings(v)] if p in ("buses", "conns") else None
            if items is None:
                vals = numbers(v, sink, p)
                if vals is None:
                    continue
                items_v = [v.with_text(repr(x)) for x in vals]
            else:
                items_v = [v.with_text(t) for t in items]
            if len(items_v) > len(st.windings):
                sink.error(codes.BAD_ARRAY_LENGTH, f"`{p}` has {len(items_v)} values for "
                           f"{len(st.windings)} windings", v.span, help="set `windings=` first")
                continue
            for w, item in zip(st.windings, items_v):
                _set_winding(w, _ARRAYS[p], item, sink, st.auto)
            st.active = len(st.windings) - 1      # engine: an array leaves the last winding active
        elif p in _X:
            x = number(v, sink, p)
            if x is not None:
                st.x[_X[p]] = x
        elif p == "xscarray":
            vals = numbers(v, sink, p)
            if vals:
                for key, x in zip(("xhl", "xht", "xlt"), vals):
                    st.x[key] = x
        elif p == "%loadloss":
            x = number(v, sink, p)
            if x is not None:
                st.windings[0].r_pct = st.windings[1].r_pct = x / 2.0
        elif p in st.scalars:
            x = number(v, sink, p)
            if x is not None:
                st.scalars[p] = x
        elif p == "normhkva":
            st.normhkva = number(v, sink, p)
        elif p == "xfmrcode":
            code = xcodes.get(v.text.strip().lower())
            if code is None:
                sink.error(codes.UNKNOWN_OBJECT, f"xfmrcode `{v.text}` is not defined", v.span,
                           help="define it with `New XfmrCode.<name>` before the transformer")
                continue
            st.code = code.name
            _replay(st, code, sink, xcodes)


def _add_row(rows: Rows, name: str, obj: DssObject, st: XfState, sink: DiagnosticSink, freq: float) -> None:
    """One ``transformers`` row from the replayed state (nothing, with an error, if it is singular)."""
    nw = len(st.windings)
    if nw > 3:
        sink.warning(codes.BAD_WINDING, f"transformer `{obj.display}` has {nw} windings; only the "
                     "reactances of the first three pairs are kept", obj.span,
                     help="split it into 2- and 3-winding transformers")
    for i, w in enumerate(st.windings):       # engine default: `<name>_<winding>`
        if w.bus is None:
            w.bus = BusRef(f"{obj.name}_{i + 1}", ())
    xs = [st.x["xhl"], st.x["xht"], st.x["xlt"]][: nw * (nw - 1) // 2]
    pairs = [(0, 1), (0, 2), (1, 2)][: len(xs)]
    if any(x == 0 and st.windings[i].r_pct + st.windings[j].r_pct == 0 for x, (i, j) in zip(xs, pairs)) \
            or any(w.kva <= 0 or w.kv <= 0 or w.tap <= 0 for w in st.windings):
        sink.error(codes.SINGULAR_IMPEDANCE, f"transformer `{obj.display}` has a zero short-circuit "
                   "impedance or a non-positive kV, kVA or tap", obj.span,
                   help="give every winding pair a reactance (XHL, XHT, XLT) or resistance, and "
                        "positive ratings")
        return
    kva1 = st.windings[0].kva
    fm = Reader(obj, sink).freq_ratio(freq)
    lead = obj.last().get("leadlag")
    leading = lead is not None and lead.text.strip().lower()[:1] in ("l", "e") and \
        lead.text.strip().lower()[:3] != "lag"          # `lead` or `euro`; `lag`/`ansi` default
    mixed = len({w.conn for w in st.windings}) > 1 and st.phases == 3
    shift = (-30.0 if leading else 30.0) if mixed else 0.0
    rows.add(
        transformer=name, phases=st.phases, windings=nw,
        buses=[w.bus.bus for w in st.windings],            # type: ignore[union-attr]
        conns=[conductor_nodes(w.bus, st.phases + 1, st.phases) for w in st.windings],
        connections=[w.conn for w in st.windings],
        kv=[w.kv for w in st.windings], kva=[w.kva for w in st.windings],
        taps_pu=[w.tap for w in st.windings], r_pct=[w.r_pct for w in st.windings],
        xhl_pct=st.x["xhl"] * fm, xht_pct=st.x["xht"] * fm if nw > 2 else None,
        xlt_pct=st.x["xlt"] * fm if nw > 2 else None,
        noloadloss_pct=st.scalars["%noloadloss"], imag_pct=st.scalars["%imag"],
        ppm_antifloat=st.scalars["ppm_antifloat"], shift_deg=shift,
        tap_min_pu=st.scalars["mintap"], tap_max_pu=st.scalars["maxtap"],
        num_taps=int(st.scalars["numtaps"]),
        rate_a_mva=(st.normhkva if st.normhkva is not None else 1.1 * kva1) / 1000.0,
        status=obj.enabled, **provenance(obj),
    )


def convert_transformers(circuit: Circuit, sink: DiagnosticSink, freq: float) -> tuple[Rows, Rows]:
    """Transformers and autotransformers (reactances at the network frequency `freq`) and the
    regulator controls of the transformers."""
    xcodes = {o.name: o for o in circuit.of("xfmrcode")}
    rows, regs = Rows(), Rows()
    states: dict[str, XfState] = {}
    for obj in circuit.of("transformer"):
        st = XfState()
        _replay(st, obj, sink, xcodes)
        states[obj.name] = st
        _add_row(rows, obj.name, obj, st, sink, freq)
    for obj in circuit.of("autotrans"):
        st = autotrans_state()
        _replay(st, obj, sink, xcodes)
        if autotrans_equivalent(st, obj, sink):
            name = obj.name if obj.name not in states else f"autotrans.{obj.name}"
            _add_row(rows, name, obj, st, sink, freq)
    for obj in circuit.of("regcontrol"):
        r = Reader(obj, sink)
        target = r.text("transformer").lower()
        st = states.get(target)
        if st is None:
            sink.error(codes.UNKNOWN_OBJECT, f"regcontrol `{obj.display}` controls transformer "
                       f"`{target}`, which is not defined", r.where("transformer"),
                       help="name an existing transformer in `transformer=`")
            continue
        winding = int(r.num("winding", 1) or 1)
        if not 1 <= winding <= len(st.windings):
            sink.error(codes.BAD_WINDING, f"regcontrol `{obj.display}`: transformer `{target}` has no "
                       f"winding {winding}", r.where("winding"), help="use a winding of the transformer")
            continue
        regs.add(regulator=obj.name, transformer=target, winding=winding,
                 vreg_v=r.num("vreg", 120.0), band_v=r.num("band", 3.0), ptratio=r.num("ptratio", 60.0),
                 ctprim_a=r.num("ctprim", 300.0), r_v=r.num("r", 0.0), x_v=r.num("x", 0.0),
                 delay_s=r.num("delay", 15.0), tap_pu=st.windings[winding - 1].tap,
                 enabled=obj.enabled, **provenance(obj))
    return rows, regs


def autotrans_equivalent(st: XfState, obj: DssObject, sink: DiagnosticSink) -> bool:
    """Turn a replayed AutoTrans into its equivalent two-winding wye-wye transformer, in place.

    Why it is exact: the engine builds an autotransformer from a series winding
    (H to X, rated V_S = V_H - V_X) and a common winding (X to neutral, V_X)
    with the short-circuit reactance corrected to the series winding's base
    (Dommel).  Per phase, its primitive admittance is y g g^T with
    g = [1/(V_S t_1), -1/(V_S t_1) - 1/(V_X t_2), 1/(V_X t_2)] on (H, X, N):
    the same rank-one form as a two-winding transformer H-N, X-N whose H tap is
    t_1' = (V_S t_1 + V_X t_2) / V_H and whose impedances are scaled by
    (t_1 / t_1')^2 (1 with untapped windings).  Checked against the engine's
    ``SystemY`` with taps, resistances, magnetising and one or three phases.
    What the canonical model cannot hold is reported and left out: a third
    (tertiary) winding, other connections than series + wye, a neutral of the
    X side that is not ground, or a series rating that is not positive.  The
    engine's 1 ppm anti-float shunts stay at the equivalent's windings (about
    5e-8 of the admittance away from the engine's placement).
    """
    why = None
    nw = len(st.windings)
    if nw != 2:
        why = f"it has {nw} windings (a tertiary winding has no exact two-winding equivalent)"
    elif [w.conn for w in st.windings] != ["series", "wye"]:
        why = "its windings are not connected series + wye"
    elif st.windings[0].kv <= st.windings[1].kv:
        why = "its H voltage is not above its X voltage (no series winding)"
    else:
        bus2 = st.windings[1].bus
        if bus2 is not None and conductor_nodes(bus2, st.phases + 1, st.phases)[-1] != 0:
            why = "the neutral of its common winding is not ground"
    if why is not None:
        sink.warning(codes.NOT_MODELLED, f"autotrans `{obj.display}` is not imported: {why}", obj.span,
                     help="model it as a Transformer, or use two windings (series + wye) with the X "
                          "neutral grounded")
        return False
    h, x = st.windings
    vs = h.kv - x.kv
    tap = (vs * h.tap + x.kv * x.tap) / h.kv
    scale = (h.tap / tap) ** 2
    h.conn, h.tap = "wye", tap
    if h.bus is not None:       # its neutral is the common winding's (ground); further H nodes are unused
        h.bus = BusRef(h.bus.bus, tuple(h.bus.nodes[:st.phases]))
    h.r_pct *= scale
    x.r_pct *= scale
    st.x["xhl"] *= scale
    return True

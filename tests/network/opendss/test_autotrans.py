"""AutoTrans imported as its equivalent two-winding transformer, checked against the engine's ``SystemY()``.

Oracle: OpenDSS (opendssdirect) compiling the same circuit.  The cases cover
one and three phases, resistances, taps on either winding (the equivalent's
H tap and impedance change), magnetising and the anti-float default, nodes
given on the H bus, and winding data given per winding.  What the canonical
model cannot hold (a tertiary winding, an X neutral that is not ground) is a
located warning.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.opendss import codes
from gatlang.network.opendss.importer import load_opendss

from .engine import assert_y_matches

_HEAD = "clear\nnew circuit.t basekv=230 bus1=b\n"
_BASE = "phases=3 buses=[b x] kVs=[230 115] kVAs=[100000 100000] XHX=10"
CASES = {
    "defaults_ppm": _BASE,
    "resistances": _BASE + " %Rs=[0.2 0.3] ppm=0",
    "taps_both": _BASE + " %Rs=[0.2 0.3] taps=[1.02 0.98]",
    "tap_common": _BASE + " taps=[1 1.05] ppm=0",
    "magnetising": _BASE + " %imag=1 %noloadloss=0.5 taps=[1.02 0.98] ppm=0",
    "ratio_138_69": "phases=3 buses=[b x] kVs=[230 69] kVAs=[50000 50000] XHX=8 %loadloss=0.4",
    "one_phase": "phases=1 buses=[b.2 x.2] kVs=[132.8 66.4] kVAs=[30000 30000] XHX=9 tap=1.0125",
    "h_nodes_named": "phases=3 buses=[b.1.2.3 x] kVs=[230 115] kVAs=[100000 100000] XHX=10 ppm=0",
    "per_winding": "phases=3 windings=2 wdg=1 bus=b kv=230 kva=100000 %r=0.1 wdg=2 bus=x kv=115 kva=100000 "
                   "%r=0.2 tap=0.975 XHX=12",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_autotrans_matches_engine(case: str, tmp_path: Path) -> None:
    f = tmp_path / "a.dss"
    f.write_text(_HEAD + f"new autotrans.a {CASES[case]}\n")
    assert_y_matches(f, rtol=1e-6)


@pytest.mark.parametrize("props, why", [
    ("phases=3 windings=3 buses=[b x y] conns=[series wye delta] kVs=[230 115 13.8] "
     "kVAs=[100000 100000 30000] XHX=10 XHT=30 XXT=20", "3 windings"),
    ("phases=3 buses=[b x.1.2.3.4] kVs=[230 115] kVAs=[100000 100000] XHX=10", "neutral"),
])
def test_autotrans_not_representable_is_located(props: str, why: str, tmp_path: Path) -> None:
    f = tmp_path / "a.dss"
    f.write_text(_HEAD + f"new autotrans.a {props}\nnew line.l bus1=b bus2=x length=1\n")
    sink = DiagnosticSink()
    net = load_opendss(f, sink)
    assert net is not None and net.table("transformers").num_rows == 0
    (d,) = [d for d in sink if d.code == codes.NOT_MODELLED]
    assert why in d.message and (d.span.line, d.span.column) == (3, 5) and d.help

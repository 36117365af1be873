"""Capacitor banks -- shunt and series -- give the engine's admittance matrix.

Oracle: OpenDSS ``Circuit.SystemY()`` of a small circuit holding one bank
(loads disabled, as for the feeders).  The cases cover what the importer used
to skip with a warning: series banks (``bus2`` another bus), steps with
``states``, ``cuf=`` capacitance, a series ``r``/``xl`` per step, a bank rated
at another base frequency, a wye bank whose star point is a neutral
(``bus2=a.4.4.4``), and a delta bank with ``bus2`` (the engine keeps it a shunt).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.opendss.importer import load_opendss

from .engine import assert_y_matches

_HEAD = ("clear\nnew circuit.t basekv=12.47 bus1=src\n"
         "new line.l1 bus1=src bus2=a r1=0.1 x1=0.3 r0=0.3 x0=0.9 c1=10 c0=5 length=1\n"
         "new line.l2 bus1=b bus2=c r1=0.2 x1=0.5 r0=0.6 x0=1.5 c1=10 c0=5 length=2\n"
         "new load.far bus1=c kw=500 kvar=100\n")
CASES = {
    "series_3ph": "bus1=a bus2=b kvar=1200 kv=12.47",
    "series_1ph": "phases=1 bus1=a.2 bus2=b.2 kvar=100 kv=7.2",
    "series_1ph_other_node": "phases=1 bus1=a.2 bus2=b.3 kvar=100 kv=7.2",
    "series_steps_states": "bus1=a bus2=b numsteps=3 kvar=[600 300 300] states=[1 0 1] kv=12.47",
    "series_steps_without_numsteps": "bus1=a bus2=b kvar=[600 300 300] states=[1 0 1] kv=12.47",
    "shunt_numsteps_splits_kvar": "bus1=b kvar=900 numsteps=3 kv=12.47",
    "shunt_one_kvar_every_step": "bus1=b numsteps=3 kvar=600 kv=12.47",
    "shunt_short_states": "bus1=b numsteps=3 states=[0 1] kvar=[300 300 300] kv=12.47",
    "shunt_short_xl": "bus1=b numsteps=2 cuf=[10 10] xl=[1] kv=12.47",
    "shunt_unequal_kvar_steps": "bus1=b numsteps=3 kvar=[600 300 150] states=[0 1 1] kv=12.47",
    "shunt_unequal_cuf_steps": "bus1=b numsteps=3 cuf=[10 20] states=[0 1 1]",
    "series_kvar_then_numsteps": "bus1=a bus2=b kvar=[600 300 300] numsteps=3 states=[1 1 0] kv=12.47",
    "series_cuf": "bus1=a bus2=b cuf=[40 40 40]",
    "series_r_xl": "bus1=a bus2=b kvar=1200 kv=12.47 r=0.5 xl=2",
    "series_50hz_rating": "bus1=a bus2=b kvar=1200 kv=12.47 basefreq=50",
    "shunt_wye": "bus1=b kvar=600 kv=12.47",
    "shunt_1ph_steps_r_xl": "phases=1 bus1=b.3 kvar=[50 50] states=[1 1] r=[1 2] xl=[3 4] kv=7.2",
    "shunt_cuf_after_kvar": "bus1=b kvar=600 kv=12.47 cuf=5",
    "shunt_kvar_after_cuf": "bus1=b cuf=5 kv=12.47 kvar=600",
    "shunt_star_on_neutral": "bus1=b bus2=b.4.4.4 kvar=600 kv=12.47",
    "shunt_star_grounded": "bus1=b bus2=b.0.0.0 kvar=600 kv=12.47",
    "delta_with_bus2": "bus1=b bus2=c kvar=600 kv=12.47 conn=delta",
}
#: a second line keeps bus b fed when the bank under test is a shunt
_FEED_B = "new line.l3 bus1=a bus2=b r1=0.3 x1=0.6 r0=0.9 x0=1.8 length=1\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_capacitor_system_y_matches_engine(case: str, tmp_path: Path) -> None:
    f = tmp_path / "cap.dss"
    feed = "" if case.startswith("series") else _FEED_B
    f.write_text(_HEAD + feed + f"new capacitor.cap {CASES[case]}\nset voltagebases=[12.47]\ncalcv\n")
    assert_y_matches(f)


def test_series_capacitor_is_a_line(tmp_path: Path) -> None:
    f = tmp_path / "cap.dss"
    f.write_text(_HEAD + f"new capacitor.cap {CASES['series_3ph']}\n")
    sink = DiagnosticSink()
    net = load_opendss(f, sink)
    assert not sink.items, [d.render() for d in sink]
    row = {r["line"]: r for r in net.table("lines").to_pylist()}["capacitor.cap"]
    assert (row["from_bus"], row["to_bus"], row["f_conn"], row["t_conn"]) == ("a", "b", [1, 2, 3], [1, 2, 3])
    # 1200 kvar at 12.47 kV: X = -12.47^2 / 1.2 ohm on each phase
    assert row["x_ohm"][0] == pytest.approx(-12.47 ** 2 / 1.2, rel=1e-12) and row["r_ohm"][0] == 0.0
    assert "shunts" not in net.tables or net.table("shunts").num_rows == 0


def test_kvar_list_longer_than_the_steps_is_located(tmp_path: Path) -> None:
    """The engine keeps only ``numsteps`` values (default 1): a warning says what was read."""
    f = tmp_path / "cap.dss"
    f.write_text(_HEAD + _FEED_B + "new capacitor.cap bus1=b kvar=[600 300 300] kv=12.47\n")
    sink = DiagnosticSink()
    net = load_opendss(f, sink)
    (w,) = sink.items
    assert w.code == "GAT0566" and (w.span.line, w.span.column) == (7, 31) and "600" in w.message
    assert net.table("shunts").column("b_mvar").to_pylist() == [pytest.approx(0.6, rel=1e-12)]

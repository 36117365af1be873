"""``BatchEdit`` is executed as the engine executes it.

Oracle: the engine's kW/kvar of every load and the system Y after compiling
the same script.  The patterns exercise what was measured on the engine: a
regular expression searched anywhere in the name (``l1`` also edits ``l10``
and ``xl1``), case-insensitive, anchors honoured, only objects defined
before the command, and the same property order rules as ``Edit``.
"""
from __future__ import annotations

from pathlib import Path

import opendssdirect as dss
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.opendss.importer import load_opendss

from .engine import assert_y_matches, fresh

SCRIPT = """clear
new circuit.t basekv=12.47 bus1=src
new line.l1 bus1=src bus2=a r1=0.1 x1=0.3 r0=0.3 x0=0.9 c1=10 c0=5 length=1
new line.feeder2 bus1=a bus2=b r1=0.1 x1=0.3 r0=0.3 x0=0.9 c1=10 c0=5 length=1
new load.l1 bus1=a kw=1 kvar=0.5
new load.l10 bus1=a kw=2 kvar=0.5
new load.xl1 bus1=b kw=3 kvar=0.5
new load.AB bus1=b kw=4 kvar=0.5
new capacitor.c1 bus1=b kvar=300 kv=12.47
batchedit load.L1 kw=5
batchedit load.^ab$ kvar=2
batchedit Line..* length=2
batchedit capacitor.c kvar=600
new load.late bus1=b kw=7 kvar=1
batchedit load.^x pf=0.9
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    f = tmp_path / "batch.dss"
    f.write_text(SCRIPT)
    return f


def test_batchedit_loads_match_engine(script: Path) -> None:
    fresh()
    dss.Text.Command(f'compile "{script}"')
    engine = {}
    ok = dss.Loads.First()
    while ok:
        engine[dss.Loads.Name()] = (dss.Loads.kW(), dss.Loads.kvar())
        ok = dss.Loads.Next()
    sink = DiagnosticSink()
    net = load_opendss(script, sink)
    assert not sink.items, [d.render() for d in sink]
    loads = net.table("loads")
    ours = {n: (p * 1e3, q * 1e3) for n, p, q in zip(loads.column("load").to_pylist(),
                                                     loads.column("p_mw").to_pylist(),
                                                     loads.column("q_mvar").to_pylist())}
    assert ours.keys() == engine.keys()
    for name, (p, q) in engine.items():
        assert ours[name] == (pytest.approx(p, rel=1e-12), pytest.approx(q, rel=1e-12)), name
    assert engine["l10"][0] == 5.0 and engine["ab"][0] == 4.0          # the patterns did what they say


def test_batchedit_lines_and_capacitors_give_engine_y(script: Path) -> None:
    assert_y_matches(script)


#: load power data spread over several commands (the engine recomputes a load after each command)
EDITS = [("kw=1 kvar=0.5", "~ kw=5"), ("kw=1 kvar=-0.5", "edit load.x kw=5"), ("kva=10 pf=0.8", "~ kvar=5"),
         ("kva=10 pf=0.8", "~ pf=0.5"), ("kw=1 pf=0.9", "~ kvar=3\n~ kw=5"), ("kvar=0.5 kw=1", "~ kw=5"),
         ("kw=1 kvar=0.5 kw=5", ""), ("kw=1 kvar=0.5 pf=0.8", "load.x.kw=2"),
         ("kw=1 kvar=0.5", "batchedit load.x kw=5")]


@pytest.mark.parametrize("first,then", EDITS)
def test_load_power_over_several_commands_matches_engine(first: str, then: str, tmp_path: Path) -> None:
    f = tmp_path / "edits.dss"
    f.write_text(f"clear\nnew circuit.t basekv=12.47 bus1=src\nnew load.x bus1=src {first}\n{then}\n")
    fresh()
    dss.Text.Command(f'compile "{f}"')
    dss.Loads.Name("x")
    net = load_opendss(f, DiagnosticSink())
    row = net.table("loads").to_pylist()[0]
    assert row["p_mw"] * 1e3 == pytest.approx(dss.Loads.kW(), rel=1e-12)
    assert row["q_mvar"] * 1e3 == pytest.approx(dss.Loads.kvar(), rel=1e-12)

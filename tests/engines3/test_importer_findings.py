"""Importer behaviour the unbalanced power flow depends on, checked against the engine.

The conductors of one-terminal elements are compared with the engine's
``CktElement.NodeOrder``: a one-phase delta element given one node
(``bus1=a.2``, six loads on IEEE 34) has its second conductor on ground, as the
engine's default node list is 1..phases and then 0.
"""
from __future__ import annotations

import opendssdirect as dss
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.opendss.importer import load_opendss

from .dss_oracle import solve_engine

TEXT = """clear
new circuit.t basekv=24.9 bus1=src
new line.l1 bus1=src bus2=a r1=0.1 x1=0.3 r0=0.3 x0=0.9 length=1
new load.d1 bus1=a.2 phases=1 conn=delta kv=24.9 kw=10 kvar=5 model=2
set voltagebases=[24.9]
calcv
"""


def test_importer_one_node_delta_load(tmp_path):
    path = tmp_path / "one_node_delta.dss"
    path.write_text(TEXT)
    engine = solve_engine(path)
    net = load_opendss(path, DiagnosticSink())
    assert net.table("loads").column("conn").to_pylist()[0] == engine.load_nodes["d1"] == [2, 0]


#: (class, bus1 and connection) of one-terminal elements whose conductors the engine defaults
ELEMENTS = [("load", "phases=1 conn=delta bus1=a"), ("load", "phases=1 conn=delta bus1=a.3.1"),
            ("load", "phases=1 conn=delta bus1=a.3"), ("load", "phases=1 conn=wye bus1=a.2"),
            ("load", "phases=3 conn=delta bus1=a"), ("load", "phases=3 conn=wye bus1=a.1.2.3.4"),
            ("generator", "phases=1 conn=delta bus1=a.2"), ("pvsystem", "phases=1 conn=delta bus1=a.2"),
            ("storage", "phases=1 conn=delta bus1=a.3"), ("capacitor", "phases=1 conn=delta bus1=a.2"),
            ("reactor", "phases=1 conn=delta bus1=a.2")]
_TABLE = {"load": "loads", "generator": "generators", "pvsystem": "pv_systems", "storage": "storage",
          "capacitor": "shunts", "reactor": "shunts"}


@pytest.mark.parametrize("cls,props", ELEMENTS)
def test_one_terminal_conductors_match_engine(tmp_path, cls, props):
    path = tmp_path / "element.dss"
    path.write_text(TEXT.replace("new load.d1 bus1=a.2 phases=1 conn=delta kv=24.9 kw=10 kvar=5 model=2",
                                 f"new {cls}.x {props} kv=24.9"))
    dss.Text.Command("clear")
    dss.Text.Command(f'redirect "{path}"')
    dss.Circuit.SetActiveElement(f"{cls}.x")
    expected = list(dss.CktElement.NodeOrder())
    net = load_opendss(path, DiagnosticSink())
    assert net.table(_TABLE[cls]).column("conn").to_pylist()[0] == expected

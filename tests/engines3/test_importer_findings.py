"""Importer behaviour the unbalanced power flow depends on, checked against the engine.

A known importer bug is recorded here as a strict xfail (it fails today and
will flag when fixed); the power-flow tests work around it in
``dss_oracle.import_feeder`` by taking the load conductors from the engine.
"""
from __future__ import annotations

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


@pytest.mark.xfail(strict=True, reason="importer: a one-phase delta load given one node (bus1=a.2) is "
                   "connected to node 2 again instead of ground (engine NodeOrder [2, 0])")
def test_importer_one_node_delta_load(tmp_path):
    path = tmp_path / "one_node_delta.dss"
    path.write_text(TEXT)
    engine = solve_engine(path)
    net = load_opendss(path, DiagnosticSink())
    assert net.table("loads").column("conn").to_pylist()[0] == engine.load_nodes["d1"]

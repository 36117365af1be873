"""``kron_reduce=True`` turns a four-wire line into the 3x3 the engine's own Kron reduction gives.

Oracle: OpenDSS LineCode ``Kron=yes`` (neutral = conductor 4) on the same
4x4 data, read back with ``LineCodes.Rmatrix``/``Xmatrix``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import opendssdirect as dss

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.opendss.importer import load_opendss

from .engine import fresh

R4 = "[0.2 | 0.06 0.21 | 0.05 0.06 0.2 | 0.05 0.05 0.06 0.35]"
X4 = "[0.85 | 0.38 0.84 | 0.33 0.38 0.85 | 0.36 0.35 0.37 0.90]"
C4 = "[10 | -2 10 | -1 -2 10 | -3 -2 -1 9]"
SCRIPT = f"""clear
new circuit.k basekv=0.4 bus1=src
new linecode.four nphases=4 rmatrix={R4} xmatrix={X4} cmatrix={C4} units=km
new line.l1 bus1=src.1.2.3.4 bus2=b.1.2.3.4 phases=4 linecode=four length=0.3 units=km
new load.x bus1=b.1.4 phases=1 kv=0.23 kw=5
"""


def test_kron_reduction_matches_engine(tmp_path: Path) -> None:
    f = tmp_path / "four.dss"
    f.write_text(SCRIPT)
    sink = DiagnosticSink()
    full = load_opendss(f, sink)
    net = load_opendss(f, sink, kron_reduce=True)
    assert full is not None and net is not None, [d.render() for d in sink.errors]
    assert full.table("lines").column("f_conn").to_pylist() == [[1, 2, 3, 4]]
    line = net.table("lines").to_pylist()[0]
    assert line["f_conn"] == [1, 2, 3] and line["t_conn"] == [1, 2, 3]
    r, x = np.asarray(line["r_ohm"]).reshape(3, 3), np.asarray(line["x_ohm"]).reshape(3, 3)

    fresh()
    dss.Text.Command("new circuit.k basekv=0.4 bus1=src")
    dss.Text.Command(f"new linecode.four nphases=4 rmatrix={R4} xmatrix={X4} cmatrix={C4} units=km")
    dss.Text.Command("~ kron=yes")
    dss.LineCodes.Name("four")
    assert dss.LineCodes.Phases() == 3
    er = np.asarray(dss.LineCodes.Rmatrix()).reshape(3, 3) * 0.3
    ex = np.asarray(dss.LineCodes.Xmatrix()).reshape(3, 3) * 0.3
    np.testing.assert_allclose(r, er, rtol=1e-9)
    np.testing.assert_allclose(x, ex, rtol=1e-9)
    c_nf = np.asarray(line["b_from_s"]).reshape(3, 3) * 2 / (2 * np.pi * 60) * 1e9
    np.testing.assert_allclose(c_nf, np.asarray(dss.LineCodes.Cmatrix()).reshape(3, 3) * 0.3, rtol=1e-9)
    # the load's neutral terminal (node 4) is grounded in the reduced model
    assert net.table("loads").column("conn").to_pylist() == [[1, 0]]

"""Transformer connections and load models, each against the OpenDSS engine on small circuits.

Oracle: opendssdirect.py solving the very DSS text gatlang imports.  The
circuits are written per test: a source, a line with a full 3x3 impedance, the
component under test and unbalanced loads, so that every connection
(Yy, Dy, Yd, Dd, open wye - open delta, single-phase and centre-tapped
transformers) and every region of every load model (below ``vminpu``, in
range, above ``vmaxpu``) is exercised.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from gatlang.engines.pf3 import solve_unbalanced

from .dss_oracle import DATA3, at_engine_taps, compare, import_feeder, solve_engine

HEAD = """clear
new circuit.t basekv=12.47 pu={pu} phases=3 bus1=src MVAsc3=200 MVAsc1=210
new linecode.lc nphases=3 units=mi rmatrix=(0.3465 | 0.1560 0.3375 | 0.1580 0.1535 0.3414)
~ xmatrix=(1.0179 | 0.5017 1.0478 | 0.4236 0.3849 1.0348)
new line.l1 bus1=src bus2=a linecode=lc length=1 units=mi
"""

XFMR = """new transformer.t1 phases=3 windings=2 buses=[a b] conns=[{c1} {c2}] kvs=[12.47 4.16]
~ kvas=[6000 6000] xhl=6 %rs=[0.5 0.5]
new line.l2 bus1=b bus2=c linecode=lc length=0.5 units=mi
new load.wa bus1=c.1 phases=1 kv=2.4 kw=1275 kvar=790 model=1
new load.wb bus1=c.2 phases=1 kv=2.4 kw=560 kvar=250 model=2
new load.wc bus1=c.3 phases=1 kv=2.4 kw=900 kvar=400 model=5
new load.d3 bus1=c phases=3 conn=delta kv=4.16 kw=600 kvar=300 model=1
new load.d1 bus1=c.2.3 phases=1 conn=delta kv=4.16 kw=300 kvar=100 model=5
set voltagebases=[12.47 4.16]
calcv
"""

ONE_PHASE = """new transformer.t1 phases=1 windings=2 buses=[a.2 b.1] kvs=[7.2 2.4] kvas=[500 500] xhl=2 %rs=[0.6 0.6]
new transformer.ct phases=1 windings=3 buses=[a.3 s.1.0 s.0.2] kvs=[7.2 .12 .12] kvas=[50 50 50]
~ %rs=[0.6 1.2 1.2] xhl=2.04 xht=2.04 xlt=1.36
new load.b1 bus1=b.1 phases=1 kv=2.4 kw=200 kvar=80 model=1
new load.s1 bus1=s.1 phases=1 kv=0.12 kw=8 kvar=3 model=1
new load.s2 bus1=s.2 phases=1 kv=0.12 kw=5 kvar=2 model=2
new load.s12 bus1=s.1.2 phases=1 kv=0.24 kw=12 kvar=4 model=5
new load.a1 bus1=a.1 phases=1 kv=7.2 kw=400 kvar=100 model=1
set voltagebases=[12.47 2.4 0.24]
calcv
"""

MODELS = """new load.m1 bus1=a.1 phases=1 kv=7.2 kw=900 kvar=400 model=1 {vmin}
new load.m2 bus1=a.2 phases=1 kv=7.2 kw=700 kvar=300 model=2
new load.m3 bus1=a.3 phases=1 kv=7.2 kw=500 kvar=300 model=3 {vmin}
new load.m4 bus1=a.1 phases=1 kv=7.2 kw=400 kvar=200 model=4 {vmin}
new load.m5 bus1=a.2 phases=1 kv=7.2 kw=800 kvar=350 model=5 {vmin}
new load.m8 bus1=a.3 phases=1 kv=7.2 kw=600 kvar=250 model=8 zipv=[0.3 0.3 0.4 0.2 0.3 0.5 0.0] {vmin}
new load.d5 bus1=a.1.2 phases=1 conn=delta kv=12.47 kw=300 kvar=100 model=5 {vmin}
new load.y3 bus1=a phases=3 conn=wye kv=12.47 kw=900 kvar=300 model=1 {vmin}
set voltagebases=[12.47]
calcv
"""


def _run(tmp_path: Path, text: str, *, method: str = "newton") -> tuple[float, float, str]:
    path = tmp_path / "case.dss"
    path.write_text(text)
    engine, net = at_engine_taps(path)
    res = solve_unbalanced(net, method=method, regulators="fixed")
    assert res.converged, [d.message for d in res.diagnostics]
    dvm, dva, worst, _ = compare(res, engine)
    return dvm, dva, worst


@pytest.mark.parametrize("c1,c2", [("wye", "wye"), ("delta", "wye"), ("wye", "delta"), ("delta", "delta")])
def test_three_phase_transformer_connections(tmp_path, c1, c2):
    dvm, dva, worst = _run(tmp_path, HEAD.format(pu=1.0) + XFMR.format(c1=c1, c2=c2))
    assert dvm < 1e-4 and dva < 0.05, f"{c1}-{c2}: {dvm:.2e} pu / {dva:.3f} deg at {worst}"


def test_single_phase_and_centre_tapped_transformers(tmp_path):
    dvm, dva, worst = _run(tmp_path, HEAD.format(pu=1.02) + ONE_PHASE)
    assert dvm < 1e-4 and dva < 0.05, f"{dvm:.2e} pu / {dva:.3f} deg at {worst}"


def test_open_wye_open_delta_feeder(tmp_path):
    """IEEE 4-bus open-wye / open-delta unbalanced test case, as shipped with OpenDSS."""
    path = DATA3 / "4Bus-OYOD-UnBal" / "4bus-OYOD-UnBal.dss"
    engine = solve_engine(path)
    net = import_feeder(path, engine)
    res = solve_unbalanced(net, regulators="fixed")
    dvm, dva, worst, _ = compare(res, engine)
    assert dvm < 1e-4 and dva < 0.05, f"{dvm:.2e} pu / {dva:.3f} deg at {worst}"


@pytest.mark.parametrize("pu,vmin", [(1.0, ""), (0.86, ""), (1.12, ""), (0.97, "vminpu=0.99 vmaxpu=1.0"),
                                     (0.7, "vminpu=0.9")])
@pytest.mark.parametrize("method", ["newton", "fixed_point"])
def test_load_models_in_every_voltage_region(tmp_path, pu, vmin, method):
    """Models 1, 2, 3, 4, 5 and 8 (ZIP), wye and delta, below / inside / above [vminpu, vmaxpu]."""
    dvm, dva, worst = _run(tmp_path, HEAD.format(pu=pu) + MODELS.format(vmin=vmin), method=method)
    assert dvm < 1e-4 and dva < 0.05, f"source {pu} pu: {dvm:.2e} pu / {dva:.3f} deg at {worst}"


def test_tap_primitive_model_matches_the_builder():
    """Regulated.primitive_at (turns scaling + anti-float shunts) equals ybus3's full build at any taps.

    Internal consistency, not an oracle: the control loop relies on it instead of
    rebuilding primitives; the engine comparisons of the control loop (test_pf3_ieee)
    then check the outcome.
    """
    import numpy as np

    from gatlang.engines.pf3_system import build_system
    from gatlang.network.ybus3 import transformer_primitive

    from .dss_oracle import FEEDERS, set_column

    path = FEEDERS["ieee13"]
    net = import_feeder(path, solve_engine(path))
    xf = net.tables["transformers"]
    set_column(net, "transformers", "ppm_antifloat", [2.0] * xf.num_rows)     # exercise the fixed part
    reg = build_system(net).regulated
    rng = np.random.default_rng(7)
    assert reg.rows
    for k, row in enumerate(reg.rows):
        for _ in range(3):
            taps = list(rng.uniform(0.9, 1.1, len(row["kv"])))
            want, _ = transformer_primitive(dict(row, taps_pu=taps))
            assert np.allclose(reg.primitive_at(k, taps), want, rtol=1e-12, atol=1e-12 * np.abs(want).max())

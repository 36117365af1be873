"""DSS language features (as found in the wild) read the way the OpenDSS engine reads them.

The script tests/data/opendss/syntax/master.dss uses positional values, quoted
object names, ``object=``, block and line comments, a sub-folder Redirect,
RPN expressions, bracket/quote/parenthesis arrays, matrices with ``|``,
``like=``, ``Edit``, ``Class.name.prop=value`` edits, abbreviated property
names, kVA+PF loads, capacitor steps and controls.  Oracle: the engine's
view of every element after compiling the same file.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import opendssdirect as dss
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.model import Network
from gatlang.network.opendss.importer import load_opendss
from gatlang.network.ybus3 import build_ybus3

from .engine import IEEE, fresh, system_y

SCRIPT = IEEE.parent / "syntax" / "master.dss"


@pytest.fixture(scope="module")
def net() -> Network:
    sink = DiagnosticSink()
    out = load_opendss(SCRIPT, sink)
    assert out is not None and not sink.items, [d.render() for d in sink]
    return out


def _compile() -> None:
    fresh()
    dss.Text.Command(f'compile "{SCRIPT}"')


def test_loads_as_engine(net: Network) -> None:
    _compile()
    ours = {r["load"]: r for r in net.table("loads").to_pylist()}
    models = {1: "constant_power", 2: "constant_impedance", 5: "constant_current", 8: "zip"}
    ok = dss.Loads.First()
    seen = 0
    while ok:
        r = ours[dss.Loads.Name()]
        assert r["p_mw"] * 1e3 == pytest.approx(dss.Loads.kW(), rel=1e-12)
        assert r["q_mvar"] * 1e3 == pytest.approx(dss.Loads.kvar(), rel=1e-9)
        assert r["vn_kv"] == pytest.approx(dss.Loads.kV(), rel=1e-12)
        assert r["model"] == models.get(dss.Loads.Model(), "other")
        assert (r["connection"] == "delta") == dss.Loads.IsDelta()
        assert r["bus"] == dss.CktElement.BusNames()[0].split(".")[0]
        if r["zipv"]:
            assert r["zipv"] == pytest.approx(list(dss.Loads.ZipV()))
        seen += 1
        ok = dss.Loads.Next()
    assert seen == len(ours) == 6


def test_network_matrix_as_engine(net: Network) -> None:
    y, nodes = build_ybus3(net)
    e, enodes = system_y(SCRIPT)
    pos = {k: i for i, k in enumerate(nodes)}
    perm = np.asarray([pos[k] for k in enodes])
    assert sorted(enodes) == sorted(nodes)
    excess = abs(y[perm][:, perm] - e) - 1e-6 * abs(e)
    assert excess.max() <= 1e-12 * abs(e).max()


def test_taps_controls_and_ders_as_engine(net: Network) -> None:
    _compile()
    dss.Transformers.Name("reg")
    dss.Transformers.Wdg(2)
    regs = net.table("regulators").to_pylist()
    assert regs[0]["tap_pu"] == pytest.approx(dss.Transformers.Tap()) == 1.01875
    dss.RegControls.Name("reg")
    assert regs[0]["vreg_v"] == dss.RegControls.ForwardVreg() and regs[0]["ctprim_a"] == dss.RegControls.CTPrimary()
    cc = net.table("cap_controls").to_pylist()[0]
    dss.CapControls.Name("cc1")
    assert (cc["on_setting"], cc["off_setting"]) == (dss.CapControls.ONSetting(), dss.CapControls.OFFSetting())
    assert cc["element"] == "line.a-b"
    dss.Generators.Name("g1")
    g = net.table("generators").to_pylist()[0]
    assert (g["p_mw"] * 1e3, g["q_mvar"] * 1e3) == pytest.approx((dss.Generators.kW(), dss.Generators.kvar()))
    dss.PVsystems.Name("pv1")
    pv = net.table("pv_systems").to_pylist()[0]
    assert pv["pmpp_mw"] * 1e3 == pytest.approx(dss.PVsystems.Pmpp())
    assert pv["irradiance"] == pytest.approx(dss.PVsystems.Irradiance())
    assert pv["kva"] == pytest.approx(dss.PVsystems.kVARated())
    dss.Storages.Name("s1")
    st = net.table("storage").to_pylist()[0]
    assert st["soc_pct"] == pytest.approx(dss.Storages.puSOC() * 100)
    assert st["energy_mwh"] * 1e3 == pytest.approx(float(dss.Properties.Value("kWhrated")))


def test_lines_as_engine(net: Network) -> None:
    _compile()
    ours = {r["line"]: r for r in net.table("lines").to_pylist()}
    ok = dss.Lines.First()
    while ok:
        r = ours[dss.Lines.Name()]
        assert len(r["f_conn"]) == dss.Lines.Phases()
        assert r["from_bus"] == dss.Lines.Bus1().split(".")[0]
        assert r["to_bus"] == dss.Lines.Bus2().split(".")[0]
        assert bool(r["switch"]) == dss.Lines.IsSwitch()
        ok = dss.Lines.Next()
    # like= copies b-c's impedances per unit length (not the code, as the engine): 200 ft
    assert ours["c-d"]["linecode"] is None and ours["c-d"]["length_km"] == pytest.approx(0.06096)
    assert math.isclose(ours["a-b"]["length_km"], 1500 * 0.3048e-3)


ORDERS = ["kw=120 kvar=50 pf=0.8", "kvar=50 kw=120", "kvar=50 pf=0.8", "pf=0.8 kvar=50",
          "kvar=50 pf=0.8 kw=120", "pf=0.8 kw=120", "kva=200 pf=0.9 kw=100", "kw=100 kva=200 pf=0.9",
          "kva=200 kvar=50", "pf=0.8 kva=200", "kvar=50 kva=200", "kw=100 kvar=50 kw=200", "pf=-0.9 kw=50",
          "kva=100 pf=-0.95"]


def test_power_specification_order_as_engine(tmp_path: Path) -> None:
    """The order of kW/kvar/PF/kVA decides the power, differently for loads and generators."""
    f = tmp_path / "p.dss"
    f.write_text("clear\nnew circuit.t basekv=12.47\n" + "".join(
        f"new load.l{i} bus1=sourcebus kv=12.47 {c}\nnew generator.g{i} bus1=sourcebus kv=12.47 {c}\n"
        for i, c in enumerate(ORDERS)))
    sink = DiagnosticSink()
    net = load_opendss(f, sink)
    assert net is not None
    loads = {r["load"]: r for r in net.table("loads").to_pylist()}
    gens = {r["gen"]: r for r in net.table("generators").to_pylist()}
    fresh()
    dss.Text.Command(f'compile "{f}"')
    for i, order in enumerate(ORDERS):
        dss.Loads.Name(f"l{i}")
        dss.Generators.Name(f"g{i}")
        ours = (loads[f"l{i}"]["p_mw"], loads[f"l{i}"]["q_mvar"], gens[f"g{i}"]["p_mw"], gens[f"g{i}"]["q_mvar"])
        engine = (dss.Loads.kW(), dss.Loads.kvar(), dss.Generators.kW(), dss.Generators.kvar())
        assert np.asarray(ours) * 1e3 == pytest.approx(engine, abs=1e-9), order

"""The per-node admittance matrix built from the canonical model equals the engine's.

Oracle: OpenDSS ``Circuit.SystemY()`` (siemens), compiled from a copy of the
feeder without ``Solve`` lines (so that the regulator taps are those of the
file) and with loads, generators, PV and storage disabled: their primitive
admittances depend on the engine's solution mode and are injections in the
canonical model.  What is compared is the network part: lines (series and
charging), transformers, capacitors and the source's Thevenin impedance.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.opendss.importer import load_opendss

from .engine import FEEDERS, assert_y_matches as _compare, copy_without_solve, fresh, yprim


@pytest.mark.parametrize("feeder", ["ieee13", "ieee34", "ieee37", "ieee123"])
def test_system_y_matches_engine(feeder: str, tmp_path: Path) -> None:
    _compare(copy_without_solve(FEEDERS[feeder], tmp_path))


@pytest.mark.slow
def test_system_y_matches_engine_ieee8500(shared_data: Path) -> None:
    """8,500 nodes with split-phase 3-winding service transformers (file has no Solve)."""
    _compare(shared_data / "opendss-ieee" / "IEEETestCases" / "8500-Node" / "Master.dss")


@pytest.mark.slow
def test_system_y_matches_engine_epri_ckt5(shared_data: Path) -> None:
    """3,437 nodes, overhead lines given by LineGeometry + WireData (Deri earth model)."""
    _compare(shared_data / "opendss-ieee" / "EPRITestCircuits" / "ckt5" / "Master_ckt5.dss")


@pytest.mark.slow
def test_system_y_matches_engine_ieee9500(shared_data: Path) -> None:
    """9,495 nodes: overhead geometry, concentric-neutral cables, open switches, PV and storage."""
    _compare(shared_data / "opendss-ieee" / "IEEETestCases" / "ieee9500dss" / "ieee9500_base.dss")


# ------------------------------------------------------------------ element by element

_TRANSFORMERS = {
    "split_phase_3w": "phases=1 windings=3 wdg=1 bus=b.1 kv=7.2 kVA=15 wdg=2 bus=x.1.0 kv=0.12 kVA=15 "
                      "wdg=3 bus=x.0.2 kv=0.12 kVA=15 %imag=0.5 %Rs=[0.6 1.2 1.2] %noloadloss=.2 "
                      "Xhl=2.04 Xht=2.04 Xlt=1.36",
    "wye_wye_magnetising": "phases=3 windings=2 buses=[b x] kvs=[12.47 0.48] kvas=[500 500] %imag=0.5 "
                           "%noloadloss=0.2 xhl=5 ppm=10",
    "delta_wye_taps": "phases=3 windings=2 buses=[b x] conns=[delta wye] kvs=[12.47 0.48] kvas=[500 400] "
                      "taps=[1.025 0.975] xhl=5 %rs=[0.7 0.4]",
    "one_phase_delta": "phases=1 windings=2 buses=[b.1.2 x.1] conns=[delta wye] kvs=[12.47 0.24] "
                       "kvas=[50 50] xhl=5",
    "three_winding_3ph": "phases=3 windings=3 buses=[b x y] conns=[wye delta wye] kvs=[12.47 4.16 0.48] "
                         "kvas=[1000 600 400] xhl=7 xht=9 xlt=4 %loadloss=0.8",
    "yd": "phases=3 windings=2 buses=[b x] conns=[wye delta] kvs=[12.47 4.16] kvas=[1000 1000] xhl=7",
    "dd": "phases=3 windings=2 buses=[b x] conns=[delta delta] kvs=[12.47 4.16] kvas=[1000 1000] xhl=7",
    "dyd": "phases=3 windings=3 buses=[b x y] conns=[delta wye delta] kvs=[12.47 4.16 0.48] "
           "kvas=[1000 1000 1000] xhl=7 xht=9 xlt=4",
    "ddy": "phases=3 windings=3 buses=[b x y] conns=[delta delta wye] kvs=[12.47 4.16 0.48] "
           "kvas=[1000 1000 1000] xhl=7 xht=9 xlt=4",
    "dy_lead": "phases=3 windings=2 buses=[b x] conns=[delta wye] kvs=[12.47 0.48] kvas=[500 500] xhl=5 "
               "leadlag=lead",
    "yd_euro": "phases=3 windings=2 buses=[b x] conns=[wye delta] kvs=[12.47 4.16] kvas=[1000 1000] xhl=7 "
               "leadlag=euro",
    "active_winding_after_arrays": "windings=3 buses=[b x y] kvs=[12.47 4.16 0.48] %rs=[1 1] tap=1.05",
    "xfmrcode_and_wdg": "xfmrcode=c1 buses=[b x] wdg=2 tap=1.05",
}
_LINES = {
    "sequence_one_phase": "bus1=b.2 bus2=x.2 phases=1 r1=0.2 x1=0.5 r0=0.6 x0=1.5 c1=10 c0=4 length=2 "
                          "units=km",
    "linecode_units": "bus1=b bus2=x linecode=lc length=1500 units=ft",
    "linecode_then_r1": "bus1=b bus2=x linecode=lc r1=0.3 length=0.5",
    "switch": "bus1=b bus2=x switch=y",
    "b1_microsiemens": "bus1=b bus2=x r1=0.1 x1=0.3 r0=0.3 x0=0.9 b1=3.0 b0=1.5 length=3",
    "geometry_ft": "bus1=b bus2=x geometry=g length=1200 units=ft",
    "geometry_no_units": "bus1=b bus2=x geometry=g length=300",
    "geometry_one_phase": "bus1=b.2 bus2=x.2 geometry=g1 length=0.4 units=km",
    "spacing_wires": "bus1=b bus2=x spacing=s wires=[w1 w1 w1 w2] length=2 units=kft rho=30",
    "cn_cable_spacing": "phases=1 bus1=b.1 bus2=x.1 length=823.2 spacing=s1 units=ft cncables=[cn1]",
    "cn_cable_geometry_606": "bus1=b bus2=x geometry=606 length=500 units=ft",
    # tape-shielded cables (TSData): with a bare neutral, three phases with and without a neutral
    "ts_cable_geometry_607": "phases=1 bus1=b.1 bus2=x.1 geometry=607 length=800 units=ft",
    "ts_cables_spacing_neutral": "bus1=b bus2=x spacing=ug4 tscables=[ts1 ts1 ts1] wires=[w2] length=0.3 "
                                 "units=km",
    "ts_cables_spacing_only": "bus1=b bus2=x spacing=ug3 tscables=[ts2 ts2 ts2] length=400 units=m",
    "two_phase_matrix": "bus1=b.3.1 bus2=x.3.1 phases=2 rmatrix=[0.3 | 0.1 0.35] xmatrix=[1.0 | 0.4 1.1] "
                        "cmatrix=(12 | -3 11) length=0.2 units=mi",
}
CN606 = ("New CNDATA.250_1/3 k=13 DiaStrand=0.064 Rstrand=2.816666667 epsR=2.3\n"
         "~ InsLayer=0.220 DiaIns=1.06 DiaCable=1.16 Rac=0.076705 GMRac=0.20568 diam=0.573\n"
         "~ Runits=kft Radunits=in GMRunits=in\n"
         "New LineGeometry.606 nconds=3 nphases=3 units=ft\n"
         "~ cond=1 cncable=250_1/3 x=-0.5 h= -4\n~ cond=2 cncable=250_1/3 x=0 h= -4\n"
         "~ cond=3 cncable=250_1/3 x=0.5 h= -4\n")
# the IEEE 13 feeder's tape-shielded cable (line 684-652) and its bare 1/0 copper neutral
TS607 = ("new WireData.CU_1/0 NormAmps=100 DIAM=0.368 GMRac=0.13356 Rac=0.607 Runits=mi Radunits=in gmrunits=in\n"
         "new TSData.TS_1/0 NormAmps=165 DIAM=0.368 GMRac=0.13320 Rac=0.97 Runits=mi Radunits=in gmrunits=in\n"
         "~ EpsR=2.3 InsLayer=0.220 DiaIns=0.82 DiaCable=1.06 DiaShield=0.88 TapeLayer=0.005 TapeLap={lap}\n"
         "new LineGeometry.607 nconds=2 nphases=1 reduce=y\n"
         "~ cond=1 tscable=TS_1/0 x=0 h=-4 units=ft\n~ cond=2 wire=CU_1/0 x=0.25 h=-4 units=ft\n")
_HEAD = ("clear\nnew circuit.t basekv=12.47 bus1=b\n"
         "new xfmrcode.c1 phases=3 windings=2 kvs=[12.47 4.16] kvas=[750 750] xhl=6 %r=0.5\n"
         "new linecode.lc nphases=3 rmatrix=[0.35 | 0.15 0.34 | 0.16 0.15 0.34] "
         "xmatrix=[1.02 | 0.50 1.05 | 0.42 0.38 1.03] cmatrix=[6.3 | -1.9 5.9 | -1.2 -0.8 5.6] units=mi\n"
         # Kersting's 4-wire overhead example (336,400 26/7 ACSR phases, 4/0 6/1 ACSR neutral)
         "new wiredata.w1 rac=0.306 runits=mi gmrac=0.0244 gmrunits=ft radius=0.0255 radunits=ft\n"
         "new wiredata.w2 rac=0.592 runits=mi gmrac=0.00814 gmrunits=ft radius=0.0198 radunits=ft\n"
         "new wiredata.w3 rdc=0.5 rac=0.52 runits=km diam=1.2 radunits=cm\n"
         "new linegeometry.g nconds=4 nphases=3 reduce=y\n"
         "~ cond=1 wire=w1 x=-4 h=28 units=ft\n~ cond=2 wire=w1 x=-1.5 h=28 units=ft\n"
         "~ cond=3 wire=w1 x=3 h=28 units=ft\n~ cond=4 wire=w2 x=0 h=24 units=ft\n"
         "new linegeometry.g1 nconds=2 nphases=1 reduce=y\n"
         "~ cond=1 wire=w3 x=0 h=12.192 units=m\n~ cond=2 wire=w2 x=0 h=10.668 units=m\n"
         "new linespacing.s nconds=4 nphases=3 units=m x=[-1 0 1 0.5] h=[10 10 10 8]\n"
         # IEEE 9500's concentric-neutral cable, and the IEEE 13 feeder's cable for line code 606
         "new CNData.cn1 gmr=0.003380 radius=0.004675 rac=0.000603 rdc=0.000591 Runits=m Radunits=m "
         "gmrunits=m EpsR=2.30 Ins=0.004450 DiaIns=0.021100 DiaCable=0.027400 k=6 GmrStrand=0.000250 "
         "DiaStrand=0.000640 Rstrand=0.002550\n"
         "new linespacing.s1 nconds=1 nphases=1 units=m x=[0] h=[-1.22]\n"
         + CN606 + TS607.format(lap=20) +
         # tape-shielded cables in duct banks: inches, millimetres, a lap other than the default
         "new TSData.ts1 Rac=0.2 Runits=km GMRac=5.2 GMRunits=mm Diam=14.2 Radunits=mm EpsR=2.3 InsLayer=5.6 "
         "DiaIns=26 DiaCable=34 DiaShield=28 TapeLayer=0.13 TapeLap=15\n"
         "new TSData.ts2 like=ts1 TapeLap=40 DiaShield=29\n"
         "new linespacing.ug4 nconds=4 nphases=3 units=in x=[-8 0 8 0] h=[-36 -36 -36 -42]\n"
         "new linespacing.ug3 nconds=3 nphases=3 units=m x=[-0.2 0 0.2] h=[-1 -1 -1]\n")


def _single(tmp: Path, cls: str, props: str) -> tuple[np.ndarray, dict]:
    f = tmp / "c.dss"
    f.write_text(_HEAD + f"new {cls}.e {props}\n")
    sink = DiagnosticSink()
    net = load_opendss(f, sink)
    assert net is not None, [d.render() for d in sink.errors]
    from .engine import dss
    fresh()
    dss.Text.Command(f'compile "{f}"')
    dss.Solution.Solve()
    table = {"transformer": "transformers", "line": "lines"}[cls]
    return yprim(f"{cls}.e"), net.table(table).to_pylist()[-1]


@pytest.mark.parametrize("case", sorted(_TRANSFORMERS))
def test_transformer_primitive_matches_engine(case: str, tmp_path: Path) -> None:
    from gatlang.network.ybus3 import transformer_primitive

    engine, row = _single(tmp_path, "transformer", _TRANSFORMERS[case])
    ours, _ = transformer_primitive(row)
    np.testing.assert_allclose(ours, engine, rtol=1e-9, atol=1e-12 * np.abs(engine).max())


@pytest.mark.parametrize("case", sorted(_LINES))
def test_line_primitive_matches_engine(case: str, tmp_path: Path) -> None:
    engine, row = _single(tmp_path, "line", _LINES[case])
    n = len(row["f_conn"])
    z = (np.asarray(row["r_ohm"]) + 1j * np.asarray(row["x_ohm"])).reshape(n, n)
    ys = np.linalg.inv(z)
    yf = 1j * np.asarray(row["b_from_s"]).reshape(n, n)
    yt = 1j * np.asarray(row["b_to_s"]).reshape(n, n)
    ours = np.block([[ys + yf, -ys], [-ys, ys + yt]])
    np.testing.assert_allclose(ours, engine, rtol=1e-9, atol=1e-12 * np.abs(engine).max())


def test_cable_606_reproduces_the_ieee13_line_code(tmp_path: Path) -> None:
    """Published oracle: the IEEE 13 script's line code mtx606 (ohm/mi) was computed from this cable."""
    f = tmp_path / "c.dss"
    f.write_text("clear\nnew circuit.t basekv=4.16 bus1=b\n" + CN606 +
                 "new line.e bus1=b bus2=x geometry=606 length=1 units=mi\n")
    sink = DiagnosticSink()
    net = load_opendss(f, sink)
    row = net.table("lines").to_pylist()[0]
    r = np.asarray(row["r_ohm"]).reshape(3, 3)
    x = np.asarray(row["x_ohm"]).reshape(3, 3)
    published_r = [[0.791721, 0.318476, 0.28345], [0.318476, 0.781649, 0.318476], [0.28345, 0.318476, 0.791721]]
    published_x = [[0.438352, 0.0276838, -0.0184204], [0.0276838, 0.396697, 0.0276838],
                   [-0.0184204, 0.0276838, 0.438352]]
    np.testing.assert_allclose(r, published_r, atol=2e-4)
    np.testing.assert_allclose(x, published_x, atol=2e-4)
    c_nf = np.asarray(row["b_from_s"]).reshape(3, 3) * 2 / (2 * np.pi * 60) * 1e9
    np.testing.assert_allclose(np.diag(c_nf), [383.948] * 3, rtol=1e-4)       # Cmatrix of mtx606


def test_tape_shielded_cable_reproduces_kersting(tmp_path: Path) -> None:
    """Published oracle: Kersting, *Distribution System Modeling and Analysis*, tape-shielded cable
    example (1/0 AA core, 0.88 in x 5 mil copper tape, 1/0 Cu neutral 3 in away): z = 1.3218 + j0.6744
    ohm/mile.  Kersting's tape resistance has no lap factor, which the engine's equals at a 50 % lap;
    what remains is the earth model (Deri here, modified Carson there), about 0.02 ohm/mile."""
    f = tmp_path / "c.dss"
    f.write_text("clear\nnew circuit.t basekv=4.16 bus1=b\n" + TS607.format(lap=50) +
                 "new line.e phases=1 bus1=b.1 bus2=x.1 geometry=607 length=1 units=mi\n")
    sink = DiagnosticSink()
    net = load_opendss(f, sink)
    row = net.table("lines").to_pylist()[0]
    assert abs(row["r_ohm"][0] - 1.3218) < 0.025
    assert abs(row["x_ohm"][0] - 0.6744) < 0.003


def test_system_y_matches_engine_ieee13_assets(tmp_path: Path) -> None:
    """IEEE 13 described by conductor data (PowerModelsDistribution's copy of the engine's IEEE13_Assets):
    geometries built from spacings, concentric-neutral and tape-shielded cables, against SystemY."""
    feeder = Path(__file__).resolve().parents[2] / "data" / "opendss" / "ieee13_assets" / "IEEE13_Assets.dss"
    _compare(copy_without_solve(feeder, tmp_path), rtol=1e-9)

"""The column-wise load branches (`NodeIndex` given) equal the row-by-row ones (a callable given).

Why: `build_load_branches` reads the loads, generators and PV systems
column-wise and numbers all branch ends in one `NodeIndex.lookup`; the row
code it replaces (kept for callers that pass a callable) is the reference.
Every array -- ends, admittances, region coefficients and edges, bases,
owners, kinds -- and the diagnostics must be the same, bit for bit, on the
IEEE feeders, PowerModelsDistribution's ZIP and delta cases, and a feeder
with generators, PV systems and every odd value a table can hold.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.engines.pf3_loads import LoadBranches, build_load_branches
from gatlang.network.model import Network
from gatlang.network.opendss.importer import load_opendss
from gatlang.network.ybus3 import NodeIndex

DATA3 = Path(__file__).resolve().parents[1] / "data" / "opendss3"
FEEDERS = {"ieee13": DATA3 / "13Bus" / "IEEE13Nodeckt.dss",
           "ieee34": DATA3 / "34Bus" / "ieee34Mod1.dss",
           "ieee123": DATA3 / "123Bus" / "IEEE123Master.dss",
           "pmd_zip": DATA3 / "pmd" / "case3_unbalanced_ZIPloads.dss",
           "pmd_delta": DATA3 / "pmd" / "case3_unbalanced_delta_loads.dss",
           "pmd_case3": DATA3 / "pmd" / "case3_unbalanced.dss"}

#: loads of every model and connection, generators and PV systems (one capped at its kVA, one
#: absorbing vars, one out of service), on a small three-phase feeder
DER_FEEDER = """clear
new circuit.t basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=200 MVAsc1=210
new linecode.lc nphases=3 units=mi rmatrix=(0.3465 | 0.1560 0.3375 | 0.1580 0.1535 0.3414)
~ xmatrix=(1.0179 | 0.5017 1.0478 | 0.4236 0.3849 1.0348)
new line.l1 bus1=src bus2=a linecode=lc length=1 units=mi
new line.l2 bus1=a bus2=c linecode=lc length=1 units=mi
new load.m1 bus1=a.1 phases=1 kv=7.2 kw=900 kvar=400 model=1
new load.m2 bus1=a.2 phases=1 kv=7.2 kw=700 kvar=300 model=2
new load.m3 bus1=a.3 phases=1 kv=7.2 kw=500 kvar=300 model=3 vminpu=0.9
new load.m4 bus1=a.1 phases=1 kv=7.2 kw=400 kvar=200 model=4 vmaxpu=1.1
new load.m5 bus1=a.2 phases=1 kv=7.2 kw=800 kvar=350 model=5
new load.m6 bus1=a.3 phases=1 kv=7.2 kw=100 kvar=50 model=6
new load.m7 bus1=a.1 phases=1 kv=7.2 kw=100 kvar=50 model=7
new load.z8 bus1=a.3 phases=1 kv=7.2 kw=600 kvar=250 model=8 zipv=[0.3 0.3 0.4 0.2 0.3 0.5 0.0]
new load.zc bus1=c phases=3 kv=12.47 kw=600 kvar=250 model=8 zipv=[0.3 0.3 0.4 0.2 0.3 0.5 0.7]
new load.zs bus1=c.2 phases=1 kv=7.2 kw=60 kvar=25 model=8 zipv=[0.3 0.3 0.4]
new load.zd bus1=c phases=3 conn=delta kv=12.47 kw=300 kvar=90 model=8 zipv=[0.2 0.5 0.3 0.2 0.5 0.3 0.0]
new load.d5 bus1=a.1.2 phases=1 conn=delta kv=12.47 kw=300 kvar=100 model=5
new load.d3 bus1=c phases=3 conn=delta kv=12.47 kw=900 kvar=300 model=1
new load.y3 bus1=a phases=3 conn=wye kv=12.47 kw=900 kvar=300 model=1
new load.y2 bus1=c.1.3 phases=2 kv=12.47 kw=200 kvar=60 model=2
new load.off bus1=c phases=3 kv=12.47 kw=900 kvar=300 model=1 enabled=no
new generator.g1 bus1=c phases=3 kv=12.47 kw=500 kvar=100 model=1
new generator.g2 bus1=a.2 phases=1 kv=7.2 kw=80 pf=0.9 model=1
new generator.goff bus1=a phases=3 kv=12.47 kw=500 model=1 enabled=no
new pvsystem.pv1 bus1=c phases=3 kv=12.47 kva=500 pmpp=450 irradiance=0.8 pf=1
new pvsystem.pv2 bus1=a.3 phases=1 kv=7.2 kva=100 pmpp=120 irradiance=1 pf=0.9
new pvsystem.pv3 bus1=c.1 phases=1 kv=7.2 kva=50 pmpp=40 pf=-0.95
new pvsystem.pvoff bus1=c phases=3 kv=12.47 kva=500 pmpp=450 enabled=no
set voltagebases=[12.47]
calcv
"""


def _import(path: Path) -> Network:
    sink = DiagnosticSink()
    net = load_opendss(path, sink)
    assert not sink.has_errors, [str(d) for d in sink.errors]
    return net


def _assert_same(net: Network, load_scale: float = 1.0, pv_scale: float = 1.0) -> LoadBranches:
    """Build both ways and compare every array bit for bit (with its dtype and shape)."""
    nodes = NodeIndex(net)
    old, old_diags = build_load_branches(net, lambda bus, k: nodes.index.get((bus, k), -1) if k > 0 else -1,
                                         load_scale, pv_scale)
    new, new_diags = build_load_branches(net, nodes, load_scale, pv_scale)
    for f in dataclasses.fields(LoadBranches):
        x, y = getattr(old, f.name), getattr(new, f.name)
        assert (x.dtype, x.shape) == (y.dtype, y.shape), f.name
        if x.dtype == object:
            assert x.tolist() == y.tolist(), f.name
        else:
            assert x.tobytes() == y.tobytes(), f.name
    assert [(d.code, d.message, d.help) for d in old_diags] == [(d.code, d.message, d.help) for d in new_diags]
    return new


@pytest.mark.parametrize("feeder", sorted(FEEDERS))
def test_feeders(feeder: str) -> None:
    branches = _assert_same(_import(FEEDERS[feeder]), load_scale=0.7)
    assert branches.n > 0


def test_ieee8500(shared_data: Path) -> None:
    net = _import(shared_data / "opendss-ieee" / "IEEETestCases" / "8500-Node" / "Master.dss")
    assert _assert_same(net).n > 1000


@pytest.fixture(scope="module")
def der_net(tmp_path_factory: pytest.TempPathFactory) -> Network:
    path = tmp_path_factory.mktemp("der") / "der.dss"
    path.write_text(DER_FEEDER)
    return _import(path)


def test_loads_generators_and_pv(der_net: Network) -> None:
    branches = _assert_same(der_net, load_scale=0.8, pv_scale=1.7)
    assert set(branches.kind) == {"load", "generator", "pv"}
    assert set(branches.owner[branches.kind == "load"]) == set(range(der_net.table("loads").num_rows - 1))


def _with(net: Network, table: str, **columns: list) -> Network:
    """A copy of ``net`` whose ``table`` has the given columns replaced (nulls and odd values
    the importer never writes, but a Parquet network may hold)."""
    t = net.tables[table]
    for name, values in columns.items():
        field = t.schema.field(name)
        t = t.set_column(t.schema.get_field_index(name), field, pa.array(values, field.type))
    return dataclasses.replace(net, tables={**net.tables, table: t})


def _cycle(values: list, n: int) -> list:
    return [values[i % len(values)] for i in range(n)]


def test_nulls_and_odd_values(der_net: Network) -> None:
    n = der_net.table("loads").num_rows
    net = _with(der_net, "loads",
                status=_cycle([True, None, True, False, True], n),
                dss_model=_cycle([None, 0, None, 2, 8, None, 6, 9, -1], n),
                model=_cycle(["zip", "constant_impedance", None, "other", "constant_current", "zip"], n),
                connection=_cycle([None, "", "wye", "delta", "Delta"], n),
                vn_kv=_cycle([None, 0.0, 4.16, -0.0, 7.2], n),
                q_mvar=_cycle([None, 0.1, -0.0, 0.2], n),
                vminpu=_cycle([None, 0.9], n), vmaxpu=_cycle([1.1, None, 1.02], n),
                zipv=_cycle([None, [], [0.1, 0.2, 0.7, 0.3, 0.3, 0.4], [0.3, 0.3, 0.4, 0.2, 0.3, 0.5, 0.5, 9.0],
                             [0.3, 0.3, 0.4, 0.2, 0.3, 0.5, -1.0]], n),
                conn=_cycle([[1, 2, 3], [2], [1, 3, 0], [3, 1], [], [1, 2, 3, 4], [3]], n))
    g = der_net.table("generators").num_rows
    net = _with(net, "generators", bus=_cycle(["c", "nowhere", "a"], g), p_mw=_cycle([0.4, -0.0], g),
                q_mvar=_cycle([None, 0.05], g), status=_cycle([None, True], g))
    pv = der_net.table("pv_systems").num_rows
    net = _with(net, "pv_systems", vn_kv=_cycle([None, 7.2], pv), kva=_cycle([None, 30.0, 0.0], pv),
                irradiance=_cycle([None, 0.5], pv), pf=_cycle([0.0, None, -0.8, 0.85], pv),
                pmpp_mw=_cycle([None, 0.05, 0.2], pv))
    branches = _assert_same(net, load_scale=1.3, pv_scale=0.6)
    assert branches.n > 0


def test_tables_in_several_chunks_and_generators_with_kv(der_net: Network) -> None:
    """Tables read from Parquet or concatenated come in chunks; a generator table may carry a kV."""
    tables = {k: pa.concat_tables([t.slice(0, 3), t.slice(3)]) for k, t in der_net.tables.items()}
    gens = tables["generators"]
    tables["generators"] = gens.append_column("vn_kv", pa.array(_cycle([None, 4.16, 0.0], gens.num_rows), pa.float64()))
    assert tables["loads"].column("conn").num_chunks == 2
    _assert_same(dataclasses.replace(der_net, tables=tables), load_scale=0.9)


def test_no_buses_table_and_buses_without_kv(der_net: Network) -> None:
    """Generators take their bus's kV (none: the engine's default, 12.47 kV)."""
    buses = der_net.tables["buses"]
    net = _with(der_net, "buses", vn_kv=[None if i % 2 else 0.0 for i in range(buses.num_rows)])
    _assert_same(net)
    _assert_same(dataclasses.replace(der_net, tables={k: v for k, v in der_net.tables.items() if k != "buses"}))


def test_empty_and_absent_tables(der_net: Network) -> None:
    only = {k: v for k, v in der_net.tables.items() if k not in ("loads", "generators", "pv_systems")}
    assert _assert_same(dataclasses.replace(der_net, tables=only)).n == 0
    off = _with(der_net, "loads", status=[False] * der_net.table("loads").num_rows)
    off.tables["generators"] = off.tables["generators"].slice(0, 0)
    _assert_same(off)
    bare = only | {"loads": der_net.tables["loads"]}
    assert _assert_same(_with(dataclasses.replace(der_net, tables=bare), "loads",
                              conn=[[]] * der_net.table("loads").num_rows)).n == 0


def test_many_approximations_are_counted(der_net: Network) -> None:
    """More than five approximated loads: the warning names five and counts them all."""
    n = der_net.table("loads").num_rows
    net = _with(der_net, "loads", dss_model=[6, 7] * (n // 2) + [6] * (n % 2), status=[True] * n)
    nodes = NodeIndex(net)
    _, diags = build_load_branches(net, nodes)
    assert len(diags) == 1 and diags[0].message.startswith(f"{n} load(s)") and diags[0].message.endswith(" ...")
    _assert_same(net)


def test_sliced_tables_and_other_string_types(der_net: Network) -> None:
    """A table sliced from a larger one holds columns that start at an offset into their Arrow
    buffers (the ``connection`` strings are read from them, nulls included); a ``connection``
    column of another string type is read the general way."""
    n = der_net.table("loads").num_rows
    net = _with(der_net, "loads", connection=_cycle([None, "", "wye", "delta", "Delta", "wyes", "Wye"], n))
    loads = net.tables["loads"]
    sliced = loads.slice(3)
    assert sliced.column("connection").chunk(0).offset == 3
    _assert_same(dataclasses.replace(net, tables={**net.tables, "loads": sliced}))
    i = loads.schema.get_field_index("connection")
    large = loads.set_column(i, pa.field("connection", pa.large_string()),
                             loads.column("connection").cast(pa.large_string()))
    _assert_same(dataclasses.replace(net, tables={**net.tables, "loads": large}))

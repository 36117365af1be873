"""Counts and totals of the imported IEEE feeders equal what the OpenDSS engine reports.

Oracle: opendssdirect.py compiling the same script (tests/data/opendss/ieee).
"""
from __future__ import annotations

import numpy as np
import pytest

from gatlang.network.model import Network

from .engine import FEEDERS, totals


def _ours(net: Network) -> dict[str, float]:
    lines = net.table("lines")
    loads = net.table("loads")
    xf = net.table("transformers")
    return {
        "buses": net.table("buses").num_rows,
        "nodes": net.table("dist_nodes").num_rows,
        "lines": lines.num_rows,
        "loads": loads.num_rows,
        "kw": float(np.sum(loads.column("p_mw").to_numpy())) * 1e3,
        "kvar": float(np.sum(loads.column("q_mvar").to_numpy())) * 1e3,
        "transformers": xf.num_rows,
        "transformer_kva": float(sum(sum(k) for k in xf.column("kva").to_pylist())),
        "capacitors": net.table("shunts").num_rows,
        "regcontrols": net.table("regulators").num_rows,
        "switches": int(np.sum(lines.column("switch").to_numpy(zero_copy_only=False))),
    }


@pytest.mark.parametrize("feeder", sorted(FEEDERS))
def test_counts_and_totals_match_engine(feeder: str, imported: dict[str, Network]) -> None:
    engine = totals(FEEDERS[feeder])
    ours = _ours(imported[feeder])
    for key in ("buses", "nodes", "lines", "loads", "transformers", "capacitors", "regcontrols", "switches"):
        assert ours[key] == engine[key], key
    for key in ("kw", "kvar", "transformer_kva"):
        assert ours[key] == pytest.approx(engine[key], rel=1e-12), key


@pytest.mark.parametrize("feeder", sorted(FEEDERS))
def test_bus_names_and_phases_match_engine(feeder: str, imported: dict[str, Network]) -> None:
    import opendssdirect as dss

    totals(FEEDERS[feeder])
    engine_nodes = {n.lower() for n in dss.Circuit.AllNodeNames()}
    ours = set(imported[feeder].table("dist_nodes").column("node_id").to_pylist())
    assert ours == engine_nodes


def test_ieee13_published_data(imported: dict[str, Network]) -> None:
    """Spot checks against the IEEE 13-node report's data, read through the file."""
    net = imported["ieee13"]
    loads = {r["load"]: r for r in net.table("loads").to_pylist()}
    assert loads["671"]["connection"] == "delta" and loads["671"]["model"] == "constant_power"
    assert loads["646"]["conn"] == [2, 3] and loads["646"]["model"] == "constant_impedance"
    assert loads["692"]["model"] == "constant_current"
    regs = {r["regulator"]: r for r in net.table("regulators").to_pylist()}
    assert regs["reg1"]["vreg_v"] == 122 and regs["reg1"]["ptratio"] == 20 and regs["reg1"]["r_v"] == 3
    sw = [r for r in net.table("lines").to_pylist() if r["switch"]]
    assert [r["line"] for r in sw] == ["671692"]
    assert {r["bus"] for r in net.table("buses").to_pylist() if r["kind"] == "ref"} == {"sourcebus"}


def test_ieee13_bus_coordinates_match_engine(imported: dict[str, Network]) -> None:
    import opendssdirect as dss

    totals(FEEDERS["ieee13"])
    buses = imported["ieee13"].table("buses").to_pylist()
    with_xy = [b for b in buses if b["x"] is not None]
    assert len(with_xy) >= 13
    for b in with_xy:
        dss.Circuit.SetActiveBus(b["bus"])
        assert (b["x"], b["y"]) == (dss.Bus.X(), dss.Bus.Y())


@pytest.mark.parametrize("feeder", sorted(FEEDERS))
def test_planning_view_totals_match_engine(feeder: str, imported: dict[str, Network]) -> None:
    """dist_nodes carries every load once (split over its phases); dist_branches one row per phase."""
    engine = totals(FEEDERS[feeder])
    nodes = imported[feeder].table("dist_nodes")
    assert float(np.sum(nodes.column("load_p").to_numpy())) * 1e3 == pytest.approx(engine["kw"])
    assert float(np.sum(nodes.column("load_q").to_numpy())) * 1e3 == pytest.approx(engine["kvar"])
    branches = imported[feeder].table("dist_branches")
    ids = set(nodes.column("node_id").to_pylist())
    assert set(branches.column("from_node").to_pylist()) <= ids
    assert set(branches.column("to_node").to_pylist()) <= ids
    lines = imported[feeder].table("lines")
    phases = sum(sum(1 for k in fc if k) for fc in lines.column("f_conn").to_pylist())
    assert sum(1 for b in branches.column("branch_id").to_pylist() if b.startswith("line.")) == phases

"""Voltage bases carried from the source through transformers equal the engine's bus kV bases.

Oracle: OpenDSS ``Bus.kVBase()`` (line-to-neutral kV) after the script's own
``Set VoltageBases`` and ``CalcVoltageBases``.
"""
from __future__ import annotations

import math

import opendssdirect as dss
import pytest

from gatlang.network.model import Network
from gatlang.network.perunit3 import voltage_base_array, voltage_bases

from .engine import FEEDERS, totals


def _engine_bases(feeder: str) -> dict[str, float]:
    totals(FEEDERS[feeder])
    dss.Text.Command("calcvoltagebases")
    out = {}
    for bus in dss.Circuit.AllBusNames():
        dss.Circuit.SetActiveBus(bus)
        out[bus.lower()] = dss.Bus.kVBase()
    return out


@pytest.mark.parametrize("feeder", sorted(FEEDERS))
def test_bus_nominal_voltage_matches_engine(feeder: str, imported: dict[str, Network]) -> None:
    engine = _engine_bases(feeder)
    buses = imported[feeder].table("buses").to_pylist()
    assert {b["bus"] for b in buses} == set(engine)
    for b in buses:
        assert b["vn_kv"] / math.sqrt(3) == pytest.approx(engine[b["bus"]], rel=1e-9), b["bus"]


@pytest.mark.parametrize("feeder", sorted(FEEDERS))
def test_unsnapped_bases_follow_transformer_ratios(feeder: str, imported: dict[str, Network]) -> None:
    """Without the study's list of standard bases, the carried base is within 5 % of the engine's."""
    engine = _engine_bases(feeder)
    ours = voltage_bases(imported[feeder])
    assert set(ours) == set(engine)
    for bus, kv in ours.items():
        assert kv == pytest.approx(engine[bus], rel=0.05), bus
    arr = voltage_base_array(imported[feeder])
    assert arr.shape == (len(engine),) and not any(math.isnan(x) for x in arr)


@pytest.mark.parametrize("feeder", sorted(FEEDERS))
def test_node_bases_and_per_unit_y(feeder: str, imported: dict[str, Network]) -> None:
    """Per-node bases equal the engine's; the per-unit Y reproduces the engine's node currents in pu."""
    import numpy as np

    from gatlang.network.perunit3 import node_bases, y_per_unit
    from gatlang.network.ybus3 import build_ybus3

    engine = _engine_bases(feeder)
    y, nodes = build_ybus3(imported[feeder])
    vb = node_bases(imported[feeder], nodes)
    assert np.allclose(vb, [engine[n.rsplit(".", 1)[0]] for n in nodes], rtol=1e-9)
    # engine solution: node voltages in volts and in per unit of its own bases
    dss.Solution.Solve()
    v = np.asarray(dss.Circuit.AllBusVolts())
    v = v[0::2] + 1j * v[1::2]
    order = [n.lower() for n in dss.Circuit.AllNodeNames()]
    pos = {k: i for i, k in enumerate(nodes)}
    vv = np.zeros(len(nodes), dtype=complex)
    vv[[pos[k] for k in order]] = v
    s_base = 1.0
    i_pu = y_per_unit(y, vb, s_base) @ (vv / (vb * 1e3))
    i_si = y @ vv
    # pu injections are O(1); node-wise cancellations leave ~1e-9 residues
    np.testing.assert_allclose(i_pu, i_si * (vb * 1e3) / (s_base * 1e6 / 3), rtol=1e-9, atol=1e-6)

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

"""Fixtures shared by the network tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.model import Network
from gatlang.network.opendss.importer import load_opendss

IEEE123 = Path(__file__).resolve().parents[1] / "data" / "opendss3" / "123Bus" / "IEEE123Master.dss"


@pytest.fixture(scope="module")
def ieee123() -> Network:
    """The IEEE 123 node feeder as imported (one per test module: tests may not edit its tables)."""
    sink = DiagnosticSink()
    net = load_opendss(IEEE123, sink)
    assert net is not None, [d.render() for d in sink.errors]
    return net

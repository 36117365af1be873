"""Fixtures of the OpenDSS importer tests: each IEEE feeder imported once per session."""
from __future__ import annotations

import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.model import Network
from gatlang.network.opendss.importer import load_opendss

from .engine import FEEDERS


@pytest.fixture(scope="session")
def imported() -> dict[str, Network]:
    out = {}
    for name, path in FEEDERS.items():
        sink = DiagnosticSink()
        net = load_opendss(path, sink)
        assert net is not None, [d.render() for d in sink.errors]
        out[name] = net
    return out

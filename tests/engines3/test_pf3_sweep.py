"""The three-phase backward-forward sweep (`method = sweep`) against the OpenDSS engine.

Oracle: opendssdirect.py on the same files (as `test_pf3_ieee`).  The sweep
must reach the engine's voltages on IEEE 13, 34, 37 (open-delta regulators
with their jumper) and 123 within the issue's 1e-4 pu / 0.05 deg, its
control loop the engine's taps; a feeder with a closed tie is refused with
GAT0803 naming the branch that closes the loop.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gatlang.engines.pf3 import solve_unbalanced

from .dss_oracle import FEEDERS, at_engine_taps, compare, import_feeder, set_column, solve_engine

VM_TOL = 1e-4      # pu
VA_TOL = 0.05      # degrees
SWEEP_FEEDERS = dict(FEEDERS, ieee37=Path(__file__).resolve().parents[1] / "data" / "opendss" / "ieee" / "37Bus"
                     / "ieee37.dss")


@pytest.mark.parametrize("name", sorted(SWEEP_FEEDERS))
def test_sweep_matches_engine_at_its_taps(name: str) -> None:
    path = SWEEP_FEEDERS[name]
    engine, net = at_engine_taps(path)
    res = solve_unbalanced(net, method="sweep", regulators="fixed")
    assert res.converged and res.method == "sweep", [d.message for d in res.diagnostics]
    dvm, dva, worst_m, worst_a = compare(res, engine)
    assert dvm < VM_TOL, f"{name}: |V| off by {dvm:.2e} pu at {worst_m}"
    assert dva < VA_TOL, f"{name}: angle off by {dva:.3f} deg at {worst_a}"


def test_sweep_control_loop_reaches_engine_taps_and_the_fixed_point() -> None:
    path = FEEDERS["ieee123"]
    shipped = solve_engine(path, tight=False)
    net = import_feeder(path, shipped)
    swept = solve_unbalanced(net, method="sweep")
    assert swept.converged and swept.tap_positions == shipped.tap_positions
    default = solve_unbalanced(import_feeder(path, shipped))
    scale = np.where(default.vbase_v > 0, default.vbase_v, 1.0)
    assert np.max(np.abs(swept.v - default.v) / scale) < 1e-6


def test_sweep_refuses_a_closed_tie() -> None:
    """IEEE 123 with its normally-open ties closed (the file ends them at buses `300_open`, `94_open`)
    is meshed: GAT0803 names the loop closers, and the default method still solves it."""
    path = FEEDERS["ieee123"]
    net = import_feeder(path, solve_engine(path, tight=False))
    to_bus = net.tables["lines"].column("to_bus").to_pylist()
    ties = [name for name, bus in zip(net.tables["lines"].column("line").to_pylist(), to_bus) if bus.endswith("_open")]
    assert len(ties) == 2
    set_column(net, "lines", "to_bus", [bus.removesuffix("_open") for bus in to_bus])
    res = solve_unbalanced(net, method="sweep")
    assert not res.converged
    (diag,) = [d for d in res.diagnostics if d.code == "GAT0803"]
    # each loop is named by the branch that closes it in table order (lines, then transformers)
    assert "2 loop(s)" in diag.message and "loop-closing branches: line sw8, transformer reg4a" in diag.message
    assert solve_unbalanced(net).converged

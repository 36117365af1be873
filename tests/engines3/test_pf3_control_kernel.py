"""The compiled regulator control loop (`pf3_control_kernel`) equals the Python loop it stands in for.

The Python loop (`pf3_controls.python_control_loop`) is what the engine
comparisons validate (taps and voltages against OpenDSS on IEEE 13, 34, 123);
the compiled one must reproduce it to the bit -- voltages, every mismatch of
every round, taps, rounds -- and must step aside, changing nothing, where it
does not apply.
"""
from __future__ import annotations

import numpy as np
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.engines import pf3_controls
from gatlang.engines.pf3 import solve_unbalanced
from gatlang.network.model import Network
from gatlang.network.opendss.importer import load_opendss

from .dss_oracle import FEEDERS

#: IEEE 37's regulators are an open-delta pair (the PT reads between two phases)
CASES = {**FEEDERS, "ieee37": FEEDERS["ieee13"].parents[2] / "opendss" / "ieee" / "37Bus" / "ieee37.dss"}


def _fresh(net: Network) -> Network:
    return Network(net.name, net.base_mva, net.frequency_hz, net.balanced, dict(net.tables))


def _solve(net: Network, compiled: bool, monkeypatch, **options):
    """Solve a fresh copy of ``net``; returns (result, whether the compiled loop was used)."""
    used = []
    original = pf3_controls.compiled_control_loop

    def spy(*args, **kwargs):
        out = original(*args, **kwargs) if compiled else None
        used.append(out is not None)
        return out

    with monkeypatch.context() as m:
        m.setattr(pf3_controls, "compiled_control_loop", spy)
        return solve_unbalanced(_fresh(net), **options), any(used)


@pytest.mark.parametrize("feeder", ["ieee13", "ieee34", "ieee37", "ieee123"])
@pytest.mark.parametrize("load_scale", [0.5, 1.0, 1.3])
def test_compiled_loop_is_the_python_loop_to_the_bit(feeder: str, load_scale: float, monkeypatch) -> None:
    net = load_opendss(CASES[feeder], DiagnosticSink())
    fast, used = _solve(net, True, monkeypatch, load_scale=load_scale)
    slow, _ = _solve(net, False, monkeypatch, load_scale=load_scale)
    assert used
    assert fast.converged and slow.converged
    assert np.array_equal(fast.v, slow.v)
    assert fast.mismatch_history == slow.mismatch_history
    assert (fast.taps, fast.tap_positions) == (slow.taps, slow.tap_positions)
    assert (fast.iterations, fast.control_iterations, fast.method) == (slow.iterations, slow.control_iterations,
                                                                        slow.method)
    assert [d.message for d in fast.diagnostics] == [d.message for d in slow.diagnostics]
    assert fast.branch_flows_table().equals(slow.branch_flows_table())


#: a load beyond what IEEE 123's regulators can follow (some end at a tap limit)
LIMIT_SCALE = 2.5


def test_taps_at_their_limit_are_reported_alike(monkeypatch) -> None:
    """At a load the regulators cannot follow, both loops name the same regulators at a limit."""
    net = load_opendss(FEEDERS["ieee123"], DiagnosticSink())
    fast, used = _solve(net, True, monkeypatch, load_scale=LIMIT_SCALE)
    slow, _ = _solve(net, False, monkeypatch, load_scale=LIMIT_SCALE)
    assert used
    assert [d.message for d in fast.diagnostics] == [d.message for d in slow.diagnostics]
    assert any("tap limit" in d.message for d in fast.diagnostics)
    assert fast.mismatch_history == slow.mismatch_history


def test_a_stalling_round_leaves_it_to_the_python_loop(monkeypatch) -> None:
    """A round the fixed point gives up on needs Newton: the compiled loop declines, nothing is
    changed, and the Python loop's answer (with Newton's rescue) is the result."""
    from gatlang.engines import pf3_fixed

    net = load_opendss(FEEDERS["ieee123"], DiagnosticSink())
    monkeypatch.setattr(pf3_fixed, "STALL_WINDOW", 2)
    monkeypatch.setattr(pf3_fixed, "STALL_RATE", 1e-12)
    res, used = _solve(net, True, monkeypatch)
    ref, _ = _solve(net, False, monkeypatch)
    assert not used
    assert res.converged and res.method == "fixed_point+newton"
    assert np.array_equal(res.v, ref.v) and res.taps == ref.taps


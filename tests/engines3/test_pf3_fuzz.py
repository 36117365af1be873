"""Unbalanced power flow on randomly edited feeders: a solution or coded diagnostics, never a crash.

The importer's own fuzz test (tests/network/opendss/test_mutations.py) checks
that edited files import or fail with located errors; this one solves what
imports, with every method -- so the compiled kernels (which do not check
bounds) meet networks no test file was written for.
"""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatlang.diagnostics import DiagnosticSink
from gatlang.engines.pf3 import solve_unbalanced
from gatlang.network.opendss.importer import load_opendss


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
def test_mutated_feeders_solve_or_say_why(data) -> None:
    """IEEE 13 with random edits (values, properties, lines dropped -- the importer's mutation fuzz):
    whatever imports, every method solves or reports coded diagnostics with a hint."""
    from tests.network.opendss import test_mutations as fuzz

    target = fuzz._WORK / "ieee" / fuzz.FEEDERS["ieee13"].relative_to(fuzz.IEEE)
    target.write_text(data.draw(fuzz.mutated(fuzz.FEEDERS["ieee13"].read_text())), encoding="utf-8")
    net = load_opendss(target, DiagnosticSink())
    if net is None:
        return
    for method in ("fixed_point", "newton", "sweep"):
        res = solve_unbalanced(net, method=method)
        assert res.converged or any(d.code.startswith("GAT08") and d.help for d in res.diagnostics)

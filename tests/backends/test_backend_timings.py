"""The phase timings a solve reports: what benchmarks/opf_passes.py splits "lower" with.

Ipopt's entry is split into the hand-off (NL writer, ASL, values back) and
Ipopt's own clock; a model that HiGHS could not take also reports the time
spent classifying it.  The phases are parts of the solve's wall time, so
they can never add up to more than it.
"""
from __future__ import annotations

import pyomo.environ as pe
import pytest

import backend_models as bm
from gatlang.backends.solvers import solve


def test_ipopt_reports_handoff_and_its_own_time_within_the_wall_time():
    r = solve(bm.rosenbrock())
    assert r.solver == "ipopt" and r.objective == pytest.approx(0.0, abs=1e-8)  # Rosenbrock's minimum
    assert {"handoff", "solve", "classify"} <= set(r.timings)
    assert r.timings["solve"] > 0.0 and all(v >= 0.0 for v in r.timings.values())
    assert sum(r.timings.values()) <= r.wall_time + 1e-9


def test_highs_phases_add_up_to_at_most_the_wall_time():
    r = solve(_lp())
    assert r.objective == pytest.approx(-3.0)
    assert set(r.timings) == {"handoff", "solve", "load"}
    assert sum(r.timings.values()) <= r.wall_time + 1e-9


def _lp():
    """max x + 2y s.t. x + y <= 2, y <= 1, x, y >= 0 (as min of the negation): optimum -3 at (1, 1)."""
    m = pe.ConcreteModel()
    m.x = pe.Var(bounds=(0, None))
    m.y = pe.Var(bounds=(0, 1))
    m.c = pe.Constraint(expr=m.x + m.y <= 2)
    m.obj = pe.Objective(expr=-m.x - 2 * m.y)
    return m

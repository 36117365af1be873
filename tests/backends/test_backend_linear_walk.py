"""linear_walk against Pyomo's own generate_standard_repn (an independent reading of the same expression)."""
from __future__ import annotations

import pyomo.environ as pe
import pytest
from pyomo.repn.standard_repn import generate_standard_repn

from gatlang.backends.linear_walk import linear_row, linear_terms
from gatlang.backends.solvers import solve


def _model() -> pe.ConcreteModel:
    m = pe.ConcreteModel()
    m.I = pe.RangeSet(1, 3)
    m.x = pe.Var(m.I)
    m.p = pe.Param(initialize=2.5, mutable=True)
    m.f = pe.Var(initialize=4.0)
    m.f.fix()
    m.g = pe.Var(m.I, initialize=1.5)
    m.g[2].fix()  # a fixed element of an indexed variable is a constant
    m.e = pe.Expression(expr=3 * m.x[1] - m.x[2])
    return m


def _merged(vars_, coefs) -> dict[str, float]:
    out: dict[str, float] = {}
    for v, c in zip(vars_, coefs):
        out[v.name] = out.get(v.name, 0.0) + c
    return {k: c for k, c in out.items() if c != 0}


LINEAR = [
    lambda m: m.x[1] + 2 * m.x[2] - 3,
    lambda m: m.x[1] - 2.5 * (m.x[2] - m.x[3]) + 1,
    lambda m: -(m.x[1] + m.p * m.x[2]) / 4 + m.f,
    lambda m: m.e * m.p - m.x[1] + m.f * m.x[3],
    lambda m: m.x[1] + m.x[1] - m.x[2] + 0 * m.x[3],
    lambda m: (m.x[1] - m.x[2]) * (m.p + 1),
    lambda m: sum(i * m.x[i] for i in m.I) - sum(m.x[i] for i in m.I),
    lambda m: m.g[1] - m.g[2] + 2 * m.g[2] * m.x[3],
]


@pytest.mark.parametrize("build", LINEAR)
def test_linear_expressions_match_standard_repn(build):
    m = _model()
    expr = build(m)
    got = linear_terms(expr)
    assert got is not None
    repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
    assert repn.nonlinear_expr is None
    assert _merged(got[0], got[1]) == pytest.approx(_merged(repn.linear_vars, repn.linear_coefs))
    assert got[2] == pytest.approx(repn.constant)


@pytest.mark.parametrize("build", [
    lambda m: m.x[1] * m.x[2],
    lambda m: m.x[1] ** 2 + m.x[2],
    lambda m: pe.exp(m.x[1]),
    lambda m: m.x[1] / m.x[2],
    lambda m: m.e * m.x[3],
])
def test_nonlinear_expressions_are_declined(build):
    assert linear_terms(build(_model())) is None


def test_repeated_variable_in_a_row_is_summed_for_highs():
    """max 3x + y with x + x + y <= 4 (i.e. 2x + y <= 4), x, y >= 0: vertices (2, 0) -> 6, (0, 4) -> 4."""
    m = pe.ConcreteModel()
    m.x = pe.Var(bounds=(0, None))
    m.y = pe.Var(bounds=(0, None))
    m.c = pe.Constraint(expr=m.x + m.x + m.y <= 4)
    m.d = pe.Constraint(expr=m.x - m.x + m.y <= 4)  # x cancels: an explicit zero is dropped
    m.obj = pe.Objective(expr=3 * m.x + m.y, sense=pe.maximize)
    r = solve(m)
    assert r.ok and r.objective == pytest.approx(6.0) and m.x.value == pytest.approx(2.0)


RELATIONS = [
    lambda m: m.x[1] + m.f == m.p * (m.x[2] - m.x[3]) + 1,   # variables on both sides (network rows)
    lambda m: 5 <= m.x[1] - m.e,                              # constant on the left
    lambda m: m.e * 2 <= m.x[3] + m.p,
    lambda m: pe.inequality(m.p, m.x[1] + 2 * m.x[2] - m.f, 9),  # ranged with a parameter bound
]


@pytest.mark.parametrize("build", RELATIONS)
def test_relations_read_directly_agree_with_pyomos_bounded_form(build):
    """Oracle: Pyomo's own to_bounded_expression + generate_standard_repn.

    The direct reading may move all terms to one side (a row and its
    negation are the same constraint), so rows are compared up to the sign
    that makes the two coefficient vectors equal.
    """
    m = _model()
    m.c = pe.Constraint(expr=build(m))
    got = linear_row(m.c.expr)
    assert got is not None
    lb, body, ub = m.c.to_bounded_expression(True)
    repn = generate_standard_repn(body, compute_values=True, quadratic=False)
    ref = _merged(repn.linear_vars, repn.linear_coefs)
    ref_lo = None if lb is None else lb - repn.constant
    ref_hi = None if ub is None else ub - repn.constant
    mine = _merged(got[0], got[1])
    sign = 1.0 if mine == pytest.approx(ref) else -1.0
    assert {k: sign * c for k, c in mine.items()} == pytest.approx(ref)
    lo, hi = (got[2], got[3]) if sign > 0 else (None if got[3] is None else -got[3], None if got[2] is None else -got[2])
    assert (lo is None) == (ref_lo is None) and (hi is None) == (ref_hi is None)
    for mine_bound, ref_bound in ((lo, ref_lo), (hi, ref_hi)):
        if mine_bound is not None:
            assert mine_bound == pytest.approx(ref_bound)


def test_relations_that_are_not_linear_rows_are_declined():
    m = _model()
    assert linear_row((m.x[1] * m.x[2] == 1)) is None
    assert linear_row(pe.inequality(m.x[1], m.x[2], 3)) is None  # a variable as a range bound

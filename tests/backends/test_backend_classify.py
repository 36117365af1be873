"""classify(): the problem class read off tiny models whose class is known by construction."""
from __future__ import annotations

import pyomo.environ as pe
import pytest

import backend_models as bm
from gatlang.backends.classify import classify
from gatlang.backends.solver_types import ProblemClass as PC


@pytest.mark.parametrize("build, expected", [
    (bm.wyndor_lp, PC.LP),
    (bm.projection_qp, PC.QP),
    (bm.integer_milp, PC.MILP),
    (bm.nearest_integer_miqp, PC.MIQP),
    (bm.rosenbrock, PC.NLP),
    (bm.disc_qcp, PC.QCP),
    (bm.small_minlp, PC.MINLP),
])
def test_classify_reference_models(build, expected):
    assert classify(build()) is expected


def test_unused_integer_variable_keeps_an_lp_linear():
    m = bm.wyndor_lp()
    m.unused = pe.Var(domain=pe.Binary)
    assert classify(m) is PC.LP


def test_fixed_integer_variable_is_a_parameter():
    m = bm.wyndor_lp()
    m.k = pe.Var(domain=pe.Binary)
    m.k.fix(1)
    m.plant1.deactivate()
    m.switch = pe.Constraint(expr=m.x <= 4 * m.k)
    assert classify(m) is PC.LP


def test_deactivated_nonlinear_row_is_ignored():
    m = bm.wyndor_lp()
    m.curve = pe.Constraint(expr=pe.sin(m.x) <= 0.5)
    assert classify(m) is PC.NLP
    m.curve.deactivate()
    assert classify(m) is PC.LP


def test_bilinear_constraint_is_quadratic_and_integer_after_nonlinear_row_counts():
    m = pe.ConcreteModel()
    m.x = pe.Var()
    m.y = pe.Var()
    m.bil = pe.Constraint(expr=m.x * m.y >= 1)
    m.obj = pe.Objective(expr=m.x + m.y)
    assert classify(m) is PC.QCP
    m.curve = pe.Constraint(expr=pe.log(m.x) >= 0)
    m.b = pe.Var(domain=pe.Binary)
    m.later = pe.Constraint(expr=m.y <= 5 * m.b)  # integrality seen only after the nonlinear row
    assert classify(m) is PC.MINLP


def test_rows_inside_blocks_are_scanned():
    m = bm.wyndor_lp()
    m.sub = pe.Block()
    m.sub.z = pe.Var(domain=pe.Binary)
    m.sub.link = pe.Constraint(expr=m.x <= 4 * m.sub.z)
    assert classify(m) is PC.MILP

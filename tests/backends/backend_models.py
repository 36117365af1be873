"""Tiny Pyomo models with optima known from the mathematics (the outside oracle).

Each builder documents where its optimum comes from, so a test never checks
a number the project produced itself.
"""
from __future__ import annotations

import pyomo.environ as pe


def wyndor_lp() -> pe.ConcreteModel:
    """Hillier & Lieberman's Wyndor Glass LP: max 3x + 5y; optimum x=2, y=6, objective 36."""
    m = pe.ConcreteModel()
    m.x = pe.Var(bounds=(0, None))
    m.y = pe.Var(bounds=(0, None))
    m.plant1 = pe.Constraint(expr=m.x <= 4)
    m.plant2 = pe.Constraint(expr=2 * m.y <= 12)
    m.plant3 = pe.Constraint(expr=3 * m.x + 2 * m.y <= 18)
    m.profit = pe.Objective(expr=3 * m.x + 5 * m.y, sense=pe.maximize)
    return m


def projection_qp() -> pe.ConcreteModel:
    """Project (1, 2) onto x + y <= 1: the KKT point is (0, 1), objective 1 + 1 = 2."""
    m = pe.ConcreteModel()
    m.x = pe.Var()
    m.y = pe.Var()
    m.half = pe.Constraint(expr=m.x + m.y <= 1)
    m.dist = pe.Objective(expr=(m.x - 1) ** 2 + (m.y - 2) ** 2)
    return m


def integer_milp() -> pe.ConcreteModel:
    """max 5x + 4y, 6x + 4y <= 24, x + 2y <= 6, x, y >= 0 integer.

    The LP relaxation peaks at (3, 1.5) with 21; enumerating the integer
    points of the polygon gives (4, 0) with 20 as the integer optimum.
    """
    m = pe.ConcreteModel()
    m.x = pe.Var(domain=pe.NonNegativeIntegers)
    m.y = pe.Var(domain=pe.NonNegativeIntegers)
    m.c1 = pe.Constraint(expr=6 * m.x + 4 * m.y <= 24)
    m.c2 = pe.Constraint(expr=m.x + 2 * m.y <= 6)
    m.obj = pe.Objective(expr=5 * m.x + 4 * m.y, sense=pe.maximize)
    return m


def nearest_integer_miqp() -> pe.ConcreteModel:
    """Nearest integer point to (2.6, 1.4): (3, 1), objective 0.4^2 + 0.4^2 = 0.32."""
    m = pe.ConcreteModel()
    m.x = pe.Var(domain=pe.Integers, bounds=(-10, 10))
    m.y = pe.Var(domain=pe.Integers, bounds=(-10, 10))
    m.obj = pe.Objective(expr=(m.x - 2.6) ** 2 + (m.y - 1.4) ** 2)
    return m


def rosenbrock() -> pe.ConcreteModel:
    """Rosenbrock's function from the classic start (-1.2, 1): minimum 0 at (1, 1)."""
    m = pe.ConcreteModel()
    m.x = pe.Var(initialize=-1.2, bounds=(-5, 5))
    m.y = pe.Var(initialize=1.0, bounds=(-5, 5))
    m.obj = pe.Objective(expr=(1 - m.x) ** 2 + 100 * (m.y - m.x ** 2) ** 2)
    return m


def disc_qcp() -> pe.ConcreteModel:
    """min x + y inside the disc x^2 + y^2 <= 2: optimum (-1, -1), objective -2."""
    m = pe.ConcreteModel()
    m.x = pe.Var(initialize=0.0)
    m.y = pe.Var(initialize=0.0)
    m.disc = pe.Constraint(expr=m.x ** 2 + m.y ** 2 <= 2)
    m.obj = pe.Objective(expr=m.x + m.y)
    return m


def small_minlp() -> pe.ConcreteModel:
    """min (n - 1.6)^4 + (y - n)^2 with n integer in [0, 5], exp(y) <= exp(1.8).

    The exponential constraint is y <= 1.8.  For n = 2 the best y is 1.8:
    0.4^4 + 0.2^2 = 0.0656; n = 1 gives 0.6^4 = 0.1296 (y = 1) and n = 3
    gives 1.4^4 > 1: the optimum is n = 2, y = 1.8, objective 0.0656.
    """
    m = pe.ConcreteModel()
    m.n = pe.Var(domain=pe.Integers, bounds=(0, 5))
    m.y = pe.Var(bounds=(-10, 10))
    m.cap = pe.Constraint(expr=pe.exp(m.y) <= pe.exp(1.8))
    m.obj = pe.Objective(expr=(m.n - 1.6) ** 4 + (m.y - m.n) ** 2)
    return m


def infeasible_balance_lp() -> pe.ConcreteModel:
    """Four indexed balance rows and limits; only balance[3] (x[3] >= 3) and limit[3] (x[3] <= 2) clash.

    Bounds are loose (0 .. 10), so the only irreducible conflict is exactly
    those two rows.
    """
    m = pe.ConcreteModel()
    m.I = pe.RangeSet(1, 4)
    m.x = pe.Var(m.I, bounds=(0, 10))
    m.balance = pe.Constraint(m.I, rule=lambda m, i: m.x[i] >= i)
    m.limit = pe.Constraint(m.I, rule=lambda m, i: m.x[i] <= 2 if i == 3 else m.x[i] <= 9)
    m.cost = pe.Objective(expr=sum(m.x[i] for i in m.I))
    return m


def unbounded_lp() -> pe.ConcreteModel:
    """max x with x - y <= 1, x, y >= 0: the ray (t, t) improves forever."""
    m = pe.ConcreteModel()
    m.x = pe.Var(bounds=(0, None))
    m.y = pe.Var(bounds=(0, None))
    m.c = pe.Constraint(expr=m.x - m.y <= 1)
    m.obj = pe.Objective(expr=m.x, sense=pe.maximize)
    return m

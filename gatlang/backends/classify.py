"""Problem-class detection: which mathematical class a Pyomo model belongs to.

Why: the solver is chosen by class (LP/QP/MILP -> HiGHS, MINLP -> SCIP,
NLP -> Ipopt), and the class must be read off the model the compiler built
rather than declared by hand, so that a formulation edited to add one
quadratic term cannot silently be sent to an LP solver.

How, and why this way: two facts decide the class, *integrality* (any
active integer or binary variable) and the highest *polynomial degree* of
the objective and of the constraint bodies (``None`` from Pyomo means not a
polynomial, i.e. nonlinear).  ``generate_standard_repn`` would give the same
answer but builds a full representation of every row, which costs seconds on
100k-row networks.  Instead:

* linear bodies (what the compiler emits for almost every row) are
  recognised by :mod:`.linear_walk`, a class-dispatch walk several times
  cheaper than Pyomo's visitors;
* anything else gets Pyomo's ``polynomial_degree`` visitor;
* the scan stops as soon as a non-polynomial row is seen, because then the
  constraint part is "nonlinear" whatever follows.

Integrality is read from the variables that are *used*: declared-but-unused
integer variables (left over from a formulation option) must not turn an LP
into a MILP.  To keep that cheap, the discrete variables are listed once;
when there are none (every LP/NLP) no row's variables are collected at all,
and otherwise collection stops at the first row that uses one.
"""
from __future__ import annotations

from typing import Any, Iterable

from . import solver_env  # noqa: F401  (before Pyomo)
from .linear_walk import linear_terms
from .solver_types import ProblemClass

import pyomo.environ as pe
from pyomo.core.expr.visitor import identify_variables, polynomial_degree

#: Degree used for "not a polynomial": larger than any real degree.
NONLINEAR = 1 << 30


def expression_degree(expr: Any, collect: bool = False) -> tuple[int, Iterable[Any]]:
    """Polynomial degree of ``expr`` (NONLINEAR when not polynomial) and, if ``collect``, its variables.

    Linear expressions are recognised by :func:`.linear_walk.linear_terms`
    (a cheap walk over the node kinds linear rows are made of); only the
    rest go through Pyomo's ``polynomial_degree`` visitor.
    """
    lin = linear_terms(expr)
    if lin is not None:
        return (1 if lin[0] else 0), lin[0]
    deg = polynomial_degree(expr)
    used = list(identify_variables(expr, include_fixed=False)) if collect else ()
    return (NONLINEAR if deg is None else int(deg)), used


def _is_discrete(v: Any) -> bool:
    return not v.fixed and not v.is_continuous()


def classify(model: pe.ConcreteModel) -> ProblemClass:
    """The :class:`ProblemClass` of ``model``'s active objective and constraints.

    QCP is returned for any quadratic constraint, convex or not; SOCP is never
    inferred (it is a name users and formulations give, solved like QCP).
    """
    discrete = {id(v) for v in model.component_data_objects(pe.Var, descend_into=True) if _is_discrete(v)}
    integer = False

    def note(variables: Iterable[Any]) -> None:
        nonlocal integer
        if discrete and not integer:
            integer = any(id(v) in discrete for v in variables)

    obj_deg = 0
    for obj in model.component_data_objects(pe.Objective, active=True, descend_into=True):
        deg, used = expression_degree(obj.expr, bool(discrete))
        obj_deg = max(obj_deg, deg)
        note(used)
    con_deg = 0
    for con in model.component_data_objects(pe.Constraint, active=True, descend_into=True):
        deg, used = expression_degree(con.body, bool(discrete) and not integer)
        con_deg = max(con_deg, deg)
        note(used)
        if con_deg == NONLINEAR and (integer or not discrete):
            break  # nothing later can change the class
    return _class_of(integer, obj_deg, con_deg)


def _class_of(integer: bool, obj_deg: int, con_deg: int) -> ProblemClass:
    """Combine integrality and degrees into a class."""
    PC = ProblemClass
    if obj_deg > 2 or con_deg > 2:
        return PC.MINLP if integer else PC.NLP
    if con_deg == 2:
        return PC.MIQCP if integer else PC.QCP
    if obj_deg == 2:
        return PC.MIQP if integer else PC.QP
    return PC.MILP if integer else PC.LP

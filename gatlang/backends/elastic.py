"""Explain a locally infeasible NLP by its least-violation point (an "elastic" solve).

Why: for a large nonlinear model (AC OPF on a real feeder) neither HiGHS's
IIS (linear only) nor a deletion filter (one global SCIP solve per row) is
affordable.  One more Ipopt solve is: every row gets non-negative slacks,
the objective becomes the total slack, and the rows left with a positive
slack are those that could not be met near where Ipopt searched.  The
limits that held them back are reported too: inequality rows and variable
bounds that are *tight* at that point and share a variable with a violated
row (equalities are always tight and are left out unless violated).

This is a local explanation, not a proof: :class:`~.iis.Conflict` is
returned with ``minimal=False`` and ``method="elastic"``, and the message
says so.

The work is done on a clone (slack rows must be added); names are mapped
back to the caller's components by position, so a ``name_of`` that knows
the compiler's own components still works.
"""
from __future__ import annotations

from typing import Any, Callable

from . import solver_env  # noqa: F401  (before Pyomo)
from .iis import Conflict, NameOf, _bound_text, _vars_of, default_name

import pyomo.environ as pe

#: Slack (or distance to a bound) below which a row counts as met (or a limit as tight).
TOLERANCE = 1e-6


def _elastic_clone(model: Any) -> tuple[Any, list[tuple[Any, Any]], dict[int, Any], Any]:
    """Clone ``model`` with every active row softened by slacks and the total slack as objective.

    Returns (clone, [(original row, clone row)], clone-var id -> original var, slack block).
    """
    rows = list(model.component_data_objects(pe.Constraint, active=True))
    variables = list(model.component_data_objects(pe.Var))
    work = model.clone()
    pairs = list(zip(rows, work.component_data_objects(pe.Constraint, active=True)))
    var_map = {id(c): o for o, c in zip(variables, work.component_data_objects(pe.Var))}
    for obj in work.component_data_objects(pe.Objective, active=True):
        obj.deactivate()
    blk = pe.Block()
    work.add_component("_gat_elastic", blk)
    blk.K = pe.RangeSet(0, len(pairs) - 1)
    blk.below = pe.Var(blk.K, bounds=(0, None), initialize=0.0)
    blk.above = pe.Var(blk.K, bounds=(0, None), initialize=0.0)
    blk.rows = pe.ConstraintList()
    for k, (_, con) in enumerate(pairs):
        lb, body, ub = con.to_bounded_expression(True)
        con.deactivate()
        if lb is not None and ub is not None and lb == ub:
            blk.rows.add(body + blk.below[k] - blk.above[k] == lb)
            continue
        if lb is not None:
            blk.rows.add(body + blk.below[k] >= lb)
        else:
            blk.below[k].fix(0.0)
        if ub is not None:
            blk.rows.add(body - blk.above[k] <= ub)
        else:
            blk.above[k].fix(0.0)
    blk.total = pe.Objective(expr=sum(blk.below[k] + blk.above[k] for k in blk.K))
    return work, pairs, var_map, blk


def _tight(con: Any) -> bool:
    """An inequality row at one of its bounds."""
    lb, body, ub = con.to_bounded_expression(True)
    val = pe.value(body, exception=False)
    if val is None or (lb is not None and ub is not None and lb == ub):
        return False
    return (lb is not None and abs(val - lb) <= TOLERANCE * (1 + abs(lb))) or \
        (ub is not None and abs(val - ub) <= TOLERANCE * (1 + abs(ub)))


def elastic_conflict(model: Any, run_local: Callable[[Any], bool],
                     name_of: NameOf = default_name) -> Conflict | None:
    """The rows violated at the least-violation point, plus the tight limits next to them.

    ``run_local(model) -> bool`` solves the elastic clone (Ipopt) and says
    whether it converged; None is returned when it did not or nothing is
    violated (then the original failure was numerical, not infeasibility).
    """
    if not any(True for _ in model.component_data_objects(pe.Constraint, active=True)):
        return None
    work, pairs, var_map, blk = _elastic_clone(model)
    if not run_local(work):
        return None
    slack = {k: pe.value(blk.below[k]) + pe.value(blk.above[k]) for k in blk.K}
    violated = [k for k in blk.K if slack[k] > TOLERANCE]
    if not violated:
        return None
    near = {id(v): v for k in violated for v in _vars_of(pairs[k][1])}
    met = set(blk.K) - set(violated)
    tight_rows = [k for k in blk.K if k in met and _tight(pairs[k][1])
                  and any(id(v) in near for v in _vars_of(pairs[k][1]))]
    bounds: list[str] = []
    for v in near.values():
        for which, bound in (("lb", v.lb), ("ub", v.ub)):
            if bound is not None and abs(v.value - bound) <= TOLERANCE * (1 + abs(bound)):
                bounds.append(_bound_text(name_of(var_map[id(v)]), which, bound))
    return Conflict(constraints=[name_of(pairs[k][0]) for k in violated + tight_rows],
                    bounds=bounds, minimal=False, method="elastic")

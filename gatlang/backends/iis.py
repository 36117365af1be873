"""Name the constraints behind an infeasible model (an irreducible infeasible subset).

Why: "infeasible" alone sends a user hunting through every constraint of a
network; the few rows that actually conflict (say ``p_balance[3]`` with the
bounds of ``pg[2]``) usually point straight at a data error.

Two methods, cheapest first:

1. HiGHS's own IIS (``Highs.getIis`` with ``iis_strategy`` = from-LP +
   irreducible).  Linear models only; for a MILP it works on the LP
   relaxation, which is still a valid conflict when the relaxation is
   infeasible.  Pyomo's ``pyomo.contrib.iis.write_iis`` supports only
   CPLEX, Gurobi and Xpress, and ``compute_infeasibility_explanation`` only
   logs text, so neither is used.
2. A deletion filter (Chinneck): drop one constraint or bound at a time and
   keep it dropped while the rest stays infeasible.  Works with any solver
   that *proves* infeasibility (HiGHS, SCIP) and for integer models; it costs
   one solve per candidate, so it runs under a time budget and reports a
   smaller-but-not-minimal set when the budget runs out.

Names come from ``name_of`` (by default Pyomo's own names, which the compiler
makes equal to the .gat constraint names such as ``p_balance[3]``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import solver_env  # noqa: F401  (before Pyomo)

NameOf = Callable[[Any], str]


def default_name(component: Any) -> str:
    """Pyomo's fully qualified name: ``p_balance[3]`` or ``block.p_balance[3]``."""
    return component.getname(fully_qualified=True)


@dataclass
class Conflict:
    """A set of constraints and bounds that cannot hold together."""

    constraints: list[str] = field(default_factory=list)
    bounds: list[str] = field(default_factory=list)
    minimal: bool = False
    method: str = ""

    def __bool__(self) -> bool:
        return bool(self.constraints or self.bounds)


def _bound_text(name: str, which: str, value: float) -> str:
    return f"{name} >= {value:g}" if which == "lb" else f"{name} <= {value:g}"


# ---------------------------------------------------------------- HiGHS IIS

def highs_iis(model: Any, name_of: NameOf = default_name, instance: Any = None) -> Conflict | None:
    """Irreducible infeasible subset from HiGHS for a linear Pyomo model; None if HiGHS finds none.

    ``instance``: the :class:`~.highs_direct.HighsInstance` that just proved
    infeasibility, reused to avoid a second hand-off of a large model.
    """
    from .highs_direct import load

    inst = instance if instance is not None else load(model)
    return iis_of_loaded(inst.highs, lambda r: name_of(inst.constraints[r]),
                         lambda c: name_of(inst.variables[c]))


def iis_of_loaded(h: Any, row_name: Callable[[int], str], col_name: Callable[[int], str]) -> Conflict | None:
    """HiGHS's IIS of the model loaded in ``h``, named by row and column index.

    Shared by the Pyomo route and the matrix route (:mod:`.matrix`); bound
    values are read from HiGHS's own copy of the model.
    """
    import highspy

    h.setOptionValue("output_flag", False)
    # from-LP (2) + irreducible (4): HiGHS's documented way to get a minimal set.
    h.setOptionValue("iis_strategy", int(highspy._core.IisStrategy.kIisStrategyFromLp)
                     | int(highspy._core.IisStrategy.kIisStrategyIrreducible))
    status, iis = h.getIis()
    if status != highspy.HighsStatus.kOk or not iis.valid_ or not (iis.row_index_ or iis.col_index_):
        return None
    lp = h.getLp()
    lower, upper, boxed = 2, 3, 4  # HighsIis bound status codes (kIisBoundStatusLower, ...)
    out = Conflict(method="highs-iis", minimal=True)
    out.constraints.extend(row_name(r) for r in iis.row_index_)
    for col, bstat in zip(iis.col_index_, iis.col_bound_):
        lo, hi = lp.col_lower_[col], lp.col_upper_[col]
        if bstat in (lower, boxed) and np.isfinite(lo):
            out.bounds.append(_bound_text(col_name(col), "lb", lo))
        if bstat in (upper, boxed) and np.isfinite(hi):
            out.bounds.append(_bound_text(col_name(col), "ub", hi))
    return out if out else None


# ---------------------------------------------------------------- deletion filter

FeasibilityCheck = Callable[[Any], "bool | None"]  # True feasible, False infeasible, None unknown


def deletion_filter(model: Any, is_feasible: FeasibilityCheck, name_of: NameOf = default_name,
                    time_budget: float = 30.0, max_solves: int = 500) -> Conflict | None:
    """Chinneck's deletion filter over constraints, then over continuous-variable bounds.

    Works on the caller's model *in place* and restores it (active flags,
    bounds, variable values) before returning: a clone would break a
    ``name_of`` that maps the compiler's own components to .gat names by
    identity.  The objective is switched off: only feasibility matters and
    it makes every check cheaper.
    """
    from pyomo.environ import Constraint, Objective, Var

    objectives = list(model.component_data_objects(Objective, active=True))
    cons = list(model.component_data_objects(Constraint, active=True))
    saved_values = [(v, v.value) for v in model.component_data_objects(Var)]
    changed_bounds: list[tuple[Any, str, float]] = []
    deadline = time.monotonic() + time_budget
    for obj in objectives:
        obj.deactivate()
    try:
        if is_feasible(model) is not False:
            return None
        solves = 0
        complete = True
        for con in cons:
            if time.monotonic() > deadline or solves >= max_solves:
                complete = False
                break
            con.deactivate()
            solves += 1
            if is_feasible(model) is not False:  # needed (or undecidable): keep it
                con.activate()
        remaining = [c for c in cons if c.active]

        needed_bounds: list[tuple[Any, str, float]] = []
        if complete:
            involved = {id(v): v for c in remaining for v in _vars_of(c)}
            candidates = [(v, which) for v in involved.values() if v.is_continuous() and not v.fixed
                          for which in ("lb", "ub") if (v.lb if which == "lb" else v.ub) is not None]
            for v, which in candidates:
                if time.monotonic() > deadline or solves >= max_solves:
                    complete = False
                    break
                bound = v.lb if which == "lb" else v.ub
                (v.setlb if which == "lb" else v.setub)(None)
                changed_bounds.append((v, which, bound))
                solves += 1
                if is_feasible(model) is not False:
                    (v.setlb if which == "lb" else v.setub)(bound)
                    changed_bounds.pop()
                    needed_bounds.append((v, which, bound))
        return Conflict(constraints=[name_of(c) for c in remaining],
                        bounds=[_bound_text(name_of(v), w, b) for v, w, b in needed_bounds],
                        minimal=complete, method="deletion-filter")
    finally:
        for v, which, bound in changed_bounds:
            (v.setlb if which == "lb" else v.setub)(bound)
        for c in cons:
            c.activate()
        for obj in objectives:
            obj.activate()
        for v, val in saved_values:
            v.set_value(val, skip_validation=True)


def _vars_of(con: Any) -> list[Any]:
    from pyomo.core.expr.visitor import identify_variables

    return list(identify_variables(con.body, include_fixed=False))


def explain_infeasibility(model: Any, linear: bool, check: FeasibilityCheck | None,
                          name_of: NameOf = default_name, time_budget: float = 30.0,
                          instance: Any = None) -> Conflict | None:
    """Best available conflict for an infeasible model, or None when none could be found.

    ``linear``: the model has only linear constraints (HiGHS IIS applies).
    ``check``: a feasibility oracle that *proves* infeasibility, for the
    deletion filter; None when no such solver fits the model (NLP with
    Ipopt only), in which case only the HiGHS route is tried.
    """
    if linear:
        try:
            found = highs_iis(model, name_of, instance)
        except Exception:  # fall through to the generic method
            found = None
        if found:
            return found
    if check is None:
        return None
    return deletion_filter(model, check, name_of, time_budget)

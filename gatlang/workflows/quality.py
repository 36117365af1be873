"""How much an OPF answer can be trusted: global or local optimum, and relaxation tightness.

Why in every run.json: "optimal" from Ipopt on a non-convex AC model is a
*local* optimum, and an optimal relaxation (socwr, socbf) is a *bound* that is
also an operating point only where its cones are tight.  A planner reading a
number needs to know which; the formulations say what they are (`is exact`,
`is relaxation, convex`, ... -- gatlang.semantics.capabilities.PROPERTIES) and
a relaxation names its per-element gap as the expression `relaxation_gap`
(>= 0, zero where the cone is tight).  On a radial network tight cones mean
the relaxed optimum is an AC operating point; on a meshed one they do not
(the angles around loops must also agree), and the report says "unknown".
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gatlang.semantics.capabilities import of as capabilities_of

if TYPE_CHECKING:
    from gatlang.backends.solver_types import SolveResult
    from gatlang.model.elaborate import ModelBuilder
    from gatlang.workflows.base import Step

#: A cone gap below this (pu^2) counts as tight: the solver's own feasibility tolerance.
TIGHT = 1e-6
#: Problem classes whose solvers (HiGHS, SCIP) prove global optimality when they report optimal.
GLOBAL_CLASSES = ("lp", "milp", "qp", "miqp")


def optimality(properties: tuple[str, ...], status: str, problem_class: str | None) -> str:
    """'global', 'local' or the solve status when there is no optimum to qualify."""
    if status not in ("optimal", "locally_optimal"):
        return status
    if "convex" in properties or (status == "optimal" and problem_class in GLOBAL_CLASSES):
        return "global"
    return "local"


def relaxation_report(builder: "ModelBuilder") -> dict[str, Any] | None:
    """Largest and mean `relaxation_gap`, the element where it is largest, how many are not tight."""
    import pyomo.environ as pyo

    comp = builder.components.get("relaxation_gap")
    if comp is None or comp.what != "expr" or not comp.keys:
        return None
    values = np.asarray([pyo.value(comp.values[k] if k in comp.values else comp.compute(k)) for k in comp.keys])
    values = np.maximum(values, 0.0)        # a cone met to the solver's tolerance may show -1e-9
    worst = int(np.argmax(values))
    tight = bool(values.max() <= TIGHT)
    meshed = bool(builder.view.meshed)
    return {"max_gap": float(values.max()), "mean_gap": float(values.mean()),
            "not_tight": int(np.sum(values > TIGHT)), "elements": len(values),
            "worst": builder.display_name("relaxation_gap", comp.index_kinds, comp.keys[worst]),
            "tight": tight,
            # on a tree, tight cones mean the relaxed point is an AC operating point (the angles
            # follow branch by branch); around a loop the angles must also add up, which tight
            # cones do not show (pglib case5: every cone tight, objective 14.5 % below AC)
            "exact": ("yes" if tight else "no") if not meshed else ("no" if not tight else "unknown"),
            "meshed": meshed}


def record_quality(step: "Step", builder: "ModelBuilder | None", result: "SolveResult") -> None:
    """Add `formulation_is`, `optimality` and (relaxations) `relaxation` to the step's record."""
    form = step.formulation
    props = capabilities_of(form).properties if form is not None else ()
    step.record["formulation_is"] = list(props)
    solved = result.to_dict()
    step.record["optimality"] = optimality(props, solved["status"], solved.get("solver", {}).get("problem_class"))
    if builder is None or not result.has_solution:
        return
    report = relaxation_report(builder)
    if report is None:
        return
    step.record["relaxation"] = report
    if report["exact"] == "unknown":
        step.record.setdefault("notes", []).append(
            "the relaxation's cones are tight, but on a meshed network that does not prove the relaxed "
            "point is an AC operating point (angles around loops are not checked); compare with acp")
    if not report["tight"]:
        step.sink.warning(
            "GAT0409", f"the {form.name if form else ''} relaxation is not tight on {report['not_tight']} of "
                       f"{report['elements']} elements (largest gap {report['max_gap']:.3g} pu^2 at "
                       f"{report['worst']}): the objective is a bound, and the voltages and flows are not an "
                       "operating point there", step.run.span,
            help="solve the same run with an exact formulation (acp) for an operating point, "
                 "or compare both with `run compare`")

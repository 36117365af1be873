"""Turn a non-optimal solve outcome into a coded, actionable diagnostic.

Why a module of its own: the wording (what happened, what to try next) is
the part users read; keeping it apart from the adapters keeps both short and
lets the code pages (gatlang/explain/GAT06xx.md) be checked against one place.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostic, Span, error, warning
from .solver_types import SolveStatus

if TYPE_CHECKING:
    from .solver_types import SolveResult

_MAX_LISTED = 12


def _conflict_notes(result: "SolveResult") -> list[str]:
    items = list(result.conflicting_constraints) + list(result.conflicting_bounds)
    if not items:
        return []
    shown = ", ".join(f"`{n}`" for n in items[:_MAX_LISTED])
    more = f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    if result.conflict_method == "elastic":
        return [f"at the point closest to feasibility that {result.solver} found, these constraints are "
                f"violated or pinned against each other (a local explanation, not a proof): {shown}{more}"]
    kind = "cannot all hold together" if result.conflict_is_minimal else \
        "include a conflict (the set could not be narrowed down to a minimal one in time)"
    return [f"these constraints and bounds {kind}: {shown}{more}"]


def nonconvex_qp(detail: str) -> Diagnostic:
    """GAT0615: HiGHS refused a QP whose objective is not convex."""
    return error("GAT0615", "HiGHS cannot solve this QP: its quadratic objective is not convex",
                 notes=(detail,),
                 help="write `solver = scip` for a global optimum (slow on large models) or `solver = ipopt` "
                      "for a local one; or check the sign of the quadratic terms (minimise a convex function, "
                      "maximise a concave one)")


def located(diag: Diagnostic, span: Span | None) -> Diagnostic:
    """``diag`` placed at ``span`` when it has no location of its own (the solver layer knows none)."""
    if span is None or diag.span is not None:
        return diag
    return dataclasses.replace(diag, span=span)


def outcome_diagnostic(result: "SolveResult", span: Span | None) -> Diagnostic | None:
    """The diagnostic for ``result``; None when it is (locally) optimal without caveats."""
    if result.errors:
        return located(result.errors[0], span)
    st = result.status
    who = f"{result.solver} {result.solver_version or ''}".strip()
    base_notes = [f"{who}: {result.message}"] if result.message else []
    if st is SolveStatus.OPTIMAL:
        return None
    if st is SolveStatus.LOCALLY_OPTIMAL:
        return None
    proven = bool(result.conflicting_constraints or result.conflicting_bounds) \
        and result.conflict_method != "elastic"
    if st is SolveStatus.INFEASIBLE and result.solver == "ipopt" and not proven:
        return error("GAT0612", "Ipopt converged to a point of local infeasibility", span,
                     notes=base_notes + _conflict_notes(result),
                     help="the model may still be feasible: try a different starting point "
                          "(e.g. a flat start), check limits and data, or try `solver = scip`, which proves "
                          "infeasibility globally")
    if st is SolveStatus.INFEASIBLE:
        notes = base_notes + _conflict_notes(result)
        hint = ("check the data of the named constraints and bounds: a load larger than the generation "
                "limits, an impossible voltage band, a wrong unit") if result.conflicting_constraints \
            or result.conflicting_bounds else \
            "no conflict set could be computed; relax limits one at a time to find the culprit"
        return error("GAT0602", "the model is infeasible: no point satisfies all constraints", span,
                     notes=notes, help=hint)
    if st is SolveStatus.UNBOUNDED:
        return error("GAT0603", "the model is unbounded: the objective can improve without limit", span,
                     notes=base_notes,
                     help="a variable in the objective probably lacks a bound (e.g. generation cost with no "
                          "`pmax`), or the objective sense is wrong")
    if st is SolveStatus.ITERATION_LIMIT:
        kept = " The best point found is kept." if result.has_solution else ""
        return warning("GAT0604", f"{result.solver} stopped at its iteration limit before converging.{kept}",
                       span, notes=base_notes + [f"options used: {result.options}"],
                       help="raise `max_iter`, or improve the starting point and scaling of the model")
    if st is SolveStatus.TIME_LIMIT:
        gap = ""
        if result.has_solution and result.objective is not None and result.objective_bound is not None:
            denom = max(abs(result.objective), 1e-10)
            gap = f" Best objective {result.objective:g}, bound {result.objective_bound:g} " \
                  f"(gap {abs(result.objective - result.objective_bound) / denom:.2%})."
        return warning("GAT0605", f"{result.solver} stopped at its time limit before proving optimality.{gap}",
                       span, notes=base_notes,
                       help="raise `time_limit`, or accept a looser `mip_gap`")
    return error("GAT0606", f"{result.solver} failed: {result.message}", span,
                 notes=[f"options used: {result.options}"] if result.options else [],
                 help="this is a solver failure, not a finding about the network: check the model for "
                      "NaN or huge coefficients, or try another solver")

"""The one entry point that solves a Pyomo model: :func:`solve`.

Why one entry point: workflows and the compiler should not know which solver
binding is installed, how each names its options, or how each reports
"infeasible".  :func:`solve` does, in order:

1. classify the model (:mod:`.classify`) unless the caller knows the class;
2. pick the solver (:mod:`.solver_registry`): the user's, or the default for
   the class with a stated fallback (GAT0601) when it is missing;
3. map the common option vocabulary and check raw option names against the
   solver's real ones (:mod:`.solver_options`), refusing to run on a typo;
4. run the adapter (:mod:`.solver_adapters`), which loads variable values
   into the model when a solution exists;
5. for an infeasible model, name the conflicting constraints (:mod:`.iis`);
6. wrap it all in a :class:`SolveResult`.

It never raises for solver-side problems: anything a solver or its binding
throws becomes an ``ERROR`` result with a GAT0606 diagnostic.

Hand-off per class (the slow part on large models, see DESIGN.md):

* LP, QP, MILP -> HiGHS through :mod:`.highs_direct`, gatlang's bulk loader,
  10-30x faster than Pyomo's persistent interfaces and 3-10x faster than its
  LP writer at 100k rows (``benchmarks/handoff_lp.py``).  When no solver is
  named the model is loaded first and the class read off the loaded matrix,
  so the rows are walked once, not twice;
* MIQP, MIQCP, MINLP (and the NLP fallback) -> SCIP through
  ``pyomo.contrib.solver``'s ``scip_direct``, the only Pyomo route to
  pyscipopt;
* NLP, QCP, SOCP -> Ipopt through PyNumero (the NL writer and the ASL), the
  only Ipopt route on this machine (no ``ipopt`` executable).
"""
from __future__ import annotations

import time
from typing import Any, Callable, Mapping

from . import solver_env  # noqa: F401  (before Pyomo)
from ..diagnostics import Diagnostic, error, warning
from .classify import classify
from .elastic import elastic_conflict
from .iis import FeasibilityCheck, default_name, explain_infeasibility
from .solver_adapters import ADAPTERS, RawOutcome
from .solver_messages import nonconvex_qp
from .solver_options import map_options
from .solver_registry import canonical_name, choose_solver, solver_info
from .solver_types import ProblemClass, SolveResult, SolveStatus

#: Upper bound on the time spent naming the constraints of an infeasible model.
CONFLICT_TIME_BUDGET = 30.0
#: Time limit of each feasibility check inside the deletion filter.
CHECK_TIME_LIMIT = 5.0
#: Largest NLP whose Ipopt infeasibility is explained by a deletion filter with SCIP (one global
#: solve per row); larger ones get the one-solve elastic explanation.
DELETION_FILTER_MAX_ROWS = 200


def solve(model: Any, *, problem_class: ProblemClass | None = None, solver: str | None = None,
          options: Mapping[str, Any] | None = None, time_limit: float | None = None,
          warm_start: bool = False, tee: bool = False, explain_infeasible: bool = True,
          name_of: Callable[[Any], str] | None = None) -> SolveResult:
    """Solve ``model`` with the right solver and report the outcome in gatlang's terms.

    ``options`` mixes the common vocabulary (``time_limit``, ``mip_gap``,
    ``tolerance``, ``max_iter``, ``threads``, ``verbose``) with raw solver
    options; ``result.options`` holds what was really passed.  ``name_of``
    turns a Pyomo constraint or variable into the name the user wrote (the
    default, Pyomo's own name, is what the compiler makes it anyway).
    """
    started = time.perf_counter()
    notes: list[Diagnostic] = []
    prebuilt, handoff = None, 0.0
    try:
        if problem_class is not None:
            pc = problem_class
        else:
            prebuilt, pc = _load_for_highs(model, solver)
            handoff = time.perf_counter() - started
    except Exception as exc:  # an expression Pyomo cannot walk: report, do not crash
        return _failed(ProblemClass.NLP, solver or "?", None, started, error(
            "GAT0614", f"could not determine the problem class of the model: {type(exc).__name__}: {exc}",
            help="pass `problem_class` explicitly, or check the model for unsupported expressions"))

    choice = choose_solver(pc, solver)
    notes.extend(choice.diagnostics)
    if choice.name is None:
        return _failed(pc, solver or "none", None, started, *choice.diagnostics)
    name = choice.name
    info = solver_info(name)

    mapped = map_options(name, pc, dict(options or {}), time_limit)
    if mapped.has_errors:
        return _failed(pc, name, info.version, started, *notes, *mapped.diagnostics, options=mapped.native)
    notes.extend(mapped.diagnostics)
    show_log = tee or bool(mapped.verbose)

    extra = {"instance": prebuilt} if name == "highs" and prebuilt is not None else {}
    try:
        raw = ADAPTERS[name](model, dict(mapped.native), warm_start, show_log, **extra)
    except Exception as exc:  # a binding's exception is a solver failure, not the user's bug
        raw = RawOutcome(SolveStatus.ERROR, f"{type(exc).__name__}: {exc}")

    if name == "ipopt" and raw.acceptable_only:
        notes.append(warning(
            "GAT0613", "Ipopt stopped at an 'acceptable' point, not at its requested tolerance",
            help="the answer is usable but less accurate; raise `max_iter` or improve scaling, "
                 "or loosen `tolerance` if the acceptable accuracy is enough"))
    if raw.nonconvex:
        return _failed(pc, name, info.version, started, *notes, nonconvex_qp(raw.message), options=mapped.native)
    if not _is_global(name, pc) and raw.status is SolveStatus.OPTIMAL:
        raw.status = SolveStatus.LOCALLY_OPTIMAL

    result = SolveResult(
        status=raw.status, message=raw.message, objective=raw.objective, solver=name,
        solver_version=info.version, problem_class=pc, options=dict(mapped.native),
        has_solution=raw.has_solution, iterations=raw.iterations, objective_bound=raw.objective_bound,
        warnings=[d for d in notes if not d.is_error], timings=dict(raw.timings))
    if extra:
        result.timings["handoff"] = handoff
    elif handoff:  # the HiGHS load that stopped at a nonlinear row, then classify(): before any solver ran
        result.timings["classify"] = handoff
    if raw.status is SolveStatus.INFEASIBLE and explain_infeasible:
        _explain(model, result, pc, name, name_of or default_name, raw.handle if name == "highs" else None)
    result.wall_time = time.perf_counter() - started
    return result


def _load_for_highs(model: Any, solver: str | None) -> tuple[Any, ProblemClass]:
    """Classify, loading into HiGHS on the way when HiGHS is the likely solver.

    Why: for LP/QP/MILP the hand-off is the slow part of a solve, and
    :func:`.classify.classify` would walk every row once more just to learn
    what the loader learns anyway.  So when the study names no solver (or
    names HiGHS), the model is loaded first: success means the rows are
    linear and the class is read off the loaded instance, which the HiGHS
    adapter then reuses.  The loader stops at the first nonlinear row, so an
    NLP pays for a few rows only before :func:`classify` takes over.
    """
    if (solver is None or canonical_name(solver) == "highs") and solver_info("highs").available:
        from .highs_direct import load

        try:
            inst = load(model)
        except Exception:  # NotLinearError, or anything HiGHS cannot take: classify decides
            return None, classify(model)
        return inst, inst.problem_class
    return None, classify(model)


def _is_global(solver: str, pc: ProblemClass) -> bool:
    """Whether an 'optimal' answer from ``solver`` on ``pc`` is a global optimum.

    Ipopt promises a local KKT point; on an LP or QP (convex by HiGHS's own
    requirement) that is global, but gatlang does not check convexity, so
    Ipopt always reports LOCALLY_OPTIMAL.
    """
    return solver != "ipopt"


def _failed(pc: ProblemClass, solver: str, version: str | None, started: float,
            *diags: Diagnostic, options: Mapping[str, Any] | None = None) -> SolveResult:
    """An ERROR result that carries the diagnostics explaining why nothing was solved."""
    errs = [d for d in diags if d.is_error]
    return SolveResult(
        status=SolveStatus.ERROR, message=errs[0].message if errs else "not solved",
        objective=None, solver=solver, solver_version=version, problem_class=pc,
        options=dict(options or {}), wall_time=time.perf_counter() - started,
        warnings=[d for d in diags if not d.is_error], errors=errs)


# ---------------------------------------------------------------- infeasibility

def _explain(model: Any, result: SolveResult, pc: ProblemClass, solver: str,
             name_of: Callable[[Any], str], instance: Any = None) -> None:
    """Fill ``result``'s conflict fields; a failure here only loses the explanation.

    Ipopt's (local) infeasibility on a model too large for a deletion filter
    with SCIP gets the elastic explanation (:mod:`.elastic`) instead.
    """
    try:
        check = _feasibility_check(pc, solver)
        if solver == "ipopt" and not pc.is_linear and (check is None or _row_count(model) > DELETION_FILTER_MAX_ROWS):
            conflict = elastic_conflict(model, _ipopt_converges, name_of)
        else:
            conflict = explain_infeasibility(model, linear=pc.is_linear, check=check, name_of=name_of,
                                             time_budget=CONFLICT_TIME_BUDGET, instance=instance)
    except Exception:
        conflict = None
    if conflict:
        result.conflicting_constraints = list(conflict.constraints)
        result.conflicting_bounds = list(conflict.bounds)
        result.conflict_is_minimal = conflict.minimal
        result.conflict_method = conflict.method


def _row_count(model: Any) -> int:
    from pyomo.environ import Constraint

    return sum(1 for _ in model.component_data_objects(Constraint, active=True))


def _ipopt_converges(model: Any) -> bool:
    native = map_options("ipopt", ProblemClass.NLP, {"time_limit": CONFLICT_TIME_BUDGET}).native
    return ADAPTERS["ipopt"](model, native, False, False).status.is_success


def _feasibility_check(pc: ProblemClass, solver: str) -> FeasibilityCheck | None:
    """A check that *proves* infeasibility, for the deletion filter; None when no solver can.

    Ipopt only finds local infeasibility, so its models are checked with SCIP
    (global) when installed.  Each check runs under :data:`CHECK_TIME_LIMIT`.
    """
    prover = solver if solver != "ipopt" else "scip"
    if not solver_info(prover).available:
        return None
    mapped = map_options(prover, pc, {"time_limit": CHECK_TIME_LIMIT})
    adapter = ADAPTERS[prover]

    def check(model: Any) -> bool | None:
        try:
            raw = adapter(model, dict(mapped.native), False, False)
        except Exception:
            return None
        if raw.has_solution or raw.status in (SolveStatus.OPTIMAL, SolveStatus.UNBOUNDED):
            return True
        if raw.status is SolveStatus.INFEASIBLE:
            return False
        return None

    return check

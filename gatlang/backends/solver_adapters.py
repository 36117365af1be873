"""One adapter per solver: hand a Pyomo model over, run it, translate the outcome.

Why separate adapters: each route reports results in its own vocabulary
(HiGHS model statuses, ``pyomo.contrib.solver`` Results for SCIP, legacy
SolverResults for cyipopt) and needs its own care (HiGHS's presolve answers
"infeasible or unbounded", Ipopt wants its banner silenced and its
iterations counted through a callback).  Each adapter returns a
:class:`RawOutcome` in gatlang's own terms; :mod:`solvers` adds the
diagnostics and the infeasibility explanation.

HiGHS is reached through gatlang's own bulk loader (:mod:`.highs_direct`),
the fastest hand-off measured (``benchmarks/handoff_lp.py``); SCIP through
``pyomo.contrib.solver``'s ``scip_direct``; Ipopt through PyNumero.
"""
from __future__ import annotations

import contextlib
import io
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from . import solver_env  # noqa: F401  (before Pyomo)
from .solver_types import SolveStatus


@dataclass
class RawOutcome:
    """A solve's outcome before diagnostics: what every adapter must report."""

    status: SolveStatus
    message: str
    objective: float | None = None
    objective_bound: float | None = None
    has_solution: bool = False
    iterations: int | None = None
    wall_time: float = 0.0
    notes: list[str] = field(default_factory=list)
    acceptable_only: bool = False  # Ipopt: "Solved To Acceptable Level"
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase: handoff, solve, load
    nonconvex: bool = False  # HiGHS: the QP's objective is not convex
    handle: Any = None  # the adapter object, kept for the infeasibility explanation


def _contrib_status(tc: Any) -> SolveStatus | None:
    """Map pyomo.contrib.solver TerminationCondition; None means 'infeasible or unbounded'."""
    from pyomo.contrib.solver.common.results import TerminationCondition as TC

    if tc == TC.infeasibleOrUnbounded:
        return None
    return {
        TC.convergenceCriteriaSatisfied: SolveStatus.OPTIMAL,
        TC.provenInfeasible: SolveStatus.INFEASIBLE,
        TC.locallyInfeasible: SolveStatus.INFEASIBLE,
        TC.unbounded: SolveStatus.UNBOUNDED,
        TC.iterationLimit: SolveStatus.ITERATION_LIMIT,
        TC.maxTimeLimit: SolveStatus.TIME_LIMIT,
    }.get(tc, SolveStatus.ERROR)


def _run_contrib(opt: Any, model: Any, native: dict[str, Any], tee: bool, **config: Any) -> Any:
    return opt.solve(model, load_solutions=False, raise_exception_on_nonoptimal_result=False,
                     solver_options=dict(native), tee=tee, **config)


def _finish_contrib(res: Any, status: SolveStatus, message: str, started: float) -> RawOutcome:
    from pyomo.contrib.solver.common.results import SolutionStatus

    # An unbounded model's "feasible" point is a ray's start, not an answer: not loaded.
    has_solution = res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible) \
        and status is not SolveStatus.UNBOUNDED
    if has_solution:
        res.solution_loader.load_vars()
    return RawOutcome(status=status, message=message,
                      objective=res.incumbent_objective if has_solution else None,
                      objective_bound=res.objective_bound if status is not SolveStatus.OPTIMAL else None,
                      has_solution=has_solution, wall_time=time.perf_counter() - started)


def _zero_objective_feasible(model: Any, make_opt: Any, native: dict[str, Any]) -> bool | None:
    """Decide 'infeasible or unbounded' by solving with the objective switched off.

    Feasible without the objective means the original is unbounded; an
    infeasible answer means infeasible.  None when even that is undecided.
    """
    from pyomo.contrib.solver.common.results import TerminationCondition as TC

    objectives = [o for o in model.component_data_objects(_objective_type(), active=True)]
    for o in objectives:
        o.deactivate()
    try:
        res = _run_contrib(make_opt(), model, native, False)
    finally:
        for o in objectives:
            o.activate()
    if res.termination_condition == TC.convergenceCriteriaSatisfied:
        return True
    if res.termination_condition in (TC.provenInfeasible, TC.locallyInfeasible):
        return False
    return None


def _active_objective_value(model: Any) -> float | None:
    """Objective at the loaded point, evaluated by Pyomo (constants included)."""
    from pyomo.environ import value

    objs = list(model.component_data_objects(_objective_type(), active=True))
    return float(value(objs[0])) if objs else None


def _objective_type() -> Any:
    from pyomo.environ import Objective

    return Objective


def _verdict(feasible_without_objective: bool | None) -> tuple[SolveStatus, str]:
    """Status for an 'infeasible or unbounded' answer, given the zero-objective re-solve."""
    if feasible_without_objective is True:
        return SolveStatus.UNBOUNDED, "unbounded (the model is feasible and the objective is unbounded)"
    if feasible_without_objective is False:
        return SolveStatus.INFEASIBLE, "infeasible (no point satisfies all constraints)"
    return SolveStatus.ERROR, "the solver could not decide between infeasible and unbounded"


def _resolve_inf_or_unbd(model: Any, make_opt: Any, native: dict[str, Any]) -> tuple[SolveStatus, str]:
    return _verdict(_zero_objective_feasible(model, make_opt, native))


# ---------------------------------------------------------------- HiGHS

def _highs_status(h: Any) -> SolveStatus | None:
    """Map HiGHS's model status; None means 'infeasible or unbounded' (undecided)."""
    import highspy

    MS = highspy.HighsModelStatus
    st = h.getModelStatus()
    if st == MS.kUnboundedOrInfeasible:
        return None
    return {MS.kOptimal: SolveStatus.OPTIMAL, MS.kInfeasible: SolveStatus.INFEASIBLE,
            MS.kUnbounded: SolveStatus.UNBOUNDED, MS.kIterationLimit: SolveStatus.ITERATION_LIMIT,
            MS.kTimeLimit: SolveStatus.TIME_LIMIT, MS.kSolutionLimit: SolveStatus.ITERATION_LIMIT,
            MS.kModelEmpty: SolveStatus.OPTIMAL}.get(st, SolveStatus.ERROR)


class NonconvexQPError(RuntimeError):
    """HiGHS rejected a QP whose Hessian is not positive semidefinite (for minimisation)."""


def _highs_run(inst: Any, native: dict[str, Any], tee: bool) -> SolveStatus | None:
    import highspy

    h = inst.highs
    h.setOptionValue("output_flag", bool(tee))
    for key, value in native.items():
        h.setOptionValue(key, value)
    if "threads" in native:
        # HiGHS sizes one process-wide thread pool at its first run and refuses (status error)
        # a later, different `threads`; solves here never overlap, so rebuilding the pool is safe.
        h.resetGlobalScheduler(True)
    if h.run() == highspy.HighsStatus.kError and h.getModel().hessian_.dim_ \
            and h.getModelStatus() == highspy.HighsModelStatus.kNotset:
        raise NonconvexQPError("HiGHS refused the quadratic objective: it solves convex QPs only")
    return _highs_status(h)


def run_highs(model: Any, native: dict[str, Any], warmstart: bool, tee: bool = False,
              instance: Any = None) -> RawOutcome:
    """HiGHS through gatlang's own bulk loader (:mod:`.highs_direct`), the fastest hand-off measured.

    ``instance``: the model already loaded (by :func:`solvers.solve`, which
    loads first and reads the problem class off the loaded model).
    HiGHS's presolve sometimes stops at "infeasible or unbounded"; the model
    is then re-run without presolve, and if still undecided, solved with a
    zero objective (feasible -> unbounded, infeasible -> infeasible).
    """
    from .highs_direct import load

    started = time.perf_counter()
    inst = instance if instance is not None else load(model)
    return run_loaded_highs(inst, native, warmstart, tee, started)


def run_loaded_highs(inst: Any, native: dict[str, Any], warmstart: bool, tee: bool,
                     started: float) -> RawOutcome:
    """Run HiGHS on a loaded instance and translate the outcome.

    ``inst`` needs ``highs`` (the Highs object), ``set_start()`` and
    ``load_values()``: both :class:`.highs_direct.HighsInstance` (a Pyomo
    model) and :class:`.matrix.MatrixInstance` (arrays from the compiler's IR)
    provide them.
    """
    h = inst.highs
    timings = {"handoff": time.perf_counter() - started}
    notes: list[str] = []
    if warmstart:
        try:
            if inst.set_start():
                notes.append("started from the given values")
        except Exception as exc:  # a failed warm start must not fail the solve
            notes.append(f"warm start ignored: {exc}")
    t_solve = time.perf_counter()
    try:
        status = _highs_run(inst, native, tee)
    except NonconvexQPError as exc:
        return RawOutcome(SolveStatus.ERROR, str(exc), wall_time=time.perf_counter() - started,
                          timings=timings, nonconvex=True)
    if status is None:
        status = _highs_run(inst, {**native, "presolve": "off"}, tee)
    message = h.modelStatusToString(h.getModelStatus())
    if status is None:
        _drop_objective(h)
        zero = _highs_run(inst, native, tee)
        status, message = _verdict({SolveStatus.OPTIMAL: True, SolveStatus.INFEASIBLE: False}.get(zero))
        has_solution = False
    else:
        has_solution = h.getInfo().primal_solution_status == 2 and status is not SolveStatus.UNBOUNDED
    timings["solve"] = time.perf_counter() - t_solve
    info = h.getInfo()
    objective = bound = None
    if has_solution:
        t_load = time.perf_counter()
        inst.load_values()
        timings["load"] = time.perf_counter() - t_load
        objective = float(info.objective_function_value)
    if status is not SolveStatus.OPTIMAL and info.mip_node_count > 0:
        bound = float(info.mip_dual_bound)
    iters = [info.simplex_iteration_count, info.ipm_iteration_count, info.qp_iteration_count]
    return RawOutcome(status=status, message=message, objective=objective, objective_bound=bound,
                      has_solution=has_solution,
                      iterations=int(info.mip_node_count) if info.mip_node_count > 0 else max(int(i) for i in iters),
                      wall_time=time.perf_counter() - started, notes=notes, handle=inst, timings=timings)


def _drop_objective(h: Any) -> None:
    """Zero the costs and the Hessian: what remains is a pure feasibility problem."""
    import highspy

    n = h.getNumCol()
    h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))
    h.clearSolver()
    if h.getModel().hessian_.dim_:
        h.passHessian(highspy.HighsHessian())


# ---------------------------------------------------------------- SCIP

def run_scip(model: Any, native: dict[str, Any], warmstart: bool, tee: bool = False) -> RawOutcome:
    from pyomo.contrib.solver.solvers.scip.scip_direct import ScipDirect

    started = time.perf_counter()
    opt = ScipDirect()
    res = _run_contrib(opt, model, native, tee, warmstart_discrete_vars=warmstart)
    message = f"SCIP status: {opt._solver_model.getStatus()}"
    status = _contrib_status(res.termination_condition)
    if status is None:
        status, message = _resolve_inf_or_unbd(model, ScipDirect, native)
    out = _finish_contrib(res, status, message, started)
    out.iterations = int(opt._solver_model.getNNodes())
    out.handle = opt
    return out


# ---------------------------------------------------------------- Ipopt

@contextlib.contextmanager
def _ipopt_quiet(tee: bool) -> Iterator[None]:
    """Silence Ipopt's banner and PyNumero's logged tracebacks unless the user asked for the log.

    PyNumero logs the full traceback of an evaluation error before re-raising
    it; the adapter turns the exception into an ERROR outcome, so the
    traceback would only alarm the user.
    """
    from pyomo.common.tee import capture_output

    log = logging.getLogger("pyomo.contrib.pynumero")
    level = log.level
    if not tee:
        log.setLevel(logging.CRITICAL)
    try:
        with capture_output(None if tee else io.StringIO(), capture_fd=not tee):
            yield
    finally:
        log.setLevel(level)


@contextlib.contextmanager
def _objective_present(model: Any) -> Iterator[None]:
    """Give an objective-less (feasibility) model a temporary zero objective.

    Pyomo 6.10's cyipopt bridge adds one itself but then reads the objective
    again after the solve and fails with StopIteration.
    """
    from pyomo.environ import Objective

    if any(True for _ in model.component_data_objects(Objective, active=True)):
        yield
        return
    name = "_gat_zero_objective"
    while model.component(name) is not None:
        name += "_"
    model.add_component(name, Objective(expr=0.0))
    try:
        yield
    finally:
        model.del_component(name)


def run_ipopt(model: Any, native: dict[str, Any], warmstart: bool, tee: bool = False) -> RawOutcome:
    """Ipopt through PyNumero.  It always starts from the variables' current values.

    ``warmstart`` has no further effect: Ipopt's own warm start needs
    multipliers, which the models do not carry.
    """
    from pyomo.contrib.pynumero.algorithms.solvers.cyipopt_solver import PyomoCyIpoptSolver
    from pyomo.opt import TerminationCondition as TC

    iterations = [0]

    def count(nlp, problem, alg_mod, iter_count, obj_value, inf_pr, inf_du, mu, d_norm,
              regularization_size, alpha_du, alpha_pr, ls_trials):
        iterations[0] = int(iter_count)
        return True

    options = {"sb": "yes", "print_level": 5 if tee else 0, **native}
    started = time.perf_counter()
    try:
        with _ipopt_quiet(tee), _objective_present(model):
            res = PyomoCyIpoptSolver().solve(model, options=options, tee=tee, intermediate_callback=count)
    except Exception as exc:  # evaluation errors (log of a negative number, ...) end up here
        return RawOutcome(SolveStatus.ERROR, f"Ipopt failed: {type(exc).__name__}: {exc}",
                          wall_time=time.perf_counter() - started, iterations=iterations[0])
    tc = res.solver.termination_condition
    message = res.solver.message.decode() if isinstance(res.solver.message, bytes) else str(res.solver.message)
    status = {TC.optimal: SolveStatus.LOCALLY_OPTIMAL, TC.feasible: SolveStatus.LOCALLY_OPTIMAL,
              TC.infeasible: SolveStatus.INFEASIBLE, TC.unbounded: SolveStatus.UNBOUNDED,
              TC.maxIterations: SolveStatus.ITERATION_LIMIT,
              TC.maxTimeLimit: SolveStatus.TIME_LIMIT}.get(tc, SolveStatus.ERROR)
    wall = time.perf_counter() - started
    # cyipopt's own clock covers Ipopt's iterations (with the ASL evaluations it calls back);
    # the rest is the hand-off (NL writer, ASL reading the file) and the values loaded back.
    ipopt_time = float(getattr(res.solver, "wallclock_time", None) or 0.0)
    return RawOutcome(status=status, message=message,
                      objective=_active_objective_value(model) if status.is_success else None,
                      has_solution=status.is_success, iterations=iterations[0],
                      wall_time=wall, acceptable_only=tc == TC.feasible,
                      timings={"handoff": max(wall - ipopt_time, 0.0), "solve": ipopt_time})


ADAPTERS = {"highs": run_highs, "scip": run_scip, "ipopt": run_ipopt}

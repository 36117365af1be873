"""Plain data types shared by the solver adapters: problem classes, statuses, results.

Why a module of its own: the workflows, the runtime (run.json) and the CLI all
read solve outcomes, while only :mod:`gatlang.backends.solvers` talks to Pyomo.
Keeping the vocabulary here lets those readers import it without importing
Pyomo or any solver binding.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import Diagnostic, Span


class ProblemClass(enum.Enum):
    """Mathematical class of an optimisation model; decides the default solver.

    QCP means quadratic *constraints* (convex ones, such as the second-order
    cone relaxations of branch flow); SOCP is kept as its own name because
    that is how power-systems papers call those relaxations, but it is solved
    exactly like QCP.
    """

    LP = "lp"
    QP = "qp"
    QCP = "qcp"
    SOCP = "socp"
    MILP = "milp"
    MIQP = "miqp"
    MIQCP = "miqcp"
    NLP = "nlp"
    MINLP = "minlp"

    @property
    def is_mixed_integer(self) -> bool:
        return self in (ProblemClass.MILP, ProblemClass.MIQP, ProblemClass.MIQCP, ProblemClass.MINLP)

    @property
    def is_linear(self) -> bool:
        return self in (ProblemClass.LP, ProblemClass.MILP)


class SolveStatus(enum.Enum):
    """Outcome of a solve, as the user reads it (not a solver's own vocabulary).

    ``LOCALLY_OPTIMAL`` is what a local NLP method (Ipopt) can promise: a KKT
    point, not a proof of global optimality.  ``ITERATION_LIMIT`` and
    ``TIME_LIMIT`` may still carry a feasible incumbent
    (:attr:`SolveResult.has_solution`).
    """

    OPTIMAL = "optimal"
    LOCALLY_OPTIMAL = "locally_optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ITERATION_LIMIT = "iteration_limit"
    TIME_LIMIT = "time_limit"
    ERROR = "error"

    @property
    def is_success(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.LOCALLY_OPTIMAL)


@dataclass(frozen=True)
class SolverInfo:
    """What ``gatc doctor`` and run.json say about one solver.

    ``name`` is the user-facing name (``highs``, ``scip``, ``ipopt``) that a
    study writes in ``solver = ...``; ``backend`` is the Pyomo plugin used.
    """

    name: str
    version: str | None
    available: bool
    reason: str
    backend: str = ""
    problem_classes: tuple[ProblemClass, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "available": self.available,
                "reason": self.reason, "backend": self.backend,
                "problem_classes": [p.value for p in self.problem_classes]}


@dataclass
class SolveResult:
    """Everything a workflow, run.json and the user need to know about one solve.

    ``options`` holds the options *as handed to the solver* (after mapping the
    common vocabulary), so that run.json records what really ran.
    ``conflicting_constraints`` names the constraints of an infeasible model
    that were found to conflict (an irreducible infeasible subset where the
    solver allows it), using the user's names such as ``p_balance[3]``;
    ``conflicting_bounds`` does the same for variable bounds (``x[1] >= 0``).
    ``warnings`` are caveats of a solve that ran (fallback solver, ignored
    option, Ipopt's "acceptable" point); ``errors`` say why a solve could not
    run at all (no solver, misspelt option) and come with ``status`` ERROR.
    ``timings`` splits the solve into phases where the adapter can
    (``handoff``: model to solver, ``solve``, ``load``: values back;
    ``classify``: time spent learning the problem class when the model was
    not loaded into HiGHS; for Ipopt, ``handoff`` includes the values back
    and ``solve`` is cyipopt's own clock).
    """

    status: SolveStatus
    message: str
    objective: float | None
    solver: str
    solver_version: str | None
    problem_class: ProblemClass
    options: dict[str, Any] = field(default_factory=dict)
    wall_time: float = 0.0
    has_solution: bool = False
    iterations: int | None = None
    objective_bound: float | None = None
    conflicting_constraints: list[str] = field(default_factory=list)
    conflicting_bounds: list[str] = field(default_factory=list)
    conflict_is_minimal: bool = False
    conflict_method: str = ""  # highs-iis | deletion-filter | elastic
    warnings: list[Diagnostic] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status.is_success

    def diagnostic(self, span: Span | None = None) -> Diagnostic | None:
        """A coded diagnostic explaining a non-optimal outcome, or None when optimal.

        ``span`` is where the user should look (the ``run`` block that asked
        for this solve).  Kept as a method rather than stored so the caller
        decides the location, which the solver layer does not know.
        """
        from .solver_messages import outcome_diagnostic

        return outcome_diagnostic(self, span)

    def diagnostics(self, span: Span | None = None) -> list[Diagnostic]:
        """Everything the user should see about this solve, located at ``span``.

        The warnings, then every error that stopped the solve (two misspelt
        options give two errors) or else the outcome's own diagnostic.
        """
        from .solver_messages import located

        out = [located(w, span) for w in self.warnings]
        if self.errors:
            return out + [located(e, span) for e in self.errors]
        outcome = self.diagnostic(span)
        return out + ([outcome] if outcome is not None else [])

    def solver_dict(self) -> dict[str, Any]:
        """The ``solver`` entry of a run.json step."""
        return {"name": self.solver, "version": self.solver_version, "options": dict(self.options),
                "problem_class": self.problem_class.value, "iterations": self.iterations,
                "wall_time": self.wall_time, "timings": dict(self.timings)}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status.value, "message": self.message, "objective": self.objective,
            "objective_bound": self.objective_bound, "has_solution": self.has_solution,
            "solver": self.solver_dict(),
            "warnings": [w.to_dict() for w in self.warnings],
            "errors": [e.to_dict() for e in self.errors],
        }
        if self.conflicting_constraints or self.conflicting_bounds:
            out["conflict"] = {"constraints": list(self.conflicting_constraints),
                               "bounds": list(self.conflicting_bounds),
                               "minimal": self.conflict_is_minimal, "method": self.conflict_method}
        return out

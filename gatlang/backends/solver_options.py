"""Solver options: one common vocabulary mapped onto each solver, raw options checked.

Why: a study should be able to say ``max_iter = 200`` or ``mip_gap = 1e-3``
without knowing that HiGHS calls the gap ``mip_rel_gap`` and SCIP
``limits/gap``; and a misspelt raw option must be a compile-time-style
diagnostic with a did-you-mean, not a solver crash or, worse, silently
ignored (HiGHS only logs unknown options).  Each raw option is therefore tried
on a throwaway instance of the real solver, which also coerces ``5.0`` to
``5`` where the solver insists on an integer (Ipopt does).
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from ..diagnostics import Diagnostic, Span, did_you_mean, error, warning
from .solver_types import ProblemClass

#: The options every solver understands, whatever its own names are.
COMMON_OPTIONS: dict[str, str] = {
    "time_limit": "wall-clock limit in seconds",
    "mip_gap": "relative optimality gap at which a mixed-integer search stops",
    "tolerance": "optimality / feasibility tolerance",
    "max_iter": "iteration limit (Ipopt iterations; simplex/IPM iterations for HiGHS LP/QP; "
                "branch-and-bound nodes for MILP/MINLP)",
    "threads": "number of threads the solver may use",
    "verbose": "print the solver's own log (true/false)",
}

#: Other spellings accepted for the common options (HiGHS's and Ipopt's own names).
COMMON_ALIASES: dict[str, str] = {"tol": "tolerance", "mip_rel_gap": "mip_gap"}

#: Raw option names shown in did-you-mean hints for Ipopt, which cannot list its options.
_IPOPT_KNOWN = ("max_iter", "tol", "acceptable_tol", "constr_viol_tol", "dual_inf_tol", "max_wall_time",
                "max_cpu_time", "mu_strategy", "mu_init", "linear_solver", "print_level",
                "hessian_approximation", "nlp_scaling_method", "bound_push", "bound_frac",
                "warm_start_init_point", "obj_scaling_factor", "honor_original_bounds")


@dataclass
class MappedOptions:
    """Solver-native options ready to hand over, plus what went wrong on the way.

    ``verbose`` is the common ``verbose`` option (None when not given); it
    becomes the adapters' ``tee`` flag rather than a native option.
    """

    native: dict[str, Any] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    verbose: bool | None = None

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)


# ---------------------------------------------------------------- common vocabulary

def _map_common(solver: str, key: str, value: Any, pc: ProblemClass) -> dict[str, Any] | None:
    """Native options for one common option; None when it has no meaning for this solver.

    ``verbose`` is not a native option: :func:`map_options` turns it into the
    ``tee`` flag, which each Pyomo plugin maps to its own log switch.
    """
    if solver == "highs":
        if key == "max_iter":
            if pc.is_mixed_integer:
                return {"mip_max_nodes": int(value)}
            return {"simplex_iteration_limit": int(value), "ipm_iteration_limit": int(value),
                    "qp_iteration_limit": int(value)}
        if key == "tolerance":
            out = {"primal_feasibility_tolerance": float(value), "dual_feasibility_tolerance": float(value),
                   "ipm_optimality_tolerance": float(value)}
            if pc.is_mixed_integer:
                out["mip_feasibility_tolerance"] = float(value)
            return out
        if key == "time_limit":
            return {"time_limit": float(value)}
        if key == "mip_gap":
            return {"mip_rel_gap": float(value)} if pc.is_mixed_integer else None
        if key == "threads":
            return {"threads": int(value)}
    if solver == "scip":
        # SCIP's branch and bound is sequential (its concurrent mode is a build option): no threads.
        return {"max_iter": {"limits/totalnodes": int(value)},
                "tolerance": {"numerics/feastol": float(value)},
                "time_limit": {"limits/time": float(value)},
                "mip_gap": {"limits/gap": float(value)},
                "threads": None}[key]
    if solver == "ipopt":
        # max_cpu_time rather than max_wall_time: Pyomo 6.10's cyipopt bridge cannot map the
        # wall-time status back (KeyError), and Ipopt here runs on one thread, so both agree.
        return {"max_iter": {"max_iter": int(value)},
                "tolerance": {"tol": float(value)},
                "time_limit": {"max_cpu_time": float(value)},
                "mip_gap": None,
                "threads": None}[key]
    raise ValueError(f"unknown solver {solver!r}")


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "on", "off", "yes", "no"):
        return value.lower() in ("true", "on", "yes")
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise ValueError(value)


# ---------------------------------------------------------------- raw option checkers

def _coerce(value: Any, want: str) -> Any:
    """Convert a number written in a .gat file to the type the solver insists on."""
    if want == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    if want == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if want == "bool" and isinstance(value, str) and value.lower() in ("true", "false", "on", "off"):
        return value.lower() in ("true", "on")
    return value


def _check_highs(name: str, value: Any) -> tuple[str, Any]:
    """('ok'|'unknown'|'bad-value', coerced value)."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    status, kind = h.getOptionType(name)
    if status != highspy.HighsStatus.kOk:
        return "unknown", value
    want = {highspy.HighsOptionType.kBool: "bool", highspy.HighsOptionType.kInt: "int",
            highspy.HighsOptionType.kDouble: "float"}.get(kind, "str")
    value = _coerce(value, want)
    if want == "float" and isinstance(value, float) and math.isinf(value):
        return "ok", value
    ok = h.setOptionValue(name, value) == highspy.HighsStatus.kOk
    return ("ok" if ok else "bad-value"), value


def _check_scip(name: str, value: Any) -> tuple[str, Any]:
    import pyscipopt

    m = pyscipopt.Model()
    m.hideOutput()
    params = m.getParams()
    if name not in params:
        return "unknown", value
    current = params[name]
    want = "bool" if isinstance(current, bool) else "int" if isinstance(current, int) else \
        "float" if isinstance(current, float) else "str"
    value = _coerce(value, want)
    try:
        m.setParam(name, value)
    except Exception:
        return "bad-value", value
    return "ok", value


def _ipopt_probe():
    import cyipopt
    import numpy as np

    class _Zero:
        def objective(self, x):
            return 0.0

        def gradient(self, x):
            return np.zeros(1)

    return cyipopt.Problem(n=1, m=0, problem_obj=_Zero(), lb=[0.0], ub=[1.0])


def _check_ipopt(name: str, value: Any) -> tuple[str, Any]:
    from pyomo.common.tee import capture_output

    for attempt in (value, _coerce(value, "int"), _coerce(value, "float")):
        buf = io.StringIO()
        try:
            with capture_output(buf, capture_fd=True):
                _ipopt_probe().add_option(name, attempt)
            return "ok", attempt
        except TypeError:
            if "not a valid option" in buf.getvalue():
                return "unknown", value
    return "bad-value", value


def _scip_names() -> list[str]:
    import pyscipopt

    return list(pyscipopt.Model().getParams())


def _highs_names() -> list[str]:
    import highspy

    return [a for a in dir(highspy.Highs().getOptions()) if not a.startswith("_")]


_CHECKERS: dict[str, Callable[[str, Any], tuple[str, Any]]] = {
    "highs": _check_highs, "scip": _check_scip, "ipopt": _check_ipopt}
_KNOWN_NAMES: dict[str, Callable[[], list[str]]] = {
    "highs": _highs_names, "scip": _scip_names, "ipopt": lambda: list(_IPOPT_KNOWN)}


# ---------------------------------------------------------------- entry point

def map_options(solver: str, problem_class: ProblemClass, options: dict[str, Any] | None,
                time_limit: float | None = None, span: Span | None = None) -> MappedOptions:
    """Translate common options and check raw ones for ``solver``.

    Common options are applied first, so a raw option naming the same native
    setting (``simplex_iteration_limit``) overrides the common one: the more
    specific request wins.  ``time_limit`` as an argument overrides the option.
    ``tol`` and ``mip_rel_gap`` are accepted for ``tolerance`` and ``mip_gap``.
    """
    out = MappedOptions()
    opts = dict(options or {})
    if time_limit is not None:
        opts["time_limit"] = time_limit
    raw: dict[str, Any] = {}
    for key, value in opts.items():
        key = COMMON_ALIASES.get(key, key)
        if key not in COMMON_OPTIONS:
            raw[key] = value
            continue
        try:
            if key == "verbose":
                out.verbose = _as_bool(value)
                continue
            native = _map_common(solver, key, value, problem_class)
        except (TypeError, ValueError):
            out.diagnostics.append(error(
                "GAT0611", f"solver option `{key}` needs {'true or false' if key == 'verbose' else 'a number'}, "
                       f"got `{value!r}`", span,
                help=f"`{key}`: {COMMON_OPTIONS[key]}"))
            continue
        if native is None:
            out.diagnostics.append(warning(
                "GAT0608", f"solver option `{key}` has no meaning for {solver} on a "
                           f"{problem_class.name} model and is ignored", span,
                help=f"`{key}`: {COMMON_OPTIONS[key]}"))
            continue
        out.native.update(native)
    for key, value in raw.items():
        verdict, coerced = _CHECKERS[solver](key, value)
        if verdict == "ok":
            out.native[key] = coerced
        elif verdict == "unknown":
            hint = did_you_mean(key, list(COMMON_OPTIONS) + _KNOWN_NAMES[solver](), "option")
            out.diagnostics.append(error(
                "GAT0607", f"`{key}` is not an option of solver {solver}", span,
                help=hint or f"common options: {', '.join(COMMON_OPTIONS)}; "
                             f"other names are passed to {solver} unchanged"))
        else:
            out.diagnostics.append(error(
                "GAT0611", f"{solver} rejects the value `{value!r}` for option `{key}`", span,
                help=f"see the {solver} documentation for the type and range of `{key}`"))
    return out

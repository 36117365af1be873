"""Which solvers exist, which are installed, and which one each problem class gets.

Why a module of its own: ``gatc doctor``, the capability checker (compile
time) and :func:`gatlang.backends.solvers.solve` (run time) must agree on the
same table; probing a solver (importing its binding, finding the PyNumero
library) is done once here and cached.

Default choices, and why:

* LP, QP, MILP -> HiGHS: fastest open solver here for these classes, no
  system package (the highspy wheel).  MIQP is *not* HiGHS's (it solves
  continuous convex QPs only) and goes to SCIP.
* MIQCP, MINLP -> SCIP: the only installed solver that branches on
  nonlinear mixed-integer models (spatial branch and bound, global).
* NLP -> Ipopt (interior point, scales to AC OPF on thousands of buses);
  falls back to SCIP with a GAT0601 warning when the PyNumero bridge is
  missing.  SCIP then proves *global* optimality but is much slower on
  large networks.
* QCP / SOCP -> Ipopt as well.  The power-systems QCPs are convex
  (second-order-cone relaxations of branch flow, quadratic line limits),
  where a local optimum is global and an interior-point method is the
  scalable choice; SCIP would approximate the cones with LP cuts and slow
  down sharply with size.  SCIP is the fallback, as for NLP.
"""
from __future__ import annotations

import functools
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from . import solver_env  # noqa: F401  (sets PYOMO_CONFIG_DIR before Pyomo is imported)
from ..diagnostics import Diagnostic, Span, did_you_mean, error, warning
from .solver_types import ProblemClass, SolverInfo

PC = ProblemClass


@dataclass(frozen=True)
class SolverSpec:
    """Static facts about one solver: its name, Pyomo plugin and what it can solve."""

    name: str
    backend: str
    classes: frozenset[ProblemClass]
    global_optimality: bool  # True: an 'optimal' answer is a proof; False: a local KKT point


SPECS: dict[str, SolverSpec] = {
    "highs": SolverSpec("highs", "gatlang's bulk highspy loader (backends/highs_direct.py)",
                        frozenset({PC.LP, PC.QP, PC.MILP}), True),
    "scip": SolverSpec("scip", "pyomo.contrib.solver 'scip_direct' (pyscipopt)",
                       frozenset(PC), True),
    "ipopt": SolverSpec("ipopt", "pyomo 'cyipopt' (PyNumero + cyipopt)",
                        frozenset({PC.LP, PC.QP, PC.QCP, PC.SOCP, PC.NLP}), False),
}

#: Names users may also write (the Pyomo plugin names).
ALIASES: dict[str, str] = {"appsi_highs": "highs", "highspy": "highs", "scip_direct": "scip",
                           "pyscipopt": "scip", "cyipopt": "ipopt"}

#: Preference order per class: the first available wins.
PREFERENCE: dict[ProblemClass, tuple[str, ...]] = {
    PC.LP: ("highs", "scip"),
    PC.QP: ("highs", "scip"),
    PC.MILP: ("highs", "scip"),
    PC.MIQP: ("scip",),
    PC.QCP: ("ipopt", "scip"),
    PC.SOCP: ("ipopt", "scip"),
    PC.NLP: ("ipopt", "scip"),
    PC.MIQCP: ("scip",),
    PC.MINLP: ("scip",),
}


def canonical_name(name: str) -> str | None:
    """User-facing solver name for ``name`` (case-insensitive, aliases folded), or None."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return key if key in SPECS else None


# ---------------------------------------------------------------- probing

def _probe_highs() -> SolverInfo:
    spec = SPECS["highs"]
    try:
        import highspy
    except ImportError as exc:
        return SolverInfo("highs", None, False, f"highspy is not installed ({exc}); pip install highspy",
                          spec.backend, tuple(sorted(spec.classes, key=_order)))
    h = highspy.Highs()
    version = f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    return SolverInfo("highs", version, True, "highspy wheel", spec.backend,
                      tuple(sorted(spec.classes, key=_order)))


def _probe_scip() -> SolverInfo:
    spec = SPECS["scip"]
    try:
        import pyscipopt
    except ImportError as exc:
        return SolverInfo("scip", None, False, f"pyscipopt is not installed ({exc}); pip install pyscipopt",
                          spec.backend, tuple(sorted(spec.classes, key=_order)))
    m = pyscipopt.Model()
    version = f"{m.getMajorVersion()}.{m.getMinorVersion()}.{m.getTechVersion()}"
    return SolverInfo("scip", version, True, f"pyscipopt {pyscipopt.__version__} wheel (bundled SCIP)",
                      spec.backend, tuple(sorted(spec.classes, key=_order)))


def _probe_ipopt() -> SolverInfo:
    spec = SPECS["ipopt"]
    classes = tuple(sorted(spec.classes, key=_order))
    try:
        import cyipopt
    except ImportError as exc:
        return SolverInfo("ipopt", None, False,
                          f"cyipopt is not importable ({exc}); install the cyipopt-wheels package",
                          spec.backend, classes)
    raw = getattr(cyipopt, "IPOPT_VERSION", None)
    version = ".".join(str(p) for p in raw) if raw else None
    from pyomo.common import envvar
    from pyomo.contrib.pynumero.asl import AmplInterface

    if not AmplInterface.available():
        libdir = Path(str(envvar.PYOMO_CONFIG_DIR)) / "lib"
        return SolverInfo("ipopt", version, False,
                          f"Pyomo's PyNumero library ({solver_env.PYNUMERO_LIB}) was not found in {libdir}; "
                          "build it with `python -m pyomo.contrib.pynumero.build "
                          "-DASL_INCLUDE_DIR=/usr/include/ampl-netlib-solvers "
                          "-DASL_LIBRARY=/usr/lib/x86_64-linux-gnu/libamplsolver.so` "
                          "(PYOMO_CONFIG_DIR set to <venv>/pyomo)", spec.backend, classes)
    return SolverInfo("ipopt", version, True,
                      f"cyipopt {cyipopt.__version__} + PyNumero ({AmplInterface.libname})",
                      spec.backend, classes)


_PROBES = {"highs": _probe_highs, "scip": _probe_scip, "ipopt": _probe_ipopt}


def _order(pc: ProblemClass) -> int:
    return list(ProblemClass).index(pc)


@functools.lru_cache(maxsize=None)
def solver_info(name: str) -> SolverInfo:
    """Probe one solver (cached: probing imports native libraries)."""
    canon = canonical_name(name)
    if canon is None:
        return SolverInfo(name, None, False, "not a solver gatlang knows")
    try:
        return _PROBES[canon]()
    except Exception as exc:  # a broken native install must not crash `gatc doctor`
        return SolverInfo(canon, None, False, f"probing failed: {type(exc).__name__}: {exc}",
                          SPECS[canon].backend)


def available_solvers() -> list[SolverInfo]:
    """All solvers gatlang knows, available or not, with the reason either way."""
    return [solver_info(name) for name in SPECS]


# ---------------------------------------------------------------- choosing

@dataclass(frozen=True)
class SolverChoice:
    """The solver picked for a solve, or None, plus the diagnostics that explain the pick."""

    name: str | None
    diagnostics: tuple[Diagnostic, ...] = ()


def default_solver(problem_class: ProblemClass) -> str | None:
    """The solver used for ``problem_class`` when the study names none (after fallback)."""
    return choose_solver(problem_class, None).name


def choose_solver(problem_class: ProblemClass, requested: str | None,
                  span: Span | None = None) -> SolverChoice:
    """Resolve the solver for a solve, with GAT0600/0601/0609/0610 diagnostics.

    A solver the user names explicitly is never silently replaced: if it is
    missing or cannot handle the class, that is an error.  Only the default
    choice falls back, and says so with a warning.
    """
    if requested is not None:
        canon = canonical_name(requested)
        if canon is None:
            return SolverChoice(None, (error(
                "GAT0609", f"unknown solver `{requested}`", span,
                help=did_you_mean(requested, list(SPECS) + list(ALIASES), "solver")
                or f"known solvers: {', '.join(SPECS)}"),))
        if problem_class not in SPECS[canon].classes:
            able = [n for n in PREFERENCE[problem_class]]
            return SolverChoice(None, (error(
                "GAT0610", f"solver `{canon}` cannot solve a {problem_class.name} model", span,
                help=f"use {' or '.join(f'`{a}`' for a in able)}, or leave `solver` out to get the default"),))
        info = solver_info(canon)
        if not info.available:
            return SolverChoice(None, (error(
                "GAT0600", f"solver `{canon}` is not available", span,
                notes=(info.reason,), help="run `gatc doctor` to see which solvers work"),))
        return SolverChoice(canon)

    prefs = PREFERENCE[problem_class]
    for i, name in enumerate(prefs):
        info = solver_info(name)
        if not info.available:
            continue
        if i == 0:
            return SolverChoice(name)
        first = solver_info(prefs[0])
        return SolverChoice(name, (warning(
            "GAT0601", f"{prefs[0]} is not available for this {problem_class.name} model; "
                       f"falling back to {name}", span,
            notes=(first.reason,),
            help=f"{name} solves it too but may be much slower on large networks; "
                 "run `gatc doctor` for details"),))
    reasons = tuple(f"{n}: {solver_info(n).reason}" for n in prefs)
    return SolverChoice(None, (error(
        "GAT0600", f"no installed solver can solve a {problem_class.name} model", span,
        notes=reasons, help="run `gatc doctor` to see which solvers work"),))


# ---------------------------------------------------------------- doctor

def doctor_report() -> str:
    """Human-readable report for ``gatc doctor``: versions, solvers, Ipopt bridge, fallbacks."""
    import pyomo.version

    lines = [
        f"Python  {platform.python_version()} ({sys.executable})",
        f"Pyomo   {pyomo.version.version}",
        f"PYOMO_CONFIG_DIR  {solver_env.ensure_pyomo_config_dir()}",
        "",
        "Solvers:",
    ]
    infos = available_solvers()
    width = max(len(i.name) for i in infos)
    for info in infos:
        mark = "ok     " if info.available else "MISSING"
        ver = info.version or "-"
        classes = ", ".join(p.name for p in info.problem_classes)
        lines.append(f"  {mark} {info.name:<{width}}  {ver:<10} {classes}")
        lines.append(f"          {'':<{width}}  {info.reason}")
    ipopt = solver_info("ipopt")
    lines.append("")
    if ipopt.available:
        lines.append("Ipopt bridge: present (cyipopt through Pyomo's PyNumero); "
                     "NLP, QCP and SOCP models are solved by Ipopt.")
    else:
        fallback = choose_solver(ProblemClass.NLP, None).name
        lines.append(f"Ipopt bridge: MISSING; NLP, QCP and SOCP models fall back to {fallback or 'NOTHING'} "
                     "(SCIP is global and correct, but much slower on large networks).")
        lines.append("  fix: run `scripts/bootstrap.sh` (installs cyipopt-wheels and builds Pyomo's PyNumero "
                     "library into <venv>/pyomo/lib), then `gatc doctor` again.")
        lines.append(f"  reason: {ipopt.reason}")
    lines.append("")
    lines.append("Default solver per problem class:")
    for pc in ProblemClass:
        choice = choose_solver(pc, None)
        note = " (fallback)" if any(d.code == "GAT0601" for d in choice.diagnostics) else ""
        lines.append(f"  {pc.name:<6} -> {choice.name or 'NONE'}{note}")
    return "\n".join(lines)

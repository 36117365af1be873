"""The run kinds a study may use, with the options each accepts.

Why one table: `gatc check` rejects an unknown kind or option (with the closest
names) before anything is loaded or solved, the docs list them, and each
workflow module reads its options from one place.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OptionSpec:
    name: str
    type: str                    # name | names | number | quantity | bool | block | range | expr
    doc: str
    choices: tuple[str, ...] = ()
    default: object = None


@dataclass(frozen=True)
class RunKind:
    name: str
    doc: str
    options: dict[str, OptionSpec] = field(default_factory=dict)
    implemented: bool = True
    problem: str | None = None   # the optimisation problem a formulation must declare (`problem opf`)


SOLVERS = ("highs", "scip", "ipopt", "auto")

_COMMON = [
    OptionSpec("scenarios", "names", "scenarios to solve (default: the base case only)"),
    OptionSpec("solver", "name", "solver to use; `auto` picks by problem class", SOLVERS, "auto"),
    OptionSpec("solver_options", "block", "options passed to the solver (e.g. tol, max_iter, time_limit)"),
    OptionSpec("time_limit", "quantity", "wall-clock limit for each solve"),
]


_START = OptionSpec("init", "name", "start point of the voltages (`b.vm_start`, `b.va_start`): flat (1 pu, "
                                     "0 rad; three-phase: the no-load voltages), case (the input's voltages), "
                                     "dc (DC power-flow angles) or pf (the AC power flow's solution)",
                    ("flat", "case", "dc", "pf"), "flat")


def _kind(name: str, doc: str, opts: list[OptionSpec], implemented: bool = True, problem: str | None = None) -> RunKind:
    return RunKind(name, doc, {o.name: o for o in _COMMON + opts}, implemented, problem)


RUN_KINDS: dict[str, RunKind] = {k.name: k for k in [
    _kind("opf", "optimal power flow under a formulation from stdlib (or the study)", [
        OptionSpec("formulation", "name", "the formulation: dcp, acp, ... (see stdlib/)", default="dcp"),
        OptionSpec("objective", "expr", "a named objective of the formulation (cost, losses, ...) "
                                          "or an expression to minimise"),
        OptionSpec("warm_start", "bool", "hand the variables' start values to the solver as a warm start "
                                         "(MIP start for HiGHS and SCIP)", default=True),
        _START,
        OptionSpec("taps", "name", "three-phase: keep regulator taps at the file's values, or let the OPF "
                                   "set them within their range (formulations that support tap_changers)",
                   ("fixed", "continuous"), "fixed"),
    ], problem="opf"),
    _kind("pf", "power flow (balanced or unbalanced)", [
        OptionSpec("method", "name", "solution method (default: newton balanced; fixed_point unbalanced, "
                                     "which hands over to Newton by itself if it stalls; sweep: radial "
                                     "feeders, balanced or unbalanced)",
                   ("newton", "fast_decoupled", "fast_decoupled_xb", "fast_decoupled_bx", "sweep", "fixed_point"),
                   "newton"),
        OptionSpec("phases", "name", "balanced or unbalanced", ("balanced", "unbalanced"), "balanced"),
        OptionSpec("tolerance", "number", "largest power mismatch at the answer, pu", default=1e-8),
        OptionSpec("max_iter", "number", "iteration limit", default=30),
        OptionSpec("q_limits", "bool", "switch PV buses to PQ at generator reactive limits", default=False),
        OptionSpec("init", "name", "starting point", ("flat", "case", "dc"), "flat"),
        OptionSpec("regulators", "name", "unbalanced: run the regulator control loop, or keep the taps of the file",
                   ("control", "fixed"), "control"),
    ]),
    _kind("compare", "solve one OPF problem under several formulations and compare them", [
        OptionSpec("formulations", "names", "formulations to compare, e.g. [acp, dcp]"),
        OptionSpec("reference", "name", "the formulation the others are compared with "
                                        "(default: the most exact one given)"),
        OptionSpec("objective", "expr", "a named objective of the formulations, or an expression"),
        _START,
    ], problem="opf"),
    _kind("hostcap", "hosting capacity: the largest DER injection at each location within voltage and loading limits", [
        OptionSpec("at", "expr", "locations: a bus, a list `[b1, b2]`, `buses` (all) or a table column `sites.bus`"),
        OptionSpec("method", "name", "sweep (stepwise power flows) or opf (one optimisation per location)",
                   ("sweep", "opf"), "sweep"),
        OptionSpec("step", "quantity", "injection step of the sweep (active power)", default="50 kW"),
        OptionSpec("max", "quantity", "largest injection tried (default 200 steps)"),
        OptionSpec("limits", "block", "voltage = 0.95 pu .. 1.05 pu, loading = 100 % (of the branch rating)"),
        OptionSpec("phases", "name", "balanced or unbalanced (three-phase feeder)", ("balanced", "unbalanced"),
                   "balanced"),
        OptionSpec("pf", "number", "DER power factor: 1 unity, > 0 injects vars, < 0 absorbs them", default=1.0),
        OptionSpec("refine", "bool", "bisect the last step of the sweep (answer to step/64)", default=False),
        OptionSpec("regulators", "name", "unbalanced: regulators control or keep the file's taps",
                   ("control", "fixed"), "control"),
        OptionSpec("formulation", "name", "formulation for method = opf (balanced: acp, socbf, lindistflow, ...; "
                                          "default acp; three-phase: acp_u, default, or lindist3flow)",
                   default="acp")], problem="opf"),
    _kind("envelope", "DER P-Q flexibility envelope", [], implemented=False),
    _kind("schedule", "multi-period DER scheduling with storage", [], implemented=False),
    _kind("stress", "DER stress test", [], implemented=False),
    _kind("flisr", "FLISR restoration (MILP)", [], implemented=False),
    _kind("outage_mc", "outage Monte Carlo reliability indices", [], implemented=False),
    _kind("vvo_plan", "Volt/VAR and CVR planning", [], implemented=False),
    _kind("se", "weighted-least-squares state estimation", [], implemented=False),
    _kind("itd", "integrated transmission-distribution OPF", [], implemented=False),
]}

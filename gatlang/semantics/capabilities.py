"""The capability check: is this problem x formulation x network combination supported?

Why at compile time: a radial-only formulation on a meshed network, or a
formulation that silently drops a component the network has, gives a wrong
answer or a confusing solver failure.  Formulations declare what they are
(`problem opf`, `requires radial`, `supports meshed, radial`,
`ignores phase_shifters`) in their own `.gat` file, and this module checks
those declarations -- statically against the run kind (`gatc check`), and
against the network's features once the data is loaded (`gatc run`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gatlang.diagnostics import DiagnosticSink, Span
from gatlang.syntax import ast

#: Network features a formulation may require, support or ignore, with how to recognise them.
FEATURES: dict[str, str] = {
    "radial": "the network is a tree (no loops)",
    "meshed": "the network has loops",
    "phase_shifters": "branches with a non-zero phase shift",
    "off_nominal_taps": "transformers with a turns ratio other than 1",
    "reactive_power": "reactive loads, shunts or generator limits",
    "three_phase": "conductor-by-conductor (multi-phase) data, as imported from OpenDSS",
    "delta_transformers": "transformers with a delta winding (a 30-degree phase shift between their sides)",
    "tap_changers": "regulators whose taps the OPF is asked to set (`taps = continuous`)",
    "multiwinding_transformers": "transformers with three or more windings (e.g. center-tapped service transformers)",
}


#: What a formulation may say it *is* (`is relaxation, convex`): reported with every solve, so a
#: reader knows whether an objective is exact, a bound or an estimate, and whether "optimal" is global.
PROPERTIES: dict[str, str] = {
    "exact": "the model is the physics (AC power flow equations) without simplification",
    "relaxation": "the feasible set contains the exact one: the optimum is a bound on the exact optimum",
    "approximation": "the equations are simplified (linearised, lossless): the answer is an estimate",
    "convex": "every local optimum is global",
}


@dataclass(frozen=True)
class Capabilities:
    """The clauses of one formulation, collected."""

    problems: tuple[str, ...]
    requires: tuple[str, ...]
    supports: tuple[str, ...]
    ignores: tuple[str, ...]
    clause_spans: dict[str, Span | None]
    properties: tuple[str, ...] = ()


def of(form: ast.FormulationDecl) -> Capabilities:
    found: dict[str, list[str]] = {"problem": [], "requires": [], "supports": [], "ignores": [], "is": []}
    spans: dict[str, Span | None] = {}
    for item in form.items:
        if isinstance(item, ast.Clause):
            found[item.kind].extend(item.names)
            for n in item.names:
                spans[n] = item.span
    return Capabilities(tuple(found["problem"]), tuple(found["requires"]), tuple(found["supports"]),
                        tuple(found["ignores"]), spans, tuple(found["is"]))


def check_static(form: ast.FormulationDecl, problem: str | None, run_span: Span | None, sink: DiagnosticSink) -> None:
    """Problem x formulation: the formulation must declare the run's problem; clause names must be known."""
    caps = of(form)
    for name in caps.requires + caps.supports + caps.ignores:
        if name not in FEATURES:
            sink.error("GAT0404", f"formulation `{form.name}` names an unknown network feature `{name}`",
                       caps.clause_spans.get(name), help=f"features: {', '.join(FEATURES)}")
    for name in caps.properties:
        if name not in PROPERTIES:
            sink.error("GAT0404", f"formulation `{form.name}` says it is `{name}`, which gatlang does not know",
                       caps.clause_spans.get(name), help=f"properties: {', '.join(PROPERTIES)}")
    kinds = sorted({"exact", "relaxation", "approximation"} & set(caps.properties))
    if len(kinds) > 1:
        sink.error("GAT0404", f"formulation `{form.name}` says it is {' and '.join(kinds)}; it can be only one",
                   caps.clause_spans.get(kinds[-1]), help="keep the one that describes it")
    if problem is not None and problem not in caps.problems:
        sink.error("GAT0404", f"formulation `{form.name}` does not formulate the `{problem}` problem", run_span,
                   help=(f"`{form.name}` formulates: {', '.join(caps.problems)}" if caps.problems else
                         f"add `problem {problem}` to formulation `{form.name}` if it does"))


def network_features(meshed: bool, tap: np.ndarray, shift: np.ndarray) -> set[str]:
    feats = {"meshed" if meshed else "radial"}
    if np.any(np.abs(shift) > 1e-12):
        feats.add("phase_shifters")
    if np.any(np.abs(tap - 1.0) > 1e-12):
        feats.add("off_nominal_taps")
    return feats


def check_network(form: ast.FormulationDecl, features: set[str], run: ast.RunDecl, network: str,
                  sink: DiagnosticSink) -> bool:
    """Formulation x network: requirements met (errors), ignored components present (warnings)."""
    caps = of(form)
    ok = True
    for req in caps.requires:
        if req not in features:
            ok = False
            sink.error("GAT0404", f"formulation `{form.name}` requires a {req} network, but `{network}` is not "
                                  f"({FEATURES.get(req, req)})", run.network_span or run.span,
                       help=f"the requirement is declared at {caps.clause_spans.get(req)}; "
                            f"choose a formulation that supports {' and '.join(sorted(features & set(FEATURES)))} networks")
    for ign in caps.ignores:
        if ign in features:
            sink.warning("GAT0406", f"formulation `{form.name}` ignores the {FEATURES[ign]} of network `{network}`",
                         run.span, help="the result is an approximation that leaves them out; use an exact "
                                        "formulation (e.g. acp) to include them")
    return ok

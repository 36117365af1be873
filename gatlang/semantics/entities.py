"""What the language can see of a network: its sets and the attributes of their elements.

Why a static table: the checker must know, without loading any data, that
``b.pd`` is an active power on a bus, ``l.from`` is a bus and ``b.gens`` is a
set of generators, so that a typo or a unit error is reported at compile time
with a location.  The elaborator (gatlang.model.netview) provides the values.

Units are those of the *model scale*: powers are stored per unit of the
system base inside models and converted back on output; impedances are per
unit; angles are radians; costs are $/h for P in MW (scaled internally).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AttrSpec:
    name: str
    type: str            # "number" | "entity" | "set"
    unit: str = ""       # for numbers; "" is dimensionless
    kind: str | None = None   # element kind for entity/set attributes
    doc: str = ""


def _n(name: str, unit: str, doc: str) -> AttrSpec:
    return AttrSpec(name, "number", unit, None, doc)


ENTITY_ATTRS: dict[str, dict[str, AttrSpec]] = {
    "bus": {a.name: a for a in [
        _n("pd", "MW", "active load"), _n("qd", "Mvar", "reactive load"),
        _n("gs", "MW", "shunt conductance, as MW consumed at 1 pu"),
        _n("bs", "Mvar", "shunt susceptance, as Mvar injected at 1 pu"),
        _n("vmin", "pu", "lower voltage limit"), _n("vmax", "pu", "upper voltage limit"),
        _n("vm0", "pu", "voltage magnitude in the input case"), _n("va0", "rad", "voltage angle in the input case"),
        _n("base_kv", "kV", "nominal voltage"),
        AttrSpec("gens", "set", kind="gen", doc="generators at the bus"),
        AttrSpec("lines_out", "set", kind="line", doc="branches whose `from` end is the bus"),
        AttrSpec("lines_in", "set", kind="line", doc="branches whose `to` end is the bus"),
    ]},
    "gen": {a.name: a for a in [
        AttrSpec("bus", "entity", kind="bus", doc="bus of the generator"),
        _n("pmin", "MW", "minimum active output"), _n("pmax", "MW", "maximum active output"),
        _n("qmin", "Mvar", "minimum reactive output"), _n("qmax", "Mvar", "maximum reactive output"),
        _n("pg0", "MW", "active output in the input case"), _n("qg0", "Mvar", "reactive output in the input case"),
        _n("vg", "pu", "voltage set point"),
        _n("c2", "$/h/MW^2", "quadratic cost coefficient"), _n("c1", "$/MWh", "linear cost coefficient"),
        _n("c0", "$/h", "fixed cost"),
        AttrSpec("cost_pieces", "set", kind="cost_piece",
                 doc="pieces of a piecewise-linear cost (empty for a polynomial cost)"),
    ]},
    "cost_piece": {a.name: a for a in [
        AttrSpec("gen", "entity", kind="gen", doc="generator the piece belongs to"),
        _n("slope", "$/MWh", "marginal cost on the piece"),
        _n("intercept", "$/h", "cost at zero output of the piece's line"),
    ]},
    "line": {a.name: a for a in [
        AttrSpec("from", "entity", kind="bus", doc="from bus"), AttrSpec("to", "entity", kind="bus", doc="to bus"),
        _n("r", "pu", "series resistance"), _n("x", "pu", "series reactance"),
        _n("g", "pu", "series conductance, r/(r^2+x^2)"), _n("b", "pu", "series susceptance, -x/(r^2+x^2)"),
        _n("b_fr", "pu", "shunt susceptance at the from end (half the line charging)"),
        _n("b_to", "pu", "shunt susceptance at the to end"),
        _n("g_fr", "pu", "shunt conductance at the from end"), _n("g_to", "pu", "shunt conductance at the to end"),
        _n("tap", "pu", "off-nominal turns ratio (1 for lines)"), _n("shift", "rad", "phase shift"),
        _n("rate_a", "MVA", "long-term thermal rating (0: unlimited)"),
        _n("angmin", "rad", "minimum angle difference"), _n("angmax", "rad", "maximum angle difference"),
    ]},
}

# Network-level sets: name -> element kind.
NETWORK_SETS: dict[str, str] = {
    "buses": "bus", "gens": "gen", "lines": "line", "ref_buses": "bus",
    "rated_lines": "line", "pwl_gens": "gen", "cost_pieces": "cost_piece",
}

NETWORK_SET_DOCS = {
    "buses": "every in-service bus", "gens": "every in-service generator",
    "lines": "every in-service branch (lines and transformers)",
    "ref_buses": "reference (slack) buses", "rated_lines": "branches with a thermal rating",
    "pwl_gens": "generators with a piecewise-linear cost",
    "cost_pieces": "every piece of every piecewise-linear generator cost",
}

# Scalars of the network as a whole.
NETWORK_SCALARS: dict[str, AttrSpec] = {
    "base_mva": AttrSpec("base_mva", "number", "MVA", doc="system base power"),
}

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
        _n("vm_start", "pu", "voltage magnitude of the run's start point (option `init`: flat, case, dc, pf)"),
        _n("va_start", "rad", "voltage angle of the run's start point"),
        _n("base_kv", "kV", "nominal voltage"),
        AttrSpec("gens", "set", kind="gen", doc="generators at the bus"),
        AttrSpec("lines_out", "set", kind="line", doc="branches whose `from` end is the bus"),
        AttrSpec("lines_in", "set", kind="line", doc="branches whose `to` end is the bus"),
        _n("phases", "", "three-phase view: number of phase conductors (nodes) at the bus"),
        AttrSpec("nodes", "set", kind="node", doc="three-phase view: the bus's nodes (one per conductor)"),
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
    # ---- the three-phase view (gatlang.model.netview3): one element per conductor node
    "node": {a.name: a for a in [
        AttrSpec("bus", "entity", kind="bus", doc="the bus the node belongs to"),
        _n("phase", "", "conductor number at the bus (1, 2, 3; 4 = an explicit neutral)"),
        _n("vmin", "pu", "lower voltage limit, pu of the node's line-to-neutral base"),
        _n("vmax", "pu", "upper voltage limit"),
        _n("gs", "MW", "capacitors and reactors: wye-equivalent conductance, MW drawn at 1 pu"),
        _n("bs", "Mvar", "capacitors and reactors: wye-equivalent susceptance, Mvar injected at 1 pu"),
        _n("pd", "MW", "constant-power active load of the wye loads at the node"),
        _n("qd", "Mvar", "constant-power reactive load of the wye loads"),
        _n("pd_i", "MW", "constant-current part of the wye loads: MW at 1 pu, proportional to vm"),
        _n("qd_i", "Mvar", "constant-current reactive part, Mvar at 1 pu"),
        _n("pd_z", "MW", "constant-impedance part of the wye loads: MW at 1 pu, proportional to vm^2"),
        _n("qd_z", "Mvar", "constant-impedance reactive part, Mvar at 1 pu"),
        _n("base_kv", "kV", "line-to-neutral voltage base"),
        _n("vm0", "pu", "no-load voltage magnitude (sources at their EMF, loads off): the start point"),
        _n("va0", "rad", "no-load voltage angle, carrying every transformer's phase shift"),
        _n("vm_start", "pu", "voltage magnitude of the run's start point: the no-load voltage "
                             "(`init = flat`) or the unbalanced power flow's (`init = pf`)"),
        _n("va_start", "rad", "voltage angle of the run's start point"),
        _n("vm_set", "pu", "source EMF magnitude (source nodes only)"),
        _n("va_set", "rad", "source EMF angle (source nodes only)"),
        AttrSpec("gens", "set", kind="phase_gen", doc="phases of generators and sources at the node"),
        AttrSpec("couplings", "set", kind="coupling", doc="non-zero entries of the node's row of Y"),
        AttrSpec("delta_out", "set", kind="delta_load", doc="node-to-node loads whose first end is the node"),
        AttrSpec("delta_in", "set", kind="delta_load", doc="node-to-node loads whose second end is the node"),
        AttrSpec("conductors_out", "set", kind="conductor", doc="branch conductors leaving the node"),
        AttrSpec("conductors_in", "set", kind="conductor", doc="branch conductors entering the node"),
        AttrSpec("switches_out", "set", kind="conductor", doc="closed switch conductors leaving the node"),
        AttrSpec("switches_in", "set", kind="conductor", doc="closed switch conductors entering the node"),
    ]},
    "coupling": {a.name: a for a in [
        AttrSpec("node", "entity", kind="node", doc="row of the entry"),
        AttrSpec("other", "entity", kind="node", doc="column of the entry (the node itself on the diagonal)"),
        _n("g", "pu", "real part of the admittance entry Y[node, other]"),
        _n("b", "pu", "imaginary part of the admittance entry Y[node, other]"),
    ]},
    "phase_gen": {a.name: a for a in [
        AttrSpec("node", "entity", kind="node", doc="node the phase injects into"),
        _n("pmin", "MW", "minimum active output"), _n("pmax", "MW", "maximum active output"),
        _n("qmin", "Mvar", "minimum reactive output"), _n("qmax", "Mvar", "maximum reactive output"),
        _n("c2", "$/h/MW^2", "quadratic cost coefficient"), _n("c1", "$/MWh", "linear cost coefficient"),
        _n("c0", "$/h", "fixed cost (per phase)"),
    ]},
    "delta_load": {a.name: a for a in [
        AttrSpec("from", "entity", kind="node", doc="first node of the load branch"),
        AttrSpec("to", "entity", kind="node", doc="second node of the load branch"),
        _n("p", "MW", "constant-power active load"), _n("q", "Mvar", "constant-power reactive load"),
        _n("p_i", "MW", "constant-current part, MW at |V_from - V_to| = 1 pu of the from node's base"),
        _n("q_i", "Mvar", "constant-current reactive part"),
        _n("p_z", "MW", "constant-impedance part, MW at 1 pu"), _n("q_z", "Mvar", "constant-impedance reactive part"),
    ]},
    "conductor": {a.name: a for a in [
        AttrSpec("from", "entity", kind="node", doc="node at the branch's from end"),
        AttrSpec("to", "entity", kind="node", doc="node at the branch's to end"),
        _n("r", "pu", "self series resistance"), _n("x", "pu", "self series reactance"),
        _n("tap", "pu", "voltage ratio to/from of a transformer phase at the file's taps (1 for lines)"),
        _n("tap_min", "pu", "lowest ratio the OPF may choose (= tap unless `taps = continuous` and regulated)"),
        _n("tap_max", "pu", "highest ratio the OPF may choose"),
        _n("rate", "MVA", "per-phase thermal rating (0: unlimited)"),
        _n("is_line", "", "1 for a line conductor, 0 for a switch or a transformer phase"),
        _n("is_switch", "", "1 for a closed switch (a zero-impedance tie), else 0"),
        _n("imax", "pu", "line conductors: current rating, pu of 1 MVA at the from node's base (0: none)"),
        _n("b_fr", "pu", "shunt susceptance at the from end"), _n("b_to", "pu", "shunt susceptance at the to end"),
        AttrSpec("couplings", "set", kind="conductor_coupling",
                 doc="entries of the branch's series impedance matrix in this conductor's row"),
    ]},
    "conductor_coupling": {a.name: a for a in [
        AttrSpec("conductor", "entity", kind="conductor", doc="row of the entry"),
        AttrSpec("other", "entity", kind="conductor", doc="column of the entry"),
        _n("r", "pu", "series resistance entry"), _n("x", "pu", "series reactance entry"),
        _n("g", "pu", "series admittance entry, real part (inverse of the branch's impedance matrix)"),
        _n("b", "pu", "series admittance entry, imaginary part"),
        _n("angle", "rad", "nominal angle of the row's phase minus the column's (0, +-2 pi/3)"),
    ]},
    "load": {a.name: a for a in [
        AttrSpec("bus", "entity", kind="bus", doc="bus of the load"),
        _n("p", "MW", "rated active power (all phases)"), _n("q", "Mvar", "rated reactive power"),
        _n("phases", "", "number of phases"),
        AttrSpec("nodes", "set", kind="node", doc="nodes of the load's bus"),
    ]},
    "der": {a.name: a for a in [
        AttrSpec("bus", "entity", kind="bus", doc="bus of the generator or PV system"),
        _n("p", "MW", "active output in the case (PV: pmpp times irradiance)"),
        _n("q", "Mvar", "reactive output in the case"), _n("s_rated", "MVA", "rated apparent power"),
        _n("phases", "", "number of phases"),
        AttrSpec("nodes", "set", kind="node", doc="nodes of the DER's bus"),
    ]},
    "transformer": {a.name: a for a in [
        AttrSpec("from", "entity", kind="bus", doc="bus of winding 1"),
        AttrSpec("to", "entity", kind="bus", doc="bus of winding 2"),
        _n("s_rated", "MVA", "rating of winding 1"), _n("phases", "", "number of phases"),
        _n("windings", "", "number of windings"),
        AttrSpec("conductors", "set", kind="conductor", doc="its phases as branch conductors (two-winding only)"),
    ]},
}

# Network-level sets: name -> element kind.
NETWORK_SETS: dict[str, str] = {
    "buses": "bus", "gens": "gen", "lines": "line", "ref_buses": "bus",
    "rated_lines": "line", "pwl_gens": "gen", "cost_pieces": "cost_piece",
    # three-phase view
    "nodes": "node", "source_nodes": "node", "couplings": "coupling", "phase_gens": "phase_gen",
    "delta_loads": "delta_load", "conductors": "conductor", "rated_conductors": "conductor",
    "loads": "load", "ders": "der", "transformers": "transformer",
    "rated_lines3": "conductor", "line_conductors": "conductor",
    "switch_conductors": "conductor", "conductor_couplings": "conductor_coupling",
}

NETWORK_SET_DOCS = {
    "buses": "every in-service bus", "gens": "every in-service generator",
    "lines": "every in-service branch (lines and transformers)",
    "ref_buses": "reference (slack) buses", "rated_lines": "branches with a thermal rating",
    "pwl_gens": "generators with a piecewise-linear cost",
    "cost_pieces": "every piece of every piecewise-linear generator cost",
    "nodes": "three-phase view: every energised conductor node (bus.phase)",
    "loads": "three-phase view: every in-service load",
    "ders": "three-phase view: every in-service generator and PV system (fixed injections in the formulations)",
    "transformers": "three-phase view: every in-service transformer",
    "source_nodes": "three-phase view: the nodes behind each source's Thevenin impedance (fixed EMF)",
    "couplings": "three-phase view: every non-zero entry of the nodal admittance matrix",
    "phase_gens": "three-phase view: every phase of every dispatchable generator and source",
    "delta_loads": "three-phase view: loads connected between two nodes (delta, or wye to a floating neutral)",
    "conductors": "three-phase view: every phase of every line, switch and transformer",
    "rated_conductors": "three-phase view: conductors with a thermal rating",
    "rated_lines3": "three-phase view: line conductors with a current rating",
    "line_conductors": "three-phase view: the conductors of lines (not switches, not transformers)",
    "switch_conductors": "three-phase view: the conductors of closed switches (zero-impedance ties)",
    "conductor_couplings": "three-phase view: every entry of every branch's series impedance matrix",
}

# Scalars of the network as a whole.
NETWORK_SCALARS: dict[str, AttrSpec] = {
    "base_mva": AttrSpec("base_mva", "number", "MVA", doc="system base power"),
}

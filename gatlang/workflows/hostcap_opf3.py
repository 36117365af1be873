"""`method = opf` on a three-phase feeder: one optimisation per location, on the conductor view.

The model is the one `run opf` builds for a formulation that `requires
three_phase` (stdlib/acp_u.gat, exact; stdlib/lindist3flow.gat, linearised) on
the conductor-by-conductor view of the feeder (`gatlang.model.netview3`), with
hosting-capacity data added to a copy of that view:

* the DER of every location as extra `phase_gen` entities: one per phase
  conductor of the bus (three at a three-phase bus, one at a one-phase bus),
  each from 0 to `max` / phases, with its reactive output 0 (`pf = 1`) or tied
  to P by `pf`; the phases of one DER are held equal (a balanced injection,
  as the sweep's DER), by constraints added beside the formulation's own;
* node voltage bounds from the run's `limits`, relaxed where the feeder
  without DER already breaks them (`hostcap_limits`), on every phase
  conductor 1-3; neutrals and the sources' EMF nodes keep the view's bounds;
* conductor ratings from `loading`: acp_u limits the current of line
  conductors (`ampacity` on `rated_lines3`), and the current of closed switches
  and of transformer terminals is limited here (`polar_current_limits`);
  lindist3flow limits the apparent power of every rated conductor (`thermal`
  on `rated_conductors`, transformers included);
* the start point: the power flow without DER (the host's base solve).

Why all locations in one model: building the Pyomo model of a feeder costs
more than solving it.  The DERs of all locations are added at once, and a
location is studied by opening its DER's bounds (the others are held at 0)
and maximising its output, from the same start point every time, so that a
location's answer does not depend on the order of the list.

Regulators, capacitors and every other controller stay at the file's
settings: the formulations have no tap variables.  The host's power flows
(base point, limit relaxation, the check of each answer) are therefore solved
with `regulators = fixed` (`hostcap.py` requires it for this method).
Every answer is checked with the exact unbalanced power flow at the optimal
injection, as on a balanced network (`hostcap_opf.solve_and_check`).
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gatlang.model.netview import Entities, NetView, _incidence
from gatlang.workflows.hostcap_limits import NO_SOLUTION
from gatlang.workflows.hostcap_options import UNSUPPORTED, HostcapSpec

if TYPE_CHECKING:
    from gatlang.passes import Compilation
    from gatlang.syntax import ast
    from gatlang.workflows.base import Step
    from gatlang.workflows.hostcap import LocationResult
    from gatlang.workflows.hostcap_unbalanced import UnbalancedHost

DER_PREFIX = "hostcap_der"
SQRT3 = math.sqrt(3.0)
#: the formulation studied when the run names none (the registry's default, acp, is balanced)
DEFAULT_FORMULATION = "acp_u"
#: how far past its rating (%) a conductor may be in the power flow at the optimum: the OPF limits
#: the series current of a line, the power flow measures its terminal current, which adds the
#: line's charging current -- about 1e-3 % of the rating on IEEE 13
CHECK_LOADING_TOL = 1e-2
#: transformers with a smaller series impedance (pu of their own rating) are left unrated in acp_u:
#: their current is a difference of nearly equal voltages over a tiny impedance (a regulator
#: with XHL = 0.01 %), which Ipopt cannot hold to any use
MIN_WINDING_Z = 1e-3
#: Ipopt's iteration limit per attempt unless the run sets `solver_options`: converging solves of
#: IEEE 123 took 25-640 iterations; one that does not (a DER on the floating delta secondary
#: behind IEEE 123's XFM1) would otherwise run Ipopt's default 3000, minutes per attempt
IPOPT_MAX_ITER = 1000
#: bound of the reactive output of a DER phase whose Q is tied to P by `pf` (MW; the tie binds it)
Q_FREE = 1e6

# Diagnostic codes of the three-phase OPF (pages in gatlang/explain/).
REGULATORS_CONTROL = "GAT0452"   # `regulators = control` cannot be optimised
BALANCED_FORMULATION = "GAT0453"  # a formulation without `requires three_phase` on `phases = unbalanced`
NOT_ENERGISED = "GAT0454"        # a location with no energised phase conductor in the three-phase view


def formulation_for(c: "Compilation", step: "Step") -> "ast.FormulationDecl | None":
    """The three-phase formulation of the run: the one it names, or acp_u when it names none.

    The registry's default formulation (acp) is balanced; a three-phase run that does
    not name one gets acp_u, loaded and type-checked here as the check pass would have.
    A named formulation that is not three-phase is GAT0453.
    """
    from gatlang.semantics.capabilities import of as capabilities_of

    if "formulation" not in step.options:
        from gatlang.semantics.check import network_scope
        from gatlang.semantics.program import load_formulation

        assert c.program is not None and c.checker is not None
        form = load_formulation(c.program, DEFAULT_FORMULATION, step.sink, step.run.span)
        if form is not None:
            c.checker.check_block(form.items, network_scope().child())
        return form
    form = step.formulation
    if form is not None and "three_phase" not in capabilities_of(form).requires:
        step.sink.error(BALANCED_FORMULATION, f"formulation `{form.name}` is written for balanced networks, but "
                        "this run studies the feeder phase by phase (`phases = unbalanced`)",
                        step.options["formulation"].span or step.run.span,
                        help="use `formulation = acp_u` (exact) or `formulation = lindist3flow` (linearised), "
                             "or `phases = balanced`")
        return None
    return form


def _copy(e: Entities, **numbers: np.ndarray) -> Entities:
    return dataclasses.replace(e, numbers={**e.numbers, **numbers}, refs=dict(e.refs), sets=dict(e.sets))


def limited_view(view: NetView, host: "UnbalancedHost", lmax: np.ndarray) -> NetView:
    """``view`` with the run's limits (relaxed where the base breaks them) and the base power flow as start.

    ``lmax``: per conductor, its loading limit in % of its rating (`conductor_loading_limits`).
    """
    node = view.kinds["node"]
    labels = node.labels.astype(str)
    at = {name: i for i, name in enumerate(labels)}
    obs, check = host.base_obs, host.check
    rows = np.asarray([at.get(f"{b}.{k}", -1) for b, k in zip(obs.bus, obs.phase)], dtype=np.int64)
    seen = rows >= 0
    vmin, vmax = node.numbers["vmin"].copy(), node.numbers["vmax"].copy()
    vmin[rows[seen]], vmax[rows[seen]] = check.vmin[seen], check.vmax[seen]
    base = host.base
    pf_at = np.asarray([at.get(name, -1) for name in base.nodes], dtype=np.int64)
    ok = (pf_at >= 0) & np.isfinite(base.v)
    vm_start, va_start = node.numbers["vm_start"].copy(), node.numbers["va_start"].copy()
    vm_start[pf_at[ok]] = np.abs(base.v[ok]) / base.vbase_v[ok]
    va_start[pf_at[ok]] = np.angle(base.v[ok])
    vm_start = np.clip(vm_start, vmin, vmax)     # a relaxed bound is the base voltage itself, to rounding

    cond = view.kinds["conductor"]
    new_cond = _copy(cond, imax=cond.numbers["imax"] * lmax / 100.0, rate=cond.numbers["rate"] * lmax / 100.0)
    sets = dict(view.sets)
    rated = np.isfinite(lmax)
    sets["rated_lines3"] = ("conductor", np.flatnonzero(rated & (new_cond.numbers["imax"] > 0)))
    sets["rated_conductors"] = ("conductor", np.flatnonzero(rated & (new_cond.numbers["rate"] > 0)))
    kinds = {**view.kinds, "node": _copy(node, vmin=vmin, vmax=vmax, vm_start=vm_start, va_start=va_start),
             "conductor": new_cond}
    return _like(view, kinds, sets)


def loading_limits(host: "UnbalancedHost") -> dict[tuple[str, int], float]:
    """The host's loading limit (%) per (element, conductor node): the largest over its terminals."""
    limit: dict[tuple[str, int], float] = {}
    obs = host.base_obs
    for name, k, value in zip(obs.branch, obs.branch_phase.astype(int), host.check.lmax):
        key = (str(name).lower(), int(k))
        limit[key] = max(limit.get(key, -np.inf), float(value))
    return limit


def conductor_loading_limits(view: NetView, host: "UnbalancedHost", spec: HostcapSpec) -> np.ndarray:
    """Per conductor, its loading limit in % of its rating (inf: unchecked).

    The host's limits are per element and conductor node of the power flow's terminals; a
    conductor of the view is its element's row at the node of its from end (a single-phase
    regulator's conductor 1 may sit on node 2), the largest limit of that element and node.
    """
    cond = view.kinds["conductor"]
    n = len(cond)
    if spec.limits.loading_pct is None:
        return np.full(n, np.inf)
    limit = loading_limits(host)
    element = np.char.rpartition(cond.labels.astype(str), ".")[:, 0]
    phase = view.kinds["node"].numbers["phase"][cond.refs["from"]].astype(int)
    return np.asarray([limit.get((e.lower(), k), spec.limits.loading_pct) for e, k in zip(element, phase)],
                      dtype=float)


@dataclass(frozen=True)
class TerminalCurrents:
    """Terminal currents of the rated transformers as linear maps of the node voltages.

    Row r is one phase terminal of one transformer winding: its current over its
    rating is ``sum_j k[r, j] V_j`` with V_j the pu voltage of view node ``node[r, j]``
    (``-1``: ground, V = 0); ``limit[r]`` is its loading limit as a fraction of the rating.
    """

    label: list[str]
    node: np.ndarray          # (rows, terminals) view node index, -1 = ground
    k: np.ndarray             # (rows, terminals) complex, pu voltage -> fraction of the rated current
    limit: np.ndarray         # (rows,)


def transformer_terminal_currents(net: Any, view: NetView, limit_of: dict[tuple[str, int], float],
                                  default_pct: float) -> TerminalCurrents:
    """The terminal currents of every transformer with a rating and a usable impedance.

    From the transformer's own primitive admittance (the one in the feeder's Y,
    `gatlang.network.ybus3.transformer_primitive`, at the file's taps): the current into
    terminal t is ``sum_j Y[t, j] V_j`` (A, V in volts) -- any connection, delta included,
    magnetising branch included.  Near-ideal transformers (series impedance below
    MIN_WINDING_Z of their own rating: IEEE 13's substation and regulators) are left out.
    """
    from gatlang.network.ybus3 import transformer_primitive
    from gatlang.workflows.hostcap_unbalanced import winding_rated_amps

    node = view.kinds["node"]
    at = {name: i for i, name in enumerate(node.labels.astype(str))}
    vbase = node.numbers["base_kv"] * 1e3
    labels, nodes, ks, limits = [], [], [], []
    for row in net.table("transformers").to_pylist():
        if not row["status"]:
            continue
        r_pct = sum(row["r_pct"] or [0.0])
        if math.hypot(r_pct, row["xhl_pct"] or 0.0) / 100.0 < MIN_WINDING_Z:
            continue
        amps = winding_rated_amps(row)
        prim, order = transformer_primitive(row)
        idx = np.asarray([at.get(f"{row['buses'][w]}.{row['conns'][w][c]}", -1) if row["conns"][w][c] > 0 else -1
                          for w, c in order], dtype=np.int64)
        if np.any((idx < 0) & (np.asarray([row["conns"][w][c] for w, c in order]) > 0)):
            continue                       # a terminal on a dead node: nothing flows there
        vb = np.where(idx >= 0, vbase[np.maximum(idx, 0)], 0.0)
        for t, (w, c) in enumerate(order):
            phase = row["conns"][w][c]
            rated = amps[w] if w < len(amps) else float("nan")
            if not 1 <= phase <= 3 or not np.isfinite(rated) or rated <= 0:
                continue
            pct = limit_of.get((str(row["transformer"]).lower(), int(phase)), default_pct)
            if not np.isfinite(pct):
                continue
            labels.append(f"{row['transformer']}.{w + 1}.{phase}")
            nodes.append(idx)
            ks.append(prim[t] * vb / rated)
            limits.append(pct / 100.0)
    width = max((len(n) for n in nodes), default=0)
    pad = lambda rows, fill, dtype: np.asarray([np.r_[r, np.full(width - len(r), fill)] for r in rows],  # noqa: E731
                                               dtype=dtype).reshape(len(rows), width)
    return TerminalCurrents(labels, pad(nodes, -1, np.int64), pad(ks, 0.0, complex),
                            np.asarray(limits, dtype=float))


def _like(view: NetView, kinds: dict[str, Entities], sets: dict[str, tuple[str, np.ndarray]]) -> NetView:
    """A NetView with ``view``'s name, base, scalars and flags, and the given elements."""
    out = NetView(view.name, view.base_mva, kinds, sets, dict(view.scalars), meshed=view.meshed)
    for attr in ("three_phase", "features"):
        if hasattr(view, attr):
            setattr(out, attr, getattr(view, attr))
    return out


def with_ders(view: NetView, host: "UnbalancedHost",
              locations: tuple[str, ...]) -> tuple[NetView, dict[str, np.ndarray]]:
    """``view`` plus one DER per location (a `phase_gen` per phase conductor of its bus, pmax 0).

    Returns the view and, per location, the indices of its DER's phase_gens.  The
    node `gens` incidence and the `phase_gens` set are rebuilt from the extended
    `node` refs, so the formulations see the DER as any other generator.
    """
    node, gen = view.kinds["node"], view.kinds["phase_gen"]
    at = {name: i for i, name in enumerate(node.labels.astype(str))}
    first = len(gen)
    labels, nodes, owner = [], [], {}
    for bus in locations:
        phases = [int(p) for p in (host.phases.get(bus) or [1, 2, 3]) if 1 <= int(p) <= 3]
        where = [at[f"{bus}.{k}"] for k in phases if f"{bus}.{k}" in at]
        owner[bus] = first + len(nodes) + np.arange(len(where), dtype=np.int64)
        labels += [f"{DER_PREFIX}:{bus}.{k}" for k in phases if f"{bus}.{k}" in at]
        nodes += where
    m = len(nodes)
    zeros = np.zeros(m)
    numbers = {name: np.r_[values, zeros] for name, values in gen.numbers.items()}
    refs = {"node": np.r_[gen.refs["node"], np.asarray(nodes, dtype=np.int64)]}
    new_gen = Entities(gen.kind, np.r_[gen.labels, np.asarray(labels, dtype=object)], numbers, refs, dict(gen.sets))
    new_node = _copy(node)
    new_node.sets["gens"] = _incidence(len(node), refs["node"])
    sets = {**view.sets, "phase_gens": ("phase_gen", np.arange(len(new_gen)))}
    return _like(view, {**view.kinds, "node": new_node, "phase_gen": new_gen}, sets), owner


class HostModel3:
    """The hosting-capacity model of a three-phase feeder, built once, solved once per location."""

    def __init__(self, c: "Compilation", step: "Step", spec: HostcapSpec, host: "UnbalancedHost") -> None:
        self.c, self.step, self.spec, self.host = c, step, spec, host
        self.builder: Any = None
        self.owner: dict[str, np.ndarray] = {}
        self.build_time = 0.0
        started = time.perf_counter()
        self._build()
        self.build_time = time.perf_counter() - started

    def _build(self) -> None:
        import pyomo.environ as pyo

        from gatlang.model.elaborate import ModelBuilder
        from gatlang.model.netview3 import from_network3
        from gatlang.semantics.capabilities import check_network
        from gatlang.syntax import ast
        from gatlang.workflows.data import model_items, scenario_factor

        c, step, spec, host = self.c, self.step, self.spec, self.host
        form = step.formulation
        assert form is not None and c.checker is not None and c.program is not None
        base = from_network3(host.net, step.sink, load_scale=scenario_factor(c, step, "load_scale"),
                             pv_scale=scenario_factor(c, step, "pv_scale"), span=spec.span)
        if base is None:
            return
        feats = set(base.features) | {"meshed" if base.meshed else "radial"}   # type: ignore[attr-defined]
        if not check_network(form, feats, step.run, step.run.network, step.sink):
            return
        self.lmax = conductor_loading_limits(base, host, spec)
        view, self.owner = with_ders(limited_view(base, host, self.lmax), host, spec.locations)
        builder = ModelBuilder(view, step.sink, c.checker.types, name=f"{step.run.name}")
        builder.add_statements([g for g in c.program.globals if isinstance(g, (ast.ParamDecl, ast.SetDecl))])
        builder.add_statements(model_items(form.items))
        builder.add_statements(model_items(step.run.items))
        if step.sink.has_errors:
            return
        pg, qg = builder.components.get("pg"), builder.components.get("qg")
        if pg is None or pg.what != "var" or pg.index_kinds != ("phase_gen",):
            step.sink.error(UNSUPPORTED, f"formulation `{form.name}` has no generator output "
                            "`pg[g in phase_gens]` to maximise", spec.span,
                            help="use a three-phase formulation with `var pg[g in phase_gens]`: acp_u, lindist3flow")
            return
        if spec.pf != 1.0 and (qg is None or qg.what != "var"):
            step.sink.error(UNSUPPORTED, f"`pf = {spec.pf:g}` needs reactive generator output `qg`, which "
                            f"formulation `{form.name}` does not have", spec.span, help="use `pf = 1`")
            return
        model = builder.model
        # one DER's phases inject equal power (a balanced element, as the sweep's), Q tied to P by pf
        pairs = [(bus, int(g[0]), int(k)) for bus, g in self.owner.items() for k in g[1:]]
        model.hostcap_equal = pyo.Constraint(range(len(pairs)),
                                             rule=lambda m, i: pg.values[pairs[i][2]] == pg.values[pairs[i][1]])
        every = [(bus, int(k)) for bus, g in self.owner.items() for k in g]
        if qg is not None and qg.what == "var":
            model.hostcap_pf = pyo.Constraint(range(len(every)), rule=lambda m, i: (
                qg.values[every[i][1]] == spec.q_per_p * pg.values[every[i][1]]))
        # per location, the rows of its ties: only the studied location's are active in a solve
        self.ties = {bus: ([i for i, p in enumerate(pairs) if p[0] == bus],
                           [i for i, e in enumerate(every) if e[0] == bus]) for bus in self.owner}
        self.polar_current_limits(builder, view)
        self.builder = builder
        self.defaults = self._solver_defaults(model)
        self.start = [(v, v.value) for v in model.component_data_objects(pyo.Var)]

    def polar_current_limits(self, builder: Any, view: NetView) -> None:
        """Current limits a polar formulation (acp_u) leaves out: transformer windings and closed switches.

        acp_u rates line conductors only.  Where the model has polar node voltages
        (`vm`, `va`), two more limits are written here, on the same ratings as the sweep:

        * every phase terminal of every rated transformer (`transformer_terminal_currents`):
          ``|sum_j k_j V_j|^2 <= limit^2``, V_j = vm_j (cos va_j + j sin va_j), the current
          the power flow and the engine measure at that terminal over its rating;
          near-ideal transformers (|z| < MIN_WINDING_Z of their rating) are left unrated:
          their current is a small difference of nearly equal voltages times a huge
          admittance, which Ipopt cannot hold to any use (the answer's check with the
          power flow still reports them, GAT0451);
        * a closed switch (a tie with free flow psw + j qsw) carries |S| / |V_from|:
          ``psw^2 + qsw^2 <= I_max^2 vm_f^2``.
        """
        import pyomo.environ as pyo

        vm, va = builder.components.get("vm"), builder.components.get("va")
        if vm is None or va is None or vm.what != "var" or va.what != "var" or vm.index_kinds != ("node",):
            return
        cond = view.kinds["conductor"]
        f = cond.refs["from"]
        v, a = vm.values, va.values
        m = builder.model
        default = self.spec.limits.loading_pct if self.spec.limits.loading_pct is not None else np.inf
        tc = transformer_terminal_currents(self.host.net, view, loading_limits(self.host), default)
        self.terminals = tc

        def parts(r: int) -> tuple[Any, Any]:
            terms = [(complex(k), int(j)) for k, j in zip(tc.k[r], tc.node[r]) if j >= 0 and k != 0]
            re = sum(k.real * v[j] * pyo.cos(a[j]) - k.imag * v[j] * pyo.sin(a[j]) for k, j in terms)
            im = sum(k.real * v[j] * pyo.sin(a[j]) + k.imag * v[j] * pyo.cos(a[j]) for k, j in terms)
            return re, im

        def winding(_m: Any, r: int) -> Any:
            re, im = parts(r)
            return re ** 2 + im ** 2 <= tc.limit[r] ** 2
        m.hostcap_winding = pyo.Constraint(range(len(tc.label)), rule=winding)
        psw, qsw = builder.components.get("psw"), builder.components.get("qsw")
        if psw is None or qsw is None:
            return
        rate = cond.numbers["rate"]           # already scaled by the loading limit (limited_view)
        sw = [int(k) for k in view.sets["switch_conductors"][1] if np.isfinite(self.lmax[k]) and rate[k] > 0]
        m.hostcap_switch = pyo.Constraint(sw, rule=lambda _m, k: (
            psw.values[k] ** 2 + qsw.values[k] ** 2 <= rate[k] ** 2 * v[int(f[k])] ** 2))

    def _solver_defaults(self, model: Any) -> dict[str, Any]:
        """Options for the solves when the run sets none: Ipopt's iterations capped (IPOPT_MAX_ITER)."""
        from gatlang.backends.classify import classify
        from gatlang.backends.solver_registry import choose_solver

        solver = self.step.option("solver", "auto")
        choice = choose_solver(classify(model), None if solver == "auto" else solver)
        return {"max_iter": IPOPT_MAX_ITER} if choice.name == "ipopt" else {}

    def _open(self, bus: str) -> None:
        """Every DER fixed at 0 but the one at ``bus`` (0 .. max, shared by its phases); restart.

        Fixed, not bounded to 0 .. 0: the solver's model then has no variables for them (Ipopt
        would otherwise return them a hair outside their bounds)."""
        import pyomo.environ as pyo

        pg = self.builder.components["pg"].values
        qg = self.builder.components.get("qg")
        share = self.spec.max_mw / max(len(self.owner[bus]), 1)
        for loc, gens in self.owner.items():
            for k in gens:
                p = pg[int(k)]
                if loc == bus:
                    p.unfix()
                    p.setlb(0.0)
                    p.setub(share)
                else:
                    p.fix(0.0)
                if qg is not None and qg.what == "var":
                    q = qg.values[int(k)]
                    if loc == bus and self.spec.pf != 1.0:
                        q.unfix()
                        q.setlb(-Q_FREE)
                        q.setub(Q_FREE)
                    else:
                        q.fix(0.0)
        for v, value in self.start:
            if not v.fixed:
                v.set_value(value, skip_validation=True)
        model = self.builder.model
        for loc, (equal, tied) in self.ties.items():
            for i in equal:
                model.hostcap_equal[i].activate() if loc == bus else model.hostcap_equal[i].deactivate()
            if hasattr(model, "hostcap_pf"):      # with pf = 1 each Q is fixed at 0 instead
                for i in tied:
                    tie = model.hostcap_pf[i]
                    tie.activate() if loc == bus and self.spec.pf != 1.0 else tie.deactivate()
        if hasattr(model, "hostcap_objective"):
            model.del_component("hostcap_objective")
        model.hostcap_objective = pyo.Objective(expr=sum(pg[int(k)] for k in self.owner[bus]), sense=pyo.maximize)

    def capacity(self, bus: str) -> "LocationResult":
        """The hosting capacity at ``bus``, checked with the exact unbalanced power flow."""
        from gatlang.workflows.hostcap import LocationResult
        from gatlang.workflows.hostcap_opf import solve_and_check

        if self.builder is None:
            return LocationResult(bus, float("nan"), NO_SOLUTION, [], solve={"status": "not built"})
        if len(self.owner.get(bus, ())) == 0:
            self.step.sink.error(NOT_ENERGISED, f"bus `{bus}` has no energised phase conductor: no source reaches "
                                 "it (an open switch or a disabled element cuts it off), so no DER can be added there",
                                 self.spec.span, help="remove it from `at`, or close the element that isolates it")
            return LocationResult(bus, float("nan"), NO_SOLUTION, [], solve={"status": "not energised"})
        started = time.perf_counter()
        self._open(bus)
        pg = self.builder.components["pg"].values
        gens = self.owner[bus]
        result = solve_and_check(self.step, self.spec, self.host, bus, self.builder.model, self.builder.name_of,
                                 lambda: float(sum(pg[int(k)].value for k in gens)), started,
                                 loading_tol=CHECK_LOADING_TOL, restart=lambda: self._open(bus),
                                 defaults=self.defaults)
        result.solve["build_time"] = self.build_time
        return result

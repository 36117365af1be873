"""Power flows of the three-phase sweep: the feeder with one DER element added, per step.

The DER is an OpenDSS-style PV system (constant power P + jQ, the engine's
0.90-1.10 pu constant-power band) connected wye to every phase of its bus:
three-phase balanced at a three-phase bus, one-phase at a one-phase bus,
P shared equally between the phases.  A PV row (not a generator row) is
used because its `vn_kv` carries the element's own voltage base, which a
one-phase element needs (line-to-neutral) and the generators table has no
column for.  Each step is a full `solve_unbalanced`, so regulators move
(with `regulators = control`) as the OpenDSS engine's controls would;
the feeder's admittance matrix is re-used between steps where the engine's
cache allows (`gatlang.engines.pf3_cache`).

Limits: voltage magnitude of every phase conductor (1-3) of every bus, in pu
of its base; loading of every line conductor in % of `normamps` and of every
transformer winding conductor in % of its rated current kVA / (phases x kV
per phase), as the engine's `NormAmps`.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pyarrow as pa

from gatlang.diagnostics import Diagnostic, Span
from gatlang.engines.pf3 import solve_unbalanced
from gatlang.engines.pf3_result import BranchFlows, PF3Result
from gatlang.network.model import Network, build_table
from gatlang.workflows.hostcap_limits import Headroom, LimitCheck, Observation, headroom
from gatlang.workflows.hostcap_options import Limits
from gatlang.workflows.hostcap_sweep import Evaluate, Trial

DER_NAME = "hostcap_der"
SQRT3 = math.sqrt(3.0)
TOL = 1e-8
MAX_ITER = 50


def winding_rated_amps(row: dict) -> list[float]:
    """Rated current (A) of each winding of a transformer row: kVA / (phases x kV per phase), as the
    engine's NormAmps (a line current for a delta winding too); NaN where kV or kVA is missing."""
    nph = int(row["phases"] or 3)
    return [(kva / (nph * (kv / SQRT3 if nph > 1 else kv))) if kva and kv else float("nan")
            for kv, kva in zip(row["kv"] or [], row["kva"] or [])]


def rated_amps(net: Network, flows: BranchFlows) -> np.ndarray:
    """The rated current (A) of each row of ``flows``; NaN for neutrals and unrated elements."""
    lines = net.table("lines")
    amps = dict(zip(lines.column("line").to_pylist(), lines.column("normamps_a").to_pylist()))
    xf = net.table("transformers").select(["transformer", "phases", "kv", "kva"]).to_pylist()
    wind = {r["transformer"]: winding_rated_amps(r) for r in xf}
    names = flows.element.astype(str)
    kinds = flows.kind.astype(str)
    out = np.full(len(names), np.nan)
    is_line = kinds == "line"
    out[is_line] = [amps.get(n) or np.nan for n in names[is_line]]
    for k in np.flatnonzero(kinds == "transformer"):
        w = wind.get(names[k], [])
        t = int(flows.terminal[k]) - 1
        out[k] = w[t] if 0 <= t < len(w) else np.nan
    out[(flows.node < 1) | (flows.node > 3)] = np.nan
    return out


class UnbalancedHost:
    """A three-phase feeder ready for DER steps at any of its buses."""

    def __init__(self, net: Network, limits: Limits, q_per_p: float, regulators: str,
                 load_scale: float, pv_scale: float, span: Span | None) -> None:
        self.net, self.q_per_p, self.span = net, q_per_p, span
        self.kw = dict(regulators=regulators, load_scale=load_scale, pv_scale=pv_scale, span=span,
                       tol=TOL, max_iter=MAX_ITER)
        self.pv_scale = pv_scale
        self.base = solve_unbalanced(net, **self.kw)
        self.diagnostics: list[Diagnostic] = list(self.base.diagnostics)
        self.ok = self.base.converged
        buses = net.table("buses")
        self.phases = dict(zip(buses.column("bus").to_pylist(), buses.column("phases").to_pylist()))
        self.kv = dict(zip(buses.column("bus").to_pylist(), buses.column("vn_kv").to_pylist()))
        if not self.ok:
            return
        assert self.base.flows is not None
        self.rating = rated_amps(net, self.base.flows)
        self.base_obs = self.observe(self.base)
        self.check = LimitCheck(limits, self.base_obs)
        self.base_headroom: Headroom = headroom(self.base_obs)

    def observe(self, res: PF3Result) -> Observation:
        names = np.asarray(res.nodes, dtype=str)
        bus_phase = np.char.rpartition(names, ".")
        phase = np.asarray([int(p) if p.isdigit() else 0 for p in bus_phase[:, 2]], dtype=np.int8)
        keep = (phase >= 1) & (phase <= 3)
        flows = res.flows
        assert flows is not None
        with np.errstate(divide="ignore", invalid="ignore"):
            loading = np.abs(flows.current) / self.rating * 100.0
        return Observation(bus_phase[keep, 0], phase[keep], res.vm_pu[keep],
                           flows.element.astype(str), flows.node.astype(np.int8), loading)

    def der_table(self, bus: str, p_mw: float) -> pa.Table:
        """The network's PV systems plus the DER at ``bus`` (P MW over all its phases)."""
        phases = [int(p) for p in (self.phases.get(bus) or [1, 2, 3])]
        kv = float(self.kv.get(bus) or 12.47)
        if len(phases) == 1:
            kv /= SQRT3               # a one-phase element's base is line-to-neutral
        p = p_mw / self.pv_scale if self.pv_scale > 0 else 0.0   # the scenario's pv_scale is not for the DER
        s_mva = abs(complex(p, p * self.q_per_p))
        row = build_table("pv_systems", {
            "pv": [DER_NAME], "bus": [bus], "conn": [phases + [0]], "phases": [phases], "vn_kv": [kv],
            "kva": [s_mva * 1e3 * 1.0001 + 1e-9], "pmpp_mw": [p], "irradiance": [1.0],
            "pf": [math.copysign(1.0 / math.sqrt(1.0 + self.q_per_p ** 2), self.q_per_p or 1.0)]})
        existing = self.net.table("pv_systems")
        return pa.concat_tables([existing.cast(row.schema), row]) if existing.num_rows else row

    def solve(self, bus: str, p_mw: float) -> PF3Result:
        net = dataclasses.replace(self.net, tables={**self.net.tables, "pv_systems": self.der_table(bus, p_mw)})
        return solve_unbalanced(net, **self.kw)

    def observe_at(self, bus: str, p_mw: float) -> tuple[Observation | None, int]:
        """The power flow with P MW at ``bus`` as an Observation (None if it does not solve), and its iterations."""
        res = self.solve(bus, p_mw)
        return (self.observe(res) if res.converged else None), res.iterations

    def evaluator(self, bus: str) -> Evaluate:
        def evaluate(p_mw: float, stage: str) -> Trial:
            res = self.solve(bus, p_mw)
            if not res.converged:
                return Trial(p_mw, stage, False, None, None, res.iterations)
            obs = self.observe(res)
            return Trial(p_mw, stage, True, self.check.worst(obs), headroom(obs), res.iterations)

        return evaluate

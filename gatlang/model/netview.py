"""The network as the language sees it: element sets, attribute arrays, incidence.

Why a separate view: the checker knows attribute *names and units* statically
(gatlang.semantics.entities); the elaborator needs their *values*, as numpy
arrays indexed 0..n-1 and already in model scale, so that building a model is
array lookups, never searches.  The view is made once per network and
scenario from the balanced per-unit case (gatlang.network.balanced).

Model scale: inside a model every power is per unit of the system base.  An
attribute whose unit has power exponent k (MW: 1, $/MWh: -1, $/h/MW^2: -2)
is stored as its canonical value divided by base_mva**k; see
:func:`gatlang.model.scale.power_exponent`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gatlang.model.scale import to_model_scale
from gatlang.network.balanced import REF, BalancedCase
from gatlang.semantics import units as U
from gatlang.semantics.entities import ENTITY_ATTRS


@dataclass
class Entities:
    """One kind of network element (bus, gen, line): labels and attribute arrays."""

    kind: str
    labels: np.ndarray                                        # external ids, for outputs and messages
    numbers: dict[str, np.ndarray] = field(default_factory=dict)   # model-scale values
    refs: dict[str, np.ndarray] = field(default_factory=dict)      # index into another kind
    sets: dict[str, list[np.ndarray]] = field(default_factory=dict)  # per-element index arrays

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class NetView:
    name: str
    base_mva: float
    kinds: dict[str, Entities]
    sets: dict[str, tuple[str, np.ndarray]]       # network set name -> (element kind, indices)
    scalars: dict[str, float]
    meshed: bool = False

    def label(self, kind: str, index: int) -> str:
        return str(self.kinds[kind].labels[index])


def _incidence(n: int, owner: np.ndarray) -> list[np.ndarray]:
    """For each of `n` elements, the indices i with owner[i] == element (stable order)."""
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner, minlength=n)
    return np.split(order, np.cumsum(counts)[:-1])


def _scaled(kind: str, canonical: dict[str, np.ndarray], base_mva: float) -> dict[str, np.ndarray]:
    specs = ENTITY_ATTRS[kind]
    out = {}
    for name, values in canonical.items():
        unit = U.parse_unit(specs[name].unit) if specs[name].unit else None
        out[name] = to_model_scale(np.asarray(values, dtype=float), unit, base_mva)
    return out


def _is_meshed(n_bus: int, f: np.ndarray, t: np.ndarray) -> bool:
    """A connected network is radial iff it has n_bus - 1 branches; parallel branches count as a mesh."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    if len(f) == 0:
        return False
    graph = sp.coo_matrix((np.ones(len(f)), (f, t)), shape=(n_bus, n_bus))
    n_comp, _ = connected_components(graph, directed=False)
    return len(f) > n_bus - n_comp


def _cost_pieces(case: BalancedCase) -> tuple[Entities, np.ndarray]:
    """Piecewise-linear costs as pieces: the line through each pair of consecutive (MW, $/h) points.

    A convex piecewise-linear cost is the maximum of these lines, so a formulation
    bounds a cost variable from below by each of them (the epigraph form).
    """
    gens, slopes, intercepts = [], [], []
    pwl = case.cost_pwl or []
    for g, pts in enumerate(pwl):
        if pts is None or len(pts) == 0:
            continue
        x, y = pts[:, 0], pts[:, 1]
        dx = np.diff(x)
        keep = dx > 0
        if not keep.any():     # a curve of zero width (pmin == pmax): a constant cost
            gens.append(g)
            slopes.append(0.0)
            intercepts.append(float(np.max(y)))
            continue
        slope = np.diff(y)[keep] / dx[keep]
        gens.extend([g] * len(slope))
        slopes.extend(slope)
        intercepts.extend(y[:-1][keep] - slope * x[:-1][keep])
    piece = Entities("cost_piece", np.array([f"{case.gen_id[g]}/{k}" for k, g in enumerate(gens)], dtype=object))
    piece.numbers = _scaled("cost_piece", {"slope": np.asarray(slopes, dtype=float),
                                           "intercept": np.asarray(intercepts, dtype=float)}, case.base_mva)
    piece.refs = {"gen": np.asarray(gens, dtype=np.int64)}
    return piece, np.unique(np.asarray(gens, dtype=np.int64))


def from_balanced(case: BalancedCase, start: tuple[np.ndarray, np.ndarray] | None = None) -> NetView:
    """Build the language's view of a balanced case (all values per unit on case.base_mva).

    `start` is the (vm, va) behind `b.vm_start`, `b.va_start` (gatlang.model.start); flat by default.
    """
    base = case.base_mva
    nb, ng = case.n_bus, case.n_gen
    z2 = case.r ** 2 + case.x ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        g_series = np.where(z2 > 0, case.r / z2, 0.0)
        b_series = np.where(z2 > 0, -case.x / z2, 0.0)

    bus = Entities("bus", np.asarray(case.bus_id))
    bus.numbers = _scaled("bus", {
        "pd": case.pd * base, "qd": case.qd * base, "gs": case.gs * base, "bs": case.bs * base,
        "vmin": case.vmin, "vmax": case.vmax, "vm0": case.vm, "va0": case.va, "base_kv": case.base_kv,
        "vm_start": start[0] if start is not None else np.ones(nb),
        "va_start": start[1] if start is not None else np.zeros(nb),
    }, base)
    bus.sets = {"gens": _incidence(nb, case.gen_bus), "lines_out": _incidence(nb, case.f),
                "lines_in": _incidence(nb, case.t)}

    gen = Entities("gen", np.asarray(case.gen_id))
    gen.numbers = _scaled("gen", {
        "pmin": case.pmin * base, "pmax": case.pmax * base, "qmin": case.qmin * base,
        "qmax": case.qmax * base, "pg0": case.pg * base, "qg0": case.qg * base, "vg": case.vg,
        "c2": case.cost_c2, "c1": case.cost_c1, "c0": case.cost_c0,
    }, base)
    gen.refs = {"bus": np.asarray(case.gen_bus, dtype=np.int64)}

    piece, pwl_gens = _cost_pieces(case)
    gen.sets = {"cost_pieces": _incidence(ng, piece.refs["gen"])}

    line = Entities("line", np.asarray(case.branch_id))
    half_b = case.b / 2.0
    zeros = np.zeros(case.n_branch)
    line.numbers = _scaled("line", {
        "r": case.r, "x": case.x, "g": g_series, "b": b_series, "b_fr": half_b, "b_to": half_b,
        "g_fr": zeros, "g_to": zeros, "tap": case.tap, "shift": case.shift, "rate_a": case.rate_a * base,
        "angmin": case.angmin, "angmax": case.angmax,
    }, base)
    line.refs = {"from": np.asarray(case.f, dtype=np.int64), "to": np.asarray(case.t, dtype=np.int64)}

    sets = {
        "buses": ("bus", np.arange(nb)),
        "gens": ("gen", np.arange(ng)),
        "lines": ("line", np.arange(case.n_branch)),
        "ref_buses": ("bus", np.flatnonzero(case.bus_type == REF)),
        "rated_lines": ("line", np.flatnonzero(case.rate_a > 0)),
        "pwl_gens": ("gen", pwl_gens),
        "cost_pieces": ("cost_piece", np.arange(len(piece))),
    }
    return NetView(case.name, base, {"bus": bus, "gen": gen, "line": line, "cost_piece": piece}, sets,
                   {"base_mva": to_model_scale(np.array([base]), U.parse_unit("MVA"), base)[0]},
                   meshed=_is_meshed(nb, case.f, case.t))

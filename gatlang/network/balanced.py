"""Balanced per-unit case: the array view of a one-phase (positive-sequence) network.

Why: power flow and the balanced OPF formulations want flat numpy arrays indexed
0..n-1 (as MATPOWER's bus/gen/branch matrices), built once per network, not
per-element objects.  `from_network` (in this module) lowers a canonical
`Network` to it; kernels never read importer output directly.

All quantities are per unit on `base_mva` and the bus base voltages; angles are
radians.  Bus types follow MATPOWER: 1 PQ, 2 PV, 3 reference, 4 isolated.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PQ, PV, REF, NONE = 1, 2, 3, 4


@dataclass
class BalancedCase:
    name: str
    base_mva: float
    # buses (n)
    bus_id: np.ndarray          # external ids (str), e.g. MATPOWER bus numbers as text
    bus_type: np.ndarray        # int8: PQ/PV/REF/NONE
    pd: np.ndarray              # load, pu
    qd: np.ndarray
    gs: np.ndarray              # shunt conductance, pu at V = 1 pu
    bs: np.ndarray              # shunt susceptance, pu at V = 1 pu
    vm: np.ndarray              # initial magnitude, pu
    va: np.ndarray              # initial angle, rad
    base_kv: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    # generators (g); only in-service generators are kept
    gen_id: np.ndarray
    gen_bus: np.ndarray         # int index into buses
    pg: np.ndarray
    qg: np.ndarray
    pmin: np.ndarray
    pmax: np.ndarray
    qmin: np.ndarray
    qmax: np.ndarray
    vg: np.ndarray              # voltage set point, pu
    # generator cost: polynomial c2*P^2 + c1*P + c0 with P in MW, cost in $/h
    cost_c2: np.ndarray
    cost_c1: np.ndarray
    cost_c0: np.ndarray
    # piecewise-linear costs: per generator None or an (k, 2) array of (MW, $/h) points
    cost_pwl: list = field(default_factory=list)
    # branches (m); only in-service branches are kept
    branch_id: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    f: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    t: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    r: np.ndarray = field(default_factory=lambda: np.zeros(0))
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    b: np.ndarray = field(default_factory=lambda: np.zeros(0))      # total line charging, pu
    rate_a: np.ndarray = field(default_factory=lambda: np.zeros(0))  # pu MVA; 0 = unlimited
    tap: np.ndarray = field(default_factory=lambda: np.zeros(0))     # off-nominal ratio at 'from' side; 1.0 for lines
    shift: np.ndarray = field(default_factory=lambda: np.zeros(0))   # rad
    angmin: np.ndarray = field(default_factory=lambda: np.zeros(0))  # rad
    angmax: np.ndarray = field(default_factory=lambda: np.zeros(0))  # rad

    @property
    def n_bus(self) -> int:
        return len(self.bus_id)

    @property
    def n_gen(self) -> int:
        return len(self.gen_id)

    @property
    def n_branch(self) -> int:
        return len(self.branch_id)

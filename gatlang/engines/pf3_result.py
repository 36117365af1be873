"""What the unbalanced (three-phase) power flow returns, and its diagnostic codes.

Why a module of its own: the ``run pf`` workflow, hosting capacity and the
tests read a :class:`PF3Result` without caring which kernel (Newton or the
fixed-point Z-bus iteration) produced it.  Everything is per *node*
(``"bus.k"``, k = conductor; 4 = an explicit neutral), in physical units
(volts, amperes, kW, kvar) with per-unit views derived from the voltage bases,
so that numbers compare one to one with the OpenDSS engine.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np
import pyarrow as pa

from gatlang.diagnostics import Diagnostic

# Diagnostic codes of the unbalanced power flow (pages in gatlang/explain/).
NOT_CONVERGED = "GAT0840"      # iteration limit reached; names the worst-mismatch nodes
DIVERGED = "GAT0841"           # mismatch became NaN/inf or grew without bound
SINGULAR = "GAT0842"           # the admittance/Jacobian matrix cannot be factorised
BAD_OPTION = "GAT0843"         # unknown method / regulators mode, bad tol, max_iter or scale
NO_SOURCE = "GAT0844"          # the network has no voltage source
DEENERGISED = "GAT0845"        # nodes without a path to a source are left at 0 V (warning)
LOAD_MODEL_APPROX = "GAT0846"  # a load model solved with an approximation (warning)
REG_NOT_SETTLED = "GAT0847"    # regulator control loop did not settle (warning)
REG_AT_LIMIT = "GAT0848"       # a regulator wants to move beyond its tap range (warning)
NOT_MODELLED = "GAT0849"       # an element class the solver leaves out (warning)
NO_BASE = "GAT0850"            # a bus has no voltage base (no source reaches it through the data)

#: how many nodes a diagnostic names before it says "and N more"
NAMED_NODES = 5


def name_nodes(names: list[str] | np.ndarray, idx: np.ndarray, values: np.ndarray | None = None,
               unit: str = "pu") -> str:
    """'node 632.1 (0.012 pu), node 671.3 (...) and 12 more' for diagnostics."""
    idx = np.asarray(idx, dtype=int)
    parts = [f"node {names[int(i)]}" + (f" ({values[k]:.3g} {unit})" if values is not None else "")
             for k, i in enumerate(idx[:NAMED_NODES])]
    more = f" and {len(idx) - NAMED_NODES} more" if len(idx) > NAMED_NODES else ""
    return ", ".join(parts) + more


@dataclass
class BranchFlows:
    """Per element terminal and conductor: one row each (long format, Parquet-ready).

    ``current`` is the complex current *into* the element at that conductor
    (A); ``power_kva`` is ``V * conj(I)`` there (kW + j kvar), so that
    ``power_kva`` summed over all terminals of an element is its losses.
    """

    element: np.ndarray        # str: element id
    kind: np.ndarray           # str: "line" | "transformer"
    terminal: np.ndarray       # int: 1 = from / winding 1, 2 = to / winding 2, ...
    bus: np.ndarray            # str
    node: np.ndarray           # int: conductor node (1, 2, 3, 4; 0 = ground)
    current: np.ndarray        # complex A
    power_kva: np.ndarray      # complex kVA

    def element_losses(self) -> dict[str, complex]:
        """Losses per element (kW + j kvar): the sum of terminal powers."""
        out: dict[str, complex] = {}
        keys, inv = np.unique(self.element.astype(str), return_inverse=True)
        re = np.bincount(inv, weights=self.power_kva.real, minlength=len(keys))
        im = np.bincount(inv, weights=self.power_kva.imag, minlength=len(keys))
        for k, a, b in zip(keys, re, im):
            out[str(k)] = complex(a, b)
        return out

    def table(self) -> pa.Table:
        return pa.table({
            "element": self.element.astype(str), "kind": self.kind.astype(str),
            "terminal": self.terminal.astype(np.int8), "bus": self.bus.astype(str),
            "phase": self.node.astype(np.int8),
            "p_kw": self.power_kva.real, "q_kvar": self.power_kva.imag,
            "i_a": np.abs(self.current), "i_deg": np.degrees(np.angle(self.current)),
        })


@dataclass
class PF3Result:
    """Solution of an unbalanced power flow (see module docstring for units).

    When ``converged`` is False the voltages are the last iterate and
    ``diagnostics`` says why (GAT0840 names the worst-mismatch nodes).
    ``max_mismatch`` is the largest nodal current mismatch times the node's
    voltage base, in pu of 1 MVA (so 1e-8 is 0.01 VA).

    ``flows``, ``losses_kw`` and ``losses_kvar`` are computed on first access
    (from ``flow_source``), as the engine computes powers on request: a
    study that only needs voltages -- a control loop, a hosting-capacity
    probe -- does not pay for them.
    """

    converged: bool
    iterations: int
    max_mismatch: float
    method: str
    nodes: list[str]
    v: np.ndarray                       # complex volts per node
    vbase_v: np.ndarray                 # line-to-neutral base per node (V)
    taps: dict[str, float] = field(default_factory=dict)          # regulator -> final tap (pu)
    tap_positions: dict[str, int] = field(default_factory=dict)   # regulator -> step from neutral
    control_iterations: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)
    wall_time: float = 0.0
    mismatch_history: list[float] = field(default_factory=list)
    capacitor_states: dict[str, bool] = field(default_factory=dict)   # controlled capacitor -> on
    flow_source: Callable[[], BranchFlows] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def flows(self) -> BranchFlows | None:
        return self.flow_source() if self.flow_source is not None else None

    @property
    def losses_kw(self) -> float:
        return self._losses.real

    @property
    def losses_kvar(self) -> float:
        return self._losses.imag

    @cached_property
    def _losses(self) -> complex:
        f = self.flows
        return complex(np.sum(f.power_kva)) if f is not None else complex(np.nan, np.nan)

    @property
    def v_pu(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.v / self.vbase_v

    @property
    def vm_pu(self) -> np.ndarray:
        return np.abs(self.v_pu)

    @property
    def va_deg(self) -> np.ndarray:
        return np.degrees(np.angle(self.v))

    @property
    def node_index(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.nodes)}

    def voltage(self, node: str) -> complex:
        """Complex voltage (V) of ``"bus.k"``."""
        return complex(self.v[self.node_index[node]])

    def branch_flows_table(self) -> pa.Table:
        if self.flows is None:
            return pa.table({})
        return self.flows.table()

    def losses_table(self) -> pa.Table:
        """Losses per line/transformer, plus a ``total`` row."""
        per = self.flows.element_losses() if self.flows is not None else {}
        names = list(per) + ["total"]
        vals = list(per.values()) + [complex(self.losses_kw, self.losses_kvar)]
        return pa.table({"element": names, "p_kw": [v.real for v in vals], "q_kvar": [v.imag for v in vals]})


@dataclass
class Solve3Outcome:
    """What a kernel returns: pu voltages over the live nodes and the convergence history."""

    v: np.ndarray
    converged: bool
    iterations: int
    history: list[float]                 # largest |mismatch| (pu) before each step and after the last
    failure: Diagnostic | None = None    # numerical breakdown (singular matrix, divergence)
    stalled: bool = False                # the kernel gave up early: another method may do better

"""Backward-forward sweep for radial three-phase feeders (`method = sweep`, ``phases = unbalanced``).

Why in matrix form: the classic sweep (Kersting) injects every load's
current at the present voltages, sums the branch currents from the leaves to
the source (backward) and carries the voltage drops from the source out
(forward).  On a radial network that is exactly a solve with the network's
admittance matrix factorised in tree order (Teng's BIBC/BCBV formulation):
with the nodes eliminated leaves first (`pf3_kernels.leaves_first_order`)
the lower-triangular solve accumulates the currents towards the source and
the upper-triangular one propagates the voltages back out.  So one sweep is

    v+ = Y^-1 (i_src - A i_load(A^T v)) = v - Y^-1 F(v),

the fixed point of `pf3_fixed` with ``Y`` alone as its matrix (the loads
all on the right-hand side) and without Anderson's mixing.  Transformers of
any connection, regulators (their taps by compensation, `pf3_linear`) and
shunts need no special branch models this way.  Its convergence is that of
the classic sweep: linear, slower than the default fixed point, whose matrix
also holds the loads' nominal admittances.

A meshed network (a closed tie, parallel branches) or an island fed by more
than one source is refused with GAT0803, as the balanced sweep does.
"""
from __future__ import annotations

import numpy as np

from gatlang.diagnostics import Diagnostic, Span, error
from gatlang.engines.pf3_fixed import fixed_point
from gatlang.engines.pf3_result import Solve3Outcome
from gatlang.engines.pf3_system import System3
from gatlang.network.model import Network

#: the balanced sweep's code: the same rule, the same page
SWEEP_MESHED = "GAT0803"
#: loop-closing branches a diagnostic names
NAMED = 5


def _branches(net: Network) -> list[tuple[str, str, str]]:
    """(label, bus, bus) of every in-service branch: lines and closed switches, and each winding
    of a transformer joined to its first winding's bus."""
    out: list[tuple[str, str, str]] = []
    lines = net.tables.get("lines")
    if lines is not None and lines.num_rows:
        for name, a, b, on in zip(*(lines.column(c).to_pylist() for c in ("line", "from_bus", "to_bus", "status"))):
            if on:
                out.append((f"line {name}", a, b))
    xf = net.tables.get("transformers")
    if xf is not None and xf.num_rows:
        for name, buses, on in zip(*(xf.column(c).to_pylist() for c in ("transformer", "buses", "status"))):
            if on:
                out += [(f"transformer {name}", buses[0], other) for other in buses[1:]]
    return out


def loop_closers(net: Network) -> list[str]:
    """Branches that close a loop (or join two sources' islands), found by union-find in table order;
    empty for a radial network.  Radial means the graph of buses is a forest with one source per
    tree; branches in parallel between the same two buses count as one (three single-phase
    regulators of a bank, an open-delta pair with its jumper, a double circuit), since they make
    no loop through a third bus and the matrix-form sweep solves them exactly."""
    parent: dict[str, str] = {}

    def root(bus: str) -> str:
        while parent.setdefault(bus, bus) != bus:
            parent[bus] = parent[parent[bus]]
            bus = parent[bus]
        return bus

    sources = net.tables.get("sources")
    fed: set[str] = set()
    closers: list[str] = []
    if sources is not None and sources.num_rows:
        for bus in sources.column("bus").to_pylist():      # a second source in an island closes a loop
            r = root(bus)
            if r in fed:
                closers.append(f"source at bus {bus}")
            fed.add(r)
    joined: set[frozenset[str]] = set()
    for label, a, b in _branches(net):
        pair = frozenset((a, b))
        if a == b or pair in joined:       # parallel branches between two buses: one branch of the tree
            continue
        joined.add(pair)
        ra, rb = root(a), root(b)
        if ra == rb:
            closers.append(label)
            continue
        parent[ra] = rb
        if ra in fed and rb in fed:
            closers.append(label)
        if ra in fed or rb in fed:
            fed.add(rb)
    return closers


def sweep_check(net: Network) -> str | None:
    """The GAT0803 message for a network the sweep cannot solve, or None for a radial one."""
    closers = loop_closers(net)
    if not closers:
        return None
    more = f" and {len(closers) - NAMED} more" if len(closers) > NAMED else ""
    return (f"the backward-forward sweep needs a radial network, but `{net.name}` has {len(closers)} loop(s) "
            f"or multiply-fed island(s); loop-closing branches: {', '.join(closers[:NAMED])}{more}")


def sweep(system: System3, v0: np.ndarray, tol: float, max_iter: int, reuse: dict | None = None) -> Solve3Outcome:
    """Sweep from ``v0`` until ``max |F| <= tol`` (pu); the caller has checked radiality (`sweep_check`)."""
    return fixed_point(system, v0, tol, max_iter, reuse, depth=0, loads=False)


def meshed_error(message: str, span: Span | None) -> Diagnostic:
    """GAT0803 for a sweep refused on a meshed network (``message`` from `sweep_check`)."""
    return error(SWEEP_MESHED, message, span,
                 help="use method = fixed_point (the default) or newton for meshed networks, "
                      "or open a switch in each loop")

"""Voltage bases of an unbalanced network: line-to-neutral kV per bus, found from the sources.

Why: unbalanced kernels work in per unit, and a distribution file states the
voltage only at the source and on transformer windings.  As OpenDSS's
``CalcVoltageBases`` does, the base is carried from each source through lines
unchanged and through transformers by the ratio of winding ratings; when the
study lists standard bases (``Set VoltageBases=[115, 4.16, .48]``) each bus is
snapped to the nearest of them.
"""
from __future__ import annotations

import math
from collections import deque
from typing import Sequence

import numpy as np

from gatlang.network.model import Network

SQRT3 = math.sqrt(3.0)


def _adjacency(net: Network) -> dict[str, list[tuple[str, float]]]:
    """bus -> [(neighbour, ratio neighbour_base / bus_base)] over lines and transformers."""
    adj: dict[str, list[tuple[str, float]]] = {}
    lines = net.table("lines")
    for a, b in zip(lines.column("from_bus").to_pylist(), lines.column("to_bus").to_pylist()):
        adj.setdefault(a, []).append((b, 1.0))
        adj.setdefault(b, []).append((a, 1.0))
    xf = net.table("transformers")
    for buses, kv, phases, connections in zip(
            xf.column("buses").to_pylist(), xf.column("kv").to_pylist(),
            xf.column("phases").to_pylist(), xf.column("connections").to_pylist()):
        # a one-phase winding rated line-to-line (delta) carries sqrt(3) times the phase base
        ln = [k / SQRT3 if (phases or 3) > 1 or c == "delta" else k
              for k, c in zip(kv, connections or ["wye"] * len(kv))]
        for i in range(len(buses)):
            for j in range(len(buses)):
                if i != j and ln[i] > 0:
                    adj.setdefault(buses[i], []).append((buses[j], ln[j] / ln[i]))
    return adj


def voltage_bases(net: Network, standard_kv_ll: Sequence[float] | None = None) -> dict[str, float]:
    """Bus -> base voltage in kV line-to-neutral (buses no source reaches are left out).

    `standard_kv_ll`: optional list of line-to-line bases to snap to (nearest one).
    """
    src = net.table("sources")
    adj = _adjacency(net)
    base: dict[str, float] = {}
    queue: deque[str] = deque()
    for bus, kv in zip(src.column("bus").to_pylist(), src.column("vn_kv").to_pylist()):
        if bus not in base and kv:
            base[bus] = kv / SQRT3
            queue.append(bus)
    while queue:
        bus = queue.popleft()
        for nb, ratio in adj.get(bus, ()):
            if nb not in base:
                base[nb] = base[bus] * ratio
                queue.append(nb)
    if standard_kv_ll:
        std = np.asarray(sorted(standard_kv_ll), dtype=float) / SQRT3
        for bus, v in base.items():
            base[bus] = float(std[np.argmin(np.abs(std - v))])
    return base


def voltage_base_array(net: Network, standard_kv_ll: Sequence[float] | None = None) -> np.ndarray:
    """Array form, aligned with ``net.table('buses')`` rows; NaN where no source reaches."""
    vb = voltage_bases(net, standard_kv_ll)
    return np.asarray([vb.get(b, np.nan) for b in net.table("buses").column("bus").to_pylist()])

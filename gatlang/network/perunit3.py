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


def node_bases(net: Network, nodes: Sequence[str], standard_kv_ll: Sequence[float] | None = None
               ) -> np.ndarray:
    """Line-to-neutral base kV of every ``"bus.k"`` node (e.g. of `ybus3.build_ybus3`), NaN if unreached.

    When the buses table carries nominal voltages (the OpenDSS importer snaps
    them to the study's standard bases) those are used, else the bases are
    carried from the sources (`voltage_bases`).
    """
    buses = net.table("buses")
    vn = dict(zip(buses.column("bus").to_pylist(), buses.column("vn_kv").to_pylist()))
    carried = voltage_bases(net, standard_kv_ll) if not all(vn.values()) else {}
    out = np.full(len(nodes), np.nan)
    for i, node in enumerate(nodes):
        bus = node.rsplit(".", 1)[0]
        kv_ll = vn.get(bus)
        out[i] = kv_ll / SQRT3 if kv_ll else carried.get(bus, np.nan)
    return out


def y_per_unit(y, vbase_kv_ln: np.ndarray, s_base_mva: float):
    """Per-unit Y on per-phase power base `s_base_mva` / 3 and node bases (kV line-to-neutral).

    Y_pu[i, j] = Y[i, j] * V_i * V_j / S_phase, so that I_pu = Y_pu V_pu with
    I_base = S_phase / V_base at each node.
    """
    import scipy.sparse as sp

    v = np.asarray(vbase_kv_ln, dtype=float) * 1e3
    scale = sp.diags(v)
    return (scale @ y @ scale) / (s_base_mva * 1e6 / 3.0)

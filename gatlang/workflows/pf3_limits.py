"""Loading and limit violations of an unbalanced power flow's results (`run pf`, ``phases = unbalanced``).

Why a module of its own: the engine solves conductor by conductor, and the
limits a planner reads are per element -- a line's ampacity per conductor, a
transformer's kVA per winding, a bus's voltage band -- so the branch flows
and node voltages are joined here with the ratings in the network tables.

* lines (and switches): the conductor current over the line's ``normamps``;
* transformers: the apparent power through each winding (its conductors
  summed, as the engine's terminal power) over the winding's kVA;
* voltages: each phase conductor's magnitude (pu of its node's
  line-to-neutral base) against the bus's ``vmin_pu``/``vmax_pu``, or the
  engine's normal band 0.95-1.05 pu where the data gives none.  Explicit
  neutral conductors (node 4 and above) are not held to a band.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from gatlang.network.model import Network

#: the engine's ``NormVminpu`` / ``NormVmaxpu``: the band where a bus gives none
DEFAULT_VMIN_PU, DEFAULT_VMAX_PU = 0.95, 1.05
#: conductors numbered above this are neutrals (the importer's node 4), not held to a voltage band
LAST_PHASE = 3
#: a value this far beyond its limit counts (round-off of the solve)
SLACK = 1e-9


def _ratings(net: Network, table: str, key: str, column: str) -> dict[str, object]:
    t = net.tables.get(table)
    if t is None or t.num_rows == 0:
        return {}
    return dict(zip(t.column(key).to_pylist(), t.column(column).to_pylist()))


def loading_pct(net: Network, flows: pa.Table) -> np.ndarray:
    """Loading (%) of every row of the unbalanced branch flows; NaN where the element has no rating."""
    kind = np.asarray(flows.column("kind").to_pylist(), dtype=object)
    element = np.asarray(flows.column("element").to_pylist(), dtype=object)
    out = np.full(flows.num_rows, np.nan)
    is_line = kind == "line"
    if is_line.any():
        amps = _ratings(net, "lines", "line", "normamps_a")
        rating = np.asarray([amps.get(e) or np.nan for e in element[is_line]], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[is_line] = np.where(rating > 0, flows.column("i_a").to_numpy()[is_line] / rating * 100.0, np.nan)
    is_xf = np.flatnonzero(kind == "transformer")
    if len(is_xf):
        kva = _ratings(net, "transformers", "transformer", "kva")
        terminal = flows.column("terminal").to_numpy()[is_xf]
        s = flows.column("p_kw").to_numpy()[is_xf] + 1j * flows.column("q_kvar").to_numpy()[is_xf]
        keys = np.asarray([f"{e}\x00{t}" for e, t in zip(element[is_xf], terminal)], dtype=object)
        _, group = np.unique(keys, return_inverse=True)
        through = np.abs(np.bincount(group, weights=s.real) + 1j * np.bincount(group, weights=s.imag))[group]
        rating = np.asarray([_winding_kva(kva.get(e), int(t)) for e, t in zip(element[is_xf], terminal)])
        with np.errstate(divide="ignore", invalid="ignore"):
            out[is_xf] = np.where(rating > 0, through / rating * 100.0, np.nan)
    return out


def _winding_kva(kva, terminal: int) -> float:
    """kVA of winding ``terminal`` (1-based); NaN when the data gives none."""
    if not kva or terminal > len(kva) or kva[terminal - 1] is None:
        return np.nan
    return float(kva[terminal - 1])


def _voltage_band(net: Network, buses: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(vmin, vmax) pu per row of ``buses``: the bus's own band or the engine's default."""
    vmin, vmax = _ratings(net, "buses", "bus", "vmin_pu"), _ratings(net, "buses", "bus", "vmax_pu")
    low = np.asarray([vmin.get(b) or DEFAULT_VMIN_PU for b in buses], dtype=float)
    high = np.asarray([vmax.get(b) or DEFAULT_VMAX_PU for b in buses], dtype=float)
    return low, high


def violations(net: Network, bus: list[str], phase: np.ndarray, vm_pu: np.ndarray, flows: pa.Table | None,
               loading: np.ndarray | None) -> dict[str, np.ndarray]:
    """The violations table: nodes outside their voltage band, branch rows loaded beyond 100 %.

    ``element`` names a node ``bus.phase`` or a branch ``element.terminal.conductor``.
    """
    low, high = _voltage_band(net, bus)
    phase_node = (phase >= 1) & (phase <= LAST_PHASE) & np.isfinite(vm_pu) & (vm_pu > 0)
    under = phase_node & (vm_pu < low - SLACK)
    over = phase_node & (vm_pu > high + SLACK)
    names = np.asarray([f"{b}.{p}" for b, p in zip(bus, phase)], dtype=object)
    elements = [names[under], names[over]]
    kinds = [np.full(under.sum(), "undervoltage"), np.full(over.sum(), "overvoltage")]
    values = [vm_pu[under], vm_pu[over]]
    limits = [low[under], high[over]]
    if flows is not None and loading is not None:
        hot = np.nan_to_num(loading) > 100.0 + SLACK
        label = np.asarray([f"{e}.{t}.{n}" for e, t, n in zip(flows.column("element").to_pylist(),
                                                              flows.column("terminal").to_pylist(),
                                                              flows.column("phase").to_pylist())], dtype=object)
        elements.append(label[hot])
        kinds.append(np.full(hot.sum(), "overload"))
        values.append(loading[hot])
        limits.append(np.full(hot.sum(), 100.0))
    return {"element": np.concatenate(elements).astype(str), "kind": np.concatenate(kinds).astype(str),
            "value": np.concatenate(values).astype(float), "limit": np.concatenate(limits).astype(float)}

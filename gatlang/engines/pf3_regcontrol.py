"""Voltage-regulator control loop for a snapshot power flow (the engine's static control mode).

Why the engine's rules, step by step: a regulator with a bandwidth has many
steady states (every tap that puts the control voltage inside the band), so
the tap a study reports depends on the path the control takes.  Following
OpenDSS's RegControl (``Sample`` then ``DoPendingAction`` in static mode)
makes gatlang reach the same taps from the same start:

* control voltage: the winding voltage of the PT phase (phase 1) over the PT
  ratio, plus line-drop compensation ``(R + jX) * I / CTprim`` with ``I`` the
  current *into* the regulated winding (so the drop is subtracted);
* out of band when ``|vreg - V| > band / 2``; the change wanted is
  ``round(boost / step)`` steps with ``boost = (vreg - V) * PT / Vwinding``;
* one control round moves each regulator by 70 % of that (at least one, at
  most ``MAX_TAP_CHANGE`` steps), all regulators together (with the capacitor
  controls of the same delay, `pf3_capcontrol`); then the network is solved
  again, until no control wants to act.

Delays are ignored (a snapshot has no time).  Not modelled: reverse/cogen
modes, a remote regulated bus, ``vlimit``, PT phase other than 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gatlang.engines.pf3_system import System3
from gatlang.network.model import Network
from gatlang.network.ybus3 import winding_vbase

#: the engine's default ``maxtapchange`` (steps per control round)
MAX_TAP_CHANGE = 16
#: the engine's static-mode fraction of the wanted change made per round
STATIC_FRACTION = 0.7


@dataclass
class Regulator:
    """One RegControl and the regulated transformer it moves (by position in ``System3.regulated``)."""

    name: str
    xf: int
    winding: int            # 0-based
    vreg: float
    band: float
    ptratio: float
    ctprim: float
    ldc: complex            # R + jX, volts at CT primary rated current
    tap_min: float
    tap_max: float
    step: float
    delay: float = 15.0     # s; only orders the controls of one round (see pf3_capcontrol)

    def position(self, tap: float) -> int:
        """Tap position counted in steps from the middle of the range (the engine's ``TapNum``)."""
        return int(round((tap - (self.tap_max + self.tap_min) / 2.0) / self.step))


def regulators(net: Network, system: System3) -> list[Regulator]:
    """The enabled regulators of ``net`` whose transformer is in service."""
    out = []
    by_name = {n: k for k, n in enumerate(system.regulated.names)}
    for r in net.table("regulators").to_pylist():
        k = by_name.get(r["transformer"])
        if k is None or not r["enabled"]:
            continue
        row = system.regulated.rows[k]
        tmin = row["tap_min_pu"] if row["tap_min_pu"] is not None else 0.9
        tmax = row["tap_max_pu"] if row["tap_max_pu"] is not None else 1.1
        ntaps = row["num_taps"] or 32
        out.append(Regulator(
            r["regulator"], k, int(r["winding"] or 1) - 1, r["vreg_v"] or 120.0, r["band_v"] or 3.0,
            r["ptratio"] or 60.0, r["ctprim_a"] or 300.0, complex(r["r_v"] or 0.0, r["x_v"] or 0.0),
            tmin, tmax, (tmax - tmin) / ntaps, r["delay_s"] if r["delay_s"] is not None else 15.0))
    return out


def control_voltage(reg: Regulator, system: System3, v_full: np.ndarray) -> float:
    """|V_control| in volts on the PT secondary, with line-drop compensation."""
    row = system.regulated.rows[reg.xf]
    nph = int(row["phases"] or 3)
    ncond = nph + 1
    prim = system.regulated.prims[reg.xf]
    idx = system.regulated.terminals[reg.xf]
    vt = np.where(idx >= 0, v_full[np.maximum(idx, 0)], 0.0)
    base = reg.winding * ncond
    conn = (row["connections"] or ["wye"] * len(row["kv"]))[reg.winding]
    other = base + nph if conn == "wye" else base + (1 % nph if nph > 1 else 1)
    vw = vt[base] - vt[other]
    i_in = prim[base] @ vt
    vc = vw / reg.ptratio + reg.ldc * i_in / reg.ctprim
    return float(abs(vc))


def wanted_change(reg: Regulator, system: System3, v_full: np.ndarray) -> float:
    """The tap change (pu) the control asks for, 0 when the control voltage is in band."""
    row = system.regulated.rows[reg.xf]
    vact = control_voltage(reg, system, v_full)
    if abs(reg.vreg - vact) <= reg.band / 2.0:
        return 0.0
    conn = (row["connections"] or ["wye"] * len(row["kv"]))[reg.winding]
    vbase = winding_vbase(row["kv"][reg.winding], conn, int(row["phases"] or 3))
    boost = (reg.vreg - vact) * reg.ptratio / vbase
    return float(np.round(boost / reg.step)) * reg.step


def static_step(reg: Regulator, tap: float, wanted: float) -> float:
    """The new tap after one static control round (70 % of the way, at least one step, clamped)."""
    if wanted == 0.0 or (wanted > 0 and tap >= reg.tap_max - 1e-12) or (wanted < 0 and tap <= reg.tap_min + 1e-12):
        return tap
    n = min(max(int(math.trunc(STATIC_FRACTION * abs(wanted) / reg.step)), 1), MAX_TAP_CHANGE)
    return min(max(tap + math.copysign(n * reg.step, wanted), reg.tap_min), reg.tap_max)


def regulator_actions(regs: list[Regulator], system: System3, v_full: np.ndarray
                      ) -> tuple[list[tuple[float, Regulator, float]], list[str]]:
    """((delay, regulator, new tap) of every regulator that moves, regulators stuck at a tap limit)."""
    acts: list[tuple[float, Regulator, float]] = []
    at_limit: list[str] = []
    for reg in regs:
        row = system.regulated.rows[reg.xf]
        tap = (row["taps_pu"] or [1.0] * len(row["kv"]))[reg.winding]
        wanted = wanted_change(reg, system, v_full)
        new = static_step(reg, tap, wanted)
        if wanted != 0.0 and new == tap:
            at_limit.append(reg.name)
        if new != tap:
            acts.append((reg.delay, reg, new))
    return acts, at_limit


def apply_taps(system: System3, acts: list[tuple[float, Regulator, float]]) -> None:
    """Move the regulators of ``acts`` (several may share one transformer, one winding each)."""
    changes: dict[int, list[float]] = {}
    for _, reg, new in acts:
        row = system.regulated.rows[reg.xf]
        taps = changes.setdefault(reg.xf, list(row["taps_pu"] or [1.0] * len(row["kv"])))
        taps[reg.winding] = new
    system.set_taps(changes)


def final_taps(regs: list[Regulator], system: System3) -> tuple[dict[str, float], dict[str, int]]:
    """(regulator -> tap pu, regulator -> tap position) at the present state."""
    taps, pos = {}, {}
    for reg in regs:
        row = system.regulated.rows[reg.xf]
        t = (row["taps_pu"] or [1.0] * len(row["kv"]))[reg.winding]
        taps[reg.name] = float(t)
        pos[reg.name] = reg.position(t)
    return taps, pos

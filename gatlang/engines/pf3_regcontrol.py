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
from dataclasses import dataclass, field

import numpy as np

from gatlang.engines.pf3_cache import column_rows
from gatlang.engines.pf3_kernels import regulator_steps
from gatlang.engines.pf3_system import System3, padded_rows, padded_squares
from gatlang.network.model import Network
from gatlang.network.ybus3 import winding_vbase

#: the engine's default ``maxtapchange`` (steps per control round)
MAX_TAP_CHANGE = 16
#: the engine's static-mode fraction of the wanted change made per round
STATIC_FRACTION = 0.7


#: the columns of the regulators table a control reads
REGULATOR_COLUMNS = ("regulator", "transformer", "enabled", "winding", "vreg_v", "band_v", "ptratio", "ctprim_a",
                     "r_v", "x_v", "delay_s")


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
    delay: float            # s; only orders the controls of one round (see pf3_capcontrol)
    base: int               # primitive terminal of the regulated winding's phase ...
    other: int              # ... and the terminal its PT reads against (neutral, or next phase of a delta)
    vbase: float            # winding volts (the engine's boost is in pu of it)

    def position(self, tap: float) -> int:
        """Tap position counted in steps from the middle of the range (the engine's ``TapNum``)."""
        return int(round((tap - (self.tap_max + self.tap_min) / 2.0) / self.step))


def regulators(net: Network, system: System3) -> list[Regulator]:
    """The enabled regulators of ``net`` whose transformer is in service."""
    out = []
    by_name = {n: k for k, n in enumerate(system.regulated.names)}
    for r in column_rows(net, "regulators", REGULATOR_COLUMNS):
        k = by_name.get(r["transformer"])
        if k is None or not r["enabled"]:
            continue
        row = system.regulated.rows[k]
        tmin = row["tap_min_pu"] if row["tap_min_pu"] is not None else 0.9
        tmax = row["tap_max_pu"] if row["tap_max_pu"] is not None else 1.1
        ntaps = row["num_taps"] or 32
        winding = int(r["winding"] or 1) - 1
        nph = int(row["phases"] or 3)
        conn = (row["connections"] or ["wye"] * len(row["kv"]))[winding]
        base = winding * (nph + 1)
        other = base + nph if conn == "wye" else base + (1 % nph if nph > 1 else 1)
        out.append(Regulator(
            r["regulator"], k, winding, r["vreg_v"] or 120.0, r["band_v"] or 3.0,
            r["ptratio"] or 60.0, r["ctprim_a"] or 300.0, complex(r["r_v"] or 0.0, r["x_v"] or 0.0),
            tmin, tmax, (tmax - tmin) / ntaps, r["delay_s"] if r["delay_s"] is not None else 15.0,
            base, other, float(winding_vbase(row["kv"][winding], conn, nph))))
    return out


def control_voltage(reg: Regulator, system: System3, vx: np.ndarray) -> float:
    """|V_control| in volts on the PT secondary, with line-drop compensation.

    ``vx``: volts of every node with a 0 appended, so that ground (index -1) reads 0.
    """
    vt = vx[system.regulated.terminals[reg.xf]]
    i_in = system.regulated.prims[reg.xf][reg.base] @ vt
    return abs((vt[reg.base] - vt[reg.other]) / reg.ptratio + reg.ldc * i_in / reg.ctprim)


def wanted_change(reg: Regulator, system: System3, vx: np.ndarray) -> float:
    """The tap change (pu) the control asks for, 0 when the control voltage is in band."""
    vact = control_voltage(reg, system, vx)
    if abs(reg.vreg - vact) <= reg.band / 2.0:
        return 0.0
    boost = (reg.vreg - vact) * reg.ptratio / reg.vbase
    return round(boost / reg.step) * reg.step


def static_step(reg: Regulator, tap: float, wanted: float) -> float:
    """The new tap after one static control round (70 % of the way, at least one step, clamped)."""
    if wanted == 0.0 or (wanted > 0 and tap >= reg.tap_max - 1e-12) or (wanted < 0 and tap <= reg.tap_min + 1e-12):
        return tap
    n = min(max(int(math.trunc(STATIC_FRACTION * abs(wanted) / reg.step)), 1), MAX_TAP_CHANGE)
    return min(max(tap + math.copysign(n * reg.step, wanted), reg.tap_min), reg.tap_max)


@dataclass
class RegulatorBank:
    """The regulators of a network as the arrays `pf3_kernels.regulator_steps` reads: every
    regulator checked and stepped in one compiled call per control round (a Python loop over
    `wanted_change` cost more than the solve between rounds).  Built once per network version."""

    regs: list[Regulator]
    xf: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    winding: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    base: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    other: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    par: np.ndarray = field(default_factory=lambda: np.zeros((0, 10)))
    terms: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    scaled: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), dtype=complex))
    fixed: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), dtype=complex))
    wind: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    delay: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def kernel_args(self) -> tuple:
        """The bank as `pf3_kernels.regulator_steps` and `pf3_control_kernel.control_rounds` read it."""
        return (self.terms, self.scaled, self.fixed, self.wind, self.xf, self.winding, self.base, self.other,
                self.par, MAX_TAP_CHANGE, STATIC_FRACTION)

    @classmethod
    def of(cls, regs: list[Regulator], system: System3) -> "RegulatorBank":
        """Stack the regulators' settings and their transformers' primitive parts (padded to the
        widest primitive with ground terminals of zero admittance)."""
        if not regs:
            return cls(regs)
        reg = system.regulated
        terms = padded_rows(reg.terminals, np.int64, fill=-1)
        width = terms.shape[1]
        wind = padded_rows(reg.winding, np.int64)
        scaled, fixed = padded_squares(reg.scaled, width), padded_squares(reg.fixed, width)
        par = np.array([[r.vreg, r.band, r.ptratio, r.ctprim, r.ldc.real, r.ldc.imag, r.vbase, r.step, r.tap_min,
                         r.tap_max] for r in regs], dtype=float)
        ints = np.array([[r.xf, r.winding, r.base, r.other] for r in regs], dtype=np.int64).T.copy()
        return cls(regs, ints[0], ints[1], ints[2], ints[3], par, terms, scaled, fixed, wind,
                   np.array([r.delay for r in regs], dtype=float))


def regulator_actions(bank: RegulatorBank, system: System3, v: np.ndarray
                      ) -> tuple[list[tuple[float, Regulator, float]], list[str]]:
    """((delay, regulator, new tap) of every regulator that moves, regulators stuck at a tap limit),
    at the live per-unit voltages ``v``."""
    if not bank.regs:
        return [], []
    new, wanted = np.empty(len(bank.regs)), np.empty(len(bank.regs))
    terms, scaled, fixed, wind, *rest = bank.kernel_args()
    present = system.regulated.tap_array()
    regulator_steps(np.ascontiguousarray(v, dtype=complex), system.full_to_live(), system.vbase, terms, scaled,
                    fixed, wind, present, *rest, new, wanted)
    taps = present[bank.xf, bank.winding]
    moved = (new != taps).nonzero()[0].tolist()
    stuck = ((wanted != 0.0) & (new == taps)).nonzero()[0].tolist()
    return [(bank.regs[r].delay, bank.regs[r], float(new[r])) for r in moved], [bank.regs[r].name for r in stuck]


def regulator_actions_reference(regs: list[Regulator], system: System3, v_full: np.ndarray
                                ) -> tuple[list[tuple[float, Regulator, float]], list[str]]:
    """`regulator_actions` written regulator by regulator with `wanted_change` and `static_step`:
    the definition the compiled check follows (the tests compare the two)."""
    acts: list[tuple[float, Regulator, float]] = []
    at_limit: list[str] = []
    vx = np.append(v_full, 0.0)
    for reg in regs:
        row = system.regulated.rows[reg.xf]
        tap = (row["taps_pu"] or [1.0] * len(row["kv"]))[reg.winding]
        wanted = wanted_change(reg, system, vx)
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

"""Capacitor controls (OpenDSS CapControl) in the snapshot control loop.

Why the engine's rules: like a regulator, a switched capacitor with a dead
band has several steady states, and the one a study reports depends on the
order in which the controls act.  Following CapControl.pas (``Sample`` then
``DoPendingAction``, static control mode) makes gatlang reach the engine's
states from the same start:

* the monitored quantity is read at ``terminal`` of ``element`` (a line or
  transformer): ``voltage`` -- conductor 1 of that terminal over ``ptratio``
  (phase 1 minus phase 2 for a delta bank); ``current`` -- |I| of conductor 1
  of the element (the engine reads the first entry of its current buffer,
  whatever the terminal) over ``ctratio``; ``kvar`` -- the terminal's total
  reactive power into the element, kvar; ``pf`` -- its power factor on the
  engine's 0..2 scale (lagging 0..1, leading 1..2);
* an *off* bank closes when the quantity passes ``on_setting`` (above it
  for current and kvar, below it for voltage and pf); an *on* bank opens
  when it passes ``off_setting`` the other way;
* of all controls (regulators included) that want to act after a solve,
  only those with the smallest delay act in a round (the engine's
  ``DoNearestActions``); time itself does not advance.  A bank closes after
  ``delay`` and opens after ``DelayOff``, which the tables do not carry, so
  its default (15 s) is used.

Not modelled, because the network tables do not carry them: ``VoltOverride``
with ``Vmin``/``Vmax``, ``PTPhase``/``CTPhase`` other than 1, ``DelayOff``
(taken at its default), multi-step banks (a bank switches as a whole), and a bank that is off in the data, whose rating the
importer does not keep (GAT0813).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gatlang.diagnostics import Diagnostic, Span, warning
from gatlang.engines.pf3_cache import rows
from gatlang.engines.pf3_flows import terminal
from gatlang.engines.pf3_system import System3
from gatlang.network.model import Network
from gatlang.network.ybus3 import shunt_primitive

# Diagnostic codes of the capacitor controls (pages in gatlang/explain/).
UNSUPPORTED_TYPE = "GAT0811"   # a control type the snapshot loop does not simulate (warning)
UNKNOWN_ELEMENT = "GAT0812"    # the monitored element is not an in-service line or transformer (warning)
UNRATED_CAPACITOR = "GAT0813"  # the controlled bank is missing, out of service or off without a rating (warning)

TYPES = ("voltage", "current", "kvar", "pf")
#: the engine's default delay (s) of a CapControl and of a RegControl
DEFAULT_DELAY = 15.0


@dataclass
class CapControl:
    """One CapControl, with its bank's stamp (``prim`` on full node indices ``idx`` when on)."""

    name: str
    capacitor: str
    kind: str
    element: tuple[str, str]
    terminal: int
    on_setting: float
    off_setting: float
    ptratio: float
    ctratio: float
    delay: float
    idx: np.ndarray
    prim: np.ndarray
    delta: bool

    def quantity(self, net: Network, system: System3, v_full: np.ndarray,
                 taps: dict[str, list[float]]) -> float | None:
        """The monitored quantity (see module docstring); None if the terminal cannot be read."""
        t = terminal(net, system.nodes, v_full, self.element[0], self.element[1], self.terminal, taps)
        if t is None or not len(t.v):
            return None
        if self.kind == "voltage":
            v = t.v[0] - t.v[1] if self.delta and len(t.v) > 1 else t.v[0]
            return abs(v) / self.ptratio
        if self.kind == "current":
            return abs(t.i_all[0]) / self.ctratio
        s = t.power_va
        if self.kind == "kvar":
            return s.imag * 1e-3
        return pf_range2(s)

    def wanted(self, value: float, on: bool) -> bool | None:
        """The state the control asks for (None: no change)."""
        rising = self.kind in ("current", "kvar")
        on_at, off_at = self.on_setting, self.off_setting
        if self.kind == "pf":
            on_at, off_at = to_range2(on_at), to_range2(off_at)
        if not on and (value > on_at if rising else value < on_at):
            return True
        if on and (value < off_at if rising else value > off_at):
            return False
        return None


def to_range2(pf: float) -> float:
    """The engine's ``ConvertPFToPFRange2``: leading (negative) power factors to 1..2."""
    return 2.0 + pf if pf < 0 else pf


def pf_range2(s: complex) -> float:
    """The engine's ``PowerFactor`` (signed by Q: negative = leading) on the 0..2 scale."""
    mag = abs(s)
    pf = abs(s.real) / mag if mag > 0 and s.real != 0 else 1.0
    return to_range2(-pf if s.imag < 0 else pf)


def _shunt_nphases(conn: list[int], connection: str) -> int:
    return len(conn) - 1 if connection == "wye" else (1 if len(conn) == 2 else len(conn))


def capcontrols(net: Network, system: System3, span: Span | None) -> tuple[list[CapControl], list[Diagnostic]]:
    """The simulated capacitor controls of ``net`` and warnings for those left alone."""
    controls = rows(net, "cap_controls")
    if not controls:
        return [], []
    shunts = {r["shunt"]: r for r in rows(net, "shunts")}
    lines = set(net.table("lines").column("line").to_pylist())
    xfs = set(net.table("transformers").column("transformer").to_pylist())
    out: list[CapControl] = []
    diags: list[Diagnostic] = []
    for r in controls:
        name, kind = r["cap_control"], (r["type"] or "current").lower()
        if kind not in TYPES:
            diags.append(warning(UNSUPPORTED_TYPE, f"capacitor control `{name}` is of type `{kind}`, which the "
                                 f"snapshot power flow does not simulate; capacitor `{r['capacitor']}` stays "
                                 "in its present state", span,
                                 help="use type voltage, current, kvar or pf, or set the bank's state in the data"))
            continue
        cls, _, elem = (r["element"] or "").partition(".")
        known = (cls == "line" and elem in lines) or (cls == "transformer" and elem in xfs)
        if not known:
            diags.append(warning(UNKNOWN_ELEMENT, f"capacitor control `{name}` monitors `{r['element']}`, which "
                                 "is not a line or transformer of the network; it is not simulated", span,
                                 help="monitor the line or transformer feeding the bank (`element=line.<name>`)"))
            continue
        cap = shunts.get(r["capacitor"])
        if cap is None or not cap["status"] or not (cap["b_mvar"] or 0.0) > 0:
            why = "is not in the network" if cap is None else ("is out of service" if not cap["status"] else
                                                               "is off in the data, with no rating to switch on")
            diags.append(warning(UNRATED_CAPACITOR, f"capacitor control `{name}`: capacitor `{r['capacitor']}` "
                                 f"{why}; the control is not simulated", span,
                                 help="give the bank in service and on (states=[1]) in the data; the control "
                                      "then switches it off when its settings say so"))
            continue
        conn, connection = list(cap["conn"]), cap["connection"] or "wye"
        prim = shunt_primitive(cap["b_mvar"], cap["g_mw"] or 0.0, cap["vn_kv"] or 0.0, connection, len(conn),
                               _shunt_nphases(conn, connection))
        out.append(CapControl(
            name, r["capacitor"], kind, (cls, elem), int(r["terminal"] or 1),
            float(r["on_setting"] if r["on_setting"] is not None else 300.0),
            float(r["off_setting"] if r["off_setting"] is not None else 200.0),
            float(r["ptratio"] or 60.0), float(r["ctratio"] or 60.0),
            float(r["delay_s"] if r["delay_s"] is not None else DEFAULT_DELAY),
            np.asarray(system.nodes(cap["bus"], conn)), prim, connection == "delta"))
    return out, diags


def cap_actions(controls: list[CapControl], states: dict[str, bool], net: Network, system: System3,
                v_full: np.ndarray, taps: dict[str, list[float]]) -> list[tuple[float, CapControl, bool]]:
    """(delay, control, new state) of every control that wants its bank switched."""
    acts = []
    for c in controls:
        value = c.quantity(net, system, v_full, taps)
        if value is None:
            continue
        want = c.wanted(value, states[c.capacitor])
        if want is not None:
            # the engine delays an opening by DelayOff, which the tables do not carry: its default
            acts.append((c.delay if want else DEFAULT_DELAY, c, want))
    return acts


def switch(system: System3, control: CapControl, on: bool, states: dict[str, bool]) -> None:
    """Put the bank in or out of the matrix and record its state."""
    if states[control.capacitor] == on:
        return
    system.stamp(control.idx, control.prim if on else -control.prim)
    states[control.capacitor] = on

"""`run hostcap` on three-phase feeders, with the OpenDSS engine (opendssdirect.py) as the oracle.

For every location a Generator of the reported size (unity power factor,
constant kW, on every phase of the bus) is added to the engine's own copy of
the feeder and solved with its regulator controls: at the capacity every
phase voltage and every line/transformer current must be within the limits,
and at the next step the reported binding limit must be broken, at the
element and phase we report, with our value.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import opendssdirect as dss
import pyarrow.parquet as pq
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.passes import Settings, run_program

from engines3.dss_oracle import FEEDERS, solve_engine

LOAD_SCALE = 0.5
VMIN, VMAX, LOADING = 0.95, 1.05, 100.0


def _hostcap(folder: Path, feeder: Path, at: str, step: str) -> "object":
    study = folder / "hc.gat"
    study.write_text(f'study hc\nnetwork feeder = opendss("{feeder}")\n'
                     f"scenario light {{ load_scale = {LOAD_SCALE} }}\n"
                     f"run hostcap pv on feeder {{\n    at = [{at}]\n    phases = unbalanced\n    step = {step}\n"
                     f"    limits {{ voltage = {VMIN} pu .. {VMAX} pu, loading = {LOADING:g} % }}\n"
                     "    scenarios = [light]\n}\n")
    sink = DiagnosticSink()
    run_program(study, sink, Settings(quiet=True))
    assert not sink.has_errors, [str(d) for d in sink.errors]
    assert not [d for d in sink if d.code == "GAT0446"], "the light scenario should be within limits"
    return pq.read_table(folder / "runs" / "hc" / "pv" / "light" / "hostcap_summary.parquet").to_pandas()


def _engine(feeder: Path, bus: str, p_mw: float, control: bool = True, pf: float = 1.0) -> tuple[dict, dict]:
    """The engine's solution with the DER: ({(bus, phase): pu}, {(element, phase): % of rated current}).

    ``control = False`` keeps every regulator at the file's tap (1.0), as `regulators = fixed`;
    ``pf`` < 0 absorbs vars (the engine's sign convention for a generator's pf, as gatlang's)."""
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{feeder}"')
    dss.Circuit.SetActiveBus(bus)
    phases = [int(n) for n in dss.Bus.Nodes() if 1 <= n <= 3]
    kv = dss.Bus.kVBase() * (math.sqrt(3) if len(phases) > 1 else 1.0)
    der = (f"new generator.der bus1={bus}.{'.'.join(map(str, phases))} phases={len(phases)} kv={kv:.6g} "
           f"kw={p_mw * 1e3:.9g} pf={pf:.9g} model=1")
    # The feeder file solves once at full load, which leaves the regulators on full-load taps; the
    # control loop (with its deadband) would then settle from there.  gatlang starts every solve from
    # the file's taps (1.0), so the engine is put back there before the light-load solve.
    reset = tuple(f"transformer.{t}.taps=[1 1]" for t in _regulated())
    sol = solve_engine(feeder, commands=(*reset, f"set loadmult={LOAD_SCALE}", der), control=control)
    volts = {}
    for name, v, base in zip(sol.nodes, sol.v, sol.vbase):
        b, _, k = name.partition(".")
        if 1 <= int(k) <= 3:
            volts[(b, int(k))] = abs(v) / base
    loads: dict[tuple[str, int], float] = {}
    for kind, api in (("line", dss.Lines), ("transformer", dss.Transformers)):
        api.First()
        while True:
            name = dss.CktElement.Name().split(".", 1)[1].lower()
            mags = np.asarray(dss.CktElement.CurrentsMagAng())[0::2]
            nc = dss.CktElement.NumConductors()
            nph = dss.CktElement.NumPhases()
            for k, node in enumerate(dss.CktElement.NodeOrder()):
                if not 1 <= node <= 3:
                    continue
                if kind == "line":
                    rated = dss.Lines.NormAmps()
                else:               # rated current of the winding: kVA / (phases x kV per phase)
                    dss.Transformers.Wdg(k // nc + 1)
                    rated = dss.Transformers.kVA() / (nph * dss.Transformers.kV() / (math.sqrt(3) if nph > 1 else 1))
                loads[(name, node)] = max(loads.get((name, node), 0.0), mags[k] / rated * 100.0)
            if api.Next() <= 0:
                break
    return volts, loads


def _regulated() -> list[str]:
    """Transformers the compiled circuit's RegControls act on."""
    out = []
    if dss.RegControls.First():
        while True:
            out.append(dss.RegControls.Transformer())
            if dss.RegControls.Next() <= 0:
                break
    return out


def _broken(volts: dict, loads: dict) -> dict:
    out = {k: v for k, v in volts.items() if not VMIN - 1e-9 <= v <= VMAX + 1e-9}
    out.update({k: v for k, v in loads.items() if v > LOADING + 1e-7})
    return out


def _check(feeder: Path, summary: "object") -> None:
    for _, row in summary.iterrows():
        at_cap = _engine(feeder, row.location, row.max_mw)
        assert not _broken(*at_cap), (row.location, _broken(*at_cap))
        volts, loads = _engine(feeder, row.location, row.binding_at_mw)
        broken = _broken(volts, loads)
        key = (row.binding_element.lower(), int(row.binding_phase))
        assert key in broken, (row.location, row.binding_element, broken)
        tol = 2e-4 if row.binding_unit == "pu" else 2e-2     # pu; % of rating
        assert row.binding_value == pytest.approx(broken[key], abs=tol)


def test_ieee13_against_opendss(tmp_path: Path) -> None:
    summary = _hostcap(tmp_path, FEEDERS["ieee13"], "675, 611, 634, 652, 646", "100 kW")
    assert set(summary.binding) >= {"overvoltage", "overload"}     # both kinds of limit occur here
    assert (summary.max_mw > 0).all()
    _check(FEEDERS["ieee13"], summary)


@pytest.mark.slow
def test_ieee123_against_opendss(tmp_path: Path) -> None:
    summary = _hostcap(tmp_path, FEEDERS["ieee123"], "83, 114, 49", "200 kW")
    assert (summary.max_mw > 0).all()
    _check(FEEDERS["ieee123"], summary)

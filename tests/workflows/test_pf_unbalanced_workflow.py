"""`run pf ... phases = unbalanced` end to end on IEEE 13 against the OpenDSS engine (the oracle).

The study is run the way a user runs it (OpenDSS file -> gatc run, regulator
control loop on, through a scenario); the engine solves the same file.  The
IEEE 13 feeder's regulators settle on the same taps in both (9/6/9), so every
bus and phase voltage must agree to 1e-4 pu and 0.05 degrees.  (A deadband
controller's final taps depend on where it starts: at another load level the
engine, restarting from the taps of the file's own first solve, may stop at
other taps than a loop started from the file's initial taps -- both valid.)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from engines3.dss_oracle import solve_engine
from gatlang.diagnostics import DiagnosticSink
from gatlang.passes import Settings, run_program

FEEDER = Path(__file__).resolve().parents[1] / "data" / "opendss3" / "13Bus" / "IEEE13Nodeckt.dss"


def run_study(tmp_path: Path, body: str, *, feeder: Path = FEEDER, name: str = "ieee13") -> DiagnosticSink:
    """Write `study NAME` with `network feeder = opendss(FEEDER)` and ``body`` to tmp_path and run it."""
    study = tmp_path / "study.gat"
    study.write_text(f'study {name}\nnetwork feeder = opendss("{feeder}")\n{body}')
    sink = DiagnosticSink()
    run_program(study, sink, Settings(quiet=True))
    return sink


def test_ieee13_unbalanced_run_matches_opendss(tmp_path: Path) -> None:
    sink = run_study(tmp_path, 'scenario peak { load_scale = 1.0 }\n'
                               'run pf base on feeder { phases = unbalanced, scenarios = [peak] }\n')
    assert not sink.has_errors, [str(d) for d in sink.errors]
    table = pq.read_table(tmp_path / "runs" / "ieee13" / "base" / "peak" / "bus_voltages.parquet").to_pandas()
    ours = {f"{b.lower()}.{p}": (vm, va) for b, p, vm, va in zip(table.bus, table.phase, table.vm_pu, table.va_deg)}

    engine = solve_engine(FEEDER, commands=("set loadmult=1.0",))
    vm_ref = np.abs(engine.v) / engine.vbase
    va_ref = np.degrees(np.angle(engine.v))
    compared = 0
    for node, vm, va in zip(engine.nodes, vm_ref, va_ref):
        if node not in ours or not np.isfinite(engine.vbase[engine.nodes.index(node)]):
            continue
        got_vm, got_va = ours[node]
        assert abs(got_vm - vm) < 1e-4, node
        assert abs((got_va - va + 180.0) % 360.0 - 180.0) < 0.05, node
        compared += 1
    assert compared >= 40          # IEEE 13 has 41 bus-phase nodes besides the source


def test_ieee13_loading_and_violations_match_opendss(tmp_path: Path) -> None:
    """At 1.5 times the load, taps fixed at the file's 1.0: every line's loading (largest conductor current over its
    normamps), every transformer winding's loading (its terminal power over its kVA) and the set of
    phase nodes below 0.95 pu, as the OpenDSS engine computes them on the same file."""
    import opendssdirect as dss

    sink = run_study(tmp_path, 'scenario heavy { load_scale = 1.5 }\n'
                               'run pf base on feeder { phases = unbalanced, regulators = fixed,\n'
                               '                        scenarios = [heavy] }\n')
    assert not sink.has_errors, [str(d) for d in sink.errors]
    out = tmp_path / "runs" / "ieee13" / "base" / "heavy"
    flows = pq.read_table(out / "branch_flows.parquet").to_pandas()
    found = pq.read_table(out / "violations.parquet").to_pandas()

    dss.Basic.AllowChangeDir(False)
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{FEEDER}"')
    dss.Text.Command("set controlmode=off")
    for name in ("reg1", "reg2", "reg3"):            # the file's own Solve moved them; the study keeps 1.0
        dss.Text.Command(f"Transformer.{name}.Taps=[1.0 1.0]")
    dss.Text.Command("set loadmult=1.5")
    dss.Solution.Solve()
    assert dss.Solution.Converged()
    checked = 0
    for name in dss.Lines.AllNames():
        dss.Circuit.SetActiveElement(f"Line.{name}")
        amps = np.asarray(dss.CktElement.CurrentsMagAng())[0::2]
        if dss.CktElement.NormalAmps() <= 0 or not dss.CktElement.Enabled():
            continue
        ref = amps.max() / dss.CktElement.NormalAmps() * 100.0
        ours = flows[(flows.kind == "line") & (flows.element == name.lower())].loading_pct.max()
        assert abs(ours - ref) < 1e-3 * max(ref, 1.0), (name, ours, ref)
        checked += 1
    for name in dss.Transformers.AllNames():
        dss.Transformers.Name(name)
        dss.Circuit.SetActiveElement(f"Transformer.{name}")
        powers = np.asarray(dss.CktElement.Powers())
        per_term = len(powers) // 2 // dss.CktElement.NumTerminals()
        for w in range(1, dss.Transformers.NumWindings() + 1):
            dss.Transformers.Wdg(w)
            s = powers[2 * per_term * (w - 1): 2 * per_term * w]
            ref = abs(complex(s[0::2].sum(), s[1::2].sum())) / dss.Transformers.kVA() * 100.0
            rows = flows[(flows.kind == "transformer") & (flows.element == name.lower()) & (flows.terminal == w)]
            assert abs(rows.loading_pct.iloc[0] - ref) < 1e-3 * max(ref, 1.0), (name, w, rows.loading_pct.iloc[0], ref)
            checked += 1
    assert checked >= 12
    low_ref = set()
    for bus in dss.Circuit.AllBusNames():
        dss.Circuit.SetActiveBus(bus)
        for node, pu in zip(dss.Bus.Nodes(), dss.Bus.puVmagAngle()[0::2]):
            if 1 <= node <= 3 and 0 < pu < 0.95:
                low_ref.add(f"{bus.lower()}.{node}")
    assert low_ref, "the heavy case should put some nodes below 0.95 pu"
    assert set(found[found.kind == "undervoltage"].element) == low_ref
    hot = flows[flows.loading_pct > 100.0]
    assert len(found[found.kind == "overload"]) == len(hot)


def test_sweep_through_a_study_and_its_located_refusal(tmp_path: Path) -> None:
    """`method = sweep` reaches run.json's summary; on a meshed feeder GAT0803 points at the run."""
    import json

    sweep_run = 'run pf base on feeder { phases = unbalanced, method = sweep }\n'
    sink = run_study(tmp_path, sweep_run)
    assert not sink.has_errors, [str(d) for d in sink.errors]
    record = json.loads((tmp_path / "runs" / "ieee13" / "run.json").read_text())
    (step,) = [s for s in record["steps"] if s["run"] == "base"]
    assert step["summary"]["method"] == "sweep" and step["summary"]["converged"]

    meshed = tmp_path / "meshed.dss"                       # IEEE 13 with a tie from 684 back to 632
    meshed.write_text(f'redirect "{FEEDER}"\nNew Line.tie Phases=1 Bus1=684.1 Bus2=632.1 LineCode=mtx607 '
                      'Length=100 units=ft\n')
    sink = run_study(tmp_path, sweep_run, feeder=meshed, name="ieee13m")
    (err,) = [d for d in sink.errors if d.code == "GAT0803"]
    assert "line tie" in err.message and err.span is not None and err.span.line == 3

"""Per-asset overrides in scenarios (`set load "671" { p = ... }`), end to end.

Oracles: the OpenDSS engine solving IEEE 13 with the same edits made by its own
commands (`Edit Load.671 kW=... kvar=...`, `Open Line.671692`); pandapower's Newton
power flow on case14 with one load changed.  Errors: coded and located.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from engines3.dss_oracle import solve_engine
from gatlang.diagnostics import DiagnosticSink
from gatlang.passes import Settings, run_program, check_program

DATA = Path(__file__).resolve().parents[1] / "data"
IEEE13 = DATA / "opendss3" / "13Bus" / "IEEE13Nodeckt.dss"
CASE14 = DATA / "pglib" / "pglib_opf_case14_ieee.m"


def _run(tmp_path: Path, text: str) -> DiagnosticSink:
    study = tmp_path / "study.gat"
    study.write_text(text)
    sink = DiagnosticSink()
    run_program(study, sink, Settings(quiet=True))
    return sink


def test_unbalanced_overrides_match_the_engine_making_the_same_edits(tmp_path: Path) -> None:
    sink = _run(tmp_path, f'study s\nnetwork f = opendss("{IEEE13}")\n'
                          'scenario edit {\n  set load "671" { p = 500 kW, q = 200 kvar }\n'
                          '  set load "634a" { status = false }\n}\n'
                          'run pf base on f { phases = unbalanced, regulators = fixed, scenarios = [edit] }\n')
    assert not sink.has_errors, [str(d) for d in sink.errors]
    table = pq.read_table(tmp_path / "runs" / "s" / "base" / "edit" / "bus_voltages.parquet").to_pandas()
    ours = {f"{b.lower()}.{p}": vm for b, p, vm in zip(table.bus, table.phase, table.vm_pu)}
    engine = solve_engine(IEEE13, control=False, commands=(
        "Transformer.Reg1.Taps=[1.0 1.0]", "Transformer.Reg2.Taps=[1.0 1.0]", "Transformer.Reg3.Taps=[1.0 1.0]",
        "Edit Load.671 kW=500 kvar=200", "Disable Load.634a"))
    ref = np.abs(engine.v) / engine.vbase
    diffs = [abs(ours[n] - v) for n, v in zip(engine.nodes, ref) if n in ours]
    assert len(diffs) >= 40 and max(diffs) < 1e-4


def test_balanced_override_matches_pandapower(tmp_path: Path) -> None:
    import pandapower as pp
    from pandapower.converter.pypower import from_ppc

    from engines.pf_mpc_text import read_ppc

    sink = _run(tmp_path, f'study s\nnetwork g = matpower("{CASE14}")\n'
                          'scenario heavy { set load "3" { p = 120 MW, q = 30 Mvar } }\n'
                          'run pf base on g { scenarios = [heavy] }\n')
    assert not sink.has_errors, [str(d) for d in sink.errors]
    table = pq.read_table(tmp_path / "runs" / "s" / "base" / "heavy" / "bus_voltages.parquet").to_pandas()
    ours = dict(zip(table.bus.astype(int), table.vm_pu))
    ppc = read_ppc(CASE14)
    row = np.flatnonzero(ppc["bus"][:, 0] == 2)[0]          # bus 3 (read_ppc numbers from 0)
    ppc["bus"][row, 2:4] = [120.0, 30.0]
    net = from_ppc(ppc, f_hz=60)
    pp.runpp(net, tolerance_mva=1e-10)
    ref = dict(zip(net.res_bus.index + 1, net.res_bus.vm_pu))
    assert max(abs(ours[b] - ref[b]) for b in ref) < 1e-6


def test_override_errors_are_located(tmp_path: Path) -> None:
    study = tmp_path / "study.gat"
    study.write_text(f'study s\nnetwork f = opendss("{IEEE13}")\n'
                     'scenario bad {\n  set lode "671" { p = 1 MW }\n  set load "671" { pp = 1 MW }\n'
                     '  set load "671" { p = 1 kV }\n}\n')
    sink = DiagnosticSink()
    check_program(study, sink)
    got = sorted((d.code, d.span.line) for d in sink.errors)
    assert got == [("GAT0411", 4), ("GAT0412", 5), ("GAT0412", 6)]
    sink = _run(tmp_path, f'study s\nnetwork f = opendss("{IEEE13}")\n'
                          'scenario typo { set load "6711" { p = 1 MW } }\n'
                          'run pf base on f { phases = unbalanced, scenarios = [typo] }\n')
    (err,) = [d for d in sink.errors if d.code == "GAT0413"]
    assert err.span.line == 3 and "671" in (err.help or "")

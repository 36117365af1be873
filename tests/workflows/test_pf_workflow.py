"""`run pf` end to end against pandapower's Newton power flow (the outside oracle) on pglib case14 and case30."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.passes import Settings, run_program

DATA = Path(__file__).resolve().parents[1] / "data" / "pglib"


def _pandapower_voltages(case_file: Path, load_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """pandapower's Newton on the same file, read by the power-flow tests' independent MATPOWER reader."""
    import pandapower as pp
    from pandapower.converter.pypower import from_ppc

    from engines.pf_mpc_text import read_ppc

    ppc = read_ppc(case_file)
    ppc["bus"][:, 2:4] *= load_scale          # PD, QD: the scenario's load_scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = from_ppc(ppc, f_hz=60)
        pp.runpp(net, algorithm="nr", tolerance_mva=1e-10, init="flat", calculate_voltage_angles=True)
    # from_ppc numbers buses as the MATPOWER bus number minus one; results in bus-number order
    order = np.argsort(net.res_bus.index.to_numpy())
    return net.res_bus.vm_pu.to_numpy()[order], net.res_bus.va_degree.to_numpy()[order]


@pytest.mark.parametrize("case", ["case14_ieee", "case30_ieee"])
@pytest.mark.parametrize("method", ["newton", "fast_decoupled"])
def test_run_pf_matches_pandapower(tmp_path: Path, case: str, method: str) -> None:
    case_file = DATA / f"pglib_opf_{case}.m"
    study = tmp_path / "pf.gat"
    study.write_text(f'study pf\nnetwork g = matpower("{case_file}")\n'
                     f'scenario heavy {{ load_scale = 1.2 }}\n'
                     f'run pf base on g {{ method = {method}, scenarios = [heavy], tolerance = 1e-10 }}\n')
    sink = DiagnosticSink()
    comp = run_program(study, sink, Settings(quiet=True))
    assert not sink.has_errors, [str(d) for d in sink.errors]
    table = pq.read_table(tmp_path / "runs" / "pf" / "base" / "heavy" / "bus_voltages.parquet").to_pandas()
    table = table.sort_values("bus", key=lambda s: s.astype(int))
    vm, va = _pandapower_voltages(case_file, 1.2)
    assert np.max(np.abs(table.vm_pu.to_numpy() - vm)) < 1e-6
    # pandapower's angles are relative to its external grid at the reference bus, as ours
    assert np.max(np.abs(table.va_deg.to_numpy() - va)) < 1e-5
    (step,) = comp.steps
    assert step.record["summary"]["converged"] is True

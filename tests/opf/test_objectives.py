"""The named objectives beyond cost and losses: `vvo` (Volt/VAR, voltages closest to nominal).

Oracle: pandapower's Newton power flow, given the generator set points of
our optimum (active power at PV buses, voltage magnitudes at every generator
bus), must reproduce our bus voltages -- so the optimum is a physical
operating point -- and the Volt/VAR measure computed from pandapower's
voltages must equal our objective and be no worse than pandapower's solution
of the case's own set points.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.engines.pf_mpc_text import read_ppc

from .helpers import objective, run_study

CASE14 = Path(__file__).resolve().parents[1] / "data" / "pglib" / "pglib_opf_case14_ieee.m"


def _pandapower(ppc: dict, pg: np.ndarray | None = None, vg: dict[int, float] | None = None) -> np.ndarray:
    import pandapower as pp
    from pandapower.converter.pypower import from_ppc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = from_ppc(ppc, f_hz=60)
        if vg is not None:
            for table in (net.gen, net.ext_grid):
                table["vm_pu"] = [vg[int(b) + 1] for b in table.bus]
        if pg is not None:
            p_at = dict(zip(ppc["gen"][:, 0].astype(int), pg))     # read_ppc numbers buses from 0
            net.gen["p_mw"] = [p_at[int(b)] for b in net.gen.bus]
        pp.runpp(net, algorithm="nr", tolerance_mva=1e-10)
    return net.res_bus.vm_pu.to_numpy()


@pytest.mark.slow
def test_acp_vvo_is_a_physical_operating_point_closer_to_nominal(tmp_path: Path) -> None:
    comp, sink = run_study(tmp_path, f'study s\nnetwork g = matpower("{CASE14}")\n'
                                     'run opf r on g {\n formulation = acp\n objective = vvo\n}\n',
                           out=tmp_path / "runs")
    assert not sink.has_errors, [str(d) for d in sink.errors]
    bus = pq.read_table(tmp_path / "runs" / "r" / "bus.parquet").to_pydict()
    gen = pq.read_table(tmp_path / "runs" / "r" / "gen.parquet").to_pydict()
    vm = dict(zip(map(int, bus["bus"]), bus["vm_pu"]))
    ppc = read_ppc(CASE14)
    pp_vm = _pandapower(ppc, pg=np.asarray(gen["pg_mw"]), vg=vm)
    ours = np.asarray([vm[int(b) + 1] for b in ppc["bus"][:, 0]])
    assert np.abs(ours - pp_vm).max() < 1e-5
    deviation = float(np.sum((pp_vm - 1.0) ** 2))
    assert objective(comp, "r") == pytest.approx(deviation, rel=1e-5, abs=1e-9)
    base = float(np.sum((_pandapower(ppc) - 1.0) ** 2))
    assert deviation < base

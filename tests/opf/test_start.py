"""The OPF start point (`init = flat | case | dc | pf`): where it comes from, and that it
changes the path of the solver but not the answer.

Oracles: pandapower's Newton power flow for the `pf` start point itself; pglib-opf's
published AC objective (BASELINE.md, 5 digits) for the answer from every start; PMD's
three-bus unbalanced OPF value for the three-phase `pf` start.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.model.netview import from_balanced
from gatlang.model.start import balanced_start
from tests.engines.pf_oracles import cached_case, cached_oracle

from .helpers import objective, run_study

PGLIB = Path(__file__).resolve().parents[1] / "data" / "pglib"
CASE14 = PGLIB / "pglib_opf_case14_ieee.m"
PMD = Path(__file__).resolve().parents[1] / "data" / "opendss3" / "pmd"


def test_pf_start_point_is_pandapowers_power_flow() -> None:
    case = cached_case(CASE14)
    vm, va = balanced_start(case, "pf", DiagnosticSink(), None)
    view = from_balanced(case, (vm, va))
    want = cached_oracle(CASE14).voltages(case.bus_id)
    got = view.kinds["bus"].numbers["vm_start"] * np.exp(1j * view.kinds["bus"].numbers["va_start"])
    # pandapower's angles are relative to its slack angle, as ours are to the case's reference angle
    assert np.abs(got - want).max() < 1e-6


@pytest.mark.parametrize("init", ["case", "dc", "pf"])
def test_every_start_reaches_the_published_ac_optimum(tmp_path: Path, init: str) -> None:
    comp, sink = run_study(tmp_path, f'study s\nnetwork g = matpower("{CASE14}")\n'
                                     f'run opf r on g {{\n formulation = acp\n init = {init}\n}}\n')
    assert not sink.has_errors, [str(d) for d in sink.errors]
    assert float(f"{objective(comp, 'r'):.4e}") == 2.1781e+03     # pglib-opf BASELINE.md, case14_ieee AC


def test_three_phase_pf_start_reaches_pmds_optimum(tmp_path: Path) -> None:
    comp, sink = run_study(tmp_path, f'study s\nnetwork f = opendss("{PMD / "case3_unbalanced.dss"}")\n'
                                     'run opf r on f {\n formulation = acp_u\n init = pf\n}\n')
    assert not sink.has_errors, [str(d) for d in sink.errors]
    assert objective(comp, "r") * 1e3 == pytest.approx(21.4812, abs=1e-2)   # PMD test/opf.jl, kW

"""What run.json says about an answer: global or local optimum, relaxation tightness.

Oracles: convex optimisation theory for what can be called global (an LP/convex
program's optimum is global, an Ipopt optimum of the non-convex AC model is
only local); Farivar and Low (IEEE Trans. Power Syst. 28(3), 2013): the SOC
branch-flow relaxation of loss minimisation on a radial feeder is exact; the
pglib-opf SOC gap of case5_pjm (14.55 %) for a meshed case whose cones are tight
while the relaxation is not exact; and the cone gaps recomputed from the
written tables for a relaxation that is pushed off its cones.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from .helpers import run_study

DATA = Path(__file__).resolve().parents[1] / "data"
CASE5 = DATA / "pglib" / "pglib_opf_case5_pjm.m"
CASE33 = DATA.parents[1] / "examples" / "hostcap" / "case33bw.m"


def _steps(tmp_path: Path, text: str) -> dict[str, dict]:
    _, sink = run_study(tmp_path, text, out=tmp_path / "runs")
    assert not sink.has_errors, [str(d) for d in sink.errors]
    record = json.loads((tmp_path / "runs" / "run.json").read_text())
    return {s["run"]: s for s in record["steps"]}, sink


def test_optimality_follows_what_the_formulation_is(tmp_path: Path) -> None:
    steps, _ = _steps(tmp_path, f'study s\nnetwork g = matpower("{CASE5}")\n'
                                'run opf ac on g { formulation = acp }\n'
                                'run opf dc on g { formulation = dcp }\n'
                                'run opf soc on g { formulation = socwr }\n')
    assert steps["ac"]["formulation_is"] == ["exact"] and steps["ac"]["optimality"] == "local"
    assert steps["dc"]["optimality"] == "global"
    assert steps["soc"]["optimality"] == "global"
    # pglib case5: the SOC bound is 14.55 % below AC although every cone is tight -> "unknown", not "yes"
    soc = steps["soc"]["relaxation"]
    assert soc["tight"] and soc["meshed"] and soc["exact"] == "unknown"
    assert (1 - steps["soc"]["objective"] / steps["ac"]["objective"]) * 100 == pytest.approx(14.55, abs=0.01)


def test_socbf_loss_minimisation_on_a_radial_feeder_is_reported_exact(tmp_path: Path) -> None:
    steps, sink = _steps(tmp_path, f'study s\nnetwork f = matpower("{CASE33}")\n'
                                   'run opf bf on f {\n formulation = socbf\n objective = losses\n}\n')
    rel = steps["bf"]["relaxation"]
    assert rel["tight"] and not rel["meshed"] and rel["exact"] == "yes"
    assert not [d for d in sink if d.code == "GAT0409"]


def test_a_relaxation_pushed_off_its_cones_is_reported_with_its_gaps(tmp_path: Path) -> None:
    """Maximising generation rewards fictitious losses: the SOC branch flow model then draws
    currents above what the flows imply.  GAT0409 says so; the gaps in run.json are those
    recomputed from the written bus and branch tables."""
    steps, sink = _steps(tmp_path, f'study s\nnetwork f = matpower("{CASE33}")\n'
                                   'run opf bf on f {\n formulation = socbf\n'
                                   ' objective = -sum(g in gens) pg[g]\n}\n')
    assert [d for d in sink if d.code == "GAT0409"]
    rel = steps["bf"]["relaxation"]
    assert not rel["tight"] and rel["exact"] == "no" and rel["not_tight"] > 0
    bus = pq.read_table(tmp_path / "runs" / "bf" / "bus.parquet").to_pydict()
    br = pq.read_table(tmp_path / "runs" / "bf" / "branch.parquet").to_pydict()
    w = dict(zip(bus["bus"], bus["w_pu_2"]))
    lines = [ln.split() for ln in CASE33.read_text().split("mpc.branch = [")[1].split("];")[0].splitlines()
             if ln.strip() and not ln.strip().startswith("%")]
    lines = [ln for ln in lines if float(ln[10].rstrip(";")) > 0]          # in-service branches (status)
    w_from = np.asarray([w[ln[0]] for ln in lines])
    gap = w_from * np.asarray(br["isq_pu_2"]) - np.asarray(br["p_pu"]) ** 2 - np.asarray(br["q_pu"]) ** 2
    assert rel["max_gap"] == pytest.approx(gap.max(), rel=1e-6)

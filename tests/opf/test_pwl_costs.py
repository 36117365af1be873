"""Piecewise-linear generator costs (MATPOWER gencost model 1).

Oracle: pglib's case5 costs are linear (c2 = 0), so the same cost written as a
piecewise-linear curve through points on that line -- two points, or three
splitting it in two pieces -- describes the identical problem, whose optimum
is pglib-opf's published baseline (BASELINE.md: DC 1.7480e4, AC 1.7552e4 $/h).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from .helpers import objective, run_study

CASE5 = Path(__file__).resolve().parents[1] / "data" / "pglib" / "pglib_opf_case5_pjm.m"
LINEAR = [14.0, 15.0, 30.0, 40.0, 10.0]          # $/MWh, from the file's gencost
PMAX = [40.0, 170.0, 520.0, 200.0, 600.0]


def _with_pwl(tmp_path: Path, rows: list[str]) -> Path:
    text = CASE5.read_text()
    block = "mpc.gencost = [\n" + "\n".join(rows) + "\n];"
    text = re.sub(r"mpc\.gencost = \[.*?\];", block, text, flags=re.S)
    out = tmp_path / "case5_pwl.m"
    out.write_text(text)
    return out


def _points(c1: float, xs: list[float]) -> str:
    pts = " ".join(f"{x:g} {c1 * x:g}" for x in xs)
    return f"\t1\t0\t0\t{len(xs)}\t{pts};"


@pytest.mark.parametrize("pieces", [1, 2])
@pytest.mark.parametrize("formulation,baseline", [("dcp", 1.7480e4), ("acp", 1.7552e4)])
def test_linear_cost_as_pwl_reproduces_baseline(tmp_path: Path, pieces: int, formulation: str, baseline: float) -> None:
    rows = [_points(c, [0.0, p / 2, p] if pieces == 2 else [0.0, p]) for c, p in zip(LINEAR, PMAX)]
    case = _with_pwl(tmp_path, rows)
    comp, sink = run_study(tmp_path, f'study s\nnetwork g = matpower("{case}")\n'
                                     f'run opf r on g {{ formulation = {formulation} }}\n')
    assert not sink.has_errors, [str(d) for d in sink.errors]
    assert float(f"{objective(comp, 'r'):.4e}") == baseline

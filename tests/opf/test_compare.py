"""`run compare` on pglib case14: each formulation's objective is pglib-opf's published
baseline (BASELINE.md), and the reported gap is the one those published numbers imply."""
from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from .helpers import run_study

CASE14 = Path(__file__).resolve().parents[1] / "data" / "pglib" / "pglib_opf_case14_ieee.m"
DC, AC = 2.0515e+03, 2.1781e+03   # BASELINE.md, pglib_opf_case14_ieee


def test_compare_acp_dcp(tmp_path: Path) -> None:
    comp, sink = run_study(tmp_path, f'study s\nnetwork g = matpower("{CASE14}")\n'
                                     f'run compare c on g {{ formulations = [dcp, acp] }}\n')
    assert not sink.has_errors, [str(d) for d in sink.errors]
    table = pq.read_table(tmp_path / "runs" / "s" / "c" / "compare.parquet").to_pandas().set_index("formulation")
    assert float(f"{table.objective['acp']:.4e}") == AC
    assert float(f"{table.objective['dcp']:.4e}") == DC
    assert table.gap_pct["acp"] == 0.0                      # the reference: the most exact formulation
    assert table.gap_pct["dcp"] == pytest.approx(100 * (AC - DC) / AC, abs=0.01)
    assert table.max_abs_diff_pg_mw["dcp"] > 0.0
    assert (tmp_path / "runs" / "s" / "c" / "bus_acp.parquet").exists()


def test_compare_needs_formulations(tmp_path: Path) -> None:
    comp, sink = run_study(tmp_path, f'study s\nnetwork g = matpower("{CASE14}")\n'
                                     f'run compare c on g {{ reference = acp }}\n')
    assert [d.code for d in sink.errors] == ["GAT0402"]

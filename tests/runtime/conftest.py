"""Fixtures of the runtime tests: a small study folder with a network file."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """studies/demo.gat plus studies/data/case5.m; the run folder is studies/runs/demo."""
    folder = tmp_path / "studies"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "case5.m").write_text("function mpc = case5\nmpc.baseMVA = 100;\n")
    path = folder / "demo.gat"
    path.write_text('study demo "demo"\nnetwork grid = matpower("data/case5.m")\n')
    return path

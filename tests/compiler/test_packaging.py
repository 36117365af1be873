"""The wheel ships the grammar, the standard library and the explain pages (package data)."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contains_grammar_stdlib_and_explain_pages(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                    "-q", "-w", str(tmp_path)], check=True)
    (wheel,) = tmp_path.glob("gatlang-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "gatlang/_data/grammar/gat.lark" in names
    for gat in (ROOT / "stdlib").glob("*.gat"):
        assert f"gatlang/_data/stdlib/{gat.name}" in names
    for page in (ROOT / "gatlang" / "explain").glob("GAT*.md"):
        assert f"gatlang/explain/{page.name}" in names
    assert any(n.endswith("entry_points.txt") for n in names)

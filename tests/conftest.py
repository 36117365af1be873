"""Shared test fixtures.

Small test inputs are copied into tests/data so the project stands on its own.
Large public cases (pglib-opf's big grids, IEEE 8500) are read from the shared
data folder that sits beside the checkout (as it does in CI): ``shared_data``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PYOMO_CONFIG_DIR", str(Path(__file__).resolve().parents[1] / ".venv" / "pyomo"))

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
SHARED_DATA = Path(os.environ.get("GATLANG_SHARED_DATA", TESTS.parents[1] / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared test data not found at {SHARED_DATA} (set GATLANG_SHARED_DATA)")
    return SHARED_DATA

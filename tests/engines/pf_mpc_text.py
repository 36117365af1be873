"""Test helper: read a MATPOWER ``.m`` case into a pypower ``ppc`` dict for pandapower's ``from_ppc``.

Why not gatlang's own reader: the oracle side must not share code with the
side under test.  pandapower's ``from_mpc`` needs the optional
``matpowercaseframes`` package, which is not installed; MATPOWER case files
in pglib use only ``mpc.name = [ rows ];`` numeric blocks, which this reads.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

_BLOCK = re.compile(r"mpc\.(bus|gen|branch)\s*=\s*\[(.*?)\]\s*;", re.S)
_BASE = re.compile(r"mpc\.baseMVA\s*=\s*([0-9.eE+-]+)\s*;")


def read_ppc(path: str | Path) -> dict:
    """``{"baseMVA", "bus", "gen", "branch", "version"}`` with 0-based bus numbers, as pypower expects."""
    text = re.sub(r"%[^\n]*", "", Path(path).read_text())
    ppc: dict = {"version": "2", "baseMVA": float(_BASE.search(text).group(1))}
    for name, body in _BLOCK.findall(text):
        rows = [r.split() for r in body.replace(";", "\n").splitlines() if r.strip()]
        ppc[name] = np.array(rows, dtype=float)
    ppc["bus"][:, 0] -= 1
    ppc["gen"][:, 0] -= 1
    ppc["branch"][:, :2] -= 1
    return ppc

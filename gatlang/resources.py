"""Where the grammar and the standard library live, in a checkout or an installed wheel."""
from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for cand in (_PKG.parent / name, _PKG / "_data" / name):
        if cand.exists():
            return cand
    raise FileNotFoundError(f"gatlang installation is incomplete: {name}/ not found")


def grammar_path() -> Path:
    return _find("grammar") / "gat.lark"


def stdlib_dir() -> Path:
    return _find("stdlib")

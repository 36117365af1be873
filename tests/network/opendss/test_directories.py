"""Relative file names resolve the way the engine resolves them: from its *current directory*.

The engine's ``Compile`` moves its current directory to the compiled file's
folder and leaves it there for the rest of the calling file, ``Redirect``
restores it when the redirected file ends, and ``cd`` moves it.  The fixture
tests/data/opendss/compile_dirs has, next to every file the engine reads, a
``decoy_*`` line that resolving from the naming file's folder would pick.
Oracle: the engine compiling the same folder with its default
``AllowChangeDir`` (it changes the process directory, so the test restores it).
"""
from __future__ import annotations

import os
from pathlib import Path

import opendssdirect as dss
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.opendss.importer import load_opendss

from .engine import IEEE, fresh

MAIN = IEEE.parent / "compile_dirs" / "main.dss"


@pytest.fixture
def engine_lines(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    monkeypatch.chdir(MAIN.parent)           # restored after the test: the engine moves it
    previous = dss.Basic.AllowChangeDir()
    dss.Basic.AllowChangeDir(True)
    try:
        fresh()
        dss.Text.Command(f'compile "{MAIN}"')
        return set(dss.Lines.AllNames())
    finally:
        dss.Basic.AllowChangeDir(previous)
        os.chdir(MAIN.parent)


def test_compile_redirect_and_cd_resolve_like_the_engine(engine_lines: set[str]) -> None:
    sink = DiagnosticSink()
    net = load_opendss(MAIN, sink)
    assert net is not None and not sink.items, [d.render() for d in sink]
    ours = set(net.table("lines").column("line").to_pylist())
    assert ours == engine_lines
    assert ours == {"la", "lc0", "sub_b", "root_b", "la2", "sub_b2", "lc"}


def test_cd_to_missing_folder_is_located(tmp_path: Path) -> None:
    f = tmp_path / "m.dss"
    f.write_text("clear\nnew circuit.t basekv=12.47 bus1=src\ncd nowhere\n")
    sink = DiagnosticSink()
    load_opendss(f, sink)
    (err,) = sink.errors
    assert err.code == "GAT0540" and err.span.line == 3 and err.span.column == 4
    assert "nowhere" in err.message

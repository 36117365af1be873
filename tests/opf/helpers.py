"""Run a small study written on the fly; used by the OPF validation tests."""
from __future__ import annotations

from pathlib import Path

from gatlang.diagnostics import DiagnosticSink
from gatlang.passes import Compilation, Settings, run_program


def run_study(tmp_path: Path, text: str, **settings: object) -> tuple[Compilation, DiagnosticSink]:
    study = tmp_path / "study.gat"
    study.write_text(text)
    sink = DiagnosticSink()
    comp = run_program(study, sink, Settings(quiet=True, **settings))  # type: ignore[arg-type]
    return comp, sink


def objective(comp: Compilation, run: str) -> float:
    (step,) = [s for s in comp.steps if s.run.name == run]
    return float(step.record["objective"])

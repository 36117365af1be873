"""What every `run` kind implements: the three per-step passes elaborate, lower, emit.

Why this protocol: the pipeline (gatlang.passes) is one ordered tuple of passes
for every run kind; a workflow supplies the kind-specific part of the last
three.  A *step* is one run under one scenario; its inputs (the data, the
options, the formulation text) make its cache key, so an unchanged step is
skipped on a re-run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from gatlang.diagnostics import DiagnosticSink
from gatlang.semantics.options import Value
from gatlang.syntax import ast

if TYPE_CHECKING:
    from gatlang.passes import Compilation


@dataclass
class Step:
    """One run under one scenario, with what the passes produce for it."""

    run: ast.RunDecl
    scenario: str | None
    options: dict[str, Value]
    formulation: ast.FormulationDecl | None = None
    key: str = ""
    parts: dict[str, Any] = field(default_factory=dict)
    cached: Any = None                 # StepOutcome of an earlier identical run, when skipped
    state: dict[str, Any] = field(default_factory=dict)   # the workflow's scratch space
    record: dict[str, Any] = field(default_factory=dict)  # what goes into run.json
    sink: DiagnosticSink = field(default_factory=DiagnosticSink)
    failed: bool = False

    @property
    def label(self) -> str:
        return self.run.name if self.scenario is None else f"{self.run.name}/{self.scenario}"

    def option(self, name: str, default: Any = None) -> Any:
        v = self.options.get(name)
        return v.value if v is not None else default


class Workflow(Protocol):
    """A run kind's implementation of the per-step passes."""

    def elaborate(self, comp: "Compilation", step: Step) -> None: ...

    def lower(self, comp: "Compilation", step: Step) -> None: ...

    def emit(self, comp: "Compilation", step: Step) -> None: ...


def workflow_for(kind: str) -> Workflow | None:
    """The implementation of a run kind, imported on demand (a study pays only for what it uses)."""
    if kind == "opf":
        from gatlang.workflows import opf
        return opf.OPF()
    if kind == "compare":
        from gatlang.workflows import compare
        return compare.Compare()
    if kind == "pf":
        from gatlang.workflows import pf
        return pf.PowerFlow()
    if kind == "hostcap":
        from gatlang.workflows import hostcap
        return hostcap.HostingCapacity()
    return None

"""Reading the options of `run hostcap` into one checked :class:`HostcapSpec`.

Why a module of its own: every user mistake in a hosting-capacity run (a
location that is not a bus, a step in kvar, a voltage band upside down)
must be reported at the place it was written, with a hint, before any power
flow runs.  The registry (gatlang.workflows.registry) only checks option
names and value shapes; the meaning of each value is checked here, once,
for both the sweep and the OPF method.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from gatlang.diagnostics import DiagnosticSink, Span, did_you_mean
from gatlang.semantics import units as U
from gatlang.semantics.options import Quantity, Value, evaluate
from gatlang.syntax import ast

if TYPE_CHECKING:
    from gatlang.passes import Compilation
    from gatlang.workflows.base import Step

# Diagnostic codes of the hosting-capacity workflow (pages in gatlang/explain/).
BAD_LOCATIONS = "GAT0440"      # `at` is not a bus, a list of buses or a table column
UNKNOWN_BUS = "GAT0441"        # a location names no bus of the network
BAD_STEP = "GAT0442"           # `step` / `max` not an active power > 0
BAD_LIMITS = "GAT0443"         # an entry of the `limits` block
NO_LIMIT_REACHED = "GAT0444"   # warning: `max` reached with every limit respected
NO_SOLUTION = "GAT0445"        # warning: the power flow has no solution at a step (taken as the limit)
BASE_VIOLATION = "GAT0446"     # warning: a limit is already violated without DER
UNSUPPORTED = "GAT0447"        # method x network combination not available, or a location at the slack
BAD_OPTION = "GAT0448"         # `pf` out of range
OPF_FAILED = "GAT0449"         # the hosting-capacity OPF of one location has no solution
BASE_FAILED = "GAT0450"        # the network without DER does not solve
OPF_INEXACT = "GAT0451"        # warning: the OPF answer breaks a limit in the AC power flow

#: default number of steps `max` allows when it is not given
DEFAULT_STEPS = 200
#: a bare number in the `at` list may be written as 18 for bus "18"
_SPECIAL_ALL = "buses"


@dataclass(frozen=True)
class Limits:
    """The operating limits a DER must not push the network past (pu and % of rating)."""

    vmin: float = 0.95
    vmax: float = 1.05
    loading_pct: float | None = 100.0   # None: branch loading not checked


@dataclass(frozen=True)
class HostcapSpec:
    """Everything a hosting-capacity step needs from the study, checked."""

    locations: tuple[str, ...]        # bus ids as the network spells them
    method: str                       # sweep | opf
    phases: str                       # balanced | unbalanced
    step_mw: float
    max_mw: float
    limits: Limits
    pf: float                         # DER power factor; > 0 injects vars, < 0 absorbs
    refine: bool
    regulators: str
    span: Span | None

    @property
    def q_per_p(self) -> float:
        """Reactive output per unit of active output implied by the power factor."""
        return math.copysign(math.sqrt(max(1.0 / (self.pf * self.pf) - 1.0, 0.0)), self.pf)


def _span(step: "Step", name: str) -> Span | None:
    v = step.options.get(name)
    return v.span if v is not None and v.span is not None else step.run.span


def _power_mw(v: Value | None, name: str, default: float | None, sink: DiagnosticSink,
              fallback: Span | None) -> float | None:
    """An active power option in MW; kW/MW accepted, anything else is GAT0442."""
    if v is None:
        return default
    q = v.value
    if isinstance(q, Quantity) and U.power_kind(q.unit) == "active":
        mw = q.canonical
        if mw > 0 and math.isfinite(mw):
            return mw
        problem = "must be greater than zero"
    elif isinstance(q, Quantity):
        problem = f"is in {U.describe_unit(q.unit)}, not an active power"
    else:
        problem = "needs a unit"
    sink.error(BAD_STEP, f"`{name}` {problem}", v.span or fallback,
               help=f"write an active power, e.g. `{name} = 50 kW` or `{name} = 0.5 MW`")
    return None


def _per_unit(x: Any) -> float | None:
    """A voltage bound written as `0.95` or `0.95 pu`."""
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, Quantity) and x.unit == U.PU:
        return float(x.value)
    return None


def _percent(x: Any) -> float | None:
    """A loading bound written as `100 %` or `100` (percent of the branch rating)."""
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, Quantity) and x.unit.dims == U.DIMENSIONLESS:
        return x.canonical * 100.0
    return None


def parse_limits(step: "Step", sink: DiagnosticSink) -> Limits | None:
    """The `limits { voltage = lo .. hi, loading = N % }` block, each entry checked where written."""
    block = step.run.blocks.get("limits")
    if block is None:
        return Limits()
    vmin, vmax, loading = Limits.vmin, Limits.vmax, Limits.loading_pct
    ok = True
    scratch = DiagnosticSink()
    for opt in block.options:
        value = evaluate(opt.value, scratch)
        if opt.name == "voltage":
            pair = tuple(_per_unit(x) for x in value) if isinstance(value, tuple) else (None, None)
            if None in pair or not (0 < pair[0] < pair[1]):  # type: ignore[operator]
                sink.error(BAD_LIMITS, "`voltage` must be a band `low .. high` in pu with 0 < low < high",
                           opt.value.span, help="e.g. `voltage = 0.95 pu .. 1.05 pu`")
                ok = False
            else:
                vmin, vmax = pair  # type: ignore[assignment]
        elif opt.name == "loading":
            pct = _percent(value)
            if isinstance(value, str) and value == "none":
                loading = None
            elif pct is None or not pct > 0:
                sink.error(BAD_LIMITS, "`loading` must be a percentage of the branch rating greater than zero",
                           opt.value.span, help="e.g. `loading = 100 %`; `loading = none` leaves flows unchecked")
                ok = False
            else:
                loading = pct
        else:
            sink.error(BAD_LIMITS, f"unknown limit `{opt.name}`", opt.span,
                       help=did_you_mean(opt.name, ("voltage", "loading")) or "limits: voltage, loading")
            ok = False
    return Limits(vmin, vmax, loading) if ok else None


# ---------------------------------------------------------------- locations

def _location_names(node: ast.Node, c: "Compilation", sink: DiagnosticSink) -> list[tuple[str, Span]] | None:
    """The bus ids `at` names, each with where it was written (None after an error)."""
    if isinstance(node, ast.ListExpr):
        out: list[tuple[str, Span]] = []
        for item in node.items:
            got = _location_names(item, c, sink)
            if got is None:
                return None
            out += got
        return out
    if isinstance(node, ast.Number):
        text = f"{node.value:g}" if float(node.value).is_integer() else str(node.value)
        return [(text, node.span)]
    if isinstance(node, ast.String):
        return [(node.value, node.span)]
    if isinstance(node, ast.Name):
        return [(node.id, node.span)]
    if isinstance(node, ast.Attr) and isinstance(node.obj, ast.Name):
        return _table_column(node.obj.id, node.name, node.span, c, sink)
    sink.error(BAD_LOCATIONS, "`at` must name buses: one bus, a list `[b1, b2]`, `buses` (all of them) "
               "or a table column `sites.bus`", node.span,
               help="e.g. `at = [18, 33]` or `at = sites.bus` with `table sites = parquet(\"sites.parquet\")`")
    return None


def _table_column(table: str, column: str, span: Span, c: "Compilation",
                  sink: DiagnosticSink) -> list[tuple[str, Span]] | None:
    """Bus ids from a column of a study table (`table sites = parquet(...)` / `csv(...)`)."""
    assert c.program is not None and c.resolved is not None
    if table not in c.program.tables:
        sink.error(BAD_LOCATIONS, f"`at` names `{table}.{column}`, but the study declares no table `{table}`",
                   span, help=did_you_mean(table, c.program.tables)
                   or f"declare it: `table {table} = parquet(\"{table}.parquet\")`")
        return None
    path = c.resolved.input_files.get(table)
    if path is None:
        return None          # the resolve pass reported the missing file
    try:
        data = _read_table(Path(path), c.program.tables[table].source.func)
    except Exception as exc:  # noqa: BLE001 -- any reader failure becomes a located diagnostic
        sink.error(BAD_LOCATIONS, f"table `{table}` cannot be read: {exc}", span,
                   help="check that the file is a valid Parquet (or CSV) file")
        return None
    if column not in data.column_names:
        sink.error(BAD_LOCATIONS, f"table `{table}` has no column `{column}`", span,
                   help=did_you_mean(column, data.column_names) or f"columns: {', '.join(data.column_names)}")
        return None
    values = data.column(column).to_pylist()
    names = [f"{v:g}" if isinstance(v, float) and v.is_integer() else str(v) for v in values if v is not None]
    return [(n, span) for n in dict.fromkeys(names)]


def _read_table(path: Path, reader: str) -> Any:
    if reader == "csv":
        import pyarrow.csv as pacsv
        return pacsv.read_csv(path)
    import pyarrow.parquet as pq
    return pq.read_table(path)


def match_buses(wanted: Sequence[tuple[str, Span]], known: Sequence[str], skip: set[str],
                sink: DiagnosticSink) -> tuple[str, ...] | None:
    """Map location names to the network's bus ids (OpenDSS names are case-insensitive).

    ``skip`` holds buses where a DER cannot be studied (the reference bus): naming one
    is GAT0447; ``buses`` expands to every other bus.
    """
    exact = {b: b for b in known}
    lower = {b.lower(): b for b in known}
    out: list[str] = []
    ok = True
    for name, span in wanted:
        if name == _SPECIAL_ALL and name not in exact:
            out += [b for b in known if b not in skip]
            continue
        bus = exact.get(name) or lower.get(name.lower())
        if bus is None:
            sink.error(UNKNOWN_BUS, f"the network has no bus `{name}`", span,
                       help=did_you_mean(name, known) or f"buses include: {', '.join(list(known)[:8])}")
            ok = False
        elif bus in skip:
            sink.error(UNSUPPORTED, f"bus `{name}` is the reference (slack) bus: power injected there goes "
                       "straight to the upstream grid, so it has no hosting capacity to find", span,
                       help="choose a bus downstream of the substation")
            ok = False
        else:
            out.append(bus)
    if ok and not out:
        sink.error(BAD_LOCATIONS, "`at` names no location", wanted[0][1] if wanted else None,
                   help="name at least one bus")
        return None
    return tuple(dict.fromkeys(out)) if ok else None


def parse_spec(c: "Compilation", step: "Step", bus_ids: Sequence[str], slack: set[str],
               sink: DiagnosticSink) -> HostcapSpec | None:
    """Check every option of the run against the loaded network; None after any error."""
    at = step.options.get("at")
    if at is None:
        sink.error(BAD_LOCATIONS, "`run hostcap` needs `at = ...`: the buses where DER is added",
                   step.run.span, help="e.g. `at = [18, 33]`, `at = buses` or `at = sites.bus`")
        return None
    names = _location_names(at.value, c, sink)
    locations = match_buses(names, list(bus_ids), slack, sink) if names is not None else None
    step_mw = _power_mw(step.options.get("step"), "step", 0.05, sink, step.run.span)
    max_mw = _power_mw(step.options.get("max"), "max", None, sink, step.run.span)
    if step_mw is not None and max_mw is None and "max" not in step.options:
        max_mw = DEFAULT_STEPS * step_mw
    limits = parse_limits(step, sink)
    pf = step.option("pf", 1.0)
    if isinstance(pf, bool) or not isinstance(pf, (int, float)) or not (0 < abs(pf) <= 1):
        sink.error(BAD_OPTION, f"`pf` must be a power factor with 0 < |pf| <= 1 (got {pf})", _span(step, "pf"),
                   help="`pf = 1` (unity, the default); `pf = 0.95` injects vars, `pf = -0.95` absorbs them")
        pf = None
    if None in (locations, step_mw, max_mw, limits, pf):
        return None
    return HostcapSpec(locations, step.option("method", "sweep"), step.option("phases", "balanced"),
                       float(step_mw), float(max_mw), limits, float(pf), bool(step.option("refine", False)),
                       step.option("regulators", "control"), step.run.span)

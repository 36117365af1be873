"""Evaluate and check option values (`run` blocks, `scenario` blocks, importer calls).

Why separate from the model checker: option values are data known at compile
time (`formulation = acp`, `scenarios = [peak, noon]`, `step = 50 kW`,
`limits { voltage = 0.95 pu .. 1.05 pu }`), not model expressions; they are
evaluated to Python values here, each keeping its span for later messages.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from gatlang.diagnostics import DiagnosticSink, Span, did_you_mean
from gatlang.semantics import units as U
from gatlang.syntax import ast
from gatlang.workflows.registry import OptionSpec


@dataclass(frozen=True)
class Quantity:
    """A number with a unit, as written (value in `unit`) and in canonical units."""

    value: float
    unit: U.Unit
    text: str

    @property
    def canonical(self) -> float:
        return U.to_canonical(self.value, self.unit)


@dataclass(frozen=True)
class Value:
    """An evaluated option value with the span it came from."""

    value: Any
    span: Span | None


def evaluate(e: ast.Node, sink: DiagnosticSink) -> Any:
    """Evaluate a constant option expression; names evaluate to their text (formulations, scenarios)."""
    if isinstance(e, ast.Number):
        return e.value
    if isinstance(e, ast.Quantity):
        try:
            return Quantity(e.value, U.parse_unit(e.unit), f"{e.value:g} {e.unit}")
        except U.UnitError as exc:
            sink.add(exc.to_diagnostic(e.span))
            return None
    if isinstance(e, ast.String):
        return e.value
    if isinstance(e, ast.Name):
        if e.id in ("true", "false"):
            return e.id == "true"
        return e.id
    if isinstance(e, ast.Neg):
        v = evaluate(e.operand, sink)
        if isinstance(v, (int, float)):
            return -v
        if isinstance(v, Quantity):
            return Quantity(-v.value, v.unit, "-" + v.text)
    if isinstance(e, ast.ListExpr):
        return [evaluate(i, sink) for i in e.items]
    if isinstance(e, ast.RangeExpr):
        return (evaluate(e.lo, sink), evaluate(e.hi, sink))
    if isinstance(e, ast.Attr) and isinstance(e.obj, ast.Name):
        return f"{e.obj.id}.{e.name}"
    sink.error("GAT0201", "an option value must be a constant: a number, a quantity, a name, a list or a range",
               e.span, help="e.g. `formulation = acp`, `step = 50 kW`, `scenarios = [peak, noon]`")
    return None


def check_options(options: Mapping[str, ast.Option | ast.OptionBlock], specs: Mapping[str, OptionSpec],
                  sink: DiagnosticSink, where: str) -> dict[str, Value]:
    """Check option names and value shapes against `specs`; return the evaluated values."""
    out: dict[str, Value] = {}
    for name, opt in options.items():
        spec = specs.get(name)
        if spec is None:
            sink.error("GAT0402", f"unknown option `{name}` for {where}", opt.span,
                       help=did_you_mean(name, specs) or f"options: {', '.join(sorted(specs))}")
            continue
        if isinstance(opt, ast.OptionBlock):
            if spec.type != "block":
                sink.error("GAT0201", f"`{name}` takes a value, not a block", opt.span,
                           help=f"write `{name} = ...`")
                continue
            out[name] = Value({o.name: evaluate(o.value, sink) for o in opt.options}, opt.span)
            continue
        if spec.type == "expr":   # checked and compiled with the model statements
            out[name] = Value(opt.value, opt.value.span)
            continue
        value = evaluate(opt.value, sink)
        if value is None:
            continue
        problem = _shape_problem(spec, value)
        if problem:
            sink.error("GAT0201", f"option `{name}` {problem}", opt.value.span,
                       help=f"{spec.doc}" + (f"; one of: {', '.join(spec.choices)}" if spec.choices else ""))
            continue
        if spec.choices and isinstance(value, str) and value not in spec.choices:
            sink.error("GAT0402", f"`{value}` is not a valid value of `{name}`", opt.value.span,
                       help=did_you_mean(value, spec.choices) or f"one of: {', '.join(spec.choices)}")
            continue
        out[name] = Value(value, opt.value.span)
    return out


def _shape_problem(spec: OptionSpec, value: Any) -> str | None:
    t = spec.type
    if t == "name" and not isinstance(value, str):
        return "expects a name"
    if t == "names":
        if isinstance(value, str):
            return None
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return "expects a list of names, e.g. `[a, b]`"
    if t == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return "expects a plain number"
    if t == "quantity" and not isinstance(value, (Quantity, int, float)):
        return "expects a quantity with a unit, e.g. `50 kW`"
    if t == "bool" and not isinstance(value, bool):
        return "expects `true` or `false`"
    if t == "block":
        return "expects a block `{ ... }`"
    return None


def as_names(v: Value | None) -> list[str]:
    if v is None:
        return []
    return [v.value] if isinstance(v.value, str) else list(v.value)

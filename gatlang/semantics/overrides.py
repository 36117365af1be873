"""Per-asset overrides in scenarios: `set load "671" { p = 1.2 MW, status = false }`.

Why at the level of the canonical network tables: every workflow (balanced
and three-phase power flow, every OPF formulation, hosting capacity) reads
its network through those tables, so one override means the same thing
everywhere.  The fields are checked without data (kind, field, unit) when the
study is checked; the element names are checked once the network is loaded,
with the closest names offered.

Units: a value is written with its unit (`1.2 MW`, `300 kvar`, `1.0125 pu`)
and converted to the table's unit; booleans are `true`/`false`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gatlang.diagnostics import DiagnosticSink, did_you_mean
from gatlang.semantics import units as U
from gatlang.semantics.options import Quantity, evaluate
from gatlang.syntax import ast

if TYPE_CHECKING:
    from gatlang.network.model import Network


@dataclass(frozen=True)
class Field:
    column: str
    unit: str | None        # table unit (a quantity must have its dimension); None: a boolean
    doc: str


@dataclass(frozen=True)
class Overridable:
    table: str
    id_column: str
    fields: dict[str, Field]


_STATUS = Field("status", None, "in service (true) or out of service / open (false)")

#: kind written in the study -> where it lives in the canonical network, and what may change.
OVERRIDABLE: dict[str, Overridable] = {
    "load": Overridable("loads", "load", {
        "p": Field("p_mw", "MW", "active power"), "q": Field("q_mvar", "Mvar", "reactive power"),
        "status": _STATUS}),
    "generator": Overridable("generators", "gen", {
        "p": Field("p_mw", "MW", "active power set point"), "q": Field("q_mvar", "Mvar", "reactive power"),
        "pmax": Field("pmax_mw", "MW", "largest active output"), "pmin": Field("pmin_mw", "MW", "smallest active output"),
        "status": _STATUS}),
    "pv": Overridable("pv_systems", "pv", {
        "pmpp": Field("pmpp_mw", "MW", "panel power at 1 kW/m2"), "irradiance": Field("irradiance", "", "pu of 1 kW/m2"),
        "status": _STATUS}),
    "line": Overridable("lines", "line", {"status": _STATUS}),
    "switch": Overridable("lines", "line", {"status": Field("status", None, "closed (true) or open (false)")}),
    "capacitor": Overridable("shunts", "shunt", {
        "q": Field("b_mvar", "Mvar", "rated reactive power (at nominal voltage)"), "status": _STATUS}),
    "transformer": Overridable("transformers", "transformer", {"status": _STATUS}),
}


def check_override(ov: ast.Override, sink: DiagnosticSink) -> dict[str, Any]:
    """Kind, fields and units of one override, without data; {column: value in table units}."""
    spec = OVERRIDABLE.get(ov.kind)
    if spec is None:
        sink.error("GAT0411", f"a scenario cannot set a `{ov.kind}`", ov.span,
                   help=did_you_mean(ov.kind, OVERRIDABLE) or f"it can set: {', '.join(OVERRIDABLE)}")
        return {}
    out: dict[str, Any] = {}
    for opt in ov.options:
        field = spec.fields.get(opt.name) if isinstance(opt, ast.Option) else None
        if field is None:
            sink.error("GAT0412", f"a {ov.kind} has no field `{opt.name}` a scenario can set", opt.span,
                       help=did_you_mean(opt.name, spec.fields) or
                       "fields: " + ", ".join(f"{n} ({f.doc})" for n, f in spec.fields.items()))
            continue
        value = evaluate(opt.value, sink)
        converted = _convert(value, field, opt, ov.kind, sink)
        if converted is not None:
            out[field.column] = converted
    return out


def _convert(value: Any, field: Field, opt: ast.Option, kind: str, sink: DiagnosticSink) -> Any:
    if field.unit is None:
        if isinstance(value, bool):
            return value
        sink.error("GAT0412", f"`{opt.name}` of a {kind} is true or false", opt.value.span,
                   help=f"e.g. `{opt.name} = false`")
        return None
    want = U.parse_unit(field.unit) if field.unit else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and (want is None or want.dims.is_dimensionless):
        return float(value)
    if isinstance(value, Quantity) and want is not None and value.unit.dims == want.dims:
        return U.to_canonical(value.value, value.unit) / U.to_canonical(1.0, want)
    sink.error("GAT0412", f"`{opt.name}` of a {kind} is {U.describe_unit(want) if want is not None else 'a number'}",
               opt.value.span, help=f"write it with its unit, e.g. `{opt.name} = 1.5 {field.unit}`")
    return None


def apply_overrides(net: "Network", overrides: list[tuple[ast.Override, dict[str, Any]]],
                    sink: DiagnosticSink) -> "Network":
    """A copy of `net` with the overrides applied; unknown elements are errors at the override.

    `overrides` pairs each override with its values as `check_override` returned them.
    """
    import copy

    if not overrides:
        return net
    out = copy.copy(net)
    out.tables = dict(net.tables)
    for ov, values in overrides:
        spec = OVERRIDABLE.get(ov.kind)
        if spec is None or not values:
            continue
        table = out.table(spec.table)
        ids = [str(x) for x in table.column(spec.id_column).to_pylist()]
        match = [i for i, x in enumerate(ids) if x.lower() == ov.element.lower()]
        if not match:
            sink.error("GAT0413", f"network `{net.name}` has no {ov.kind} `{ov.element}`", ov.span,
                       help=did_you_mean(ov.element, ids) or f"it has {len(ids)} {spec.table}")
            continue
        columns = {name: table.column(name).to_pylist() for name in table.column_names}
        for column, value in values.items():
            for i in match:
                columns[column][i] = value
        out.set_table(spec.table, columns)
    return out

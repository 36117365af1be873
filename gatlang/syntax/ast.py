"""The abstract syntax tree of a `.gat` file.

Why frozen dataclasses with a span on every node: passes never mutate the tree
(each pass returns new facts in the compilation context instead), and every
diagnostic a later pass emits can point back to the exact source text.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from gatlang.diagnostics import Span


@dataclass(frozen=True)
class Node:
    span: Span = field(compare=False, repr=False)


# ------------------------------------------------------------------ expressions

@dataclass(frozen=True)
class Number(Node):
    value: float


@dataclass(frozen=True)
class Quantity(Node):
    """A number with a unit written after it, e.g. ``5 MW``."""
    value: float
    unit: str


@dataclass(frozen=True)
class String(Node):
    value: str


@dataclass(frozen=True)
class Name(Node):
    id: str


@dataclass(frozen=True)
class Attr(Node):
    obj: "Expr"
    name: str


@dataclass(frozen=True)
class Index(Node):
    base: "Expr"
    indices: tuple["Expr", ...]


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple["Expr", ...]


@dataclass(frozen=True)
class BinOp(Node):
    op: str                  # + - * / ^
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Neg(Node):
    operand: "Expr"


@dataclass(frozen=True)
class Compare(Node):
    op: str                  # == <= >= < > != ~=
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class InRange(Node):
    """``e in lo .. hi`` as a constraint: lo <= e <= hi."""
    expr: "Expr"
    lo: "Expr"
    hi: "Expr"


@dataclass(frozen=True)
class BoolOp(Node):
    op: str                  # and / or
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Not(Node):
    operand: "Expr"


@dataclass(frozen=True)
class IfExpr(Node):
    cond: "Expr"
    then: "Expr"
    orelse: "Expr"


@dataclass(frozen=True)
class Sum(Node):
    binders: "Binders"
    body: "Expr"


@dataclass(frozen=True)
class ListExpr(Node):
    items: tuple["Expr", ...]


@dataclass(frozen=True)
class RangeExpr(Node):
    lo: "Expr"
    hi: "Expr"


Expr = Union[Number, Quantity, String, Name, Attr, Index, Call, BinOp, Neg, Compare, InRange,
             BoolOp, Not, IfExpr, Sum, ListExpr, RangeExpr]


# ------------------------------------------------------------------ index sets

@dataclass(frozen=True)
class SetName(Node):
    name: str


@dataclass(frozen=True)
class SetAttr(Node):
    """A set reached through an entity, e.g. ``b.gens``."""
    obj: Expr
    name: str


@dataclass(frozen=True)
class SetRange(Node):
    lo: Expr
    hi: Expr


SetExpr = Union[SetName, SetAttr, SetRange]


@dataclass(frozen=True)
class Binder(Node):
    name: str
    set: SetExpr


@dataclass(frozen=True)
class Binders(Node):
    binders: tuple[Binder, ...]
    where: Expr | None = None


# ------------------------------------------------------------------ statements

@dataclass(frozen=True)
class Study(Node):
    name: str
    title: str | None


@dataclass(frozen=True)
class UseModule(Node):
    path: tuple[str, ...]


@dataclass(frozen=True)
class UseFile(Node):
    path: str


@dataclass(frozen=True)
class Arg(Node):
    name: str | None
    value: Expr


@dataclass(frozen=True)
class CallDecl(Node):
    func: str
    args: tuple[Arg, ...]


@dataclass(frozen=True)
class NetworkDecl(Node):
    name: str
    source: CallDecl


@dataclass(frozen=True)
class TableDecl(Node):
    name: str
    source: CallDecl


@dataclass(frozen=True)
class Option(Node):
    name: str
    value: Expr


@dataclass(frozen=True)
class OptionBlock(Node):
    name: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class ScenarioDecl(Node):
    name: str
    options: tuple[Option, ...]
    overrides: tuple["Override", ...] = ()


@dataclass(frozen=True)
class Override(Node):
    """``set load "671" { p = 1.2 MW }`` inside a scenario: one element's data changed."""
    kind: str
    element: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class ParamDecl(Node):
    name: str
    index: Binders | None
    value: Expr
    unit: str | None


@dataclass(frozen=True)
class SetDecl(Node):
    name: str
    value: SetExpr


@dataclass(frozen=True)
class VarDecl(Node):
    name: str
    index: Binders | None
    lo: Expr | None
    hi: Expr | None
    kind: str | None           # binary / integer / nonnegative / reals
    unit: str | None
    start: Expr | None


@dataclass(frozen=True)
class ExprDecl(Node):
    name: str
    index: Binders | None
    value: Expr
    unit: str | None = None


@dataclass(frozen=True)
class ConstraintDecl(Node):
    name: str
    index: Binders | None
    relation: Expr             # Compare or InRange


@dataclass(frozen=True)
class ObjectiveDecl(Node):
    """A named objective a run can pick with ``objective = NAME``."""
    name: str
    expr: Expr


@dataclass(frozen=True)
class Minimize(Node):
    expr: Expr
    sense: str                 # "min" | "max"


@dataclass(frozen=True)
class SubjectTo(Node):
    relation: Expr
    binders: Binders | None


@dataclass(frozen=True)
class Clause(Node):
    """``problem``, ``requires``, ``supports``, ``ignores`` or ``is`` inside a formulation."""
    kind: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class FormulationDecl(Node):
    name: str
    title: str | None
    items: tuple[Node, ...]


@dataclass(frozen=True)
class RunDecl(Node):
    kind: str
    name: str
    network: str
    items: tuple[Node, ...]
    kind_span: Span = field(compare=False, repr=False, default=None)  # type: ignore[assignment]
    network_span: Span = field(compare=False, repr=False, default=None)  # type: ignore[assignment]

    @property
    def options(self) -> dict[str, "Option"]:
        return {i.name: i for i in self.items if isinstance(i, Option)}

    @property
    def blocks(self) -> dict[str, OptionBlock]:
        return {i.name: i for i in self.items if isinstance(i, OptionBlock)}


@dataclass(frozen=True)
class ExpectStmt(Node):
    run: str
    attr: str
    op: str
    value: Expr
    tolerance: Expr | None


ModelStmt = Union[ParamDecl, SetDecl, VarDecl, ExprDecl, ConstraintDecl, ObjectiveDecl, Minimize, SubjectTo]


@dataclass(frozen=True)
class Module(Node):
    """One parsed `.gat` file."""
    path: str
    items: tuple[Node, ...]

"""Resolve names and check types, arity and units of every model statement.

Why one walk for names, types and units: each needs the same scopes (network
sets, binders, declared vars/params/exprs), and a user wants all three kinds of
mistake reported together, each at its own location.  The walk never raises:
every problem becomes a diagnostic and the offending sub-expression gets the
`ERR` type so that one mistake is reported once, not at every use.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from gatlang.diagnostics import DiagnosticSink, Span, did_you_mean
from gatlang.semantics import units as U
from gatlang.model.scale import power_exponent
from gatlang.semantics.entities import ENTITY_ATTRS, NETWORK_SCALARS, NETWORK_SETS
from gatlang.syntax import ast

FUNCTIONS = {"sqrt": 1, "sin": 1, "cos": 1, "tan": 1, "abs": 1, "exp": 1, "log": 1, "min": -1, "max": -1}
VAR_KINDS = ("reals", "nonnegative", "binary", "integer")


@dataclass(frozen=True)
class Ty:
    """The static type of an expression."""
    kind: str                     # num | entity | set | bool | str | err
    unit: U.Unit | None = None    # for num
    elem: str | None = None       # entity kind of an entity or of a set's elements ('int' for ranges)
    zero: bool = False            # the literal 0, which fits any unit

    def show(self) -> str:
        if self.kind == "num":
            return f"a number in {U.format_unit(self.unit)}" if self.unit is not None and not _dimless(self.unit) else "a number"
        if self.kind in ("entity", "set"):
            plural = self.elem + ("es" if self.elem and self.elem.endswith("s") else "s")
            return f"a {self.elem}" if self.kind == "entity" else f"a set of {plural}"
        return {"bool": "a condition", "str": "a string"}.get(self.kind, "an invalid expression")


ERR = Ty("err")
BOOL = Ty("bool")
DIMLESS = U.Unit(1.0, U.DIMENSIONLESS)
_PER_UNIT_NEUTRAL = ("pu", "angle")   # ignored when a per-unit expression meets a physical one


def _dimless(u: U.Unit | None) -> bool:
    return u is None or u.dims.is_dimensionless


def _strip(d: U.Dims, bases: tuple[str, ...]) -> U.Dims:
    return U.Dims(tuple(0 if b in bases else e for b, e in zip(U.BASES, d.exponents)))


def units_agree(a: U.Unit, b: U.Unit) -> bool:
    """May `a` and `b` be added or compared?

    Exactly equal dimensions always agree.  Per-unit expressions follow per-unit
    algebra: inside a model every power is per unit of the system base, so
    ``g * vm^2`` (pu) may stand beside ``p`` (MW) -- the network's base is in
    scope and the compiler converts MW literals to per unit.  The pu mark and
    angles (rad, dimensionless in SI) are ignored for that comparison, and a
    per-unit side agrees with a single active/reactive/apparent power.
    """
    if U.compatible(a, b):
        return True
    da, db = a.dims, b.dims
    if not (da.is_per_unit or db.is_per_unit):
        return False
    sa, sb = _strip(da, _PER_UNIT_NEUTRAL), _strip(db, _PER_UNIT_NEUTRAL)
    if sa == sb:
        return True
    return (sa.is_dimensionless and U.power_kind(sb) is not None) or \
           (sb.is_dimensionless and U.power_kind(sa) is not None)


def num(unit: U.Unit | None = None) -> Ty:
    return Ty("num", unit if unit is not None else DIMLESS)


@dataclass
class Symbol:
    name: str
    what: str                    # var | param | expr | set | objective | binder | network_set | scalar
    ty: Ty
    arity: int = 0
    span: Span | None = None


@dataclass
class Scope:
    symbols: dict[str, Symbol] = field(default_factory=dict)
    parent: "Scope | None" = None

    def lookup(self, name: str) -> Symbol | None:
        s: Scope | None = self
        while s is not None:
            if name in s.symbols:
                return s.symbols[name]
            s = s.parent
        return None

    def names(self) -> list[str]:
        out: list[str] = []
        s: Scope | None = self
        while s is not None:
            out.extend(s.symbols)
            s = s.parent
        return out

    def child(self) -> "Scope":
        return Scope(parent=self)


def network_scope() -> Scope:
    sc = Scope()
    for name, kind in NETWORK_SETS.items():
        sc.symbols[name] = Symbol(name, "network_set", Ty("set", elem=kind))
    for name, spec in NETWORK_SCALARS.items():
        sc.symbols[name] = Symbol(name, "scalar", num(U.parse_unit(spec.unit)))
    return sc


class Checker:
    """Checks model statements; one instance per compilation."""

    def __init__(self, sink: DiagnosticSink) -> None:
        self.sink = sink
        #: the checked type of every declaration and objective, by id(node): the
        #: elaborator reads units from here to convert results back to them.
        self.types: dict[int, Ty] = {}

    # ------------------------------------------------------------ statements
    def check_block(self, items: Iterable[ast.Node], scope: Scope) -> Scope:
        """Check a sequence of model statements in order; declarations extend `scope`."""
        for item in items:
            self.check_stmt(item, scope)
        return scope

    def _declare(self, scope: Scope, sym: Symbol) -> None:
        prev = scope.symbols.get(sym.name)
        if prev is not None:
            self.sink.error("GAT0102", f"`{sym.name}` is defined twice", sym.span,
                            help=f"the first definition is at {prev.span}" if prev.span else None)
            return
        scope.symbols[sym.name] = sym

    def check_stmt(self, item: ast.Node, scope: Scope) -> None:
        if isinstance(item, ast.ParamDecl):
            inner, arity = self.binders(item.index, scope)
            ty = self.expr(item.value, inner)
            if item.unit is not None:
                declared = self.unit(item.unit, item.span)
                if declared is not None and ty.kind == "num":
                    self.same_unit(ty, num(declared), item.value.span, "the declared unit")
                    ty = num(declared)
            self._declare(scope, Symbol(item.name, "param", ty, arity, item.span))
        elif isinstance(item, ast.SetDecl):
            ty = self.set_expr(item.value, scope)
            self._declare(scope, Symbol(item.name, "set", ty, 0, item.span))
        elif isinstance(item, ast.VarDecl):
            inner, arity = self.binders(item.index, scope)
            unit = self.unit(item.unit, item.span) if item.unit else DIMLESS
            ty = num(unit)
            for bound in (item.lo, item.hi, item.start):
                if bound is not None:
                    self.same_unit(self.expr(bound, inner), ty, bound.span, f"variable `{item.name}`")
            if item.kind is not None and item.kind not in VAR_KINDS:
                self.sink.error("GAT0201", f"unknown variable domain `{item.kind}`", item.span,
                                help=did_you_mean(item.kind, VAR_KINDS) or f"use one of {', '.join(VAR_KINDS)}")
            self._declare(scope, Symbol(item.name, "var", ty, arity, item.span))
        elif isinstance(item, ast.ExprDecl):
            inner, arity = self.binders(item.index, scope)
            ty = self.expr(item.value, inner)
            if item.unit is not None:
                declared = self.unit(item.unit, item.span)
                if declared is not None and ty.kind == "num":
                    self.same_unit(num(declared), ty, item.value.span, "the declared unit")
                    ty = num(declared)
            self.types[id(item)] = ty
            self._declare(scope, Symbol(item.name, "expr", ty, arity, item.span))
        elif isinstance(item, ast.ConstraintDecl):
            inner, _ = self.binders(item.index, scope)
            self.relation(item.relation, inner)
            self._declare(scope, Symbol(item.name, "constraint", BOOL, 0, item.span))
        elif isinstance(item, ast.SubjectTo):
            inner, _ = self.binders(item.binders, scope)
            self.relation(item.relation, inner)
        elif isinstance(item, ast.ObjectiveDecl):
            ty = self.expr(item.expr, scope)
            self.expect_number(ty, item.expr.span, "an objective")
            self.types[id(item)] = ty
            self._declare(scope, Symbol(item.name, "objective", ty, 0, item.span))
        elif isinstance(item, ast.Minimize):
            ty = self.expr(item.expr, scope)
            self.expect_number(ty, item.expr.span, "an objective")
            self.types[id(item)] = ty
        elif isinstance(item, ast.Clause):
            pass
        else:
            self.sink.error("GAT0202", f"`{type(item).__name__}` is not allowed here", item.span)

    def relation(self, rel: ast.Node, scope: Scope) -> None:
        if isinstance(rel, ast.Compare):
            if rel.op in ("~=", "!="):
                self.sink.error("GAT0203", f"`{rel.op}` cannot be used in a constraint", rel.span,
                                help="constraints use ==, <= or >=, or `x in lo .. hi`")
            left, right = self.expr(rel.left, scope), self.expr(rel.right, scope)
            if rel.op == "==" or not _bounds_by_apparent(left, right):
                self.same_unit(left, right, rel.span, "both sides of the constraint")
        elif isinstance(rel, ast.InRange):
            ty = self.expr(rel.expr, scope)
            for bound in (rel.lo, rel.hi):
                bty = self.expr(bound, scope)
                if not _bounds_by_apparent(ty, bty):
                    self.same_unit(ty, bty, bound.span, "the constrained expression")
        else:
            self.sink.error("GAT0203", "a constraint must be a comparison", rel.span,
                            help="write `lhs <= rhs`, `lhs == rhs` or `x in lo .. hi`")

    # ------------------------------------------------------------ index sets
    def binders(self, binders: ast.Binders | None, scope: Scope) -> tuple[Scope, int]:
        inner = scope.child()
        if binders is None:
            return inner, 0
        for b in binders.binders:
            ty = self.set_expr(b.set, inner)
            elem = ty.elem if ty.kind == "set" else None
            inner.symbols[b.name] = Symbol(b.name, "binder",
                                           Ty("entity", elem=elem) if elem not in (None, "int") else num(),
                                           0, b.span)
        if binders.where is not None:
            cond = self.expr(binders.where, inner)
            if cond.kind not in ("bool", "err"):
                self.sink.error("GAT0204", "a `where` filter must be a condition", binders.where.span,
                                help="for example `where l.rate_a > 0 MVA`")
        return inner, len(binders.binders)

    def set_expr(self, s: ast.Node, scope: Scope) -> Ty:
        if isinstance(s, ast.SetName):
            sym = scope.lookup(s.name)
            if sym is None:
                self.unknown(s.name, s.span, scope, "set")
                return ERR
            if sym.ty.kind != "set":
                self.sink.error("GAT0201", f"`{s.name}` is {sym.ty.show()}, not a set", s.span)
                return ERR
            return sym.ty
        if isinstance(s, ast.SetAttr):
            ty = self.attr(s.obj, s.name, s.span, scope)
            if ty.kind not in ("set", "err"):
                self.sink.error("GAT0201", f"`.{s.name}` is {ty.show()}, not a set", s.span)
                return ERR
            return ty
        if isinstance(s, ast.SetRange):
            for e in (s.lo, s.hi):
                self.expect_number(self.expr(e, scope), e.span, "a range bound")
            return Ty("set", elem="int")
        return ERR

    # ------------------------------------------------------------ expressions
    def expr(self, e: ast.Node, scope: Scope) -> Ty:
        method = getattr(self, "e_" + type(e).__name__, None)
        if method is None:
            self.sink.error("GAT0202", "this expression is not allowed here", e.span)
            return ERR
        return method(e, scope)

    def e_Number(self, e: ast.Number, scope: Scope) -> Ty:
        return Ty("num", DIMLESS, zero=True) if e.value == 0 else num()

    def e_Quantity(self, e: ast.Quantity, scope: Scope) -> Ty:
        unit = self.unit(e.unit, e.span)
        if unit is None:
            return ERR
        if power_exponent(unit) is None:
            self.sink.error("GAT0303", f"`{e.value:g} {e.unit}` has no per-unit value inside a model",
                            e.span, help="each bus has its own voltage base; write voltages in pu "
                                         "(e.g. `0.95 pu`) and currents through powers")
            return ERR
        return num(unit)

    def e_String(self, e: ast.String, scope: Scope) -> Ty:
        return Ty("str")

    def e_Name(self, e: ast.Name, scope: Scope) -> Ty:
        sym = scope.lookup(e.id)
        if sym is None:
            self.unknown(e.id, e.span, scope)
            return ERR
        if sym.arity:
            self.sink.error("GAT0103", f"`{e.id}` is indexed by {sym.arity} index(es) but used without any",
                            e.span, help=f"write `{e.id}[...]` with {sym.arity} index(es)")
            return ERR
        return sym.ty

    def e_Index(self, e: ast.Index, scope: Scope) -> Ty:
        if not isinstance(e.base, ast.Name):
            self.sink.error("GAT0201", "only declared names can be indexed", e.span)
            return ERR
        sym = scope.lookup(e.base.id)
        for i in e.indices:
            self.expr(i, scope)
        if sym is None:
            self.unknown(e.base.id, e.base.span, scope)
            return ERR
        if sym.arity != len(e.indices):
            self.sink.error("GAT0103", f"`{e.base.id}` takes {sym.arity} index(es), found {len(e.indices)}",
                            e.span, help=f"`{e.base.id}` is declared at {sym.span}" if sym.span else None)
            return ERR
        return sym.ty

    def e_Attr(self, e: ast.Attr, scope: Scope) -> Ty:
        return self.attr(e.obj, e.name, e.span, scope)

    def attr(self, obj: ast.Node, name: str, span: Span, scope: Scope) -> Ty:
        oty = self.expr(obj, scope)
        if oty.kind == "err":
            return ERR
        if oty.kind != "entity" or oty.elem not in ENTITY_ATTRS:
            self.sink.error("GAT0104", f"{oty.show()} has no attribute `{name}`", span,
                            help="attributes belong to network elements, e.g. `b.pd` for `b in buses`")
            return ERR
        attrs = ENTITY_ATTRS[oty.elem]
        spec = attrs.get(name)
        if spec is None:
            self.sink.error("GAT0104", f"a {oty.elem} has no attribute `{name}`", span,
                            help=did_you_mean(name, attrs) or f"{oty.elem} attributes: {', '.join(attrs)}")
            return ERR
        if spec.type == "number":
            return num(U.parse_unit(spec.unit) if spec.unit else DIMLESS)
        return Ty(spec.type, elem=spec.kind)

    def e_Call(self, e: ast.Call, scope: Scope) -> Ty:
        args = [self.expr(a, scope) for a in e.args]
        if e.func not in FUNCTIONS:
            self.sink.error("GAT0101", f"unknown function `{e.func}`", e.span,
                            help=did_you_mean(e.func, FUNCTIONS) or f"functions: {', '.join(FUNCTIONS)}")
            return ERR
        want = FUNCTIONS[e.func]
        if want >= 0 and len(args) != want:
            self.sink.error("GAT0103", f"`{e.func}` takes {want} argument(s), found {len(args)}", e.span)
            return ERR
        if any(a.kind == "err" for a in args):
            return ERR
        if e.func in ("min", "max", "abs"):
            for a, node in zip(args[1:], e.args[1:]):
                self.same_unit(args[0], a, node.span, f"the first argument of `{e.func}`")
            return args[0]
        if e.func == "sqrt":
            try:
                return num(args[0].unit ** 0.5)
            except (ValueError, ArithmeticError):
                self.sink.error("GAT0305", f"cannot take the square root of {args[0].show()}", e.span)
                return ERR
        for a, node in zip(args, e.args):
            if a.kind != "num" or not _strip(a.unit.dims, _PER_UNIT_NEUTRAL).is_dimensionless:
                self.sink.error("GAT0304", f"`{e.func}` needs a dimensionless argument, found {a.show()}",
                                node.span, help="angles are in rad; divide by a base to make a quantity dimensionless")
                return ERR
        return num()

    def e_BinOp(self, e: ast.BinOp, scope: Scope) -> Ty:
        left = self.expr(e.left, scope)
        right = self.expr(e.right, scope)
        if left.kind == "err" or right.kind == "err":
            return ERR
        for ty, node in ((left, e.left), (right, e.right)):
            if ty.kind != "num":
                self.sink.error("GAT0201", f"arithmetic needs numbers, found {ty.show()}", node.span)
                return ERR
        if e.op in "+-":
            summed = U.power_sum_dims(left.unit, right.unit)
            if summed is not None:           # p^2 + q^2 is apparent power squared
                return num(U.Unit(1.0, summed))
            self.same_unit(left, right, e.span, "the other operand")
            return right if left.zero else left
        if e.op == "*":
            return num(left.unit * right.unit)
        if e.op == "/":
            return num(left.unit / right.unit)
        # power: exponent must be a dimensionless constant
        if not _dimless(right.unit):
            self.sink.error("GAT0305", "an exponent must be dimensionless", e.right.span)
            return ERR
        if isinstance(e.right, ast.Number):
            try:
                return num(left.unit ** e.right.value)
            except (U.UnitError, ValueError, ArithmeticError) as exc:
                self.sink.error("GAT0305", f"cannot raise {left.show()} to the power {e.right.value:g}",
                                e.right.span, help=getattr(exc, "hint", None) or str(exc))
                return ERR
        if not _dimless(left.unit):
            self.sink.error("GAT0305", "a quantity with a unit can only be raised to a constant power",
                            e.right.span, help="write the exponent as a number, e.g. `^2`")
            return ERR
        return num()

    def e_Neg(self, e: ast.Neg, scope: Scope) -> Ty:
        return self.expr(e.operand, scope)

    def e_Compare(self, e: ast.Compare, scope: Scope) -> Ty:
        left, right = self.expr(e.left, scope), self.expr(e.right, scope)
        if left.kind == "entity" and right.kind == "entity":
            if e.op not in ("==", "!="):
                self.sink.error("GAT0201", "elements can only be compared with == or !=", e.span)
            return BOOL
        self.same_unit(left, right, e.span, "the other side")
        return BOOL

    def e_InRange(self, e: ast.InRange, scope: Scope) -> Ty:
        self.relation(e, scope)
        return BOOL

    def e_BoolOp(self, e: ast.BoolOp, scope: Scope) -> Ty:
        for side in (e.left, e.right):
            ty = self.expr(side, scope)
            if ty.kind not in ("bool", "err"):
                self.sink.error("GAT0201", f"`{e.op}` needs conditions, found {ty.show()}", side.span)
        return BOOL

    def e_Not(self, e: ast.Not, scope: Scope) -> Ty:
        ty = self.expr(e.operand, scope)
        if ty.kind not in ("bool", "err"):
            self.sink.error("GAT0201", f"`not` needs a condition, found {ty.show()}", e.operand.span)
        return BOOL

    def e_IfExpr(self, e: ast.IfExpr, scope: Scope) -> Ty:
        cond = self.expr(e.cond, scope)
        if cond.kind not in ("bool", "err"):
            self.sink.error("GAT0201", f"`if` needs a condition, found {cond.show()}", e.cond.span)
        then, orelse = self.expr(e.then, scope), self.expr(e.orelse, scope)
        self.same_unit(then, orelse, e.span, "the `then` branch")
        return then

    def e_Sum(self, e: ast.Sum, scope: Scope) -> Ty:
        inner, _ = self.binders(e.binders, scope)
        ty = self.expr(e.body, inner)
        self.expect_number(ty, e.body.span, "the body of a sum")
        return ty

    def e_ListExpr(self, e: ast.ListExpr, scope: Scope) -> Ty:
        self.sink.error("GAT0202", "a list is only allowed as an option value", e.span)
        return ERR

    e_RangeExpr = e_ListExpr

    # ------------------------------------------------------------ helpers
    def unit(self, text: str, span: Span) -> U.Unit | None:
        try:
            return U.parse_unit(text)
        except U.UnitError as exc:
            self.sink.add(exc.to_diagnostic(span))
            return None

    def same_unit(self, a: Ty, b: Ty, span: Span, other: str) -> None:
        if a.kind == "err" or b.kind == "err":
            return
        if a.kind != "num" or b.kind != "num":
            if a.kind != b.kind:
                self.sink.error("GAT0201", f"expected {a.show()}, found {b.show()}", span)
            return
        if a.zero or b.zero:      # a bare 0 fits any unit
            return
        if not units_agree(a.unit, b.unit):
            self.sink.error("GAT0302", f"unit mismatch: {_describe(a.unit)} and {_describe(b.unit)}", span,
                            help=f"expected the same dimension as {other}; write the literal with its unit, "
                                 f"e.g. `1 {U.format_unit(a.unit)}`" if not _dimless(a.unit) else
                                 f"expected a dimensionless quantity, as {other}")

    def expect_number(self, ty: Ty, span: Span, what: str) -> None:
        if ty.kind not in ("num", "err"):
            self.sink.error("GAT0201", f"{what} must be a number, found {ty.show()}", span)

    def unknown(self, name: str, span: Span, scope: Scope, what: str = "name") -> None:
        names = scope.names() + list(FUNCTIONS)
        self.sink.error("GAT0101", f"unknown {what} `{name}`", span,
                        help=did_you_mean(name, names) or "declare it with `param`, `var`, `expr` or `set`, "
                                                          "or bind it in an index like `[b in buses]`")


def _bounds_by_apparent(a: Ty, b: Ty) -> bool:
    """An active or reactive power may be *bounded* by an apparent power (|P| <= |S|), never equated to one."""
    if a.kind != "num" or b.kind != "num" or a.unit is None or b.unit is None:
        return False
    kinds = {U.power_kind(a.unit), U.power_kind(b.unit)}
    return "apparent" in kinds and bool(kinds & {"active", "reactive"})


def _describe(u: U.Unit) -> str:
    if _dimless(u):
        return "a dimensionless number"
    return f"{U.describe_dims(u.dims)} ({U.format_unit(u)})"

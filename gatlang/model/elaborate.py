"""Elaborate checked model statements over a network into a Pyomo model.

Why compile to closures: each statement is turned once into a tree of small
Python functions (one per AST node, with every static decision -- which
array an attribute reads, which component a name denotes, how a literal is
scaled -- taken at compile time), and then called once per element of its
index set.  No AST is walked per element and no element is searched for:
attributes are list lookups by integer index (gatlang.model.netview).

Pyomo components carry the `.gat` names (`p_balance`, `pg`), indexed by
element positions; :meth:`ModelBuilder.display_name` turns `p_balance[3]`
back into the user's `p_balance[bus 14]` for messages and conflict reports.
The statements were type- and unit-checked before (gatlang.semantics.check),
so this pass reports only what needs data: constant constraints that cannot
hold, parameters that depend on variables, empty index sets used as scalars.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from gatlang.backends import solver_env  # noqa: F401  (sets PYOMO_CONFIG_DIR before Pyomo)

import pyomo.environ as pyo
from pyomo.core.expr.numvalue import is_constant

from gatlang.diagnostics import DiagnosticSink, Span
from gatlang.model.netview import NetView
from gatlang.model.scale import literal_to_model
from gatlang.semantics import units as U
from gatlang.semantics.check import Ty
from gatlang.syntax import ast

Env = dict[str, Any]
Fn = Callable[[Env], Any]

_PYO_FUNCS: dict[str, Callable[[Any], Any]] = {
    "sqrt": pyo.sqrt, "sin": pyo.sin, "cos": pyo.cos, "tan": pyo.tan, "exp": pyo.exp, "log": pyo.log,
}
_CMP: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, b: a == b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b, ">": lambda a, b: a > b, "!=": lambda a, b: a != b,
}


class ElaborationError(Exception):
    """Raised inside compiled closures; carries the diagnostic to report (never reaches a user)."""

    def __init__(self, code: str, message: str, span: Span | None, help: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.span, self.help = code, message, span, help


@dataclass(frozen=True)
class Static:
    """What an expression denotes, known at compile time."""

    kind: str               # num | entity | set | bool
    elem: str | None = None  # element kind for entity/set ("int" for integer ranges)


NUM, BOOL = Static("num"), Static("bool")


@dataclass
class Component:
    """A declared name inside one model: a var, param, expr or objective."""

    name: str
    what: str                               # var | param | expr | objective | set
    index_kinds: tuple[str, ...]            # element kind of each index position
    node: ast.Node
    unit: U.Unit | None = None
    values: Any = None                      # pyomo Var / dict of numbers / memo dict of expressions
    compute: Callable[[tuple], Any] | None = None   # for exprs: key -> expression
    keys: list = field(default_factory=list)
    static: Static = NUM


def _key(values: tuple) -> Any:
    return values[0] if len(values) == 1 else values


class ModelBuilder:
    """Builds one Pyomo model from model statements over one network view."""

    def __init__(self, view: NetView, sink: DiagnosticSink, types: dict[int, Ty], name: str = "model") -> None:
        self.view = view
        self.sink = sink
        self.types = types
        self.model = pyo.ConcreteModel(name=name)
        self.components: dict[str, Component] = {}
        self.constraint_kinds: dict[str, tuple[str, ...]] = {}
        self.constraint_nodes: dict[str, ast.Node] = {}
        self.objectives: dict[str, Component] = {}
        self.active_objective: tuple[str, Component | None, ast.Node] | None = None
        self._lists: dict[tuple[str, str], list] = {}

    # ------------------------------------------------------------ statements
    def add_statements(self, items: Iterable[ast.Node]) -> None:
        for item in items:
            try:
                self._statement(item)
            except ElaborationError as exc:
                self.sink.error(exc.code, exc.message, exc.span, help=exc.help)

    def _statement(self, item: ast.Node) -> None:
        if isinstance(item, ast.VarDecl):
            self._var(item)
        elif isinstance(item, ast.ParamDecl):
            self._param(item)
        elif isinstance(item, ast.ExprDecl):
            self._expr_decl(item)
        elif isinstance(item, ast.SetDecl):
            fn, static = self.set_expr(item.value, {})
            self.components[item.name] = Component(item.name, "set", (), item, values=list(fn({})), static=static)
        elif isinstance(item, ast.ConstraintDecl):
            self._constraint(item.name, item.index, item.relation, item)
        elif isinstance(item, ast.SubjectTo):
            name = f"subject_to_L{item.span.line}" if item.span else f"subject_to_{len(self.constraint_nodes)}"
            self._constraint(name, item.binders, item.relation, item)
        elif isinstance(item, ast.ObjectiveDecl):
            fn = self.expr(item.expr, {})[0]
            comp = Component(item.name, "objective", (), item, compute=lambda _k, fn=fn: fn({}))
            comp.values = {}
            self.objectives[item.name] = comp
            self.components[item.name] = comp
        elif isinstance(item, ast.Minimize):
            self.active_objective = (item.sense, None, item)
        # formulation clauses (problem/requires/supports) carry no model content

    def _index(self, binders: ast.Binders | None) -> tuple[dict[str, Static], list[tuple], tuple[str, ...]]:
        """Compile an index declaration and enumerate its keys (tuples of element positions)."""
        if binders is None:
            return {}, [()], ()
        scope, iterate = self.binders(binders, {})
        names = [b.name for b in binders.binders]
        kinds = tuple(scope[n].elem or "int" for n in names)
        keys = [tuple(env[n] for n in names) for env in iterate({})]
        return scope, keys, kinds

    def _var(self, item: ast.VarDecl) -> None:
        scope, keys, kinds = self._index(item.index)
        names = [b.name for b in item.index.binders] if item.index else []
        lo = self.expr(item.lo, scope)[0] if item.lo is not None else None
        hi = self.expr(item.hi, scope)[0] if item.hi is not None else None
        start = self.expr(item.start, scope)[0] if item.start is not None else None
        domain = {"binary": pyo.Binary, "integer": pyo.Integers, "nonnegative": pyo.NonNegativeReals}.get(
            item.kind or "reals", pyo.Reals)
        bounds: dict[Any, tuple[float | None, float | None]] = {}
        starts: dict[Any, float] = {}
        for key in keys:
            env = dict(zip(names, key))
            lb = _finite(lo(env)) if lo else None
            ub = _finite(hi(env)) if hi else None
            bounds[_key(key)] = (lb, ub)
            if start is not None:
                starts[_key(key)] = float(start(env))
        if item.index is None:
            var = pyo.Var(domain=domain, bounds=bounds[()], initialize=starts.get(()))
        else:
            var = pyo.Var([_key(k) for k in keys], domain=domain, bounds=lambda m, *k: bounds[_key(k)],
                          initialize=(lambda m, *k: starts[_key(k)]) if starts else None, dense=True)
        self.model.add_component(item.name, var)
        unit = U.parse_unit(item.unit) if item.unit else None
        self.components[item.name] = Component(item.name, "var", kinds, item, unit, var, keys=[_key(k) for k in keys])

    def _param(self, item: ast.ParamDecl) -> None:
        scope, keys, kinds = self._index(item.index)
        names = [b.name for b in item.index.binders] if item.index else []
        fn = self.expr(item.value, scope)[0]
        values: dict[Any, float] = {}
        for key in keys:
            v = fn(dict(zip(names, key)))
            if not is_constant(v):
                raise ElaborationError("GAT0201", f"parameter `{item.name}` depends on variables", item.value.span,
                                       "a `param` is data; use `expr` for expressions of variables")
            values[_key(key)] = float(v)
        unit = U.parse_unit(item.unit) if item.unit else None
        self.components[item.name] = Component(item.name, "param", kinds, item, unit, values,
                                               keys=[_key(k) for k in keys])

    def _expr_decl(self, item: ast.ExprDecl) -> None:
        scope, keys, kinds = self._index(item.index)
        names = [b.name for b in item.index.binders] if item.index else []
        fn = self.expr(item.value, scope)[0]
        memo: dict[Any, Any] = {}

        def compute(key: Any, fn: Fn = fn, names: list[str] = names) -> Any:
            k = key if isinstance(key, tuple) else (key,)
            return fn(dict(zip(names, k)))

        ty = self.types.get(id(item))
        unit = U.parse_unit(item.unit) if item.unit else (ty.unit if ty is not None else None)
        self.components[item.name] = Component(item.name, "expr", kinds, item, unit, memo, compute,
                                               keys=[_key(k) for k in keys])

    def _constraint(self, name: str, binders: ast.Binders | None, relation: ast.Node, node: ast.Node) -> None:
        scope, keys, kinds = self._index(binders)
        names = [b.name for b in binders.binders] if binders else []
        build = self.relation(relation, scope)
        self.constraint_kinds[name] = kinds
        self.constraint_nodes[name] = node
        rows: dict[Any, Any] = {}
        for key in keys:
            rel = build(dict(zip(names, key)))
            if rel is True:
                continue
            if rel is False:
                label = self.display_name(name, kinds, key)
                raise ElaborationError("GAT0205", f"constraint `{label}` can never hold: it involves no variable "
                                                  f"and its data violate it", relation.span,
                                       "check the data of this element, or filter it out with `where`")
            rows[_key(key)] = rel
        if binders is None:
            if rows:
                self.model.add_component(name, pyo.Constraint(expr=rows[()]))
            return
        self.model.add_component(name, pyo.Constraint(list(rows), rule=lambda m, *k: rows[_key(k)]))

    # ------------------------------------------------------------ objective
    def set_objective(self, name: str | None, span: Span | None) -> None:
        """Make the run's objective active: the run's own `minimize`, else the named or first objective."""
        if self.active_objective is not None:
            sense, _, node = self.active_objective
            fn = self.expr(node.expr, {})[0]
            self.model.add_component("objective", pyo.Objective(
                expr=fn({}), sense=pyo.minimize if sense == "min" else pyo.maximize))
            return
        if not self.objectives:
            raise ElaborationError("GAT0206", "the model has no objective", span,
                                   "add `minimize <expression>` to the run, or pick a formulation that defines one")
        if name is None:
            name = next(iter(self.objectives))
        comp = self.objectives.get(name)
        if comp is None:
            from gatlang.diagnostics import did_you_mean
            raise ElaborationError("GAT0101", f"the formulation has no objective `{name}`", span,
                                   did_you_mean(name, self.objectives) or f"objectives: {', '.join(self.objectives)}")
        self.active_objective = ("min", comp, comp.node)
        self.model.add_component("objective", pyo.Objective(expr=comp.compute(()), sense=pyo.minimize))

    def objective_unit(self) -> U.Unit | None:
        if self.active_objective is None:
            return None
        ty = self.types.get(id(self.active_objective[2]))
        return ty.unit if ty is not None else None

    # ------------------------------------------------------------ names back to the user's terms
    def display_name(self, name: str, kinds: tuple[str, ...], key: tuple | Any) -> str:
        if not kinds:
            return name
        key = key if isinstance(key, tuple) else (key,)
        parts = [f"{k} {self.view.label(k, i)}" if k in self.view.kinds else str(i) for k, i in zip(kinds, key)]
        return f"{name}[{', '.join(parts)}]"

    def name_of(self, component_data: Any) -> str:
        """Pyomo component data -> `.gat` name with element labels (for conflict reports)."""
        parent = component_data.parent_component()
        name = parent.local_name
        kinds = self.constraint_kinds.get(name) or (self.components[name].index_kinds if name in self.components else ())
        if not parent.is_indexed():
            return name
        return self.display_name(name, kinds, component_data.index())

    # ------------------------------------------------------------ index sets
    def binders(self, binders: ast.Binders, scope: dict[str, Static]) -> tuple[dict[str, Static], Callable[[Env], Iterator[Env]]]:
        inner = dict(scope)
        loops: list[tuple[str, Fn]] = []
        for b in binders.binders:
            fn, static = self.set_expr(b.set, inner)
            inner[b.name] = Static("entity" if static.elem != "int" else "num", static.elem)
            loops.append((b.name, fn))
        where = self.expr(binders.where, inner)[0] if binders.where is not None else None

        def iterate(env: Env) -> Iterator[Env]:
            def rec(i: int, cur: Env) -> Iterator[Env]:
                if i == len(loops):
                    if where is None or where(cur):
                        yield cur
                    return
                name, fn = loops[i]
                for v in fn(cur):
                    nxt = dict(cur)
                    nxt[name] = v
                    yield from rec(i + 1, nxt)
            yield from rec(0, env)

        return inner, iterate

    def set_expr(self, s: ast.Node, scope: dict[str, Static]) -> tuple[Fn, Static]:
        if isinstance(s, ast.SetName):
            if s.name in self.view.sets:
                kind, idx = self.view.sets[s.name]
                items = idx.tolist()
                return (lambda env: items), Static("set", kind)
            comp = self.components.get(s.name)
            if comp is not None and comp.what == "set":
                items = comp.values
                return (lambda env: items), comp.static
            raise ElaborationError("GAT0101", f"unknown set `{s.name}`", s.span)
        if isinstance(s, ast.SetAttr):
            obj, ostatic = self.expr(s.obj, scope)
            per_element = [a.tolist() for a in self.view.kinds[ostatic.elem].sets[s.name]]
            from gatlang.semantics.entities import ENTITY_ATTRS
            elem = ENTITY_ATTRS[ostatic.elem][s.name].kind
            return (lambda env: per_element[obj(env)]), Static("set", elem)
        if isinstance(s, ast.SetRange):
            lo, hi = self.expr(s.lo, scope)[0], self.expr(s.hi, scope)[0]
            return (lambda env: range(int(lo(env)), int(hi(env)) + 1)), Static("set", "int")
        raise ElaborationError("GAT0201", "not a set", s.span)

    # ------------------------------------------------------------ relations
    def relation(self, rel: ast.Node, scope: dict[str, Static]) -> Fn:
        if isinstance(rel, ast.Compare):
            left, right = self.expr(rel.left, scope)[0], self.expr(rel.right, scope)[0]
            op = _CMP[rel.op]
            return lambda env: _relation(op(left(env), right(env)))
        if isinstance(rel, ast.InRange):
            body, lo, hi = (self.expr(e, scope)[0] for e in (rel.expr, rel.lo, rel.hi))

            def in_range(env: Env) -> Any:
                b, lo_v, hi_v = body(env), lo(env), hi(env)
                if not (is_constant(lo_v) and is_constant(hi_v)):
                    raise ElaborationError("GAT0203", "the bounds of `in lo .. hi` must not depend on variables",
                                           rel.span, "write two constraints, `lo <= x` and `x <= hi`")
                if is_constant(b):
                    return bool(lo_v <= b <= hi_v)
                return (_finite(lo_v), b, _finite(hi_v))
            return in_range
        raise ElaborationError("GAT0203", "a constraint must be a comparison", rel.span)

    # ------------------------------------------------------------ expressions
    def expr(self, e: ast.Node, scope: dict[str, Static]) -> tuple[Fn, Static]:
        method = getattr(self, "x_" + type(e).__name__, None)
        if method is None:
            raise ElaborationError("GAT0202", "this expression is not allowed in a model", e.span)
        return method(e, scope)

    def x_Number(self, e: ast.Number, scope: dict[str, Static]) -> tuple[Fn, Static]:
        v = float(e.value)
        return (lambda env: v), NUM

    def x_Quantity(self, e: ast.Quantity, scope: dict[str, Static]) -> tuple[Fn, Static]:
        v = literal_to_model(e.value, U.parse_unit(e.unit), self.view.base_mva)
        if v is None:
            raise ElaborationError("GAT0303", f"`{e.value:g} {e.unit}` has no per-unit value inside a model", e.span)
        return (lambda env: v), NUM

    def x_Name(self, e: ast.Name, scope: dict[str, Static]) -> tuple[Fn, Static]:
        name = e.id
        if name in scope:
            return (lambda env: env[name]), scope[name]
        comp = self.components.get(name)
        if comp is not None:
            return self._component_ref(comp, ()), comp.static
        if name in self.view.scalars:
            v = float(self.view.scalars[name])
            return (lambda env: v), NUM
        raise ElaborationError("GAT0101", f"unknown name `{name}`", e.span)

    def x_Index(self, e: ast.Index, scope: dict[str, Static]) -> tuple[Fn, Static]:
        comp = self.components.get(e.base.id) if isinstance(e.base, ast.Name) else None
        if comp is None:
            raise ElaborationError("GAT0101", "only declared names can be indexed", e.span)
        idx = tuple(self.expr(i, scope)[0] for i in e.indices)
        return self._component_ref(comp, idx, e.span), comp.static

    def _component_ref(self, comp: Component, idx: tuple[Fn, ...], span: Span | None = None) -> Fn:
        values, name = comp.values, comp.name
        if len(idx) == 1:
            (i0,) = idx
            keyf: Callable[[Env], Any] = i0
        elif idx:
            keyf = lambda env: tuple(f(env) for f in idx)
        else:
            keyf = lambda env: None

        def missing(key: Any) -> ElaborationError:
            return ElaborationError("GAT0103", f"`{name}` has no element {key!r}", span,
                                    "the index is outside the set the name was declared over")

        if comp.what == "var":
            if not idx:
                return lambda env: values
            def var_ref(env: Env) -> Any:
                key = keyf(env)
                try:
                    return values[key]
                except KeyError:
                    raise missing(key) from None
            return var_ref
        if comp.what == "param":
            def param_ref(env: Env) -> Any:
                key = keyf(env) if idx else ()
                try:
                    return values[key]
                except KeyError:
                    raise missing(key) from None
            return param_ref
        compute = comp.compute
        assert compute is not None

        def memo_ref(env: Env) -> Any:
            key = keyf(env) if idx else ()
            try:
                return values[key]
            except KeyError:
                v = values[key] = compute(key)
                return v
        return memo_ref

    def _numbers(self, kind: str, name: str) -> list:
        cached = self._lists.get((kind, name))
        if cached is None:
            cached = self._lists[(kind, name)] = self.view.kinds[kind].numbers[name].tolist()
        return cached

    def x_Attr(self, e: ast.Attr, scope: dict[str, Static]) -> tuple[Fn, Static]:
        obj, ostatic = self.expr(e.obj, scope)
        ents = self.view.kinds[ostatic.elem]
        if e.name in ents.numbers:
            arr = self._numbers(ostatic.elem, e.name)
            return (lambda env: arr[obj(env)]), NUM
        if e.name in ents.refs:
            refs = ents.refs[e.name].tolist()
            from gatlang.semantics.entities import ENTITY_ATTRS
            return (lambda env: refs[obj(env)]), Static("entity", ENTITY_ATTRS[ostatic.elem][e.name].kind)
        raise ElaborationError("GAT0104", f"a {ostatic.elem} has no attribute `{e.name}` in this network", e.span)

    def x_Call(self, e: ast.Call, scope: dict[str, Static]) -> tuple[Fn, Static]:
        args = [self.expr(a, scope)[0] for a in e.args]
        if e.func in _PYO_FUNCS:
            f, (a0,) = _PYO_FUNCS[e.func], args
            return (lambda env: f(a0(env))), NUM
        if e.func == "abs":
            (a0,) = args
            return (lambda env: abs(a0(env))), NUM
        pick = min if e.func == "min" else max

        def minmax(env: Env) -> Any:
            vals = [a(env) for a in args]
            if not all(is_constant(v) for v in vals):
                raise ElaborationError("GAT0201", f"`{e.func}` of variables is not smooth", e.span,
                                       "introduce a variable bounded by each argument instead")
            return pick(vals)
        return minmax, NUM

    def x_BinOp(self, e: ast.BinOp, scope: dict[str, Static]) -> tuple[Fn, Static]:
        a, b = self.expr(e.left, scope)[0], self.expr(e.right, scope)[0]
        op = e.op
        if op == "+":
            return (lambda env: a(env) + b(env)), NUM
        if op == "-":
            return (lambda env: a(env) - b(env)), NUM
        if op == "*":
            return (lambda env: a(env) * b(env)), NUM
        if op == "/":
            def div(env: Env) -> Any:
                d = b(env)
                if is_constant(d) and d == 0:
                    raise ElaborationError("GAT0207", "division by zero", e.span,
                                           "an attribute used as a divisor is zero for this element")
                return a(env) / d
            return div, NUM
        return (lambda env: a(env) ** b(env)), NUM

    def x_Neg(self, e: ast.Neg, scope: dict[str, Static]) -> tuple[Fn, Static]:
        a = self.expr(e.operand, scope)[0]
        return (lambda env: -a(env)), NUM

    def x_Compare(self, e: ast.Compare, scope: dict[str, Static]) -> tuple[Fn, Static]:
        a, b = self.expr(e.left, scope)[0], self.expr(e.right, scope)[0]
        op = _CMP.get(e.op)
        if op is None:
            raise ElaborationError("GAT0203", f"`{e.op}` is not a condition", e.span)
        return (lambda env: _constant_bool(op(a(env), b(env)), e.span)), BOOL

    def x_InRange(self, e: ast.InRange, scope: dict[str, Static]) -> tuple[Fn, Static]:
        body, lo, hi = (self.expr(x, scope)[0] for x in (e.expr, e.lo, e.hi))
        return (lambda env: _constant_bool(lo(env) <= body(env) <= hi(env), e.span)), BOOL

    def x_BoolOp(self, e: ast.BoolOp, scope: dict[str, Static]) -> tuple[Fn, Static]:
        a, b = self.expr(e.left, scope)[0], self.expr(e.right, scope)[0]
        if e.op == "and":
            return (lambda env: a(env) and b(env)), BOOL
        return (lambda env: a(env) or b(env)), BOOL

    def x_Not(self, e: ast.Not, scope: dict[str, Static]) -> tuple[Fn, Static]:
        a = self.expr(e.operand, scope)[0]
        return (lambda env: not a(env)), BOOL

    def x_IfExpr(self, e: ast.IfExpr, scope: dict[str, Static]) -> tuple[Fn, Static]:
        c, t, o = (self.expr(x, scope)[0] for x in (e.cond, e.then, e.orelse))
        return (lambda env: t(env) if c(env) else o(env)), NUM

    def x_Sum(self, e: ast.Sum, scope: dict[str, Static]) -> tuple[Fn, Static]:
        inner, iterate = self.binders(e.binders, scope)
        body = self.expr(e.body, inner)[0]
        return (lambda env: _add_all(body(x) for x in iterate(env))), NUM


def _add_all(terms: Iterable[Any]) -> Any:
    terms = list(terms)
    if not terms:
        return 0.0
    if all(is_constant(t) for t in terms):
        return math.fsum(float(t) for t in terms)
    return pyo.quicksum(terms)


def _finite(v: Any) -> float | None:
    v = float(v)
    return None if math.isinf(v) or math.isnan(v) else v


def _relation(rel: Any) -> Any:
    """A Pyomo relational expression, or a Python bool when both sides were constants."""
    if isinstance(rel, bool):
        return rel
    if hasattr(rel, "is_expression_type"):
        return rel
    return bool(rel)


def _constant_bool(v: Any, span: Span | None) -> bool:
    if isinstance(v, bool):
        return v
    if hasattr(v, "is_expression_type") and v.is_expression_type():
        raise ElaborationError("GAT0204", "a condition here must not depend on variables", span,
                               "`where` filters and `if` conditions select elements by their data")
    return bool(v)

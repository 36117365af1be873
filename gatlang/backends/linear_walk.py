"""A fast reader of linear Pyomo expressions: (variable, coefficient) pairs and a constant.

Why: both :mod:`.classify` and the HiGHS loader (:mod:`.highs_direct`) must
read every row of 100k-row network models, and almost every row the compiler
emits is linear but not a flat :class:`LinearExpression` (``a - b*(x - y)``
is a sum holding a negated product).  Pyomo's general tools
(``generate_standard_repn``, ``polynomial_degree``) walk these with
generic visitors at tens of microseconds per row; this module dispatches on
the node class with a dictionary and recurses only into the handful of node
kinds linear rows are made of, which is several times faster.  Anything else
(a power, a product of two variables, a function call) makes it answer
``None`` and the caller falls back to Pyomo's own machinery, so correctness
never depends on this fast path covering every case.
"""
from __future__ import annotations

from typing import Any, Callable

from . import solver_env  # noqa: F401  (before Pyomo)

from pyomo.common.numeric_types import native_numeric_types
from pyomo.core.expr import numeric_expr as ne
from pyomo.core.expr.relational_expr import EqualityExpression, InequalityExpression, RangedExpression
from pyomo.core.expr.numvalue import value as _value


class _Nonlinear(Exception):
    """Raised inside the walk to abandon it; never escapes this module."""


Acc = tuple[list, list]  # (variables, coefficients), appended in the order met


def _walk(expr: Any, scale: float, acc: Acc) -> float:
    """Add ``scale * expr``'s linear terms to ``acc``; return its constant part times ``scale``."""
    cls = expr.__class__
    if cls in native_numeric_types:
        return scale * expr
    handler = _HANDLERS.get(cls)
    if handler is not None:
        return handler(expr, scale, acc)
    if not expr.is_potentially_variable():  # parameters and expressions of them
        return scale * _value(expr)
    if expr.is_variable_type():
        if expr.fixed:
            return scale * expr.value
        acc[0].append(expr)
        acc[1].append(scale)
        return 0.0
    if expr.is_named_expression_type():
        return _walk(expr.expr, scale, acc)
    raise _Nonlinear


def _sum(expr: Any, scale: float, acc: Acc) -> float:
    const = 0.0
    for arg in expr.args:
        const += _walk(arg, scale, acc)
    return const


def _monomial(expr: Any, scale: float, acc: Acc) -> float:
    coef, var = expr.args
    coef = coef if coef.__class__ in native_numeric_types else _value(coef)
    if var.fixed:
        return scale * coef * var.value
    acc[0].append(var)
    acc[1].append(scale * coef)
    return 0.0


def _negation(expr: Any, scale: float, acc: Acc) -> float:
    return _walk(expr.args[0], -scale, acc)


def _is_constant(e: Any) -> bool:
    return e.__class__ in native_numeric_types or not e.is_potentially_variable() or e.is_fixed()


def _product(expr: Any, scale: float, acc: Acc) -> float:
    a, b = expr.args
    if _is_constant(a):
        return _walk(b, scale * _value(a), acc)
    if _is_constant(b):
        return _walk(a, scale * _value(b), acc)
    raise _Nonlinear


def _division(expr: Any, scale: float, acc: Acc) -> float:
    num, den = expr.args
    if _is_constant(den):
        return _walk(num, scale / _value(den), acc)
    raise _Nonlinear


_HANDLERS: dict[type, Callable[[Any, float, Acc], float]] = {
    ne.LinearExpression: _sum,
    ne.SumExpression: _sum,
    ne.MonomialTermExpression: _monomial,
    ne.NegationExpression: _negation,
    ne.ProductExpression: _product,
    ne.DivisionExpression: _division,
}


def linear_terms(expr: Any) -> tuple[list, list, float] | None:
    """``(variables, coefficients, constant)`` of a linear expression, or None if it is not linear.

    Repeated variables are *not* merged (HiGHS and the callers add them up);
    fixed variables count as constants.
    """
    acc: Acc = ([], [])
    try:
        const = _walk(expr, 1.0, acc)
    except _Nonlinear:
        return None
    return acc[0], acc[1], const


def linear_row(relation: Any) -> tuple[list, list, float | None, float | None] | None:
    """A linear constraint read straight off its relation: ``(variables, coefficients, lower, upper)``.

    Why: ``ConstraintData.to_bounded_expression`` builds a new expression
    (``lhs - rhs``) for every row whose both sides hold variables -- most
    network rows (``w[to] == w[from] - ...``) -- only for the walk to take it
    apart again; walking ``lhs`` and ``-rhs`` directly skips that (about a
    fifth of the HiGHS hand-off on a 10k-bus LinDistFlow LP).  ``lhs == rhs``
    and ``lhs <= rhs`` become ``lhs - rhs`` in ``[0, 0]`` / ``(-inf, 0]``
    with the constant moved to the bounds; ``lo <= body <= hi`` keeps
    ``body``.  None (use the general route) for a nonlinear side, variable
    range bounds, or any other relation.
    """
    cls = relation.__class__
    acc: Acc = ([], [])
    try:
        if cls is EqualityExpression or cls is InequalityExpression:
            lhs, rhs = relation.args
            const = _walk(lhs, 1.0, acc) + _walk(rhs, -1.0, acc)
            return acc[0], acc[1], (-const if cls is EqualityExpression else None), -const
        if cls is RangedExpression:
            lo, body, hi = relation.args
            if not (_is_constant(lo) and _is_constant(hi)):
                return None
            const = _walk(body, 1.0, acc)
            return acc[0], acc[1], _value(lo) - const, _value(hi) - const
    except _Nonlinear:
        return None
    return None

"""Values of OpenDSS properties: numbers, RPN expressions, arrays, matrices, bus specs.

Why separate from the lexer: the lexer cannot know whether ``(0.3 | 0.1 0.3)``
is a matrix or ``(13.8 3 sqrt /)`` an expression; only the property being set
does.  Every parser here returns ``None`` after reporting a coded diagnostic,
so one bad value does not stop the import.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from gatlang.diagnostics import DiagnosticSink, Span

from . import codes
from .lexer import split_params


class Value(NamedTuple):
    """A property value as written, with where it was written (a named tuple: cheap, hashable)."""

    text: str
    quote: str
    span: Span

    def with_text(self, text: str) -> "Value":
        return Value(text, self.quote, self.span)


# ------------------------------------------------------------------ RPN

_BINARY = {
    "+": lambda y, x: y + x,
    "-": lambda y, x: y - x,
    "*": lambda y, x: y * x,
    "/": lambda y, x: y / x,
    "^": lambda y, x: y ** x,
    "atan2": lambda y, x: math.degrees(math.atan2(y, x)),
}
# trigonometric functions work in degrees, as in the engine's RPN calculator
_UNARY = {
    "sqrt": math.sqrt, "sqr": lambda x: x * x, "inv": lambda x: 1.0 / x,
    "ln": math.log, "exp": math.exp, "log10": math.log10,
    "sin": lambda x: math.sin(math.radians(x)), "cos": lambda x: math.cos(math.radians(x)),
    "tan": lambda x: math.tan(math.radians(x)),
    "asin": lambda x: math.degrees(math.asin(x)), "acos": lambda x: math.degrees(math.acos(x)),
    "atan": lambda x: math.degrees(math.atan(x)), "chs": lambda x: -x,
}


class RpnError(ValueError):
    pass


def eval_rpn(text: str) -> float:
    """Evaluate an OpenDSS in-line RPN expression such as ``13.8 3 sqrt /``."""
    stack: list[float] = []
    for tok in text.replace(",", " ").split():
        low = tok.lower()
        if low in _BINARY:
            if len(stack) < 2:
                raise RpnError(f"`{tok}` needs two operands")
            x = stack.pop()
            y = stack.pop()
            try:
                stack.append(float(_BINARY[low](y, x)))
            except (ZeroDivisionError, OverflowError, ValueError) as exc:
                raise RpnError(f"`{tok}`: {exc}") from None
        elif low in _UNARY:
            if not stack:
                raise RpnError(f"`{tok}` needs an operand")
            try:
                stack.append(float(_UNARY[low](stack.pop())))
            except (ZeroDivisionError, OverflowError, ValueError) as exc:
                raise RpnError(f"`{tok}`: {exc}") from None
        elif low == "pi":
            stack.append(math.pi)
        elif low == "swap":
            if len(stack) < 2:
                raise RpnError("`swap` needs two operands")
            stack[-1], stack[-2] = stack[-2], stack[-1]
        elif low == "rollup":
            if stack:
                stack.insert(0, stack.pop())
        elif low == "rolldn":
            if stack:
                stack.append(stack.pop(0))
        else:
            try:
                stack.append(float(tok))
            except ValueError:
                raise RpnError(f"`{tok}` is neither a number nor an RPN operator") from None
    if not stack:
        raise RpnError("empty expression")
    return stack[-1]


def _plain_float(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def number(v: Value, sink: DiagnosticSink, what: str = "") -> float | None:
    """A scalar: a plain number or a parenthesised RPN expression."""
    text = v.text.strip()
    if v.quote == "(" or (v.quote and len(text.split()) > 1):
        try:
            out = eval_rpn(text)
        except RpnError as exc:
            sink.error(codes.BAD_RPN, f"cannot evaluate RPN expression `({text})`{_for(what)}: {exc}",
                       v.span, help="RPN puts operators after operands: `(13.8 3 sqrt /)` = 13.8/sqrt(3)")
            return None
    else:
        out = _plain_float(text)
    if out is None or not math.isfinite(out):
        sink.error(codes.BAD_NUMBER, f"`{v.text}` is not a number{_for(what)}", v.span,
                   help="write a decimal number such as `4.16` or an RPN expression such as `(4.16 3 sqrt /)`")
        return None
    return out


def integer(v: Value, sink: DiagnosticSink, what: str = "") -> int | None:
    x = number(v, sink, what)
    if x is None:
        return None
    return int(round(x))


def _for(what: str) -> str:
    return f" for `{what}`" if what else ""


# ------------------------------------------------------------------ arrays

@lru_cache(maxsize=8192)
def tokens(v: Value) -> tuple[Value, ...]:
    """Elements of an array value (``[a b c]``, ``"a, b"``, ``(1 2 3)``); `|` kept as a token.

    Cached: a code's arrays (``kvs=[7.2 0.12 0.12]`` of an XfmrCode) are read
    again for every element that uses the code.
    """
    text = v.text.replace("|", " | ")
    out = []
    for p in split_params(text, v.span.line, v.span.column + 1):
        sp = Span.point(v.span.file, v.span.line, p.value_col)
        item = p.value if p.name is None else f"{p.name}={p.value}"
        out.append(Value(item, p.quote, sp))
    return tuple(out)


def strings(v: Value) -> list[str]:
    return [t.text for t in tokens(v) if t.text != "|"]


def numbers(v: Value, sink: DiagnosticSink, what: str = "") -> list[float] | None:
    """An array of numbers; elements may themselves be RPN expressions in parentheses."""
    if not v.quote and v.text.strip() and len(v.text.split()) == 1 and "," not in v.text:
        x = number(v, sink, what)
        return None if x is None else [x]
    out: list[float] = []
    for t in tokens(v):
        if t.text == "|":
            continue
        x = number(t, sink, what)
        if x is None:
            return None
        out.append(x)
    return out


def matrix(v: Value, n: int, sink: DiagnosticSink, what: str = "") -> np.ndarray | None:
    """A symmetric n x n matrix given lower-triangular (rows split by ``|``) or full.

    The engine reads row i's first i values after each ``|``, so a full matrix
    written row by row is read the same way; without ``|`` a list of n*n (full)
    or n(n+1)/2 (lower triangle) numbers is accepted.
    """
    rows: list[list[float]] = [[]]
    for t in tokens(v):
        if t.text == "|":
            rows.append([])
            continue
        x = number(t, sink, what)
        if x is None:
            return None
        rows[-1].append(x)
    m = np.zeros((n, n))
    if len(rows) == n and all(len(r) >= i + 1 for i, r in enumerate(rows)):
        for i, r in enumerate(rows):
            m[i, : i + 1] = r[: i + 1]
            m[: i + 1, i] = r[: i + 1]
        return m
    flat = [x for r in rows for x in r]
    if len(rows) == 1 and len(flat) == n * n:
        return np.asarray(flat, dtype=float).reshape(n, n)
    if len(rows) == 1 and len(flat) == n * (n + 1) // 2:
        k = 0
        for i in range(n):
            for j in range(i + 1):
                m[i, j] = m[j, i] = flat[k]
                k += 1
        return m
    sink.error(codes.BAD_MATRIX,
               f"`{what or 'matrix'}` needs a {n}x{n} matrix, got {len(flat)} values in {len(rows)} row(s)",
               v.span, help=f"write the lower triangle row by row, rows separated by `|`, "
                            f"e.g. for 2 phases `(r11 | r21 r22)`; the element has {n} phase(s)")
    return None


# ------------------------------------------------------------------ buses

@dataclass(frozen=True)
class BusRef:
    bus: str               # lower-case, as the engine stores bus names
    nodes: tuple[int, ...]  # explicit nodes, possibly empty


def bus_ref(v: Value, sink: DiagnosticSink) -> BusRef | None:
    """``632.1.2`` -> BusRef('632', (1, 2)); node 0 is ground."""
    text = v.text.strip()
    if not text:
        sink.error(codes.BAD_BUS, "empty bus name", v.span, help="write a bus such as `bus1=632.1.2.3`")
        return None
    parts = text.split(".")
    nodes: list[int] = []
    for p in parts[1:]:
        if p == "":
            continue
        try:
            k = int(p)
            if k < 0:
                raise ValueError
        except ValueError:
            sink.error(codes.BAD_BUS, f"`{p}` in bus `{text}` is not a node number", v.span,
                       help="nodes follow the bus name as `.1.2.3`; 0 is ground")
            return None
        nodes.append(k)
    return BusRef(parts[0].lower(), tuple(nodes))


def conductor_nodes(ref: BusRef | None, nconds: int, nphases: int) -> list[int]:
    """Node of every conductor: explicit nodes first, then 1..nphases, then ground (engine default)."""
    default = [k + 1 if k < nphases else 0 for k in range(nconds)]
    for i, node in enumerate(ref.nodes[:nconds] if ref is not None else ()):
        default[i] = node
    return default

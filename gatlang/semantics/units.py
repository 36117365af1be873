"""The closed unit table and the dimension algebra behind the compiler's unit check.

Why not pint: pint's default registry reads ``pu`` as a mass unit (a "pood"), has no
``Mvar``, and treats active, reactive and apparent power as one thing (watts and
volt-amperes are the same dimension there).  A grid study needs the opposite: adding
``5 MW`` to ``2 Mvar`` is a modelling error the compiler should catch.  So gatlang owns
a small, closed table (:data:`UNIT_TABLE`) and an integer-exponent algebra over a few
base dimensions (:data:`BASES`).

The model
---------
* A :class:`Dims` is a vector of integer exponents over :data:`BASES`:
  ``active`` (active power), ``reactive`` (reactive power), ``voltage``, ``current``,
  ``time``, ``length``, ``money``, ``angle`` and ``pu``.
* Apparent power is *derived*, ``voltage x current`` (``kV * kA == MVA``), because that
  is what it is: the magnitude of V times I.  Active and reactive power are base
  dimensions of their own, so ``MW``, ``Mvar`` and ``MVA`` are three different
  dimensions; :func:`compatible` (the check for ``+``, ``-``, comparisons and
  assignments) keeps them apart.  :func:`convertible` is the looser, *explicit*
  relation: active or reactive power may become apparent power (``|P| <= S``), never
  each other.  :func:`power_sum_dims` recognises ``P^2 + Q^2 = S^2``.
* Energy is active power x time (``MWh == MW*h``), reactive energy is reactive power x
  time, impedance is voltage / current (``ohm``), admittance current / voltage (``S``).
* ``pu`` is dimensionless but *marked*: a base dimension of its own, so a per-unit
  quantity never silently meets a physical one.  Turning pu into a physical value needs
  a base, which only the compiler knows; :func:`needs_base` is the predicate it asks and
  :attr:`Dims.without_pu` what it uses once a base is in scope.
* ``%`` is a pure number worth 0.01; ``angle`` is kept as a base dimension (rad/deg) so
  that ``30 deg + 0.5`` is caught.

Canonical scale (what "erasing units" means)
--------------------------------------------
After the check the compiler multiplies every literal by its unit's
:attr:`Unit.scale` (:func:`to_canonical`) and forgets the unit.  The canonical units are
the ones the network tables use, so literals and network data meet without conversion:

    MW, Mvar, kV, kA, h, km, $, rad, pu

and, because the system is *coherent* (the scale of a product is the product of the
scales), everything derived from them: MVA (= kV*kA), ohm (= kV/kA), S, MWh (= MW*h),
Mvarh, $/MWh, $/h, MW/h, ohm/km.  Coherence is what makes erasure safe: the raw floats
multiply exactly as the quantities do.  The one surprise it brings: frequency is
``1/h`` canonically, so ``60 Hz`` erases to ``216000``; use :func:`from_canonical` to
print a value back in the unit the user wrote.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Iterator, Literal, Mapping

from gatlang.diagnostics import Diagnostic, Span, closest, error

__all__ = [
    "BASES", "Dims", "Unit", "UnitDef", "UnitError", "UNIT_TABLE", "COMMON_COMPOUNDS",
    "DIMENSIONLESS", "PU", "parse_unit", "lookup", "unit_names", "compatible", "convertible",
    "needs_base", "power_kind", "power_sum_dims", "to_canonical", "from_canonical", "convert",
    "canonical_unit", "format_unit", "describe_dims", "describe_unit", "mismatch_message",
    "mismatch_hint", "table_rows",
]

#: Base dimensions, in the order of :attr:`Dims.exponents`.
BASES: tuple[str, ...] = (
    "active", "reactive", "voltage", "current", "time", "length", "money", "angle", "pu",
)
_INDEX: dict[str, int] = {b: i for i, b in enumerate(BASES)}

#: The canonical unit of each base dimension (scale 1).
_BASE_SYMBOL: dict[str, str] = {
    "active": "MW", "reactive": "Mvar", "voltage": "kV", "current": "kA", "time": "h",
    "length": "km", "money": "$", "angle": "rad", "pu": "pu",
}
_BASE_WORD: dict[str, str] = {
    "active": "active power", "reactive": "reactive power", "voltage": "voltage",
    "current": "current", "time": "time", "length": "length", "money": "money",
    "angle": "angle", "pu": "per unit",
}

#: Largest exponent accepted in a written unit (``MW^2`` yes, ``MW^40`` is a typo).
MAX_EXPONENT = 6


class UnitError(ValueError):
    """A unit that cannot be read or an operation the algebra refuses.

    Carries the diagnostic ``code`` (GAT03xx) and a ``hint`` so that the compiler turns it
    into a :class:`~gatlang.diagnostics.Diagnostic` without re-deciding what went wrong.
    """

    def __init__(self, message: str, hint: str | None = None, code: str = "GAT0301") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code

    def to_diagnostic(self, span: Span | None = None) -> Diagnostic:
        return error(self.code, self.message, span, help=self.hint)


# ---------------------------------------------------------------- dimensions


@dataclass(frozen=True)
class Dims:
    """Integer exponents over :data:`BASES`; the dimension of a quantity.

    A plain tuple keeps it hashable and cheap (the checker builds many); integer
    exponents because no grid quantity needs ``MW^(1/2)``.
    """

    exponents: tuple[int, ...] = (0,) * len(BASES)

    def __post_init__(self) -> None:
        if len(self.exponents) != len(BASES):
            raise ValueError(f"Dims needs {len(BASES)} exponents, got {len(self.exponents)}")

    @classmethod
    def of(cls, **exps: int) -> "Dims":
        """``Dims.of(active=1, time=1)`` is energy."""
        unknown = set(exps) - set(BASES)
        if unknown:
            raise ValueError(f"unknown base dimension(s): {sorted(unknown)}")
        return cls(tuple(int(exps.get(b, 0)) for b in BASES))

    def __getitem__(self, base: str) -> int:
        return self.exponents[_INDEX[base]]

    def items(self) -> Iterator[tuple[str, int]]:
        """The non-zero (base, exponent) pairs."""
        return ((b, e) for b, e in zip(BASES, self.exponents) if e)

    def __mul__(self, other: "Dims") -> "Dims":
        if not isinstance(other, Dims):
            return NotImplemented
        return Dims(tuple(a + b for a, b in zip(self.exponents, other.exponents)))

    def __truediv__(self, other: "Dims") -> "Dims":
        if not isinstance(other, Dims):
            return NotImplemented
        return Dims(tuple(a - b for a, b in zip(self.exponents, other.exponents)))

    def __pow__(self, n: int | float | Fraction) -> "Dims":
        return Dims(tuple(_int_exponent(e * Fraction(n), n) for e in self.exponents))

    @property
    def is_dimensionless(self) -> bool:
        """A pure number: no physical dimension and no pu mark (``%`` is one, ``pu`` not)."""
        return not any(self.exponents)

    @property
    def is_per_unit(self) -> bool:
        """Carries the pu mark, so it means nothing without a base (see :func:`needs_base`)."""
        return self["pu"] != 0

    @property
    def without_pu(self) -> "Dims":
        """The same dims with the pu mark removed: what remains once a base is applied."""
        return Dims(self.exponents[:-1] + (0,))

    @property
    def apparent(self) -> "Dims":
        """Active and reactive power read as apparent power (V x I): the physics under both."""
        d = dict(self.items())
        p = d.pop("active", 0) + d.pop("reactive", 0)
        d["voltage"] = d.get("voltage", 0) + p
        d["current"] = d.get("current", 0) + p
        return Dims.of(**d)

    def __repr__(self) -> str:
        inner = ", ".join(f"{b}={e}" for b, e in self.items())
        return f"Dims({inner})"


def _int_exponent(value: Fraction, n: object) -> int:
    if value.denominator != 1:
        raise UnitError(f"raising to the power {n} gives a fractional unit exponent ({value})",
                        "unit exponents must stay whole numbers: write the unit of the result "
                        "directly", code="GAT0305")
    return int(value)


DIMENSIONLESS = Dims()


# ---------------------------------------------------------------- units


@dataclass(frozen=True)
class Unit:
    """A unit: how many canonical units it is (``scale``) and of what (``dims``).

    ``terms`` remembers how the unit was written (``(("$", 1), ("MWh", -1))``) so that
    messages say ``$/MWh`` and not ``$/(MW·h)``; it takes no part in equality or hashing:
    ``parse_unit("MW*h") == parse_unit("MWh")``.
    """

    scale: float
    dims: Dims
    terms: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"unit scale must be finite and positive, got {self.scale!r}")

    def __mul__(self, other: "Unit") -> "Unit":
        if not isinstance(other, Unit):
            return NotImplemented
        return Unit(self.scale * other.scale, self.dims * other.dims,
                    _merge(_terms_of(self), _terms_of(other), 1))

    def __truediv__(self, other: "Unit") -> "Unit":
        if not isinstance(other, Unit):
            return NotImplemented
        return Unit(self.scale / other.scale, self.dims / other.dims,
                    _merge(_terms_of(self), _terms_of(other), -1))

    def __pow__(self, n: int | float | Fraction) -> "Unit":
        if isinstance(n, bool) or not isinstance(n, (int, float, Fraction)):
            return NotImplemented
        dims = self.dims ** n
        if n == 0:
            return Unit(1.0, dims, ())
        terms = tuple((s, _int_exponent(e * Fraction(n), n)) for s, e in _terms_of(self))
        return Unit(self.scale ** float(n), dims, terms)

    @property
    def is_dimensionless(self) -> bool:
        return self.dims.is_dimensionless

    def isclose(self, other: "Unit", rel_tol: float = 1e-12) -> bool:
        """Equal dims and scales equal up to rounding (products of scales are floats)."""
        return self.dims == other.dims and math.isclose(self.scale, other.scale, rel_tol=rel_tol)

    def __str__(self) -> str:
        return format_unit(self)


def _merge(a: tuple[tuple[str, int], ...], b: tuple[tuple[str, int], ...],
           sign: int) -> tuple[tuple[str, int], ...]:
    """Add the exponents of ``b`` (times ``sign``) to ``a``, keeping written order."""
    out: dict[str, int] = dict(a)
    for sym, e in b:
        out[sym] = out.get(sym, 0) + sign * e
    return tuple((s, e) for s, e in out.items() if e)


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class UnitDef:
    """One row of the closed unit table (also rendered on the docs' units page)."""

    symbol: str
    scale: float
    dims: Dims
    group: str
    aliases: tuple[str, ...] = ()

    @property
    def unit(self) -> Unit:
        return Unit(self.scale, self.dims, ((self.symbol, 1),))


def _family(group: str, dims: Dims, **scales: float) -> list[UnitDef]:
    return [UnitDef(sym, sc, dims, group) for sym, sc in scales.items()]


_P, _Q = Dims.of(active=1), Dims.of(reactive=1)
_V, _I, _T = Dims.of(voltage=1), Dims.of(current=1), Dims.of(time=1)

#: The closed unit table.  Order matters only for display; the canonical unit of each
#: family has scale 1.
UNIT_TABLE: tuple[UnitDef, ...] = tuple([
    *_family("active power", _P, W=1e-6, kW=1e-3, MW=1.0, GW=1e3),
    *_family("reactive power", _Q, var=1e-6, kvar=1e-3, Mvar=1.0),
    *_family("apparent power", _V * _I, VA=1e-6, kVA=1e-3, MVA=1.0),
    *_family("voltage", _V, V=1e-3, kV=1.0),
    *_family("current", _I, A=1e-3, kA=1.0),
    UnitDef("ohm", 1.0, _V / _I, "impedance", ("Ω",)),
    UnitDef("S", 1.0, _I / _V, "admittance"),
    UnitDef("pu", 1.0, Dims.of(pu=1), "per unit"),
    UnitDef("%", 0.01, DIMENSIONLESS, "number"),
    *_family("time", _T, h=1.0, min=1.0 / 60.0, s=1.0 / 3600.0),
    UnitDef("Hz", 3600.0, _T ** -1, "frequency"),
    *_family("energy", _P * _T, Wh=1e-6, kWh=1e-3, MWh=1.0, GWh=1e3),
    *_family("reactive energy", _Q * _T, varh=1e-6, kvarh=1e-3, Mvarh=1.0),
    UnitDef("$", 1.0, Dims.of(money=1), "money", ("USD",)),
    *_family("length", Dims.of(length=1), km=1.0, m=1e-3, mi=1.609344, ft=3.048e-4),
    UnitDef("rad", 1.0, Dims.of(angle=1), "angle"),
    UnitDef("deg", math.pi / 180.0, Dims.of(angle=1), "angle"),
])

#: Compound units a study commonly writes (documented, and tested to parse).
COMMON_COMPOUNDS: tuple[str, ...] = (
    "$/MWh", "$/kWh", "$/h", "$/MW", "MW/h", "MW/min", "pu^2", "ohm/km", "ohm/mi", "S/km",
    "MVA^2", "kV^2",
)

_BY_NAME: dict[str, UnitDef] = {}
for _d in UNIT_TABLE:
    for _name in (_d.symbol, *_d.aliases):
        assert _name not in _BY_NAME, f"duplicate unit name {_name}"
        _BY_NAME[_name] = _d

PU = _BY_NAME["pu"].unit


def unit_names(aliases: bool = True) -> list[str]:
    """Every name :func:`parse_unit` accepts as an atom (for hints, docs and editors)."""
    return list(_BY_NAME) if aliases else [d.symbol for d in UNIT_TABLE]


def lookup(name: str) -> UnitDef | None:
    """The table row for one atom name (alias-aware), or None."""
    return _BY_NAME.get(name)


# ---------------------------------------------------------------- parsing

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_\u00b5\u03a9][A-Za-z0-9_]*|\$|%|\u03a9)
  | (?P<op>[*/^()\u00b7\u22c5-])
  | (?P<bad>.)
""", re.VERBOSE)


class _Parser:
    """Recursive descent over ``term (('*'|'·'|'/') term)*``, ``atom ('^' int)?``.

    Accepts what the grammar's UNIT token accepts (``$/MWh``, ``pu^2``, ``MW/h``) plus
    parentheses, ``·`` and numeric factors, so that :func:`format_unit` output reads back.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks: list[tuple[str, str]] = []
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup or "bad"
            if kind == "ws":
                continue
            if kind == "bad":
                raise UnitError(f"unexpected character {m.group()!r} in unit `{text}`",
                                "units are names from the unit table joined by *, / and ^",
                                code="GAT0307")
            self.toks.append((kind, m.group()))
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise self.malformed("it ends too early")
        self.i += 1
        return tok

    def malformed(self, why: str) -> UnitError:
        return UnitError(f"malformed unit `{self.text}`: {why}",
                         "write units like `MW`, `$/MWh`, `MW/h` or `pu^2`", code="GAT0307")

    def parse(self) -> Unit:
        if not self.toks:
            raise UnitError("empty unit", "write a unit such as `MW`", code="GAT0307")
        unit = self.expr()
        if self.peek() is not None:
            raise self.malformed(f"unexpected `{self.peek()[1]}`")  # type: ignore[index]
        return unit

    def expr(self) -> Unit:
        unit = self.factor()
        while (tok := self.peek()) is not None and tok[1] in ("*", "/", "\u00b7", "\u22c5"):
            self.i += 1
            rhs = self.factor()
            unit = unit / rhs if tok[1] == "/" else unit * rhs
        return unit

    def factor(self) -> Unit:
        base = self.atom()
        tok = self.peek()
        if tok is None or tok[1] != "^":
            return base
        self.i += 1
        return base ** self.exponent()

    def exponent(self) -> int:
        parens = self.peek() == ("op", "(")
        if parens:
            self.i += 1
        sign = 1
        if self.peek() == ("op", "-"):
            self.i += 1
            sign = -1
        kind, text = self.take()
        if kind != "num" or not text.isdigit():
            raise UnitError(f"bad unit exponent `{text}` in `{self.text}`",
                            "a unit exponent is a whole number such as `^2` or `^-1`",
                            code="GAT0305")
        n = sign * int(text)
        if n == 0 or abs(n) > MAX_EXPONENT:
            raise UnitError(f"bad unit exponent `{n}` in `{self.text}`",
                            f"a unit exponent is a non-zero whole number of at most "
                            f"{MAX_EXPONENT} in size", code="GAT0305")
        if parens and self.take() != ("op", ")"):
            raise self.malformed("missing `)` after the exponent")
        return n

    def atom(self) -> Unit:
        kind, text = self.take()
        if kind == "name":
            return _atom(text)
        if kind == "num":
            value = float(text)
            if not (math.isfinite(value) and value > 0):
                raise self.malformed(f"a numeric factor must be positive, got `{text}`")
            return Unit(value, DIMENSIONLESS, () if value == 1 else ((_number_text(value), 1),))
        if text == "(":
            inner = self.expr()
            if self.take() != ("op", ")"):
                raise self.malformed("missing `)`")
            return inner
        raise self.malformed(f"expected a unit name, found `{text}`")


def _number_text(value: float) -> str:
    return f"{value:.15g}"


def _atom(name: str) -> Unit:
    d = _BY_NAME.get(name)
    if d is None:
        hits = closest(name, _BY_NAME)
        hint = ("did you mean " + ", ".join(f"`{h}`" for h in hits) + "?") if hits else \
            "see `gatc explain GAT0301` for the unit table"
        raise UnitError(f"unknown unit `{name}`", hint, code="GAT0301")
    return d.unit


def parse_unit(text: str) -> Unit:
    """Read a unit written in a study (``MW``, ``$/MWh``, ``pu^2``, ``ohm/km``).

    Raises :class:`UnitError` with code GAT0301 (unknown unit, with the closest names as
    hint), GAT0305 (bad exponent) or GAT0307 (malformed).
    """
    return _Parser(text).parse()


# ---------------------------------------------------------------- relations


def _dims(x: Unit | Dims) -> Dims:
    return x.dims if isinstance(x, Unit) else x


def compatible(a: Unit | Dims, b: Unit | Dims) -> bool:
    """May ``a`` and ``b`` be added, compared or assigned?  Exactly equal dimensions.

    ``MW`` and ``kW`` are compatible; ``MW`` and ``Mvar`` or ``MVA`` are not; ``pu`` and a
    plain number are not (the pu mark must be explicit).
    """
    return _dims(a) == _dims(b)


def power_kind(x: Unit | Dims) -> Literal["active", "reactive", "apparent"] | None:
    """Which power a quantity is, if it is exactly one of MW, Mvar or MVA dims."""
    d = _dims(x)
    for kind, dims in (("active", _P), ("reactive", _Q), ("apparent", _V * _I)):
        if d == dims:
            return kind  # type: ignore[return-value]
    return None


def convertible(a: Unit | Dims, b: Unit | Dims) -> bool:
    """May ``a`` be *explicitly* converted to ``b``?  Physics must allow it.

    True when compatible, or when they differ only in that active or reactive power
    stands where the other side has apparent power (``MW`` -> ``MVA``, ``Mvar^2`` ->
    ``MVA^2``, ``$/MW`` -> ``$/MVA``).  Active never converts into reactive power: that
    needs a power factor, which is a model decision, not a unit one.
    """
    da, db = _dims(a), _dims(b)
    if da == db:
        return True
    if da.apparent != db.apparent:
        return False
    return da["active"] * db["reactive"] == 0 and da["reactive"] * db["active"] == 0 \
        and not (da["active"] and da["reactive"]) and not (db["active"] and db["reactive"])


def power_sum_dims(a: Unit | Dims, b: Unit | Dims) -> Dims | None:
    """The dims of ``a + b`` when it is ``P^n + Q^n`` with even ``n`` (as ``P^2 + Q^2 = S^2``).

    The thermal limit ``p^2 + q^2 <= s^2`` adds squares of two different power kinds;
    the sum is apparent power squared.  Returns None for any other pair, so the checker
    reports a mismatch as usual.
    """
    da, db = _dims(a), _dims(b)
    na, nb = da["active"] or da["reactive"], db["active"] or db["reactive"]
    if not na or na != nb or na % 2 or (da["active"] and da["reactive"]):
        return None
    if (da["active"] != 0) == (db["active"] != 0):   # same kind: plain compatibility
        return None
    if da.apparent != db.apparent:
        return None
    return da.apparent


def needs_base(x: Unit | Dims) -> bool:
    """Is this a per-unit quantity, meaningful only with a base in scope (GAT0303)?"""
    return _dims(x).is_per_unit


# ---------------------------------------------------------------- conversions


def to_canonical(value: float, unit: Unit) -> float:
    """The number the compiler keeps once the unit is erased (see the module docstring)."""
    return value * unit.scale


def from_canonical(value: float, unit: Unit) -> float:
    """Inverse of :func:`to_canonical`: a canonical value expressed in ``unit``."""
    return value / unit.scale


def convert(value: float, src: Unit, dst: Unit, *, explicit: bool = False) -> float:
    """``value`` in ``src`` expressed in ``dst``; refuses what :func:`compatible` refuses
    (or, with ``explicit=True``, what :func:`convertible` refuses)."""
    ok = convertible(src, dst) if explicit else compatible(src, dst)
    if not ok:
        raise UnitError(mismatch_message(dst, src), mismatch_hint(dst, src),
                        code="GAT0306" if convertible(src, dst) else "GAT0302")
    return value * src.scale / dst.scale


# ---------------------------------------------------------------- names for messages

_KNOWN: list[tuple[str, str]] = [
    # (description, canonical spelling) — canonical spellings must have scale 1
    ("number", "1"),
    ("per unit", "pu"),
    ("per unit squared", "pu^2"),
    ("active power", "MW"),
    ("reactive power", "Mvar"),
    ("apparent power", "MVA"),
    ("active power squared", "MW^2"),
    ("reactive power squared", "Mvar^2"),
    ("apparent power squared", "MVA^2"),
    ("voltage", "kV"),
    ("voltage squared", "kV^2"),
    ("current", "kA"),
    ("current squared", "kA^2"),
    ("impedance", "ohm"),
    ("admittance", "S"),
    ("impedance per length", "ohm/km"),
    ("admittance per length", "S/km"),
    ("time", "h"),
    ("frequency", "1/h"),
    ("energy", "MWh"),
    ("reactive energy", "Mvarh"),
    ("money", "$"),
    ("energy price", "$/MWh"),
    ("cost rate", "$/h"),
    ("cost per active power", "$/MW"),
    ("ramp rate", "MW/h"),
    ("length", "km"),
    ("angle", "rad"),
]
_DESCRIBE: dict[Dims, tuple[str, Unit]] = {}


def _init_known() -> None:
    for desc, text in _KNOWN:
        u = Unit(1.0, DIMENSIONLESS, ()) if text == "1" else parse_unit(text)
        assert u.scale == 1.0, text
        _DESCRIBE[u.dims] = (desc, u)


def canonical_unit(dims: Dims) -> Unit:
    """The unit of scale 1 for ``dims``, with a readable spelling (``$/MWh``, ``MW/h``)."""
    known = _DESCRIBE.get(dims)
    if known is not None:
        return known[1]
    return Unit(1.0, dims, _base_terms(dims))


def _base_terms(dims: Dims) -> tuple[tuple[str, int], ...]:
    """Spell ``dims`` with named numerator and denominator when they are known dims."""
    num = Dims.of(**{b: e for b, e in dims.items() if e > 0})
    den = Dims.of(**{b: -e for b, e in dims.items() if e < 0})
    terms: list[tuple[str, int]] = []
    for part, sign in ((num, 1), (den, -1)):
        if part.is_dimensionless:
            continue
        known = _DESCRIBE.get(part)
        if known is not None and known[1].terms:
            terms += [(s, sign * e) for s, e in known[1].terms]
        else:
            terms += [(_BASE_SYMBOL[b], sign * e) for b, e in part.items()]
    return tuple(terms)


def _render_terms(terms: Iterable[tuple[str, int]]) -> str:
    def piece(sym: str, e: int) -> str:
        return sym if e == 1 else f"{sym}^{e}"

    terms = list(terms)
    num = [piece(s, e) for s, e in terms if e > 0]
    den = [piece(s, -e) for s, e in terms if e < 0]
    top = "\u00b7".join(num) if num else "1"
    if not den:
        return top
    bottom = den[0] if len(den) == 1 else "(" + "\u00b7".join(den) + ")"
    return f"{top}/{bottom}"


def _terms_of(unit: Unit) -> tuple[tuple[str, int], ...]:
    """How to spell ``unit``: as written, else a table name, else canonical with a factor."""
    if unit.terms:
        return unit.terms
    for d in UNIT_TABLE:
        if d.dims == unit.dims and d.scale == unit.scale:
            return ((d.symbol, 1),)
    terms = canonical_unit(unit.dims).terms
    return terms if unit.scale == 1.0 else ((_number_text(unit.scale), 1), *terms)


def format_unit(unit: Unit) -> str:
    """A readable spelling for messages and reports (``MW``, ``$/MWh``, ``MW·h``).

    Uses the spelling the unit was written with when known (so ``MW*h`` stays ``MW·h``
    while ``MWh`` stays ``MWh``); otherwise a table name with the same scale and dims,
    otherwise the canonical spelling with a numeric factor.  The result always reads back
    with :func:`parse_unit` to an equal unit.
    """
    return _render_terms(_terms_of(unit))


def describe_dims(dims: Dims) -> str:
    """Plain words for a dimension: ``active power``, ``energy``, ``energy price``.

    Unnamed dimensions are described from named pieces (``impedance per length
    squared``, ``money per reactive energy``), falling back to base dimensions, so a message never shows an exponent vector.
    """
    known = _DESCRIBE.get(dims)
    if known is not None:
        return known[0]
    for n, word in ((2, "squared"), (3, "cubed")):
        if all(e % n == 0 for e in dims.exponents):
            root = Dims(tuple(e // n for e in dims.exponents))
            if root in _DESCRIBE:
                return f"{_DESCRIBE[root][0]} {word}"
    num = Dims.of(**{b: e for b, e in dims.items() if e > 0})
    den = Dims.of(**{b: -e for b, e in dims.items() if e < 0})
    if num.is_dimensionless:
        return f"1 per {describe_dims(den)}"
    if den.is_dimensionless:
        parts = [_BASE_WORD[b] if e == 1 else f"{_BASE_WORD[b]}^{e}" for b, e in num.items()]
        return " \u00d7 ".join(parts)
    return f"{describe_dims(num)} per {describe_dims(den)}"


def describe_unit(unit: Unit) -> str:
    """``active power (MW)``: the dimension in words and the unit as written."""
    return f"{describe_dims(unit.dims)} ({format_unit(unit)})"


def mismatch_message(expected: Unit | Dims, found: Unit | Dims) -> str:
    """``expected active power (MW), found reactive power (Mvar)``."""
    def say(x: Unit | Dims) -> str:
        return describe_unit(x if isinstance(x, Unit) else canonical_unit(x))
    return f"expected {say(expected)}, found {say(found)}"


def mismatch_hint(expected: Unit | Dims, found: Unit | Dims) -> str | None:
    """A help line for a mismatch, when there is something more useful than the message."""
    if convertible(found, expected):
        return ("active, reactive and apparent power are kept apart; convert explicitly "
                "where physics allows (see `gatc explain GAT0306`)")
    if needs_base(found) != needs_base(expected):
        return ("a per-unit quantity meets a physical one: multiply or divide by its base "
                "(see `gatc explain GAT0303`)")
    return None


def table_rows() -> list[tuple[str, str, str, str]]:
    """(dimension, names, value in canonical units, canonical unit) for the docs page."""
    rows = []
    for d in UNIT_TABLE:
        names = ", ".join(f"`{n}`" for n in (d.symbol, *d.aliases))
        canon = format_unit(canonical_unit(d.dims))
        value = f"{d.scale:.10g}"
        if canon != "1":
            value = f"{value}/{canon[2:]}" if canon.startswith("1/") else f"{value} {canon}"
        rows.append((describe_dims(d.dims), names, value, canon))
    return rows


_init_known()   # last: it parses spellings, which needs everything above

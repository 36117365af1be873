"""The unit table and dimension algebra (gatlang.semantics.units).

Conversion factors are checked against hand-known values, never against the table
itself; algebra laws and the parse/format round trip are checked with hypothesis over
expressions built from the whole table.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatlang.diagnostics import Severity, Span, code_page
from gatlang.semantics.units import (
    BASES, COMMON_COMPOUNDS, DIMENSIONLESS, PU, UNIT_TABLE, Dims, Unit, UnitError,
    canonical_unit, compatible, convert, convertible, describe_dims, describe_unit,
    format_unit, from_canonical, lookup, mismatch_hint, mismatch_message, needs_base,
    parse_unit, power_kind, power_sum_dims, table_rows, to_canonical, unit_names,
)

u = parse_unit

# ---------------------------------------------------------------- strategies

atoms = st.sampled_from(unit_names())
small_exp = st.integers(-3, 3).filter(bool)


@st.composite
def unit_text(draw: st.DrawFn, depth: int = 0) -> str:
    """Random written units: atoms, ^n, *, ·, / and parentheses."""
    kind = draw(st.integers(0, 3 if depth < 2 else 0))
    if kind == 0:
        return draw(atoms)
    if kind == 1:
        return f"{draw(atoms)}^{draw(small_exp)}"
    op = draw(st.sampled_from(["*", "/", "\u00b7"]))
    left, right = draw(unit_text(depth + 1)), draw(unit_text(depth + 1))
    return f"({left}){op}({right})" if kind == 3 else f"{left}{op}{right}"


units = unit_text().map(parse_unit)
dims = st.builds(lambda xs: Dims(tuple(xs)), st.lists(st.integers(-3, 3), min_size=len(BASES),
                                                    max_size=len(BASES)))


# ---------------------------------------------------------------- hand-known factors

@pytest.mark.parametrize("value, src, dst, expected", [
    (1, "MWh", "kWh", 1000),
    (1, "kWh", "Wh", 1000),
    (1, "GWh", "MWh", 1000),
    (1, "mi", "km", 1.609344),
    (1, "ft", "m", 0.3048),
    (5280, "ft", "mi", 1),
    (1, "h", "min", 60),
    (1, "h", "s", 3600),
    (1, "kV", "V", 1000),
    (1, "kA", "A", 1000),
    (300, "kvar", "Mvar", 0.3),
    (1, "MVA", "kVA", 1000),
    (180, "deg", "rad", math.pi),
    (60, "Hz", "1/s", 60),
    (1, "Ω", "ohm", 1),
    (1, "USD", "$", 1),
    (30, "$/MWh", "$/kWh", 0.03),
    (1, "MW/h", "kW/min", 1000 / 60),
    (2, "MW*h", "kWh", 2000),
    (1, "kV*kA", "MVA", 1),
    (1, "V*A", "VA", 1),
    (1, "kV/kA", "ohm", 1),
    (1, "ohm/mi", "ohm/km", 1 / 1.609344),
    (1, "pu^2", "pu*pu", 1),
])
def test_known_conversions(value: float, src: str, dst: str, expected: float) -> None:
    assert convert(value, u(src), u(dst)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("value, unit, canonical", [
    (5, "MW", 5), (300, "kvar", 0.3), (12.47, "kV", 12.47), (0.95, "pu", 0.95),
    (4, "h", 4), (100, "%", 1.0), (50, "kW", 0.05), (250, "A", 0.25), (30, "min", 0.5),
    (120, "kWh", 0.12), (30, "$/MWh", 30), (0.03, "$/kWh", 30), (2, "mi", 3.218688),
    (90, "deg", math.pi / 2), (60, "Hz", 216000),
])
def test_to_canonical_matches_network_tables(value: float, unit: str, canonical: float) -> None:
    """Erased literals are in the scale the network tables use (MW, Mvar, kV, ohm, ...)."""
    assert to_canonical(value, u(unit)) == pytest.approx(canonical, rel=1e-12)
    assert from_canonical(canonical, u(unit)) == pytest.approx(value, rel=1e-12)


def test_canonical_units_have_scale_one_and_are_coherent() -> None:
    for text in ["MW", "Mvar", "MVA", "kV", "kA", "ohm", "S", "h", "MWh", "Mvarh", "$",
                 "km", "rad", "pu", "$/MWh", "$/h", "MW/h", "ohm/km"]:
        assert u(text).scale == 1.0, text
    assert u("kV") * u("kA") == u("MVA")
    assert u("kV") / u("kA") == u("ohm")
    assert u("kA") / u("kV") == u("S")
    assert u("MW") * u("h") == u("MWh")
    assert u("$") / u("MWh") == u("$/MWh")


# ---------------------------------------------------------------- power kinds and pu

def test_power_kinds_are_distinct() -> None:
    mw, mvar, mva = u("MW"), u("Mvar"), u("MVA")
    assert not compatible(mw, mvar) and not compatible(mw, mva) and not compatible(mvar, mva)
    assert compatible(mw, u("kW")) and compatible(mvar, u("kvar")) and compatible(mva, u("kVA"))
    assert [power_kind(x) for x in (mw, mvar, mva, u("MWh"))] == \
        ["active", "reactive", "apparent", None]
    with pytest.raises(UnitError) as err:
        convert(1, mw, mvar)
    assert err.value.code == "GAT0302"


def test_explicit_conversions_follow_physics() -> None:
    assert convertible(u("MW"), u("MVA")) and convertible(u("Mvar"), u("kVA"))
    assert convertible(u("MVA"), u("MW"))
    assert not convertible(u("MW"), u("Mvar"))
    assert convertible(u("MW^2"), u("MVA^2"))
    assert convertible(u("MW/MVA"), parse_unit("%"))          # a power factor is a number
    assert not convertible(u("MW"), u("MWh"))
    assert convert(500, u("kW"), u("MVA"), explicit=True) == pytest.approx(0.5)
    with pytest.raises(UnitError) as err:
        convert(1, u("MW"), u("MVA"))
    assert err.value.code == "GAT0306"


def test_p_squared_plus_q_squared_is_s_squared() -> None:
    assert power_sum_dims(u("MW^2"), u("Mvar^2")) == u("MVA^2").dims
    assert power_sum_dims(u("kvar^2"), u("kW^2")) == u("MVA^2").dims
    assert power_sum_dims(u("MW"), u("Mvar")) is None          # P + Q is still an error
    assert power_sum_dims(u("MW^2"), u("MW^2")) is None        # same kind: plain addition
    assert power_sum_dims(u("MW^2"), u("Mvar^2*h")) is None


def test_pu_is_marked_and_needs_a_base() -> None:
    assert needs_base(PU) and needs_base(u("pu^2")) and needs_base(u("pu*kV"))
    assert not needs_base(u("kV")) and not needs_base(u("%"))
    assert not PU.is_dimensionless and u("%").is_dimensionless
    assert not compatible(PU, DIMENSIONLESS)
    assert (u("pu") * u("kV")).dims.without_pu == u("kV").dims
    assert to_canonical(100, u("%")) == 1.0
    assert "GAT0303" in (mismatch_hint(u("kV"), PU) or "")


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("text, code, hint", [
    ("mw", "GAT0301", "`MW`"),
    ("MVAR", "GAT0301", "`Mvar`"),
    ("kwh", "GAT0301", "`kWh`"),
    ("ohms", "GAT0301", "`ohm`"),
    ("$/MWhr", "GAT0301", "`MWh`"),
    ("MW^x", "GAT0305", None),
    ("MW^0.5", "GAT0305", None),
    ("MW^0", "GAT0305", None),
    ("MW^99", "GAT0305", None),
    ("MW/", "GAT0307", None),
    ("", "GAT0307", None),
    ("MW)", "GAT0307", None),
    ("(MW", "GAT0307", None),
    ("MW & h", "GAT0307", None),
])
def test_bad_units(text: str, code: str, hint: str | None) -> None:
    with pytest.raises(UnitError) as err:
        parse_unit(text)
    assert err.value.code == code
    assert code_page(code) is not None, f"{code} has no explain page"
    if hint:
        assert hint in (err.value.hint or "")
    diag = err.value.to_diagnostic(Span.point("s.gat", 3, 7))
    assert diag.code == code and diag.severity is Severity.ERROR and diag.span is not None


def test_fractional_power_of_unit() -> None:
    assert u("pu^2") ** 0.5 == PU
    assert format_unit(u("pu^2") ** 0.5) == "pu"
    with pytest.raises(UnitError) as err:
        u("MW") ** 0.5
    assert err.value.code == "GAT0305"


# ---------------------------------------------------------------- names for messages

@pytest.mark.parametrize("text, shown", [
    ("MW", "MW"), ("Mvar", "Mvar"), ("$/MWh", "$/MWh"), ("MW*h", "MW\u00b7h"),
    ("MWh", "MWh"), ("Ω", "ohm"), ("USD/MWh", "$/MWh"), ("$/MW/h", "$/(MW\u00b7h)"),
    ("MW*h/h", "MW"), ("h^-1", "1/h"), ("pu^2", "pu^2"),
])
def test_format(text: str, shown: str) -> None:
    assert format_unit(u(text)) == shown


def test_format_of_bare_units() -> None:
    energy = u("MWh").dims
    assert format_unit(Unit(1.0, energy)) == "MWh"
    assert format_unit(Unit(0.001, energy)) == "kWh"
    assert format_unit(Unit(1.0, u("$/MWh").dims)) == "$/MWh"
    assert format_unit(Unit(1000.0, u("MW/h").dims)) == "1000\u00b7MW/h"
    assert format_unit(Unit(1.0, DIMENSIONLESS)) == "1"
    assert format_unit(Unit(2.0, DIMENSIONLESS)) == "2"


def test_descriptions_and_messages() -> None:
    assert describe_dims(u("MW").dims) == "active power"
    assert describe_dims(u("kWh").dims) == "energy"
    assert describe_dims(u("$/MWh").dims) == "energy price"
    assert describe_dims(u("%").dims) == "number"
    assert describe_unit(u("kvar")) == "reactive power (kvar)"
    assert mismatch_message(u("MW"), u("Mvar")) == \
        "expected active power (MW), found reactive power (Mvar)"
    assert mismatch_message(u("MW").dims, u("MWh").dims) == \
        "expected active power (MW), found energy (MWh)"
    for d in UNIT_TABLE:
        assert "^" not in describe_dims(d.dims), d.symbol


@given(dims)
def test_every_dimension_has_words(d: Dims) -> None:
    text = describe_dims(d)
    assert text and "Dims(" not in text


def test_table_is_closed_and_documented() -> None:
    required = ("W kW MW GW var kvar Mvar VA kVA MVA V kV A kA ohm Ω S pu % h min s Wh kWh "
                "MWh GWh varh kvarh Mvarh $ USD km m mi ft Hz deg rad").split()
    assert set(required) <= set(unit_names())
    assert "kg" not in unit_names() and lookup("kg") is None
    assert len(table_rows()) == len(UNIT_TABLE)
    for text in COMMON_COMPOUNDS:
        parse_unit(text)


# ---------------------------------------------------------------- algebra laws

@settings(max_examples=300)
@given(units, units, units)
def test_multiplication_is_associative_and_commutative(a: Unit, b: Unit, c: Unit) -> None:
    assert ((a * b) * c).isclose(a * (b * c))
    assert (a * b).isclose(b * a)


@settings(max_examples=300)
@given(units, units)
def test_division_inverts_multiplication(a: Unit, b: Unit) -> None:
    assert ((a * b) / b).isclose(a)
    assert (a / a).isclose(Unit(1.0, DIMENSIONLESS))
    assert (a / b).isclose(a * b ** -1)


@given(units, st.integers(-2, 2), st.integers(-2, 2))
def test_powers(a: Unit, m: int, n: int) -> None:
    assert (a ** m * a ** n).isclose(a ** (m + n))
    assert ((a ** m) ** n).isclose(a ** (m * n))


@given(dims, dims)
def test_dims_group_laws(x: Dims, y: Dims) -> None:
    assert (x * y) / y == x
    assert x * y == y * x
    assert compatible(x, y) == (x == y)
    assert convertible(x, x)
    assert convertible(x, y) == convertible(y, x)


@settings(max_examples=300)
@given(unit_text())
def test_parse_format_round_trip(text: str) -> None:
    unit = parse_unit(text)
    shown = format_unit(unit)
    again = parse_unit(shown)
    assert again.isclose(unit), (text, shown)
    assert format_unit(again) == shown


@given(dims, st.floats(1e-6, 1e6))
def test_format_of_any_unit_reads_back(d: Dims, scale: float) -> None:
    unit = Unit(scale, d)
    assert parse_unit(format_unit(unit)).isclose(unit)
    assert canonical_unit(d).scale == 1.0 and canonical_unit(d).dims == d


@given(units, st.floats(-1e6, 1e6, allow_nan=False))
def test_conversion_round_trip(a: Unit, value: float) -> None:
    assert from_canonical(to_canonical(value, a), a) == pytest.approx(value, rel=1e-12, abs=1e-300)

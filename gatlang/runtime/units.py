"""Units of output columns read from their names (``pg_mw`` -> ``MW``).

Why: the project's tables put units in column names (docs/network-model.md),
and a Parquet reader should get the same unit from the field metadata without
every workflow spelling it twice.  Only unambiguous suffixes are listed: ``_a``
(phase a or amperes?) and ``_s`` (siemens or seconds?) are left to the caller,
who passes ``units=`` explicitly; an explicit unit always wins.
"""
from __future__ import annotations

from collections.abc import Iterable

SUFFIX_UNITS: dict[str, str] = {
    "kv": "kV", "v": "V", "mw": "MW", "kw": "kW", "mvar": "Mvar", "kvar": "kvar",
    "mva": "MVA", "kva": "kVA", "mwh": "MWh", "kwh": "kWh", "ohm": "ohm", "km": "km",
    "pu": "pu", "deg": "deg", "pct": "%", "h": "h",
}


def suffix_units(columns: Iterable[str]) -> dict[str, str]:
    """``{column: unit}`` for columns whose last ``_``-separated word is a known unit."""
    out = {}
    for name in columns:
        head, sep, tail = name.rpartition("_")
        if sep and head and tail.lower() in SUFFIX_UNITS:
            out[name] = SUFFIX_UNITS[tail.lower()]
    return out

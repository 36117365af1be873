"""Which classes and properties OpenDSS knows, and how a written name resolves to one.

Why: the engine resolves a property written as ``kv`` or ``%r`` or ``XHL`` (or
given positionally) by the *first* property, in declaration order, whose name
starts with what was written.  Reproducing that rule from the engine's own
ordered lists (``_engine_properties``) is what lets us read real-world scripts
that rely on abbreviations, and lets us say "did you mean" for the rest.
"""
from __future__ import annotations

from functools import lru_cache

from ._engine_properties import PROPERTIES

#: ``New Circuit.x`` makes a Vsource called ``source`` with these properties.
ALIASES = {"circuit": "vsource"}

#: classes whose data become rows of the canonical model
MODELLED = frozenset({
    "vsource", "line", "linecode", "transformer", "autotrans", "xfmrcode", "regcontrol", "capacitor",
    "capcontrol", "load", "generator", "pvsystem", "storage", "reactor",
})

#: pure data classes that other objects refer to; kept when referenced, not modelled themselves
DATA_ONLY = frozenset({"linecode", "xfmrcode", "wiredata", "cndata", "tsdata", "linespacing",
                       "linegeometry"})


def known_classes() -> list[str]:
    return sorted(set(PROPERTIES) | set(ALIASES))


def canonical_class(name: str) -> str | None:
    """Lower-case class name as stored, or None when OpenDSS has no such class."""
    low = name.lower()
    low = ALIASES.get(low, low)
    return low if low in PROPERTIES else None


@lru_cache(maxsize=None)
def property_names(cls: str) -> tuple[str, ...]:
    """Lower-case property names of `cls` in declaration order."""
    return tuple(n.lower() for n, _ in PROPERTIES[cls])


@lru_cache(maxsize=None)
def _display(cls: str) -> dict[str, str]:
    return {n.lower(): n for n, _ in PROPERTIES[cls]}


def display_name(cls: str, prop: str) -> str:
    return _display(cls).get(prop, prop)


@lru_cache(maxsize=4096)
def resolve_property(cls: str, written: str) -> str | None:
    """Exact name first, then the first property that starts with `written` (engine rule)."""
    names = property_names(cls)
    low = written.lower()
    if low in names:
        return low
    for n in names:
        if n.startswith(low):
            return n
    return None


def positional_property(cls: str, index: int) -> str | None:
    """Property at 0-based `index` in declaration order (positional parameters)."""
    names = property_names(cls)
    return names[index] if 0 <= index < len(names) else None


@lru_cache(maxsize=None)
def _indices(cls: str) -> dict[str, int]:
    return {n: i for i, n in enumerate(property_names(cls))}


def property_index(cls: str, prop: str) -> int:
    return _indices(cls)[prop]


def property_indices(cls: str) -> dict[str, int]:
    """Property -> 0-based declaration index of `cls` (one dict per class, for hot loops)."""
    return _indices(cls)

"""Typed, located reading of one object's properties, shared by every converter.

Why: each converter needs "the last value of ``kv`` as a number, or the default,
and a coded diagnostic at the value's column when it is not a number".  Doing
that once here keeps the converters to the physics.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gatlang.diagnostics import DiagnosticSink, Span

from .. import codes
from ..script import DssObject
from ..values import BusRef, Value, bus_ref, conductor_nodes, matrix, number, numbers, strings

_TRUE = ("y", "t", "1")


class Reader:
    """Last-assignment-wins view of a DssObject's properties with typed getters."""

    def __init__(self, obj: DssObject, sink: DiagnosticSink) -> None:
        self.obj, self.sink = obj, sink
        self.values: dict[str, Value] = obj.last()

    @property
    def span(self) -> Span:
        return self.obj.span

    def has(self, prop: str) -> bool:
        return prop in self.values

    def where(self, prop: str) -> Span:
        v = self.values.get(prop)
        return v.span if v is not None else self.obj.span

    def text(self, prop: str, default: str = "") -> str:
        v = self.values.get(prop)
        return v.text.strip() if v is not None else default

    def num(self, prop: str, default: float | None = None) -> float | None:
        v = self.values.get(prop)
        if v is None:
            return default
        x = number(v, self.sink, prop)
        return default if x is None else x

    def nums(self, prop: str) -> list[float] | None:
        v = self.values.get(prop)
        return None if v is None else numbers(v, self.sink, prop)

    def strs(self, prop: str) -> list[str] | None:
        v = self.values.get(prop)
        return None if v is None else strings(v)

    def freq_ratio(self, freq: float) -> float:
        """Network frequency over the element's base frequency (its data are given at the latter)."""
        v = self.values.get("basefreq")
        base = positive(v, self.sink, "basefreq") if v is not None else self.obj.base_freq
        return freq / (base or freq)

    def flag(self, prop: str, default: bool = False) -> bool:
        v = self.values.get(prop)
        return default if v is None else v.text.strip().lower()[:1] in _TRUE

    def matrix(self, prop: str, n: int) -> np.ndarray | None:
        v = self.values.get(prop)
        return None if v is None else matrix(v, n, self.sink, prop)

    def bus(self, prop: str) -> BusRef | None:
        """The bus of `prop`; unset, the engine's default ``<element name>_<terminal>``."""
        v = self.values.get(prop)
        if v is None:
            return BusRef(f"{self.obj.name}_{prop[-1]}", ()) if prop in ("bus1", "bus2") else None
        return bus_ref(v, self.sink)

    def choice(self, prop: str, options: dict[str, str], default: str) -> str:
        """A keyword value matched by prefix (``conn=d`` is delta), else BAD_VALUE."""
        v = self.values.get(prop)
        if v is None:
            return default
        low = v.text.strip().lower()
        if options is CONN and connection_kind(low) is not None:
            return connection_kind(low)  # type: ignore[return-value]
        for key, out in options.items():
            if low and key.startswith(low) or low == key:
                return out
        self.sink.error(codes.BAD_VALUE, f"`{v.text}` is not a valid `{prop}`", v.span,
                        help=f"use one of: {', '.join(options)}")
        return default


CONN = {"wye": "wye", "y": "wye", "ln": "wye", "delta": "delta", "d": "delta", "ll": "delta"}


def connection_kind(text: str) -> str | None:
    """The engine's reading of ``conn=``: by first letter (y/w wye, d delta; ln wye, ll delta)."""
    low = text.strip().lower()
    if not low:
        return None
    if low[0] in "yw":
        return "wye"
    if low[0] == "d":
        return "delta"
    if low.startswith("ll"):
        return "delta"
    if low.startswith("l"):
        return "wye"
    return None


def element_conductors(ref: BusRef | None, nphases: int, connection: str) -> list[int]:
    """Conductors of a one-terminal element (load, generator, capacitor ...) in engine order.

    Wye: the phases plus the neutral (ground unless the bus names it); delta:
    the phases, except that a one-phase delta element spans two conductors.
    Conductors the bus does not name default, as in the engine, to nodes
    1..nphases and then ground: ``bus1=a.2`` of a one-phase delta load is
    ``[2, 0]`` (checked with the engine's ``CktElement.NodeOrder``), not a
    second phase.
    """
    if connection == "wye" or nphases == 1:
        return conductor_nodes(ref, nphases + 1, nphases)
    return conductor_nodes(ref, nphases, nphases)


def phases_of(nodes: list[int]) -> list[int]:
    return sorted({n for n in nodes if 1 <= n <= 3})


@dataclass
class Rows:
    """Rows of one canonical table being filled object by object (columns = union of keys)."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **values: Any) -> None:
        self.rows.append(values)

    def extend(self, other: "Rows") -> None:
        self.rows.extend(other.rows)

    @property
    def columns(self) -> dict[str, list[Any]]:
        keys = list(dict.fromkeys(k for r in self.rows for k in r))
        return {k: [r.get(k) for r in self.rows] for k in keys}

    def __len__(self) -> int:
        return len(self.rows)


def positive(v: Value, sink: DiagnosticSink, prop: str) -> float | None:
    """A number that must be > 0 (frequencies, resistivity); BAD_VALUE otherwise."""
    x = number(v, sink, prop)
    if x is not None and x <= 0:
        sink.error(codes.BAD_VALUE, f"`{prop}` must be positive, got `{v.text}`", v.span,
                   help=f"give `{prop}` a positive value")
        return None
    return x


def provenance(obj: DssObject) -> dict[str, Any]:
    return {"source_file": obj.span.file, "source_line": obj.span.line}


def check_length(r: Reader, prop: str, values: list, n: int) -> bool:
    if len(values) != n:
        r.sink.error(codes.BAD_ARRAY_LENGTH, f"`{prop}` has {len(values)} value(s), {r.obj.cls} "
                     f"`{r.obj.display}` needs {n}", r.where(prop),
                     help=f"give exactly {n} value(s)")
        return False
    return True

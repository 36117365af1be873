"""Turn the Python values gatlang carries around into plain JSON values.

Why a module of its own: two consumers need the same walk over nested data but
disagree on one detail.  ``run.json`` is read by people and other tools, so a
non-finite float becomes ``null`` (strict JSON has no NaN); a hash key must not
confuse NaN with "absent", so :mod:`gatlang.runtime.hashing` keeps non-finite
floats as distinct strings.  Everything else (numpy scalars and arrays, enums,
paths, dataclasses, sets, objects with ``to_dict()`` such as
:class:`gatlang.diagnostics.Diagnostic`) is handled identically here, once.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, Callable

import numpy as np

NonFinite = Callable[[float], Any]


def nonfinite_to_none(_: float) -> None:
    """run.json policy: strict JSON has no NaN/inf, readers expect ``null``."""
    return None


def nonfinite_to_text(x: float) -> str:
    """Hashing policy: keep NaN, +inf and -inf distinct from each other and from null."""
    return repr(x)  # 'nan', 'inf', '-inf'


def _float(x: float, nonfinite: NonFinite) -> Any:
    return x if math.isfinite(x) else nonfinite(x)


def _array(arr: np.ndarray, nonfinite: NonFinite) -> Any:
    """Vectorised: only the non-finite entries of a float array are touched in Python."""
    if arr.dtype.kind == "f" or arr.dtype.kind == "c":
        if arr.dtype.kind == "c":
            arr = np.stack([arr.real, arr.imag], axis=-1)
        bad = ~np.isfinite(arr)
        if bad.any():
            obj = arr.astype(object)
            obj[bad] = [nonfinite(float(v)) for v in arr[bad]]
            return obj.tolist()
        return arr.astype(np.float64).tolist()
    if arr.dtype.kind in "biu":
        return arr.tolist()
    return [to_jsonable(v, nonfinite) for v in arr.tolist()]


def to_jsonable(obj: Any, nonfinite: NonFinite = nonfinite_to_none) -> Any:
    """Recursively convert ``obj`` into dicts, lists, str, int, float, bool and None.

    Mapping keys become strings (JSON has no other key type).  Sets are sorted
    so that the result does not depend on hash seeds.  Unknown objects raise
    ``TypeError`` rather than being silently ``str()``-ed: a value that cannot be
    written faithfully is a bug in the caller.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value, nonfinite)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return _float(float(obj), nonfinite)
    if isinstance(obj, np.generic):
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, np.integer):
            return int(obj)
        if isinstance(obj, np.floating):
            return _float(float(obj), nonfinite)
        if isinstance(obj, np.complexfloating):
            return [_float(float(obj.real), nonfinite), _float(float(obj.imag), nonfinite)]
        return to_jsonable(obj.item(), nonfinite)
    if isinstance(obj, np.ndarray):
        return _array(obj, nonfinite)
    if isinstance(obj, PurePath):
        return obj.as_posix()
    if isinstance(obj, (_dt.datetime, _dt.date, _dt.time)):
        return obj.isoformat()
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj).hex()
    if isinstance(obj, Mapping):
        return {str(to_jsonable(k, nonfinite)): to_jsonable(v, nonfinite) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, nonfinite) for v in obj]
    if isinstance(obj, (set, frozenset)):
        items = [to_jsonable(v, nonfinite) for v in obj]
        return sorted(items, key=lambda v: (type(v).__name__, repr(v)))
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_jsonable(to_dict(), nonfinite)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name), nonfinite) for f in dataclasses.fields(obj)}
    raise TypeError(f"cannot convert {type(obj).__name__} to JSON: {obj!r:.80}")

"""Reading the previous run.json and describing the machine a run happened on.

Why a module of its own: a previous run.json is *input* that gatc did not
necessarily write (a user may have edited it, a killed older version may have
left anything, a newer gatlang may use another format).  It is trusted for
caching only if it matches the schema exactly; anything else becomes a warning
and a fresh start, never a crash, and the unreadable file is kept aside for
inspection rather than silently overwritten.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..diagnostics import DiagnosticSink, Span
from . import codes
from .schema import SCHEMA_VERSION, schema_errors

MANIFEST_NAME = "run.json"


@dataclass(frozen=True)
class Previous:
    """What is known about the last run: ``state`` is 'missing', 'unreadable' or 'ok'."""

    state: str
    doc: dict[str, Any] | None = None


def now_iso() -> str:
    """UTC timestamp to the second; UTC so that run.json compares across machines."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def local_time(iso: str) -> str:
    """'2026-11-23 10:00' in the user's time zone, for messages; the text itself if unparsable."""
    try:
        return _dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(iso)


def host_info() -> dict[str, str]:
    return {"gatlang": __version__, "python": platform.python_version(),
            "platform": platform.platform()}


def _set_aside(path: Path, suffix: str) -> Path | None:
    """Rename ``path`` to a sibling that the next write will not clobber."""
    target = path.with_name(f"{path.name}.{suffix}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.{suffix}{n}")
    try:
        os.replace(path, target)
    except OSError:
        return None
    return target


def _reject_constant(name: str) -> None:
    """gatc writes strict JSON (NaN as null); a NaN/Infinity token means someone else wrote it."""
    raise ValueError(f"{name} is not valid in strict JSON")


def load_previous(path: Path, sink: DiagnosticSink, span: Span | None) -> Previous:
    """Load and validate a previous run.json; report (never raise) when it is not usable."""
    if not path.exists():
        return Previous("missing")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_constant)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        detail = f"not valid JSON: {exc}" if isinstance(exc, ValueError) else str(exc)
        sink.add(codes.corrupt_run_json(path, detail, _set_aside(path, "corrupt"), span))
        return Previous("unreadable")
    version = doc.get("schema") if isinstance(doc, dict) else None
    if isinstance(doc, dict) and isinstance(version, int) and not isinstance(version, bool) \
            and version != SCHEMA_VERSION:
        moved = _set_aside(path, f"schema{version}")
        sink.add(codes.unsupported_run_json(path, version, SCHEMA_VERSION, moved, span))
        return Previous("unreadable")
    problems = schema_errors(doc)
    if problems:
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        sink.add(codes.corrupt_run_json(path, f"{problems[0]}{more}", _set_aside(path, "corrupt"), span))
        return Previous("unreadable")
    return Previous("ok", doc)


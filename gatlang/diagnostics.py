"""Diagnostics: every user-facing error or warning gatlang produces.

Why a module of its own: every pass, importer and workflow reports problems the
same way, so that a user always gets a stable code, a location (file, line,
column) with the source line and a caret under it, and a hint.  Problems are
*collected* (a :class:`DiagnosticSink`) rather than raised one at a time, so a
single ``gatc check`` shows everything wrong with a file.

Code pages live in ``gatlang/explain/GATnnnn.md`` (one file per code, first line
``# GATnnnn short-name``); ``gatc explain CODE`` prints them.  Ranges:

========  =====================================================
GAT00xx   syntax (lexing and parsing of ``.gat`` files)
GAT01xx   names: unknown, duplicate, arity, attributes, imports
GAT02xx   types and structure of statements
GAT03xx   units and dimensions
GAT04xx   run kinds, options, formulations, capabilities
GAT05xx   input files and network data (importers)
GAT06xx   solvers and solving
GAT07xx   ``expect`` oracles
GAT08xx   power flow and numerical engines
GAT09xx   runtime (run folders, caching)
========  =====================================================
"""
from __future__ import annotations

import difflib
import enum
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

EXPLAIN_DIR = Path(__file__).parent / "explain"


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Span:
    """A region of a source file; lines and columns are 1-based, end exclusive."""

    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @staticmethod
    def point(file: str | Path, line: int, column: int = 1) -> "Span":
        return Span(str(file), line, column, line, column + 1)


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span | None = None
    help: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict:
        """JSON-ready form, as kept in run.json and sent by the language server."""
        out: dict = {"code": self.code, "severity": self.severity.value, "message": self.message}
        if self.span is not None:
            out["file"], out["line"], out["column"] = self.span.file, self.span.line, self.span.column
        if self.help:
            out["help"] = self.help
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def render(self, source_text: str | None = None) -> str:
        return render(self, source_text)


def error(code: str, message: str, span: Span | None = None, help: str | None = None,
          notes: Sequence[str] = ()) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span, help, tuple(notes))


def warning(code: str, message: str, span: Span | None = None, help: str | None = None,
            notes: Sequence[str] = ()) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, span, help, tuple(notes))


class DiagnosticSink:
    """Collects diagnostics across a whole compilation or import."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(self, diag: Diagnostic) -> Diagnostic:
        self.items.append(diag)
        return diag

    def error(self, code: str, message: str, span: Span | None = None, help: str | None = None,
              notes: Sequence[str] = ()) -> Diagnostic:
        return self.add(error(code, message, span, help, notes))

    def warning(self, code: str, message: str, span: Span | None = None, help: str | None = None,
                notes: Sequence[str] = ()) -> Diagnostic:
        return self.add(warning(code, message, span, help, notes))

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        self.items.extend(diags)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class GatError(Exception):
    """Raised to abandon work that cannot continue; carries the diagnostics that say why.

    The CLI catches it and renders the diagnostics: a user never sees a traceback.
    """

    def __init__(self, diagnostics: Diagnostic | Sequence[Diagnostic]) -> None:
        self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else list(diagnostics)
        super().__init__("; ".join(f"{d.code}: {d.message}" for d in self.diagnostics))


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Closest known names, for 'did you mean' hints."""
    cands = list(dict.fromkeys(candidates))
    lowered = {c.lower(): c for c in cands}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


def did_you_mean(name: str, candidates: Iterable[str], what: str = "") -> str | None:
    hits = closest(name, candidates)
    if not hits:
        return None
    quoted = ", ".join(f"`{h}`" for h in hits)
    return f"did you mean {quoted}?" if not what else f"did you mean {what} {quoted}?"


# ---------------------------------------------------------------- rendering

_COLOURS = {Severity.ERROR: "\033[1;31m", Severity.WARNING: "\033[1;33m", Severity.NOTE: "\033[1;36m"}


@functools.lru_cache(maxsize=64)
def _read_lines(path: str) -> tuple[str, ...]:
    try:
        return tuple(Path(path).read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError:
        return ()


def render(diag: Diagnostic, source_text: str | None = None, colour: bool = False) -> str:
    """Render like a compiler: header, location, the source line and a caret under the span."""
    sev = diag.severity.value
    head = f"{sev}[{diag.code}]: {diag.message}"
    if colour:
        head = f"{_COLOURS[diag.severity]}{sev}[{diag.code}]\033[0m\033[1m: {diag.message}\033[0m"
    out = [head]
    sp = diag.span
    if sp is not None:
        out.append(f"  --> {sp.file}:{sp.line}:{sp.column}")
        lines = tuple(source_text.splitlines()) if source_text is not None else _read_lines(sp.file)
        if 1 <= sp.line <= len(lines):
            text = lines[sp.line - 1].rstrip("\n").replace("\t", " ")
            gutter = " " * len(str(sp.line))
            width = 1
            if sp.end_line == sp.line and sp.end_column and sp.end_column > sp.column:
                width = sp.end_column - sp.column
            elif sp.end_line is not None and sp.end_line > sp.line:
                width = max(1, len(text) - sp.column + 1)
            width = max(1, min(width, max(1, len(text) - sp.column + 1)))
            out.append(f"{gutter} |")
            out.append(f"{sp.line} | {text}")
            out.append(f"{gutter} | {' ' * (sp.column - 1)}{'^' * width}")
    for note in diag.notes:
        out.append(f"  = note: {note}")
    if diag.help:
        out.append(f"  = help: {diag.help}")
    return "\n".join(out)


# ---------------------------------------------------------------- code pages

_CODE_RE = re.compile(r"^GAT\d{4}$")


@dataclass(frozen=True)
class CodePage:
    code: str
    name: str
    text: str = field(repr=False)


def code_page(code: str) -> CodePage | None:
    code = code.upper()
    if not _CODE_RE.match(code):
        return None
    path = EXPLAIN_DIR / f"{code}.md"
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0] if text else ""
    name = first.lstrip("# ").split(" ", 1)[1] if " " in first.lstrip("# ") else code
    return CodePage(code, name.strip(), text)


def all_codes() -> list[CodePage]:
    pages = [code_page(p.stem) for p in sorted(EXPLAIN_DIR.glob("GAT*.md"))]
    return [p for p in pages if p is not None]

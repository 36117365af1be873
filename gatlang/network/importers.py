"""The importer registry: one entry per input format, with its options.

Why a registry: the compiler (``network x = matpower("case.m", ...)``), ``gatc
import`` and the tests all need the same answers to "which formats exist, what
options do they take, of which type, with which default" — so option checking
and "did you mean" hints are written once, here, and each importer module only
parses its format.  Loaders are imported lazily so that asking for the list of
formats does not import every parser (the OpenDSS one pulls in a lot).

Shared file handling (``read_input_text``, ``record_source``) lives here too,
so that "file not found" is the same diagnostic (GAT0501) for every format.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gatlang.diagnostics import DiagnosticSink, Span, did_you_mean
from gatlang.network.model import Network, sha256_file

# ------------------------------------------------------------------ diagnostic codes
NOT_FOUND = "GAT0501"        # shared with other importers: keep the meaning "input file not found"
UNREADABLE = "GAT0502"
UNKNOWN_FORMAT = "GAT0503"
UNKNOWN_OPTION = "GAT0504"
OPTION_TYPE = "GAT0505"
NO_GUESS = "GAT0506"

#: file extension -> importer name (``guess_kind``)
EXTENSIONS: dict[str, str] = {".m": "matpower", ".raw": "psse", ".dss": "opendss"}


# ------------------------------------------------------------------ shared file handling

def _where(path: str | Path, span: Span | None) -> Span:
    """Problems with the file itself point at the import request, or at the file's start."""
    return span if span is not None else Span.point(str(path), 1)


def check_input_file(path: str | Path, sink: DiagnosticSink, span: Span | None,
                     directory: bool = False) -> Path | None:
    """The path if it exists (as a file, or as a directory when `directory`); else a diagnostic."""
    p = Path(path)
    if not p.exists():
        near = did_you_mean(p.name, [c.name for c in p.parent.iterdir()]) \
            if p.parent.is_dir() else None
        sink.error(NOT_FOUND, f"input file `{p}` not found", _where(p, span),
                   help=near or "check the path; relative paths are relative to the study file")
        return None
    if directory != p.is_dir():
        want = "a directory of Parquet tables" if directory else "a file"
        sink.error(UNREADABLE, f"`{p}` is not {want}", _where(p, span),
                   help="`tables(...)` reads a directory written by `gatc import -o DIR`"
                   if directory else "give the path of the case file itself")
        return None
    return p


def read_input_text(path: str | Path, sink: DiagnosticSink, span: Span | None = None) -> str | None:
    """The text of an input file, or None with GAT0501/GAT0502 in `sink`.

    Undecodable bytes are replaced rather than fatal: case files in the wild are
    sometimes Latin-1 in their comments, and the numbers are ASCII anyway.
    """
    p = check_input_file(path, sink, span)
    if p is None:
        return None
    try:
        data = p.read_bytes()
    except OSError as exc:
        sink.error(UNREADABLE, f"cannot read `{p}`: {exc.strerror or exc}", _where(p, span),
                   help="check the file's permissions")
        return None
    if b"\x00" in data[:4096]:
        sink.error(UNREADABLE, f"`{p}` is a binary file, not a text case file", _where(p, span),
                   help="give the path of the text case file (.m, .raw, .dss)")
        return None
    return data.decode("utf-8", errors="replace")


def record_source(net: Network, path: str | Path) -> None:
    """Remember the input file and its content hash (run.json records both)."""
    p = Path(path)
    try:
        net.sources.append((str(p), sha256_file(p)))
    except OSError:   # vanished between read and hash: the data are already read
        net.sources.append((str(p), ""))


# ------------------------------------------------------------------ the registry

@dataclass(frozen=True)
class OptionSpec:
    """One importer option: its Python type, default and a one-line doc."""

    type: type
    default: Any
    doc: str


Loader = Callable[[Path, dict, DiagnosticSink, "Span | None"], "Network | None"]


@dataclass(frozen=True)
class ImporterSpec:
    name: str
    description: str
    options: dict[str, OptionSpec]
    load: Loader
    directory: bool = False          # reads a directory (tables) rather than a file
    extensions: tuple[str, ...] = field(default=())


def _load_matpower(path: Path, opts: dict, sink: DiagnosticSink, span: Span | None) -> Network | None:
    from gatlang.network.matpower import load_matpower
    return load_matpower(path, sink, frequency_hz=opts["frequency_hz"], span=span)


def _load_psse(path: Path, opts: dict, sink: DiagnosticSink, span: Span | None) -> Network | None:
    from gatlang.network.psse import load_psse
    return load_psse(path, sink, span=span)


def _load_tables(path: Path, opts: dict, sink: DiagnosticSink, span: Span | None) -> Network | None:
    from gatlang.network.tables import load_tables
    return load_tables(path, sink, span=span)


def _load_opendss(path: Path, opts: dict, sink: DiagnosticSink, span: Span | None) -> Network | None:
    from gatlang.network.opendss.importer import load_opendss  # another area's module: lazy
    return load_opendss(path, sink, kron_reduce=opts["kron_reduce"], span=span)


IMPORTERS: dict[str, ImporterSpec] = {
    "matpower": ImporterSpec(
        "matpower", "MATPOWER case file (.m), e.g. pglib-opf cases",
        {"frequency_hz": OptionSpec(float, 60.0, "system frequency, Hz (MATPOWER files do not say)")},
        _load_matpower, extensions=(".m",)),
    "psse": ImporterSpec(
        "psse", "PSS/E v33 raw file (.raw): buses, loads, fixed shunts, generators, branches, "
        "two-winding transformers", {}, _load_psse, extensions=(".raw",)),
    "tables": ImporterSpec(
        "tables", "directory of canonical Parquet tables written by `gatc import -o DIR`",
        {}, _load_tables, directory=True),
    "opendss": ImporterSpec(
        "opendss", "OpenDSS circuit (.dss)",
        {"kron_reduce": OptionSpec(bool, False, "eliminate the neutral conductors (Kron reduction)")},
        _load_opendss, extensions=(".dss",)),
}


def guess_kind(path: str | Path) -> str | None:
    """The importer for `path` from its extension (a directory -> tables); None if unknown."""
    p = Path(path)
    if p.is_dir():
        return "tables"
    return EXTENSIONS.get(p.suffix.lower())


def _type_ok(value: Any, want: type) -> bool:
    if want is bool:
        return isinstance(value, bool)
    if want is float:   # an integer is a fine float; a bool is not a number
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, want)


def check_options(spec: ImporterSpec, options: dict[str, Any], sink: DiagnosticSink,
                  span: Span | None) -> dict[str, Any] | None:
    """Options with defaults filled in; None (with diagnostics) on unknown names or wrong types."""
    out = {name: o.default for name, o in spec.options.items()}
    ok = True
    for name, value in options.items():
        o = spec.options.get(name)
        if o is None:
            known = ", ".join(f"`{k}`" for k in spec.options) or "none"
            sink.error(UNKNOWN_OPTION, f"`{spec.name}` has no option `{name}`", span,
                       help=did_you_mean(name, spec.options) or f"its options are: {known}")
            ok = False
        elif not _type_ok(value, o.type):
            sink.error(OPTION_TYPE, f"option `{name}` of `{spec.name}` must be a {o.type.__name__}, "
                       f"not {type(value).__name__} `{value!r}`", span,
                       help=f"{name}: {o.doc} (default {o.default!r})")
            ok = False
        else:
            out[name] = float(value) if o.type is float else value
    return out if ok else None


def import_network(kind: str | None, path: str | Path, options: dict[str, Any] | None,
                   sink: DiagnosticSink, span: Span | None = None) -> Network | None:
    """Import `path` with importer `kind` (None: guess from the extension).

    Returns None when the input cannot be used; every reason is a diagnostic in `sink`.
    """
    if kind is None:
        kind = guess_kind(path)
        if kind is None:
            if not Path(path).exists():
                check_input_file(path, sink, span)
                return None
            sink.error(NO_GUESS, f"cannot tell the format of `{path}` from its extension", _where(path, span),
                       help="known extensions: " + ", ".join(f"{e} ({k})" for e, k in EXTENSIONS.items())
                       + "; a directory is read as Parquet tables; or name the format explicitly")
            return None
    spec = IMPORTERS.get(kind)
    if spec is None:
        sink.error(UNKNOWN_FORMAT, f"unknown network format `{kind}`", span,
                   help=did_you_mean(kind, IMPORTERS) or "known formats: " + ", ".join(IMPORTERS))
        return None
    opts = check_options(spec, dict(options or {}), sink, span)
    if opts is None:
        return None
    return spec.load(Path(path), opts, sink, span)


CODES = (NOT_FOUND, UNREADABLE, UNKNOWN_FORMAT, UNKNOWN_OPTION, OPTION_TYPE, NO_GUESS)

__all__ = ["IMPORTERS", "ImporterSpec", "OptionSpec", "import_network", "guess_kind", "check_options",
           "read_input_text", "record_source", "check_input_file"]

"""Diagnostics of the runtime (GAT0900-GAT0919), built in one place.

Why: the messages and hints of a code must read the same wherever the problem
is found, and the explain pages in ``gatlang/explain/GAT090*.md`` document
exactly these.  Each factory takes the span to point at (normally the study
declaration, or the ``network``/``table`` statement naming an input file).
"""
from __future__ import annotations

from pathlib import Path

from ..diagnostics import Diagnostic, Span, error, warning

RUN_FOLDER_NOT_WRITABLE = "GAT0900"
CORRUPT_RUN_JSON = "GAT0901"
UNSUPPORTED_RUN_JSON = "GAT0902"
INPUT_UNREADABLE = "GAT0903"
OUTPUT_WRITE_FAILED = "GAT0904"
INVALID_OUTPUT_NAME = "GAT0905"
RUN_FOLDER_BUSY = "GAT0906"
OUTPUT_MODIFIED = "GAT0907"

CODES = (RUN_FOLDER_NOT_WRITABLE, CORRUPT_RUN_JSON, UNSUPPORTED_RUN_JSON, INPUT_UNREADABLE,
         OUTPUT_WRITE_FAILED, INVALID_OUTPUT_NAME, RUN_FOLDER_BUSY, OUTPUT_MODIFIED)


def _why(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def run_folder_not_writable(root: Path, exc: BaseException, span: Span | None) -> Diagnostic:
    return error(RUN_FOLDER_NOT_WRITABLE, f"cannot create or write the run folder {root}: {_why(exc)}",
                 span, help="check the folder's permissions and free space, or copy the study "
                            "to a folder you can write")


def corrupt_run_json(path: Path, detail: str, moved_to: Path | None, span: Span | None) -> Diagnostic:
    kept = f"; the old file was kept as {moved_to.name}" if moved_to else ""
    return warning(CORRUPT_RUN_JSON, f"the previous {path.name} cannot be read ({detail}); "
                   f"every step will run again{kept}", span,
                   help="nothing to fix: a fresh run.json is written; delete the kept copy "
                        "once you no longer need it")


def unsupported_run_json(path: Path, found: object, expected: int, moved_to: Path | None,
                         span: Span | None) -> Diagnostic:
    kept = f"; the old file was kept as {moved_to.name}" if moved_to else ""
    return warning(UNSUPPORTED_RUN_JSON, f"the previous {path.name} has format version {found!r}, "
                   f"this gatlang writes version {expected}; every step will run again{kept}", span,
                   help="run the study with the gatlang version that wrote it to reuse its "
                        "results, or let this run replace them")


def input_unreadable(path: Path, exc: BaseException, span: Span | None) -> Diagnostic:
    return error(INPUT_UNREADABLE, f"cannot read input file {path}: {_why(exc)}", span,
                 help="check that the path in the study is right (it is relative to the "
                      "study file) and that the file is readable")


def output_write_failed(path: Path, exc: BaseException, span: Span | None) -> Diagnostic:
    return error(OUTPUT_WRITE_FAILED, f"cannot write {path}: {_why(exc)}", span,
                 help="free some disk space or fix the folder's permissions, then run again; "
                      "steps that already succeeded are kept and will not run again")


def invalid_output_name(name: str, what: str, span: Span | None) -> Diagnostic:
    return error(INVALID_OUTPUT_NAME, f"{what} name {name!r} cannot be used as a file or folder name",
                 span, help="use letters, digits, '_', '-' and '.', not starting with '.', "
                            "and no path separators")


def run_folder_busy(root: Path, holder: str, span: Span | None) -> Diagnostic:
    who = f" (process {holder})" if holder else ""
    return error(RUN_FOLDER_BUSY, f"another gatc run is writing {root}{who}", span,
                 help="wait for the other run to finish; to run both at once, copy the "
                      "study to another folder")


def output_modified(path: Path, span: Span | None) -> Diagnostic:
    return warning(OUTPUT_MODIFIED, f"{path} changed after gatc wrote it; the step runs again "
                   "and overwrites it", span,
                   help="copy result files elsewhere before editing them; files under runs/ "
                        "belong to gatc")

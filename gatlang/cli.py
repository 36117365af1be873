"""`gatc`: the command line.

    gatc check STUDY.gat          parse, resolve, type/unit and capability checks; no data loaded, nothing solved
    gatc run STUDY.gat            every run of the study; results in runs/<study>/
    gatc explain GAT0302          the long explanation of a diagnostic code
    gatc doctor                   which solvers are installed and what each problem class goes to
    gatc import FILE -o DIR       a network file -> the canonical Parquet tables

Why the outer guard: a user must never see a Python traceback for bad input.
User errors are diagnostics (exit 1); anything else is a bug in gatlang,
reported as such in one line (exit 3), with the traceback only under --debug.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path
from typing import Sequence

from gatlang import __version__
from gatlang.diagnostics import DiagnosticSink, GatError, Severity, all_codes, code_page, render

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gatc", description="gatlang: studies of distribution grids, as code.")
    p.add_argument("--version", action="version", version=f"gatc {__version__}")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks of internal errors")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show Python tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", parents=[common], help="check a study without loading data or solving")
    c.add_argument("study", type=Path)
    c.add_argument("--warnings-as-errors", "-W", action="store_true")

    r = sub.add_parser("run", parents=[common], help="run every `run` of a study")
    r.add_argument("study", type=Path)
    r.add_argument("--only", action="append", default=[], metavar="RUN", help="run only these runs (repeatable)")
    r.add_argument("--scenario", action="append", default=[], metavar="NAME", help="only these scenarios")
    r.add_argument("--force", action="store_true", help="re-run steps even when nothing changed")
    r.add_argument("--out", type=Path, default=None, help="run folder (default: runs/<study> beside the study)")
    r.add_argument("--quiet", "-q", action="store_true")

    e = sub.add_parser("explain", parents=[common], help="explain a diagnostic code")
    e.add_argument("code", nargs="?", help="e.g. GAT0302; without it, list every code")

    sub.add_parser("doctor", parents=[common], help="report the solvers available")

    i = sub.add_parser("import", parents=[common], help="import a network file into canonical Parquet tables")
    i.add_argument("source", type=Path)
    i.add_argument("-o", "--output", type=Path, required=True)
    i.add_argument("--format", default=None, help="matpower, psse, opendss or tables (default: from the extension)")
    return p


def _print_diagnostics(sink: DiagnosticSink, sources: dict[str, str] | None = None) -> None:
    colour = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    ordered = sorted(sink, key=lambda d: (d.span.file if d.span else "", d.span.line if d.span else 0,
                                          d.span.column if d.span else 0))
    for d in ordered:
        text = (sources or {}).get(d.span.file) if d.span else None
        print(render(d, text, colour=colour), file=sys.stderr)
        print(file=sys.stderr)
    n_err = len(sink.errors)
    n_warn = len(sink.warnings)
    if n_err or n_warn:
        print(f"{n_err} error(s), {n_warn} warning(s)", file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    from gatlang.passes import check_program

    sink = DiagnosticSink()
    comp = check_program(args.study, sink)
    _print_diagnostics(sink, comp.program.sources if comp.program else None)
    failed = sink.has_errors or (args.warnings_as_errors and sink.warnings)
    if not failed:
        n = len(comp.program.runs) if comp.program else 0
        print(f"{args.study}: ok ({n} run(s); passes: {', '.join(comp.timings)})")
    return EXIT_ERRORS if failed else EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from gatlang.passes import Settings, run_program

    sink = DiagnosticSink()
    settings = Settings(only=tuple(args.only), scenarios=tuple(args.scenario), force=args.force,
                        quiet=args.quiet, out=args.out)
    comp = run_program(args.study, sink, settings)
    _print_diagnostics(sink, comp.program.sources if comp.program else None)
    if comp.store is not None:
        for step in comp.steps:
            rec = step.record
            obj = rec.get("objective")
            obj_text = f"objective {obj:.6g} {rec.get('objective_unit', '')}".rstrip() if obj is not None else ""
            state = "cached" if step.cached is not None else rec.get("status", "?")
            detail = rec.get("solve_status", "")
            if rec.get("optimality") in ("global", "local"):
                detail = f"{rec['optimality']} optimum"      # what `optimal` from the solver is worth
            summary = rec.get("summary") or {}
            if not detail and "converged" in summary:
                detail = f"{'converged' if summary['converged'] else 'diverged'} in {summary.get('iterations')} it"
            if not obj_text and "losses_mw" in summary:
                obj_text = f"losses {summary['losses_mw']:.6g} MW, vm {summary['min_vm_pu']:.4f}..{summary['max_vm_pu']:.4f} pu"

            print(f"  {step.label:<24} {state:<10} {detail:<16} {obj_text}")
        print(f"results: {comp.store.root}")
    return EXIT_ERRORS if sink.has_errors else EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    if not args.code:
        for page in all_codes():
            print(f"{page.code}  {page.name}")
        return EXIT_OK
    page = code_page(args.code)
    if page is None:
        from gatlang.diagnostics import did_you_mean
        known = [p.code for p in all_codes()]
        hint = did_you_mean(args.code.upper(), known)
        print(f"gatc: no such diagnostic code `{args.code}`" + (f"; {hint}" if hint else ""), file=sys.stderr)
        print("run `gatc explain` for the list of codes", file=sys.stderr)
        return EXIT_USAGE
    print(page.text.rstrip())
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from gatlang.backends.solver_registry import doctor_report

    print(f"gatc {__version__} (Python {sys.version.split()[0]})")
    print(doctor_report())
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from gatlang.network.importers import guess_kind, import_network
    from gatlang.network.tables import write_tables

    sink = DiagnosticSink()
    kind = args.format or guess_kind(args.source)
    if kind is None:
        print(f"gatc: cannot tell the format of {args.source}; pass --format matpower|psse|opendss|tables",
              file=sys.stderr)
        return EXIT_USAGE
    net = import_network(kind, args.source, {}, sink, None)
    if net is not None and not sink.has_errors:
        written = write_tables(net, args.output)
        print(f"wrote {len(written)} file(s) to {args.output}")
    _print_diagnostics(sink)
    return EXIT_ERRORS if sink.has_errors or net is None else EXIT_OK


COMMANDS = {"check": cmd_check, "run": cmd_run, "explain": cmd_explain, "doctor": cmd_doctor, "import": cmd_import}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except GatError as exc:  # a user error raised deep inside a pass
        sink = DiagnosticSink()
        sink.extend(exc.diagnostics)
        _print_diagnostics(sink)
        return EXIT_ERRORS
    except KeyboardInterrupt:
        print("gatc: interrupted; finished steps are kept in run.json", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if args.debug or os.environ.get("GATLANG_DEBUG"):
            traceback.print_exc()
        print(f"gatc: internal error ({type(exc).__name__}: {exc}). This is a bug in gatlang, not in your "
              f"study; please report it with the study file (rerun with --debug for the traceback).",
              file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["main", "Severity"]

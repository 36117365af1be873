"""ACP OPF on a large pglib case: time per compiler pass, compile/solve ratio, and pandapower's runopp.

    .venv/bin/python benchmarks/opf_passes.py [case1354_pegase] [--pandapower]

Prints the time of every pass of `gatc run` (parse ... emit), splits the
`lower` pass into Pyomo-to-solver hand-off and the solver's own time (the
Ipopt iterations, measured by cyipopt's intermediate callback clock), and the
ratio of compile time (parse -> model handed to the solver) to solver time.
With --pandapower, also times pandapower's AC OPF (PIPS) on the same file.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYOMO_CONFIG_DIR", str(ROOT / ".venv" / "pyomo"))
SHARED = Path(os.environ.get("GATLANG_SHARED_DATA", ROOT.parent / "shared" / "data"))


def run_gat(case_file: Path, profile: bool) -> tuple[dict[str, float], dict, float]:
    from gatlang.diagnostics import DiagnosticSink
    from gatlang.passes import Settings, run_program

    with tempfile.TemporaryDirectory() as tmp:
        study = Path(tmp) / "study.gat"
        study.write_text(f'study bench\nnetwork g = matpower("{case_file}")\n'
                         f'run opf ac on g {{ formulation = acp }}\n')
        sink = DiagnosticSink()
        prof = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if prof:
            prof.enable()
        comp = run_program(study, sink, Settings(quiet=True, force=True))
        if prof:
            prof.disable()
        total = time.perf_counter() - started
        if sink.has_errors:
            raise SystemExit("\n".join(str(d) for d in sink.errors))
        if prof:
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(25)
            print(s.getvalue())
        return dict(comp.timings), comp.steps[0].record, total


def run_pandapower(case_file: Path) -> tuple[float, float]:
    import pandapower as pp
    from pandapower.converter import from_mpc

    net = from_mpc(str(case_file), f_hz=50)
    started = time.perf_counter()
    pp.runopp(net, init="flat", calculate_voltage_angles=True)
    return time.perf_counter() - started, float(net.res_cost)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("case", nargs="?", default="case1354_pegase")
    ap.add_argument("--pandapower", action="store_true")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    case_file = SHARED / "pglib-opf" / f"pglib_opf_{args.case}.m"
    timings, record, total = run_gat(case_file, args.profile)
    solver_time = float(record.get("solver", {}).get("wall_time") or 0.0)
    lower = timings.get("lower", 0.0)
    compile_time = sum(v for k, v in timings.items() if k != "lower" and k != "emit") + max(lower - solver_time, 0.0)
    print(f"gatlang ACP OPF on {args.case}: objective {record.get('objective'):.6g} {record.get('objective_unit')}, "
          f"status {record.get('solve_status')}, {record.get('iterations')} iterations")
    for name, secs in timings.items():
        print(f"  pass {name:<13} {secs:8.3f} s")
    print(f"  solver call (hand-off + Ipopt) {solver_time:8.3f} s")
    print(f"  total wall                     {total:8.3f} s")
    print(f"  compile (parse -> model built) / solver call = {compile_time:.3f} / {solver_time:.3f} = "
          f"{compile_time / solver_time if solver_time else float('nan'):.2f}")
    if args.pandapower:
        pp_time, pp_cost = run_pandapower(case_file)
        print(f"pandapower runopp: {pp_time:.3f} s, cost {pp_cost:.6g}; gatlang end-to-end / pandapower = "
              f"{total / pp_time:.2f}")


if __name__ == "__main__":
    main()

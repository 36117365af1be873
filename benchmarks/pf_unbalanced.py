"""Unbalanced power flow: gatlang's solve vs the OpenDSS engine's solve, side by side.

Run: ``python benchmarks/pf_unbalanced.py [--repeat N]``.  For each feeder
(IEEE 123 from tests/data, the IEEE 8500-node feeder -- the largest in the
shared data -- from ../shared/data) it prints the wall time of

* OpenDSS: ``Solve`` after ``compile`` (snapshot with its regulator control;
  the engine builds its Y matrix inside the first solve), at the file's
  tolerance (1e-4) and at 1e-8;
* gatlang: ``solve_unbalanced`` on the imported network, first call (Y
  matrix built) and later calls (Y cached per network version), Newton and
  fixed point, tolerance 1e-8 (pu of 1 MVA);

and the ratio ours / OpenDSS.  Import (parsing) is excluded on both sides.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import opendssdirect as dss

from gatlang.diagnostics import DiagnosticSink
from gatlang.engines.pf3 import solve_unbalanced
from gatlang.network.opendss.importer import load_opendss

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GATLANG_SHARED_DATA", ROOT.parent / "shared" / "data"))
FEEDERS = {
    "ieee123": ROOT / "tests" / "data" / "opendss3" / "123Bus" / "IEEE123Master.dss",
    "ieee8500": SHARED / "opendss-ieee" / "IEEETestCases" / "8500-Node" / "Master.dss",
}


def engine_time(path: Path, tol: float | None, repeat: int) -> tuple[float, bool]:
    best, ok = float("inf"), False
    dss.Basic.AllowChangeDir(False)
    for _ in range(repeat):
        dss.Text.Command("clear")
        dss.Text.Command(f'compile "{path}"')
        dss.Text.Command("set maxiterations=100")
        if tol is not None:
            dss.Text.Command(f"set tolerance={tol}")
        t = time.perf_counter()
        dss.Solution.Solve()
        best = min(best, time.perf_counter() - t)
        ok = bool(dss.Solution.Converged())
    return best, ok


def ours_time(net, method: str, repeat: int) -> tuple[float, float, bool]:
    first = solve_unbalanced(net, method=method)
    later = min(solve_unbalanced(net, method=method).wall_time for _ in range(repeat))
    return first.wall_time, later, first.converged


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"{'feeder':10} {'solver':34} {'time s':>9} {'ratio':>7}  converged")
    for name, path in FEEDERS.items():
        if not path.exists():
            print(f"{name:10} (missing: {path})")
            continue
        ref, ref_ok = engine_time(path, None, args.repeat)
        ref8, ref8_ok = engine_time(path, 1e-8, args.repeat)
        print(f"{name:10} {'OpenDSS solve (tol 1e-4)':34} {ref:9.4f} {1.0:7.2f}  {ref_ok}")
        print(f"{name:10} {'OpenDSS solve (tol 1e-8)':34} {ref8:9.4f} {ref8 / ref:7.2f}  {ref8_ok}")
        net = load_opendss(path, DiagnosticSink())
        if net is None:
            print(f"{name:10} gatlang cannot import the feeder")
            continue
        for method in ("newton", "fixed_point"):
            first, later, ok = ours_time(net, method, args.repeat)
            print(f"{name:10} {'gatlang ' + method + ' (first, Y built)':34} {first:9.4f} {first / ref:7.2f}  {ok}")
            print(f"{name:10} {'gatlang ' + method + ' (Y cached)':34} {later:9.4f} {later / ref:7.2f}  {ok}")


if __name__ == "__main__":
    main()

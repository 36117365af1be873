"""Unbalanced power flow: gatlang's solve vs the OpenDSS engine's solve, side by side.

Run: ``python benchmarks/pf_unbalanced.py [--repeat N] [--methods fixed_point,newton] [--series]``.  For each feeder
(IEEE 123 from tests/data, the IEEE 8500-node feeder -- the largest in the
shared data -- from ../shared/data) it prints the wall time (best of N) of

* OpenDSS: ``Solve`` after ``compile`` (snapshot with its regulator and
  capacitor controls; the engine builds its Y matrix inside the first solve),
  ``maxiterations=100``, at the file's tolerance (1e-4) and at 1e-8 -- the
  engine's tolerance is the largest change of a node voltage between two
  iterations, in pu;
* gatlang: ``solve_unbalanced`` with each method at ``tol=1e-8`` -- the largest
  nodal current mismatch, pu of 1 MVA at the node's base -- once *cold* (a
  fresh copy of the network and empty primitive cache: Y, bases, load
  branches and factorisation all built inside the timed call) and once with
  the per-network-version cache warm (a study's later solves);

the ratio ours / OpenDSS at 1e-8, and the accuracy each reached: the largest
|V| difference (pu) from the engine solved at 1e-11 after its control loop.
Import (parsing) is excluded on both sides; so are branch flows and losses,
which gatlang computes on first access to the result (the engine computes
powers on request too).  Both sides run their regulator and capacitor
control loops.

The machine these run on is shared; timings move by 2x from run to run, so
compare the ratios of one run (engine and gatlang alternate per feeder); the
load average is printed before and after.  gatlang's first solve in a
process also loads its compiled kernels (numba, about 0.5 s, once per
process); best-of-N leaves that out, as it leaves out the engine's DLL load.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import opendssdirect as dss

from gatlang.diagnostics import DiagnosticSink
from gatlang.engines import pf3_cache
from gatlang.engines.pf3 import solve_unbalanced
from gatlang.network.model import Network
from gatlang.network.opendss.importer import load_opendss

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GATLANG_SHARED_DATA", ROOT.parent / "shared" / "data"))
FEEDERS = {
    "ieee123": ROOT / "tests" / "data" / "opendss3" / "123Bus" / "IEEE123Master.dss",
    "ieee8500": SHARED / "opendss-ieee" / "IEEETestCases" / "8500-Node" / "Master.dss",
}
TOL = 1e-8


def engine_solve(path: Path, tol: float | None) -> tuple[float, bool, dict[str, complex], dict[str, float]]:
    """(seconds for Solve, converged, node -> V, node -> base V) of one compile + solve."""
    dss.Basic.AllowChangeDir(False)
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    dss.Text.Command("set maxiterations=100")
    if tol is not None:
        dss.Text.Command(f"set tolerance={tol}")
    t = time.perf_counter()
    dss.Solution.Solve()
    el = time.perf_counter() - t
    names = [n.lower() for n in dss.Circuit.AllNodeNames()]
    raw = np.asarray(dss.Circuit.AllBusVolts())
    v = dict(zip(names, raw[0::2] + 1j * raw[1::2]))
    base = {}
    for bus in dss.Circuit.AllBusNames():
        dss.Circuit.SetActiveBus(bus)
        kv = dss.Bus.kVBase() * 1e3
        for node in dss.Bus.Nodes():
            base[f"{bus.lower()}.{node}"] = kv
    return el, bool(dss.Solution.Converged()), v, base


def error_pu(v: dict[str, complex], ref: dict[str, complex], base: dict[str, float]) -> float:
    keys = [k for k in ref if base.get(k)]
    return max(abs(abs(v[k]) - abs(ref[k])) / base[k] for k in keys)


def cold_copy(net: Network) -> Network:
    """The same tables in a new Network object: nothing cached for it yet."""
    pf3_cache._primitive.cache_clear()
    return Network(net.name, net.base_mva, net.frequency_hz, net.balanced, dict(net.tables))


#: the load multipliers of the `--series` study: a day's shape, 0.6 to 1.1
SERIES = 0.6 + 0.5 * np.sin(np.linspace(0.0, np.pi, 24)) ** 2


def engine_series(path: Path) -> tuple[float, str]:
    """(seconds, note) of the engine solving `SERIES` one after another: compile once, then
    ``set loadmult`` and ``Solve`` per point (Y built once; each solve starts from the last
    one's voltages and taps, as the engine does in a study)."""
    dss.Basic.AllowChangeDir(False)
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    dss.Text.Command("set maxiterations=100")
    dss.Text.Command(f"set tolerance={TOL}")
    t = time.perf_counter()
    try:
        for m in SERIES:
            dss.Text.Command(f"set loadmult={m}")
            dss.Solution.Solve()
    except Exception as exc:                  # the engine's own control-loop limit
        return time.perf_counter() - t, f"stopped: {str(exc).splitlines()[0]}"
    return time.perf_counter() - t, "ok"


def gatlang_series(net: Network) -> tuple[float, bool]:
    """(seconds, all converged) of `solve_unbalanced` over `SERIES` on one network (each solve
    from the no-load start and the file's taps; set-up cached after the first)."""
    net = cold_copy(net)
    t = time.perf_counter()
    ok = all(solve_unbalanced(net, load_scale=float(m), tol=TOL).converged for m in SERIES)
    return time.perf_counter() - t, ok


def series(repeat: int) -> None:
    """The 24-point study of `--series`, engine vs gatlang, best of ``repeat``."""
    print(f"\nseries: {len(SERIES)} solves at load multipliers {SERIES.min():.2f}..{SERIES.max():.2f} "
          "(controls on, tolerance as above), best of", repeat)
    for name, path in FEEDERS.items():
        if not path.exists():
            continue
        net = load_opendss(path, DiagnosticSink())
        gatlang_series(net)                         # compiled kernels loaded
        eng = min((engine_series(path) for _ in range(repeat)), key=lambda r: r[0])
        ours = min((gatlang_series(net) for _ in range(repeat)), key=lambda r: r[0])
        print(f"{name:9} OpenDSS {eng[0]:8.4f} s ({eng[1]})   gatlang {ours[0]:8.4f} s (converged: {ours[1]})   "
              f"ratio {ours[0] / eng[0]:5.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--methods", default="fixed_point,newton", help="gatlang methods, comma-separated")
    ap.add_argument("--series", action="store_true", help="also a 24-point load series per feeder (a study's "
                    "repeated solves: the engine keeps its Y, voltages and taps between them)")
    args = ap.parse_args()
    print(f"tolerances: OpenDSS = max voltage change per iteration (pu); gatlang = max nodal mismatch "
          f"(pu of 1 MVA), {TOL:g}; accuracy = max ||V| - |V_ref|| (pu), V_ref = OpenDSS at 1e-11")
    print("load average (1, 5, 15 min): " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"{'feeder':9} {'solver':36} {'time s':>8} {'ratio':>6} {'accuracy':>9}  conv")
    for name, path in FEEDERS.items():
        if not path.exists():
            print(f"{name:9} (missing: {path})")
            continue
        _, _, ref, base = engine_solve(path, 1e-11)
        rows = {}
        for tol in (None, TOL):
            runs = [engine_solve(path, tol) for _ in range(args.repeat)]
            t, ok, v, _ = min(runs, key=lambda r: r[0])
            rows[tol] = (t, ok, error_pu(v, ref, base))
        ref_t = rows[TOL][0]
        for tol, (t, ok, acc) in rows.items():
            label = f"OpenDSS Solve (tol {tol or 1e-4:g})"
            print(f"{name:9} {label:36} {t:8.4f} {t / ref_t:6.2f} {acc:9.1e}  {ok}")
        sink = DiagnosticSink()
        net = load_opendss(path, sink)
        if net is None:
            print(f"{name:9} gatlang cannot import the feeder")
            continue
        for method in args.methods.split(","):
            cold = min((solve_unbalanced(cold_copy(net), method=method, tol=TOL) for _ in range(args.repeat)),
                       key=lambda r: r.wall_time)
            warm_net = cold_copy(net)
            solve_unbalanced(warm_net, method=method, tol=TOL)
            warm = min((solve_unbalanced(warm_net, method=method, tol=TOL) for _ in range(args.repeat)),
                       key=lambda r: r.wall_time)
            for label, res in (("cold", cold), ("cached", warm)):
                acc = error_pu(dict(zip(res.nodes, res.v)), ref, base)
                print(f"{name:9} {f'gatlang {res.method} ({label})':36} {res.wall_time:8.4f} "
                      f"{res.wall_time / ref_t:6.2f} {acc:9.1e}  {res.converged}")
        sys.stdout.flush()
    if args.series:
        series(args.repeat)
    print("load average (1, 5, 15 min): " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()

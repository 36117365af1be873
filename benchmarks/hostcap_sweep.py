"""Hosting-capacity sweep on case33bw: gatlang's balanced sweep against the same loop in pandapower.

Run:  python benchmarks/hostcap_sweep.py [--repeat N] [--step-kw 10]

What is timed (best of N, after a warm-up of each so numba's JIT and imports
are not counted): finding the hosting capacity of every bus of case33bw at
half load, limits 0.95-1.05 pu, by raising a unity-power-factor injection by
``step`` until a voltage limit breaks.

* gatlang: ``BalancedHost`` (the case prepared once, one warm-started Newton
  solve per step) with the sweep of ``hostcap_sweep``, as `run hostcap` runs it.
* pandapower: the obvious script -- an ``sgen`` whose ``p_mw`` is raised and
  ``runpp(init="results")`` per step.

Both must give the same capacities (printed: largest difference in MW).
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.balanced import from_network
from gatlang.network.importers import import_network
from gatlang.workflows.hostcap_balanced import BalancedHost, slack_buses
from gatlang.workflows.hostcap_options import Limits
from gatlang.workflows.hostcap_sweep import sweep

CASE = Path(__file__).resolve().parents[1] / "tests" / "data" / "hostcap" / "case33bw.m"
LOAD = 0.5
MAX_MW = 10.0


def ours(step: float) -> dict[str, float]:
    sink = DiagnosticSink()
    case = from_network(import_network("matpower", CASE, {}, sink, None), sink)
    case.pd, case.qd = case.pd * LOAD, case.qd * LOAD
    host = BalancedHost(case, Limits(0.95, 1.05, None), 0.0, None)
    buses = [str(b) for b in case.bus_id if str(b) not in slack_buses(case)]
    return {b: sweep(host.evaluator(b), step, MAX_MW).capacity_mw for b in buses}


def pandapower(step: float) -> dict[str, float]:
    import pandapower as pp
    import pandapower.networks as pn

    out = {}
    for bus in range(1, 33):
        net = pn.case33bw()
        net.load[["p_mw", "q_mvar"]] *= LOAD
        g = pp.create_sgen(net, bus, p_mw=0.0)
        pp.runpp(net)
        good = 0.0
        for k in range(1, int(round(MAX_MW / step)) + 1):
            net.sgen.at[g, "p_mw"] = k * step
            pp.runpp(net, init="results")
            vm = net.res_bus.vm_pu
            if vm.max() > 1.05 + 1e-9 or vm.min() < 0.95 - 1e-9:
                break
            good = k * step
        out[str(bus + 1)] = good
    return out


def best(fn, repeat: int, *args):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - t)
    return min(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--step-kw", type=float, default=50.0)
    args = ap.parse_args()
    step = args.step_kw / 1e3
    warnings.simplefilter("ignore")
    ours(step), pandapower(step)                       # warm-up: imports, numba
    t_ours, caps = best(ours, args.repeat, step)
    t_pp, caps_pp = best(pandapower, args.repeat, step)
    diff = max(abs(caps[b] - caps_pp[b]) for b in caps)
    steps = sum(round(c / step) + 1 for c in caps.values())
    print(f"case33bw, {len(caps)} locations, step {args.step_kw:g} kW, {steps} power flows")
    print(f"gatlang     {t_ours * 1e3:9.1f} ms")
    print(f"pandapower  {t_pp * 1e3:9.1f} ms")
    print(f"ratio (pandapower / gatlang) {t_pp / t_ours:.1f}x; largest capacity difference {diff:.3g} MW")
    print(f"capacities (MW): min {min(caps.values()):.2f}, max {max(caps.values()):.2f}, "
          f"mean {np.mean(list(caps.values())):.2f}")


if __name__ == "__main__":
    main()

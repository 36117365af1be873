"""Balanced Newton power flow on case9241pegase: gatlang against pandapower's Newton (numba on).

Run:  python benchmarks/pf_balanced.py [--repeat N] [--case PATH]

What is timed (best of N, after one warm-up run of each, so numba's JIT and
imports are not counted):

* gatlang: ``solve_balanced(case, method="newton")`` (flat start, tol 1e-8 pu) and
  again with pandapower's defaults (DC start, 1e-8 MVA) - Ybus, bus roles, start
  point, the Newton iterations and the result (flows, generator outputs).
  Reading the MATPOWER file is timed separately.
* pandapower: ``pp.runpp(net, algorithm="nr", numba=True)`` in full, and the
  power-flow part pandapower itself reports (``net._ppc["et"]``), which leaves
  out its conversion of the network tables.

With ``--feeder N`` (default 2000) the backward-forward sweep is also timed on a
random radial feeder against pandapower's own sweep (``algorithm="bfsw"``).

Both are also checked to give the same answer on the same data: gatlang solves
pandapower's own internal case (``net._ppc``) and the largest complex voltage
difference is printed.  (pandapower's bundled copy of case9241pegase converts
four tap-changing branches differently from the MATPOWER file, so the file and
pandapower's network are not the same data; gatlang follows MATPOWER.)
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_CASE = ROOT.parent / "shared" / "data" / "matpower" / "data" / "case9241pegase.m"


def best_of(repeat: int, fn) -> tuple[float, object]:
    out, best = None, float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--case", type=Path, default=DEFAULT_CASE)
    ap.add_argument("--feeder", type=int, default=2000, metavar="N",
                    help="also time the sweep on a random radial feeder of N buses (0: skip)")
    args = ap.parse_args()

    import pandapower as pp
    import pandapower.networks as pn

    from gatlang.diagnostics import DiagnosticSink
    from gatlang.engines.pf_balanced import solve_balanced
    from gatlang.network.balanced import from_network
    from gatlang.network.matpower import load_matpower
    from tests.engines.pf_ppc_case import case_from_ppc

    sink = DiagnosticSink()
    t_load, case = best_of(1, lambda: from_network(load_matpower(args.case, sink), sink))
    solve_balanced(case)                                            # warm-up
    t_ours, res = best_of(args.repeat, lambda: solve_balanced(case, method="newton"))
    assert res.converged, [d.message for d in res.diagnostics]
    # pandapower's defaults: tolerance 1e-8 MVA (1e-10 pu on 100 MVA) and a DC start ("auto")
    tol_pp = 1e-8 / case.base_mva
    t_dc, res_dc = best_of(args.repeat, lambda: solve_balanced(case, method="newton", init="dc", tol=tol_pp))
    assert res_dc.converged

    net = pn.case9241pegase()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, algorithm="nr", numba=True)                  # warm-up (numba JIT)
        pp_iterations = net._ppc["iterations"]
        et: list[float] = []

        def run_pp():
            pp.runpp(net, algorithm="nr", numba=True)
            et.append(net._ppc["et"])
        t_pp, _ = best_of(args.repeat, run_pp)
    t_pp_pf = min(et)

    # same data, same answer: gatlang on pandapower's internal case
    same = case_from_ppc(net._ppc, "case9241pegase (pandapower ppc)")
    v_pp = net._ppc["bus"][:, 7] * np.exp(1j * np.deg2rad(net._ppc["bus"][:, 8]))
    diff = np.max(np.abs(solve_balanced(same).v - v_pp))

    print(f"case: {args.case.name}  buses {case.n_bus}  branches {case.n_branch}  generators {case.n_gen}")
    print(f"gatlang read + lower MATPOWER file      {t_load * 1e3:8.1f} ms")
    print(f"gatlang solve_balanced (newton, {res.iterations} it)    {t_ours * 1e3:8.1f} ms")
    print(f"pandapower runpp (nr, numba, {pp_iterations} it)      {t_pp * 1e3:8.1f} ms")
    print(f"pandapower power-flow part (_ppc['et']) {t_pp_pf * 1e3:8.1f} ms")
    print(f"gatlang newton, dc start, tol 1e-10 pu ({res_dc.iterations} it) {t_dc * 1e3:8.1f} ms")
    print(f"ratio gatlang / pandapower runpp        {t_ours / t_pp:8.2f}   (dc start: {t_dc / t_pp:.2f})")
    print(f"ratio gatlang / pandapower pf part      {t_ours / t_pp_pf:8.2f}   (dc start: {t_dc / t_pp_pf:.2f})")
    print(f"max |V_gatlang - V_pandapower| on pandapower's own case: {diff:.2e} pu")
    if args.feeder:
        radial_feeder(args.feeder, args.repeat)


def radial_feeder(n: int, repeat: int) -> None:
    """Sweep on a random radial feeder (tests/engines) against pandapower's own sweep ("bfsw")."""
    import pandapower as pp

    from gatlang.engines.pf_balanced import solve_balanced
    from tests.engines.pf_ppc_case import case_from_ppc
    from tests.engines.test_pf_random_feeders import random_feeder

    net = random_feeder(1, n)
    net.line["length_km"] *= 0.02            # keep a feeder this long within a feasible voltage drop
    net.load["p_mw"] *= 0.003
    net.load["q_mvar"] *= 0.003
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, algorithm="bfsw", tolerance_mva=1e-8)     # warm-up
        et: list[float] = []

        def run_pp():
            pp.runpp(net, algorithm="bfsw", tolerance_mva=1e-8)
            et.append(net._ppc["et"])
        t_pp, _ = best_of(repeat, run_pp)
    case = case_from_ppc(net._ppc, f"random feeder ({n} buses)")
    v_pp = net._ppc["bus"][:, 7] * np.exp(1j * np.deg2rad(net._ppc["bus"][:, 8]))
    solve_balanced(case, method="sweep")
    t_ours, res = best_of(repeat, lambda: solve_balanced(case, method="sweep"))
    print(f"\nradial feeder: {case.n_bus} buses")
    print(f"gatlang sweep ({res.iterations} it)                {t_ours * 1e3:8.1f} ms")
    print(f"pandapower runpp (bfsw)                 {t_pp * 1e3:8.1f} ms")
    print(f"pandapower power-flow part (_ppc['et']) {min(et) * 1e3:8.1f} ms")
    print(f"ratio gatlang / pandapower runpp        {t_ours / t_pp:8.3g}")
    print(f"max |V_gatlang - V_pandapower|          {np.max(np.abs(res.v - v_pp)):.2e} pu")


if __name__ == "__main__":
    main()

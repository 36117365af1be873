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

With ``--ieee13-opf``: the three-phase OPF (`method = opf`, acp_u, the whole
`run hostcap` through the compiler) on six IEEE 13 locations against the
OpenDSS engine stepping a Generator at each by ``step`` (default 10 kW) with
the regulators at the file's taps, until a voltage (0.95-1.05 pu, every phase
node) or current limit (lines: NormAmps; transformers: rated winding current)
breaks.  The engine's answer is a multiple of the step below the OPF's exact
one: the printed difference must be within one step.
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

CASE = Path(__file__).resolve().parents[1] / "examples" / "hostcap" / "case33bw.m"
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


IEEE13 = Path(__file__).resolve().parents[1] / "tests" / "data" / "opendss3" / "13Bus" / "IEEE13Nodeckt.dss"
SITES = ("675", "611", "634", "652", "646", "680")


def ours_opf3(_step: float) -> dict[str, float]:
    """`run hostcap` with method = opf on IEEE 13 (compile, import, one model, six solves, checks)."""
    import tempfile

    import pyarrow.parquet as pq

    from gatlang.passes import Settings, run_program

    with tempfile.TemporaryDirectory() as tmp:
        study = Path(tmp) / "hc.gat"
        study.write_text(f'study hc\nnetwork feeder = opendss("{IEEE13}")\nscenario light {{ load_scale = {LOAD} }}\n'
                         f"run hostcap pv on feeder {{\n    method = opf\n    phases = unbalanced\n"
                         f"    at = [{', '.join(SITES)}]\n    scenarios = [light]\n}}\n")
        sink = DiagnosticSink()
        run_program(study, sink, Settings(quiet=True))
        assert not sink.has_errors, [str(d) for d in sink.errors]
        t = pq.read_table(Path(tmp) / "runs" / "hc" / "pv" / "light" / "hostcap_summary.parquet").to_pydict()
    return dict(zip(t["location"], t["max_mw"]))


def _engine_within_limits(dss) -> bool:
    vm = np.asarray(dss.Circuit.AllBusMagPu())
    nodes = dss.Circuit.AllNodeNames()
    phase = np.asarray([int(n.rsplit(".", 1)[1]) for n in nodes])
    v = vm[(phase >= 1) & (phase <= 3)]
    if v.max() > 1.05 + 1e-9 or v.min() < 0.95 - 1e-9:
        return False
    for api in (dss.Lines, dss.Transformers):
        ok = api.First()
        while ok > 0:
            mags = np.asarray(dss.CktElement.CurrentsMagAng())[0::2]
            nc, nph = dss.CktElement.NumConductors(), dss.CktElement.NumPhases()
            for k, node in enumerate(dss.CktElement.NodeOrder()):
                if not 1 <= node <= 3:
                    continue
                if api is dss.Lines:
                    rated = dss.Lines.NormAmps()
                else:
                    dss.Transformers.Wdg(k // nc + 1)
                    rated = dss.Transformers.kVA() / (nph * dss.Transformers.kV() / (np.sqrt(3) if nph > 1 else 1))
                if mags[k] > rated * (1 + 1e-9):
                    return False
            ok = api.Next()
    return True


def engine_sweep3(step: float) -> dict[str, float]:
    """The OpenDSS engine: per site, a Generator raised by `step` until a limit breaks (taps fixed)."""
    import opendssdirect as dss

    out = {}
    for bus in SITES:
        dss.Text.Command("clear")
        dss.Text.Command(f'compile "{IEEE13}"')
        for reg in ("reg1", "reg2", "reg3"):
            dss.Text.Command(f"transformer.{reg}.taps=[1 1]")
        dss.Text.Command(f"set loadmult={LOAD}")
        dss.Text.Command("set controlmode=off")
        dss.Circuit.SetActiveBus(bus)
        phases = [int(n) for n in dss.Bus.Nodes() if 1 <= n <= 3]
        kv = dss.Bus.kVBase() * (np.sqrt(3) if len(phases) > 1 else 1.0)
        dss.Text.Command(f"new generator.der bus1={bus}.{'.'.join(map(str, phases))} phases={len(phases)} "
                         f"kv={kv:.6g} kw=0 pf=1 model=1")
        good = 0.0
        for k in range(1, int(round(MAX_MW / step)) + 1):
            dss.Text.Command(f"generator.der.kw={k * step * 1e3:.9g}")
            dss.Solution.Solve()
            if not (dss.Solution.Converged() and _engine_within_limits(dss)):
                break
            good = k * step
        out[bus] = good
    return out


def main_opf3(repeat: int, step: float) -> None:
    ours_opf3(step), engine_sweep3(step)
    t_ours, caps = best(ours_opf3, repeat, step)
    t_eng, caps_eng = best(engine_sweep3, repeat, step)
    print(f"IEEE 13, {len(caps)} locations, {LOAD:g} load, regulators at the file's taps")
    print(f"gatlang acp_u OPF (whole run)   {t_ours:8.2f} s")
    print(f"OpenDSS engine, {step * 1e3:g} kW steps     {t_eng:8.2f} s")
    print(f"ratio (engine / gatlang) {t_eng / t_ours:.2f}x")
    for b in SITES:
        print(f"  {b:>4}: OPF {caps[b]:.4f} MW, engine {caps_eng[b]:.3f} MW, OPF - engine {caps[b] - caps_eng[b]:+.4f}")
    worst = max(caps[b] - caps_eng[b] for b in SITES)
    print(f"within one step: {all(0 <= caps[b] - caps_eng[b] < step + 1e-9 for b in SITES)} (largest gap {worst:.4f} MW)")


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
    ap.add_argument("--step-kw", type=float, default=None, help="50 kW; 10 kW with --ieee13-opf")
    ap.add_argument("--ieee13-opf", action="store_true", help="three-phase OPF against the OpenDSS engine")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    if args.ieee13_opf:
        main_opf3(args.repeat, (args.step_kw or 10.0) / 1e3)
        return
    args.step_kw = args.step_kw or 50.0
    step = args.step_kw / 1e3
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

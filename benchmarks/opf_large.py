"""LinDistFlow and DC OPF on a synthetic 10,000+ bus radial feeder, 24 load periods: compile vs solve.

    .venv/bin/python benchmarks/opf_large.py [--buses 10001] [--periods 24] [--formulations lindistflow,dcp]
                                            [--format tables|matpower] [--keep DIR]

PROFILE FINDINGS (``python -m cProfile benchmarks/opf_large.py --periods 2``:
2 LinDistFlow + 2 DC steps, 54.5 s under the profiler):

* elaborate 30.9 s (57 %): ``ModelBuilder._constraint`` 22.7 s -- one
  closure call per AST node per row, Pyomo expression objects built by
  operator overloading (``quicksum`` 108k calls, ``__add__``/``__sub__``,
  ``Var.__getitem__`` 366k calls), each `expr` memoised per element.
  Python's cyclic garbage collector is a large part of it: the run keeps
  every step's Pyomo model alive, and full collections walk the whole heap
  (``--gc off`` cut the study's CPU from 13.9 s to 10.2 s, elaborate's CPU
  from 8.1 to 5.5 s (LinDistFlow) and 2.6 to 1.3 s (DC) on 2 periods).
* hand-off into HiGHS (``highs_direct.load``) 12.1 s (22 %): the linear walk
  of 100k row bodies and ``to_bounded_expression`` per row (which rebuilt
  ``lhs - rhs`` for every row with variables on both sides; the loader now
  reads the relation directly, :func:`gatlang.backends.linear_walk.linear_row`:
  CPU per 30k-row LinDistFlow load 0.45 -> 0.35 s, median of 7).
* emit 6.9 s (13 %): ``element_tables`` evaluates 100k `expr` trees with
  ``pyo.value`` (``dfs_postorder_stack``).
* HiGHS itself 1.4 s (3 %); one-time ``scipy.stats`` import 2.0 s.

What would cut it: (1) elaborate linear statements straight into sparse
arrays (coefficients from the NetView's index arrays, one numpy expression
per statement, not per row) and hand them to
``gatlang.backends.matrix.solve_matrix``, which already takes arrays
(``benchmarks/handoff_lp.py``: 100k rows numpy -> highspy 0.04 s vs 1.0 s
through Pyomo); (2) for periods that differ only by ``load_scale``, build
once and change the row bounds per period (HiGHS ``changeRowsBounds``,
warm-started): 23 of 24 compiles would go; (3) pause the garbage collector
while a model is built (Pyomo's own writers use ``PauseGC``) and release
each step's model after emit; (4) emit the per-element values from arrays.

IMPORTANT: the language has no time index yet, so the "24-period" study is
**24 single-period solves** (one `scenario` per hour with its own
`load_scale`, listed in the run's `scenarios = [...]`), not one multi-period
model: every period is elaborated and handed to the solver on its own.

What is measured, per period and in total, for each formulation:

* compile = the step's `elaborate` pass (scenario applied to the network,
  NetView, Pyomo model built from the stdlib formulation) + the hand-off of
  that model into HiGHS (gatlang.backends.highs_direct.load);
* solve   = HiGHS's own run + loading the values back into the model;
* emit    = result tables written (Parquet) and the run.json record.
The program passes (parse, resolve, check, capabilities) run once for the
whole study and are reported separately; the network is imported once (in
the first step's `elaborate`) and cached for the other 23 steps.

The feeder (:func:`synthetic_feeder`, deterministic for a given seed): one
substation bus (the reference; a grid supply with a linear cost of 50 $/MWh)
feeding ``feeders`` radial 12.47 kV feeders built as random recursive trees
(a new bus extends the current lateral with probability 0.7, otherwise it
branches off a random earlier bus of the same feeder), every feeder bus with a
load of 5-40 kW at power factor 0.95, and a distributed generator on every
25th feeder bus (50-300 kW, |q| <= 0.44 p_max, 5-30 $/MWh).  Branch
impedances are 0.306 + j0.627 ohm/km (336 ACSR-like) on 50-300 m segments,
then every length is scaled so the deepest bus's LinDistFlow voltage drop at
full load, with no generation, is 7 % (feasible only because the substation
voltage may rise to 1.05 pu).  Branches are unrated (so LinDistFlow stays an
LP; its thermal limits would be quadratic) and have no angle limits.  The
hourly load profile :data:`PROFILE` is a typical residential day (0.45 at
4 h, 1.0 at 19 h).  Written as a MATPOWER file, then (``--format tables``,
the default) converted to gatlang's Parquet tables with
``gatlang.network.tables.write_tables`` so that the study reads
``tables("...")``.

Oracle: with lossless flows, no thermal limits and every generator cheaper
than the substation supply, the DC OPF optimum is the merit-order dispatch
(every DG at p_max, the substation supplies the rest), so its cost has a
closed form, :func:`merit_order_cost`, printed beside gatlang's objective for
every period.  LinDistFlow is lossless too: its cost equals the closed form
unless voltage limits curtail DG (then it is higher, never lower).
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYOMO_CONFIG_DIR", str(ROOT / ".venv" / "pyomo"))

#: Hourly load multipliers of a typical residential day (hours 1..24).
PROFILE = np.array([0.55, 0.50, 0.47, 0.45, 0.46, 0.52, 0.64, 0.74, 0.76, 0.74, 0.72, 0.71,
                    0.70, 0.69, 0.70, 0.74, 0.82, 0.93, 1.00, 0.98, 0.92, 0.82, 0.70, 0.61])

BASE_KV = 12.47
BASE_MVA = 100.0
SUBSTATION_COST = 50.0  # $/MWh
R_PER_KM, X_PER_KM = 0.306, 0.627  # ohm/km


@dataclass
class Feeder:
    """A synthetic feeder as MATPOWER-like arrays (bus 1 is the substation; buses numbered 1..n)."""

    parent: np.ndarray      # parent[i] for bus i+1 >= 2 (1-based bus numbers), length n-1
    r_pu: np.ndarray        # branch to bus i+2 from its parent
    x_pu: np.ndarray
    pd_mw: np.ndarray       # per bus (bus 1: 0)
    qd_mvar: np.ndarray
    dg_bus: np.ndarray      # 1-based
    dg_pmax: np.ndarray     # MW
    dg_cost: np.ndarray     # $/MWh

    @property
    def n_bus(self) -> int:
        return len(self.pd_mw)


def _tree(n_bus: int, feeders: int, rng: np.random.Generator) -> np.ndarray:
    """Parents (1-based) of buses 2..n: `feeders` random recursive trees hanging off bus 1."""
    parent = np.empty(n_bus - 1, dtype=np.int64)
    sizes = np.full(feeders, (n_bus - 1) // feeders)
    sizes[: (n_bus - 1) % feeders] += 1
    start = 2
    for size in sizes:  # a few thousand scalar draws per feeder: generator only, not a hot path
        buses = np.arange(start, start + size)
        extend = rng.random(size) < 0.7
        parent[start - 2] = 1
        for k in range(1, size):
            parent[start - 2 + k] = buses[k - 1] if extend[k] else buses[rng.integers(0, k)]
        start += size
    return parent


def _drops(parent: np.ndarray, r: np.ndarray, x: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """LinDistFlow squared-voltage drop 2 * sum_path (r P + x Q) at every bus (root: 0).

    Relies on parent < child (true of :func:`_tree`), so one backward sweep
    accumulates downstream loads and one forward sweep the path sums.
    """
    n = len(p)
    P, Q = p.copy(), q.copy()
    for i in range(n - 1, 0, -1):
        P[parent[i - 1] - 1] += P[i]
        Q[parent[i - 1] - 1] += Q[i]
    drop = np.zeros(n)
    for i in range(1, n):
        drop[i] = drop[parent[i - 1] - 1] + 2.0 * (r[i - 1] * P[i] + x[i - 1] * Q[i])
    return drop


def synthetic_feeder(n_bus: int = 10_001, feeders: int = 40, seed: int = 20240601,
                     target_drop: float = 0.07) -> Feeder:
    """The deterministic feeder described in the module docstring."""
    rng = np.random.default_rng(seed)
    parent = _tree(n_bus, feeders, rng)
    length = rng.uniform(0.05, 0.3, n_bus - 1)
    zbase = BASE_KV ** 2 / BASE_MVA
    pd = np.concatenate([[0.0], rng.uniform(0.005, 0.040, n_bus - 1)])
    qd = pd * np.tan(np.arccos(0.95))
    r, x = length * R_PER_KM / zbase, length * X_PER_KM / zbase
    worst = _drops(parent, r, x, pd / BASE_MVA, qd / BASE_MVA).max()   # w = v^2 drop
    scale = (1.0 - (1.0 - target_drop) ** 2) / worst
    dg_bus = np.arange(2, n_bus + 1)[::25]
    return Feeder(parent, r * scale, x * scale, pd, qd, dg_bus,
                  rng.uniform(0.05, 0.3, len(dg_bus)), rng.uniform(5.0, 30.0, len(dg_bus)))


def matpower_text(f: Feeder) -> str:
    """The feeder as a MATPOWER version-2 case (every number written by numpy, not by hand)."""
    n = f.n_bus
    btype = np.ones(n, dtype=int)
    btype[f.dg_bus - 1] = 2
    btype[0] = 3
    bus = np.column_stack([np.arange(1, n + 1), btype, f.pd_mw, f.qd_mvar, np.zeros(n), np.zeros(n),
                           np.ones(n), np.ones(n), np.zeros(n), np.full(n, BASE_KV), np.ones(n),
                           np.full(n, 1.05), np.full(n, 0.95)])
    ng = len(f.dg_bus) + 1
    gbus = np.concatenate([[1], f.dg_bus])
    pmax = np.concatenate([[1000.0], f.dg_pmax])
    pmin = np.concatenate([[-1000.0], np.zeros(ng - 1)])
    qmax = np.concatenate([[1000.0], 0.44 * f.dg_pmax])
    gen = np.column_stack([gbus, np.zeros(ng), np.zeros(ng), qmax, -qmax, np.ones(ng), np.full(ng, BASE_MVA),
                           np.ones(ng), pmax, pmin])
    cost = np.concatenate([[SUBSTATION_COST], f.dg_cost])
    gencost = np.column_stack([np.full(ng, 2), np.zeros(ng), np.zeros(ng), np.full(ng, 3), np.zeros(ng), cost,
                               np.zeros(ng)])
    nb = n - 1
    branch = np.column_stack([f.parent, np.arange(2, n + 1), f.r_pu, f.x_pu, np.zeros(nb), np.zeros((nb, 3)),
                              np.zeros(nb), np.zeros(nb), np.ones(nb), np.full(nb, -360.0), np.full(nb, 360.0)])

    def block(name: str, rows: np.ndarray, fmt: str) -> str:
        body = "\n".join("\t" + "\t".join(fmt % v for v in row) + ";" for row in rows)
        return f"mpc.{name} = [\n{body}\n];\n"

    return ("% synthetic radial feeder written by benchmarks/opf_large.py (see its docstring)\n"
            "function mpc = synthetic_feeder\nmpc.version = '2';\n"
            f"mpc.baseMVA = {BASE_MVA};\n"
            + block("bus", bus, "%.10g") + block("gen", gen, "%.10g")
            + block("branch", branch, "%.10g") + block("gencost", gencost, "%.10g"))


def merit_order_cost(f: Feeder, load_scale: float) -> float:
    """DC OPF optimum in closed form: every DG at p_max, the substation supplies the balance ($/h)."""
    return float(f.dg_cost @ f.dg_pmax + SUBSTATION_COST * (load_scale * f.pd_mw.sum() - f.dg_pmax.sum()))


def write_network(f: Feeder, directory: Path, fmt: str) -> str:
    """Write the feeder; return the study's network source expression."""
    case = directory / "feeder.m"
    case.write_text(matpower_text(f))
    if fmt == "matpower":
        return f'matpower("{case}")'
    from gatlang.diagnostics import DiagnosticSink
    from gatlang.network.matpower import load_matpower
    from gatlang.network.tables import write_tables

    sink = DiagnosticSink()
    net = load_matpower(case, sink)
    if net is None or sink.has_errors:
        raise SystemExit("\n".join(str(d) for d in sink.errors))
    write_tables(net, directory / "tables")
    return f'tables("{directory / "tables"}")'


def study_text(source: str, formulations: list[str], periods: int) -> str:
    names = [f"h{h:02d}" for h in range(1, periods + 1)]
    lines = ["study feeder24", f"network feeder = {source}"]
    lines += [f"scenario {n} {{ load_scale = {PROFILE[i]} }}" for i, n in enumerate(names)]
    for form in formulations:
        lines.append(f"run opf {form} on feeder {{\n    formulation = {form}\n    objective = cost\n"
                     f"    scenarios = [{', '.join(names)}]\n}}")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--buses", type=int, default=10_001)
    ap.add_argument("--feeders", type=int, default=40)
    ap.add_argument("--periods", type=int, default=24)
    ap.add_argument("--formulations", default="lindistflow,dcp")
    ap.add_argument("--format", choices=("tables", "matpower"), default="matpower")
    ap.add_argument("--gc", choices=("on", "off"), default="on",
                    help="off: Python's cyclic garbage collector disabled for the study (an experiment: what "
                         "pausing it while models are built, as Pyomo's own writers do with PauseGC, would save)")
    ap.add_argument("--keep", type=Path, help="write the feeder and the study here instead of a temp dir")
    args = ap.parse_args()
    forms = args.formulations.split(",")

    from gatlang.diagnostics import DiagnosticSink
    from gatlang.passes import Settings, run_program

    started = time.perf_counter()
    feeder = synthetic_feeder(args.buses, args.feeders)
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="gat_opf_large_"))
    tmp.mkdir(parents=True, exist_ok=True)
    study = tmp / "study.gat"
    study.write_text(study_text(write_network(feeder, tmp, args.format), forms, args.periods))
    print(f"synthetic feeder: {feeder.n_bus} buses, {feeder.n_bus - 1} branches, {len(feeder.dg_bus) + 1} generators, "
          f"{args.feeders} feeders; written as {args.format} in {time.perf_counter() - started:.1f} s ({tmp})")
    print(f"NOTE: {args.periods} periods = {args.periods} SINGLE-PERIOD solves (one scenario per hour), "
          f"not one multi-period model: the language has no time index yet.")

    sink = DiagnosticSink()
    gc_time = _count_gc()
    _time_cpu_per_pass()
    if args.gc == "off":
        gc.disable()
    started, cpu = time.perf_counter(), time.process_time()
    comp = run_program(study, sink, Settings(quiet=True, force=True))
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    if sink.has_errors:
        raise SystemExit("\n".join(str(d) for d in sink.errors[:5]))
    program = {k: comp.timings.get(k, 0.0) for k in ("parse", "resolve", "check", "capabilities")}
    print(f"program passes (once): " + ", ".join(f"{k} {v:.3f} s" for k, v in program.items()))
    report(comp.steps, feeder, forms)
    print(f"whole study: wall {total:.1f} s, process CPU {cpu:.1f} s (wall > CPU means the machine was shared), "
          f"of which Python's garbage collector {gc_time[0]:.1f} s in {gc_time[1]} full collections")


def _count_gc() -> list:
    """[seconds, count] of full (generation 2) garbage collections from now on.

    Why: every step's Pyomo model stays referenced until the study ends, so
    the heap grows by tens of MB per period and each full collection walks
    all of it; this shows whether that is where time goes.
    """
    acc = [0.0, 0]
    start = [0.0]

    def callback(phase: str, info: dict) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            start[0] = time.perf_counter()
        else:
            acc[0] += time.perf_counter() - start[0]
            acc[1] += 1

    gc.callbacks.append(callback)
    return acc


def _time_cpu_per_pass() -> None:
    """Record each step pass's process CPU seconds in ``step.record["cpu"]`` (benchmark-only wrapper).

    gatlang times passes by the wall clock; on a shared machine the CPU
    time is the steadier measure, so both are printed.
    """
    import gatlang.passes as passes

    def timed(name: str, fn):
        def run(c, step) -> None:
            started = time.process_time()
            try:
                fn(c, step)
            finally:
                step.record.setdefault("cpu", {})[name] = time.process_time() - started
        return run

    passes.STEP_PASSES = tuple((name, timed(name, fn)) for name, fn in passes.STEP_PASSES)


def report(steps: list, feeder: Feeder, forms: list[str]) -> None:
    """Per-period and total compile / solve / emit, and the closed-form check, per formulation."""
    for form in forms:
        rows = [s for s in steps if s.run.name == form]
        print(f"\n{form}: {rows[0].record.get('model', {})}")
        print(f"  {'':<12} {'---------- wall seconds ----------':^41} {'-- CPU seconds --':^17}")
        print(f"  {'period':<6} {'scale':>5} {'elab':>7} {'handoff':>7} {'compile':>7} {'solve':>7} {'emit':>6} "
              f"{'elab':>8} {'lower':>8} {'solver':>6} {'class':>5} {'objective $/h':>14} {'merit order':>14} "
              f"{'rel.diff':>9}")
        tot = np.zeros(7)
        worst = 0.0
        for i, s in enumerate(rows):
            t = s.record.get("timings", {})
            solver = s.record.get("solver", {})
            st = solver.get("timings", {})
            handoff = st.get("handoff", 0.0)
            solve = st.get("solve", 0.0) + st.get("load", 0.0)
            elab = t.get("elaborate", 0.0)
            cpu = s.record.get("cpu", {})
            vals = np.array([elab, handoff, elab + handoff, solve, t.get("emit", 0.0),
                             cpu.get("elaborate", np.nan), cpu.get("lower", np.nan)])
            tot += vals
            scale = PROFILE[i]
            obj = s.record.get("objective")
            ref = merit_order_cost(feeder, scale)
            rel = abs(obj - ref) / abs(ref) if obj is not None else float("nan")
            worst = max(worst, rel) if form == "dcp" else worst
            print(f"  {s.scenario:<6} {scale:5.2f} " + " ".join(f"{v:7.2f}" for v in vals[:4])
                  + f" {vals[4]:6.2f} {vals[5]:8.2f} {vals[6]:8.2f} {solver.get('name', '?'):>6} "
                  f"{solver.get('problem_class', '?'):>5} "
                  f"{obj if obj is not None else float('nan'):14.2f} {ref:14.2f} {rel:9.2e}")
        print(f"  {'total':<6} {'':>5} " + " ".join(f"{v:7.2f}" for v in tot[:4]) + f" {tot[4]:6.2f}"
              f" {tot[5]:8.2f} {tot[6]:8.2f}")
        n = len(rows)
        print(f"  {form}: compile / solve = {tot[2]:.1f} s / {tot[3]:.1f} s = {tot[2] / tot[3]:.1f}x "
              f"(elaborate {tot[0]:.1f} s, hand-off {tot[1]:.1f} s); per period: compile {tot[2] / n:.2f} s, "
              f"solve {tot[3] / n:.2f} s; CPU: elaborate {tot[5]:.1f} s vs lower (hand-off + solve) {tot[6]:.1f} s")
        if form == "dcp":
            print(f"  dcp objective vs closed-form merit order: worst relative difference {worst:.1e}")


if __name__ == "__main__":
    main()

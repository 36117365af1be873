"""Hand-off benchmark: a 100k-row DC-OPF-like LP from Pyomo into HiGHS, several ways.

Why: on large LPs the slow part is handing the Pyomo model to the solver, not
the solve (DESIGN.md).  This script builds one synthetic network LP twice:
as a Pyomo model (what the compiler produces) and as the same sparse matrix
in numpy (what the compiler's index arrays hold), then times

* ``gatlang``    : :func:`gatlang.backends.solvers.solve` (its default LP path),
* ``contrib``    : Pyomo's ``pyomo.contrib.solver`` 'highs' persistent interface,
* ``appsi``      : Pyomo's older APPSI 'highs' persistent interface,
* ``lp-file``    : Pyomo's LP writer + ``Highs.readModel``,
* ``highspy``    : the numpy matrix straight into highspy (the reference),
* ``matrix``     : :func:`gatlang.backends.matrix.solve_matrix` on those arrays,

splitting each into hand-off and solve, and prints the hand-off's ratio to
the reference.  The optimal objectives are printed too: they must agree.

Run:  python benchmarks/handoff_lp.py [--rows 100000] [--skip contrib,lp-file] [--handoff-only]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gatlang.backends import solver_env  # noqa: E402,F401  (before Pyomo)

import highspy  # noqa: E402
import pyomo.environ as pe  # noqa: E402


def network(n_bus: int, seed: int = 1) -> dict[str, np.ndarray]:
    """A connected random network: a spanning tree plus 20% extra lines, generators on 10% of buses."""
    rng = np.random.default_rng(seed)
    tree_to = np.arange(1, n_bus)
    tree_from = rng.integers(0, tree_to)  # each bus hangs off an earlier one: a tree
    extra = n_bus // 5
    ex_from, ex_to = rng.integers(0, n_bus, extra), rng.integers(0, n_bus, extra)
    keep = ex_from != ex_to
    f = np.concatenate([tree_from, ex_from[keep]])
    t = np.concatenate([tree_to, ex_to[keep]])
    n_line = len(f)
    gens = np.sort(rng.choice(n_bus, n_bus // 10, replace=False))
    load = rng.uniform(0.0, 1.0, n_bus)
    return {"f": f, "t": t, "b": rng.uniform(5, 20, n_line), "rate": np.full(n_line, 1e3),
            "gen_bus": gens, "pmax": np.full(len(gens), 30.0), "cost": rng.uniform(10, 50, len(gens)),
            "load": load, "n_bus": np.array(n_bus)}


def pyomo_model(net: dict[str, np.ndarray]) -> pe.ConcreteModel:
    """DC OPF: balance[b] (one row per bus) and flow[l] (one row per line), theta[0] = 0."""
    n_bus, f, t = int(net["n_bus"]), net["f"], net["t"]
    out_lines = [[] for _ in range(n_bus)]
    in_lines = [[] for _ in range(n_bus)]
    for l, (a, b) in enumerate(zip(f.tolist(), t.tolist())):
        out_lines[a].append(l)
        in_lines[b].append(l)
    gens_at = [[] for _ in range(n_bus)]
    for g, b in enumerate(net["gen_bus"].tolist()):
        gens_at[b].append(g)
    m = pe.ConcreteModel()
    m.B = pe.RangeSet(0, n_bus - 1)
    m.L = pe.RangeSet(0, len(f) - 1)
    m.G = pe.RangeSet(0, len(net["gen_bus"]) - 1)
    m.theta = pe.Var(m.B, bounds=lambda m, b: (0, 0) if b == 0 else (-100, 100))
    m.p = pe.Var(m.L, bounds=lambda m, l: (-net["rate"][l], net["rate"][l]))
    m.pg = pe.Var(m.G, bounds=lambda m, g: (0, net["pmax"][g]))
    bb, load = net["b"], net["load"]
    m.balance = pe.Constraint(m.B, rule=lambda m, b: sum(m.pg[g] for g in gens_at[b])
                              - sum(m.p[l] for l in out_lines[b]) + sum(m.p[l] for l in in_lines[b])
                              == load[b])
    m.flow = pe.Constraint(m.L, rule=lambda m, l: m.p[l] - bb[l] * (m.theta[f[l]] - m.theta[t[l]]) == 0)
    m.cost = pe.Objective(expr=sum(net["cost"][g] * m.pg[g] for g in m.G))
    return m


Timing = tuple[float, float, float]  # (hand-off seconds, solve seconds, objective)


#: HiGHS options used by every method; ``--handoff-only`` sets time_limit = 0 so that only the
#: hand-off is exercised (this DC-OPF LP takes HiGHS minutes at 100k rows; the hand-off is the topic).
HIGHS_OPTIONS: dict[str, float] = {}


def _run(h: highspy.Highs) -> tuple[float, float]:
    started = time.perf_counter()
    for key, val in HIGHS_OPTIONS.items():
        h.setOptionValue(key, val)
    h.run()
    return time.perf_counter() - started, h.getInfo().objective_function_value


def dc_opf_arrays(net: dict[str, np.ndarray]) -> dict[str, Any]:
    """The DC-OPF LP as arrays, built in bulk from the network's index arrays (what a compiler IR holds)."""
    import scipy.sparse as sp

    n_bus, f, t, b = int(net["n_bus"]), net["f"], net["t"], net["b"]
    n_line, n_gen = len(f), len(net["gen_bus"])
    th, p, pg = 0, n_bus, n_bus + n_line  # column blocks: theta, p, pg
    n_col = n_bus + n_line + n_gen
    lines = np.arange(n_line)
    rows = np.concatenate([net["gen_bus"], f, t,                            # balance rows
                           n_bus + lines, n_bus + lines, n_bus + lines])     # flow rows
    cols = np.concatenate([pg + np.arange(n_gen), p + lines, p + lines, p + lines, th + f, th + t])
    vals = np.concatenate([np.ones(n_gen), -np.ones(n_line), np.ones(n_line), np.ones(n_line), -b, b])
    rhs = np.concatenate([net["load"], np.zeros(n_line)])
    return {"cost": np.concatenate([np.zeros(n_bus + n_line), net["cost"]]),
            "A": sp.csr_matrix((vals, (rows, cols)), shape=(n_bus + n_line, n_col)),
            "row_lower": rhs, "row_upper": rhs.copy(),
            "col_lower": np.concatenate([np.r_[0.0, np.full(n_bus - 1, -100.0)], -net["rate"], np.zeros(n_gen)]),
            "col_upper": np.concatenate([np.r_[0.0, np.full(n_bus - 1, 100.0)], net["rate"], net["pmax"]])}


def highspy_direct(net: dict[str, np.ndarray]) -> Timing:
    """The same LP assembled from the numpy arrays in bulk (the reference)."""
    started = time.perf_counter()
    lp = dc_opf_arrays(net)
    A = lp["A"]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    empty = np.array([], np.int32)
    h.addCols(A.shape[1], lp["cost"], lp["col_lower"], lp["col_upper"], 0, empty, empty, np.array([]))
    h.addRows(A.shape[0], lp["row_lower"], lp["row_upper"], A.nnz, A.indptr.astype(np.int32),
              A.indices.astype(np.int32), A.data)
    handoff = time.perf_counter() - started
    return (handoff, *_run(h))


def via_matrix(net: dict[str, np.ndarray]) -> Timing:
    """gatlang's array route (backends/matrix.py): the same arrays, with gatlang's checks and outcomes."""
    from gatlang.backends.matrix import MatrixProgram, solve_matrix

    started = time.perf_counter()
    r = solve_matrix(MatrixProgram(**dc_opf_arrays(net)), options=HIGHS_OPTIONS)
    total = time.perf_counter() - started
    return total - r.timings["solve"], r.timings["solve"], r.objective


def via_gatlang(model: pe.ConcreteModel) -> Timing:
    """solve(): classify + choose + options + direct loader + run + load values."""
    from gatlang.backends.solvers import solve

    started = time.perf_counter()
    r = solve(model, options=HIGHS_OPTIONS)
    total = time.perf_counter() - started
    assert r.ok or HIGHS_OPTIONS, r.message
    return total - r.timings["solve"], r.timings["solve"], r.objective


def via_contrib(model: pe.ConcreteModel) -> Timing:
    """pyomo.contrib.solver 'highs' (persistent): set_instance, then solve (which also loads values)."""
    from pyomo.contrib.solver.solvers.highs import Highs

    started = time.perf_counter()
    opt = Highs()
    opt.set_instance(model)
    handoff = time.perf_counter() - started
    t = time.perf_counter()
    res = opt.solve(model, solver_options=dict(HIGHS_OPTIONS), raise_exception_on_nonoptimal_result=False,
                    load_solutions=not HIGHS_OPTIONS)
    solve_and_load = time.perf_counter() - t
    return handoff, solve_and_load, res.incumbent_objective


def via_appsi(model: pe.ConcreteModel) -> Timing:
    """Pyomo's older APPSI 'highs' persistent interface: set_instance, then solve."""
    from pyomo.contrib.appsi.solvers.highs import Highs

    started = time.perf_counter()
    opt = Highs()
    opt.config.load_solution = False
    opt.highs_options.update(HIGHS_OPTIONS)
    opt.set_instance(model)
    handoff = time.perf_counter() - started
    t = time.perf_counter()
    res = opt.solve(model)
    return handoff, time.perf_counter() - t, res.best_feasible_objective


def via_lp_file(model: pe.ConcreteModel) -> Timing:
    """Pyomo's LP writer, then HiGHS reads the file (values not loaded back)."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.lp")
        model.write(path, io_options={"symbolic_solver_labels": False})
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.readModel(path)
        handoff = time.perf_counter() - started
        return (handoff, *_run(h))


METHODS = {"gatlang": via_gatlang, "contrib": via_contrib, "appsi": via_appsi, "lp-file": via_lp_file}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000, help="approximate number of LP rows")
    ap.add_argument("--skip", default="", help="comma-separated methods to skip")
    ap.add_argument("--handoff-only", action="store_true",
                    help="stop HiGHS at once (time_limit = 0): time the hand-off only")
    args = ap.parse_args()
    if args.handoff_only:
        HIGHS_OPTIONS["time_limit"] = 0.0
    n_bus = int(args.rows / 2.2)  # rows = buses + lines ~ 2.2 buses
    net = network(n_bus)
    highspy_direct(network(100))  # warm-up: first imports and HiGHS's one-time set-up are not hand-off
    ref = highspy_direct(net)
    print(f"LP: {n_bus} buses, {len(net['f'])} lines -> {n_bus + len(net['f'])} rows")
    from gatlang.backends.classify import classify

    t0 = time.perf_counter()
    model = pyomo_model(net)
    print(f"(building the Pyomo model itself: {time.perf_counter() - t0:.2f} s, not counted below)")
    t0 = time.perf_counter()
    pc = classify(model)
    print(f"classify() alone: {pc.name} in {time.perf_counter() - t0:.2f} s "
          "(solve() skips it for LP/QP/MILP: it reads the class off the HiGHS load)")
    del model
    print(f"{'method':<10} {'hand-off s':>10} {'ratio':>7} {'solve s':>8}  objective")
    print(f"{'highspy':<10} {ref[0]:10.2f} {1.0:7.1f} {ref[1]:8.2f}  {ref[2]}   (reference: numpy arrays in bulk)",
          flush=True)
    handoff, solve_s, obj = via_matrix(net)
    print(f"{'matrix':<10} {handoff:10.2f} {handoff / ref[0]:7.1f} {solve_s:8.2f}  {obj}   "
          "(gatlang's array route, no Pyomo)", flush=True)
    for name, fn in METHODS.items():
        if name in args.skip.split(","):
            continue
        handoff, solve_s, obj = fn(pyomo_model(net))
        print(f"{name:<10} {handoff:10.2f} {handoff / ref[0]:7.1f} {solve_s:8.2f}  {obj}", flush=True)
    print("hand-off: everything but HiGHS's own run (gatlang includes classify, option checks and "
          "loading values back; contrib's solve column includes its value loading)")


if __name__ == "__main__":
    main()

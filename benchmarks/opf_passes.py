"""ACP OPF on large pglib cases: gatlang end-to-end vs pandapower's runopp, time per pass, objectives.

    .venv/bin/python benchmarks/opf_passes.py [case1354_pegase case2869_pegase] [--no-pandapower]
                                              [--baseline] [--profile]

(about 9 minutes on the shared 2-core machine, 4.5 of them pandapower on
case2869; ``--baseline`` adds about 1.5 minutes)

PROFILE FINDINGS (``python -m cProfile`` of one cold ``run_program`` on ACP
case1354_pegase: 18.7 s under the profiler, 54 Ipopt iterations):

* Ipopt 6.6 s (35 %): Ipopt + MUMPS in C 3.5 s; the ASL callbacks it makes:
  Hessian 1.4 s (55 calls), constraints 1.1 s, Jacobian 0.6 s.
* Hand-off to Ipopt 4.4 s (23 %): ``PyomoNLP`` = Pyomo's NL writer 3.7 s
  (169k expression nodes walked; the branch-flow expressions p_fr, q_fr,
  p_to, q_to are inlined as trees into both the power-balance rows and the
  thermal rows, so each is written twice) + the ASL reading the file 0.7 s.
  The NL writer's options (``linear_presolve``, ``scale_model``) change
  nothing measurable (1.2-1.7 s either way on a warm process).
* elaborate 5.0 s (27 %): 1.9 s is a one-time SciPy import (``scipy.stats``,
  pulled in by Pyomo's deferred-import hook the first time netview imports
  ``scipy.sparse.csgraph``; the benchmark's warm-up absorbs it), the rest is
  the model build: one closure call per AST node per element, Pyomo operator
  overloading (``quicksum``, ``__add__``), ``memo_ref`` per expression.
* emit 1.1 s (6 %): ``element_tables`` evaluates every `expr` per element
  with ``pyo.value`` (8k expression-tree walks).
* ``solve``'s classification before Ipopt: 0.06 s.

What would cut it (none of it in gatlang/backends, where the hand-off is
Pyomo's NL writer and the ASL): (1) elaborate the shared branch-flow `expr`s
as Pyomo ``Expression`` components, so the NL writer emits each once as a
defined variable instead of twice as a tree (less writing, fewer ASL
evaluations); (2) emit's per-element values from arrays rather than a
Pyomo evaluation per element; (3) the large lever: an array-built NLP for
the stdlib formulations (residuals, Jacobian and Hessian from the index
arrays, handed to cyipopt directly), skipping Pyomo, the NL file and the
ASL altogether -- the pre-solver share (16-43 % below) would mostly go.

What is compared (one process, one run of each):

* gatlang: a three-line study (``network g = matpower(...)``, ``run opf ac on
  g { formulation = acp }``) through :func:`gatlang.passes.run_program`, i.e.
  what ``gatc run --force`` does, including writing the result tables.  The
  process is warmed up first with the same study on pglib case5 so that
  one-time imports (Pyomo, PyNumero, SciPy) are not charged to the case;
  pandapower is imported before its clock starts, too.
* pandapower 3.x: ``pandapower.converter.matpower.from_mpc`` on the *same
  file*, then ``pandapower.runopp(net, init="flat", OPF_FLOW_LIM=0)`` (PIPS).
  Two settings make it the MATPOWER problem: ``OPF_FLOW_LIM=0`` bounds the
  apparent power |S| at both branch ends, as MATPOWER, pglib and gatlang's
  acp do (pandapower's default, 2, bounds the current), and
  ``net.ext_grid["controllable"] = True`` lets the slack generator's voltage
  move within the bus limits (pandapower otherwise pins it to its setpoint:
  1.2592e6 instead of 1.2588e6 $/h on case1354).  pandapower 3.5.6's |S|
  Hessian calls ``sparse_matrix.H``, which SciPy removed; :func:`_scipy_h_shim`
  puts it back (conjugate transpose) for this process.  Its time is reported
  as convert + runopp.

Same problem: pandapower cannot represent MATPOWER's branch angle-difference
limits (from_mpc drops ANGMIN/ANGMAX), so both tools solve a copy of the pglib
file with those limits opened to -360..360 deg (:func:`without_angle_limits`);
costs (polynomial, incl. constants), generator P/Q limits, voltage limits and
|S| ratings are the pglib ones in both.  Remaining modelling difference:
pandapower's OPF uses its "t" transformer model (runopp fixes
``trafo_model="t"``) while MATPOWER/gatlang use the pi model; the objectives
are printed side by side with their relative difference.  With
``--baseline``, gatlang also solves the unmodified pglib file and
its objective is compared with pglib-opf's published AC value (BASELINE.md,
PowerModels + Ipopt, 5 significant digits).

Timing split of gatlang's run: the pipeline passes (parse ... emit), and in
``lower`` the hand-off (Pyomo's NL writer + the ASL reading it, and the
values loaded back) against Ipopt's own time (cyipopt's clock, including
the ASL function evaluations it calls back).  "Before the solver starts" =
every pass before ``lower`` plus the hand-off.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYOMO_CONFIG_DIR", str(ROOT / ".venv" / "pyomo"))
SHARED = Path(os.environ.get("GATLANG_SHARED_DATA", ROOT.parent / "shared" / "data"))
PGLIB_DIRS = (ROOT / "tests" / "data" / "pglib", SHARED / "pglib-opf")
PROGRAM_PASSES = ("parse", "resolve", "check", "capabilities", "elaborate")


def case_path(case: str) -> Path:
    for d in PGLIB_DIRS:
        p = d / f"pglib_opf_{case}.m"
        if p.exists():
            return p
    raise SystemExit(f"pglib_opf_{case}.m not found in {', '.join(map(str, PGLIB_DIRS))}")


def baseline_ac(case: str) -> float | None:
    """pglib-opf's published AC objective ($/h) for ``case``, from BASELINE.md."""
    path = SHARED / "pglib-opf" / "BASELINE.md"
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == f"pglib_opf_{case}":
            return float(cells[4])
    return None


def without_angle_limits(src: Path, dst: Path) -> Path:
    """Copy a MATPOWER case with every branch's ANGMIN/ANGMAX (columns 12, 13) set to -360/360."""
    text = src.read_text()
    block = re.search(r"mpc\.branch\s*=\s*\[(.*?)\];", text, re.S)
    assert block is not None, f"no mpc.branch in {src}"
    rows = []
    for row in block.group(1).splitlines():
        body, sep, tail = row.partition(";")
        cols = body.split()
        if len(cols) >= 13 and not row.lstrip().startswith("%"):
            cols[11:13] = ["-360.0", "360.0"]
            row = "\t" + "\t".join(cols) + sep + tail
        rows.append(row)
    dst.write_text(text[: block.start(1)] + "\n".join(rows) + text[block.end(1):])
    return dst


@dataclass
class GatRun:
    objective: float
    status: str
    iterations: int | None
    passes: dict[str, float]
    handoff: float
    ipopt: float
    total: float
    cpu: float  # process CPU seconds (all threads): less sensitive than wall time to a busy machine

    @property
    def before_solver(self) -> float:
        return sum(self.passes.get(p, 0.0) for p in PROGRAM_PASSES) + self.handoff


def run_gat(case_file: Path, profile: bool = False) -> GatRun:
    from gatlang.diagnostics import DiagnosticSink
    from gatlang.passes import Settings, run_program

    with tempfile.TemporaryDirectory() as tmp:
        study = Path(tmp) / "study.gat"
        study.write_text(f'study bench\nnetwork g = matpower("{case_file}")\n'
                         f'run opf ac on g {{ formulation = acp }}\n')
        sink = DiagnosticSink()
        prof = cProfile.Profile() if profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if prof:
            prof.enable()
        comp = run_program(study, sink, Settings(quiet=True, force=True))
        if prof:
            prof.disable()
        total, cpu = time.perf_counter() - started, time.process_time() - cpu
        if sink.has_errors:
            raise SystemExit("\n".join(str(d) for d in sink.errors))
        if prof:
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(30)
            print(s.getvalue())
    record = comp.steps[0].record
    solver = record.get("solver", {})
    st = solver.get("timings", {})
    return GatRun(objective=float(record["objective"]), status=str(record.get("solve_status")),
                  iterations=solver.get("iterations"), passes=dict(comp.timings),
                  handoff=float(st.get("handoff", float("nan"))), ipopt=float(st.get("solve", float("nan"))),
                  total=total, cpu=cpu)


def _scipy_h_shim() -> None:
    """Give SciPy's sparse matrices back the ``.H`` (conjugate transpose) pandapower's OPF Hessian uses."""
    import scipy.sparse as sp

    for cls in (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix):
        if not hasattr(cls, "H"):
            cls.H = property(lambda self: self.conj().T)


def run_pandapower(case_file: Path) -> tuple[float, float, float, bool, float]:
    """(convert s, runopp s, cost $/h, converged, CPU s of both) for pandapower on ``case_file``."""
    import pandapower as pp
    from pandapower.converter.matpower import from_mpc

    _scipy_h_shim()
    started, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = from_mpc(str(case_file), f_hz=50)
    net.ext_grid["controllable"] = True  # slack voltage free within its bus limits, as in MATPOWER
    convert = time.perf_counter() - started
    started = time.perf_counter()
    pp.runopp(net, init="flat", calculate_voltage_angles=True, OPF_FLOW_LIM=0)
    return (convert, time.perf_counter() - started, float(net.res_cost), bool(net.OPF_converged),
            time.process_time() - cpu)


def report_gat(label: str, r: GatRun) -> None:
    print(f"  gatlang {label}: objective {r.objective:.6g} $/h, {r.status}, {r.iterations} Ipopt iterations")
    print("    passes: " + ", ".join(f"{k} {v:.2f}" for k, v in r.passes.items()) + " s")
    print(f"    lower = hand-off {r.handoff:.2f} s (NL writer + ASL + values back) + Ipopt {r.ipopt:.2f} s")
    print(f"    end-to-end {r.total:.2f} s (CPU {r.cpu:.2f} s); before the solver starts {r.before_solver:.2f} s "
          f"= {100 * r.before_solver / r.total:.0f} % of it")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cases", nargs="*", default=["case1354_pegase", "case2869_pegase"])
    ap.add_argument("--no-pandapower", action="store_true")
    ap.add_argument("--baseline", action="store_true",
                    help="also solve the unmodified pglib file and compare with BASELINE.md")
    ap.add_argument("--profile", action="store_true", help="cProfile gatlang's same-problem run")
    args = ap.parse_args()

    started = time.perf_counter()
    run_gat(case_path("case5_pjm"))  # warm-up: one-time imports are not charged to the cases
    print(f"warm-up (imports + pglib case5): {time.perf_counter() - started:.2f} s")
    if not args.no_pandapower:
        import pandapower  # noqa: F401  (imported before its clock starts, like gatlang's)

    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases:
            src = case_path(case)
            print(f"\n{case}")
            if args.baseline:
                orig = run_gat(src)
                ref = baseline_ac(case)
                report_gat("on the pglib file", orig)
                if ref is not None:
                    print(f"    pglib BASELINE AC {ref:.5g} $/h; relative difference "
                          f"{abs(orig.objective - ref) / ref:.1e} (5 significant digits published)")
            same = without_angle_limits(src, Path(tmp) / src.name)
            gat = run_gat(same, args.profile)
            report_gat("on the same problem as pandapower (angle limits opened)", gat)
            row = [case, gat.total, gat.before_solver / gat.total]
            if not args.no_pandapower:
                convert, opp, cost, ok, pp_cpu = run_pandapower(same)
                pp_total = convert + opp
                print(f"  pandapower: from_mpc {convert:.2f} s + runopp {opp:.2f} s = {pp_total:.2f} s (CPU {pp_cpu:.2f} s), "
                      f"cost {cost:.6g} $/h, converged {ok}")
                diff = (gat.objective - cost) / cost
                print(f"  objective gatlang - pandapower: {gat.objective - cost:+.4g} $/h ({diff:+.2e} relative)")
                print(f"  time gatlang / pandapower: end-to-end {gat.total:.2f} / {pp_total:.2f} = "
                      f"{gat.total / pp_total:.2f}; gatlang / runopp alone = {gat.total / opp:.2f}; "
                      f"CPU time {gat.cpu:.2f} / {pp_cpu:.2f} = {gat.cpu / pp_cpu:.2f}")
                row += [pp_total, gat.total / pp_total, diff, gat.cpu / pp_cpu]
            summary.append(row)

    print("\nsummary (same problem):")
    for row in summary:
        text = f"  {row[0]:<16} gatlang {row[1]:6.2f} s, {100 * row[2]:.0f} % before the solver starts"
        if len(row) > 3:
            text += (f"; pandapower {row[3]:6.2f} s; gatlang/pandapower wall {row[4]:.2f}, CPU {row[6]:.2f}; "
                     f"objective diff {row[5]:+.1e}")
        print(text)


if __name__ == "__main__":
    main()

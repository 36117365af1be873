"""`run compare`: one OPF problem under several formulations, side by side.

Why: choosing a formulation is a trade between exactness and speed, and the
only honest way to choose is to measure on the network at hand.  Each
formulation is elaborated and solved as an `opf` run would be (the same
model statements of the run block are added to each); then every one is
compared with the reference (the most exact formulation given, or
`reference = ...`): objective gap, largest voltage-magnitude, angle,
generation and branch-flow differences, and time.  Output: `compare.parquet`
(one row per formulation) plus each formulation's own bus/gen/branch tables
(`bus_<formulation>.parquet`, ...).
"""
from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from gatlang.workflows.base import Step
from gatlang.workflows.opf import OPF, TABLES, element_tables

if TYPE_CHECKING:
    from gatlang.passes import Compilation

#: most exact first: the default reference is the first of these that is compared
EXACTNESS = ("acp", "acr", "ivr", "acp_u", "socbf", "lindistflow", "lindist3flow", "dcp", "nfa")

#: quantities compared between formulations: name in compare.parquet -> the (element kind, columns that
#: hold it) of balanced and of three-phase formulations; a formulation has one of them
COMPARED: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "vm_pu": (("bus", ("vm_pu",)), ("node", ("vm_pu",))),
    "va_rad": (("bus", ("va_rad",)), ("node", ("va_rad",))),
    "pg_mw": (("gen", ("pg_mw",)), ("phase_gen", ("pg_mw",))),
    "qg_mvar": (("gen", ("qg_mvar",)), ("phase_gen", ("qg_mvar",))),
    # active power entering each branch at its `from` end: `p_fr` in AC models, `p` in DC ones
    "p_from_mw": (("line", ("p_fr_mw", "p_mw")), ("conductor", ("p_fr_mw", "p_mw"))),
}


def _rank(name: str) -> int:
    return EXACTNESS.index(name) if name in EXACTNESS else len(EXACTNESS)


class Compare:
    def elaborate(self, c: "Compilation", step: Step) -> None:
        assert c.resolved is not None
        import gatlang.model.elaborate  # noqa: F401  (import Pyomo before timing the first formulation)
        from gatlang.workflows.data import step_network

        step_network(c, step)   # load the network once, outside the per-formulation timings

        subs = []
        for form in c.resolved.compared.get(step.run.name, []):
            sub = dataclasses.replace(step, formulation=form, state={}, record={}, sink=step.sink, failed=False)
            started = time.perf_counter()
            OPF().elaborate(c, sub)
            sub.record.setdefault("timings", {})["elaborate"] = time.perf_counter() - started
            subs.append(sub)
        step.state["subs"] = subs
        step.failed = all(s.failed for s in subs) or not subs

    def lower(self, c: "Compilation", step: Step) -> None:
        for sub in step.state["subs"]:
            if not sub.failed:
                started = time.perf_counter()
                OPF().lower(c, sub)
                sub.record["timings"]["solve"] = time.perf_counter() - started

    def emit(self, c: "Compilation", step: Step) -> None:
        subs: list[Step] = [s for s in step.state.get("subs", []) if s.state.get("result") is not None]
        rows: dict[str, dict[str, Any]] = {}
        columns: dict[str, dict[tuple[str, str], np.ndarray]] = {}
        for sub in subs:
            name = sub.formulation.name  # type: ignore[union-attr]
            OPF().emit_record(sub)
            rows[name] = {"status": sub.record.get("solve_status"), "objective": sub.record.get("objective"),
                          "elaborate_s": sub.record["timings"].get("elaborate"),
                          "solve_s": sub.record["timings"].get("solve")}
            builder = sub.state.get("builder")
            if builder is None or not sub.state["result"].has_solution:
                continue
            columns[name] = {}
            for kind, (data, units) in element_tables(builder).items():
                c.store.write_table(step.run.name, step.scenario, f"{TABLES.get(kind, kind)}_{name}",
                                    pa.table(data), units=units)
                for quantity, places in COMPARED.items():
                    for k, candidates in places:
                        found = next((col for col in candidates if col in data), None) if k == kind else None
                        if found is not None:
                            columns[name][quantity] = np.asarray(data[found], dtype=float)
        if not rows:
            return
        ref_opt = step.option("reference")
        solved = [n for n in rows if n in columns]
        reference = ref_opt if ref_opt in columns else (min(solved, key=_rank) if solved else None)
        table = compare_table(rows, columns, reference)
        c.store.write_table(step.run.name, step.scenario, "compare", pa.table(table))
        step.record["summary"] = {"reference": reference,
                                  "formulations": {n: {k: table[k][i] for k in table if k != "formulation"}
                                                   for i, n in enumerate(table["formulation"])}}


def compare_table(rows: dict[str, dict[str, Any]], columns: dict[str, dict[str, np.ndarray]],
                  reference: str | None) -> dict[str, list]:
    """One row per formulation: gap and largest differences against the reference."""
    ref_obj = rows[reference]["objective"] if reference else None
    out: dict[str, list] = {"formulation": [], "status": [], "objective": [], "gap_pct": [],
                            "elaborate_s": [], "solve_s": []}
    for col in COMPARED:
        out[f"max_abs_diff_{col}"] = []
    for name, row in rows.items():
        out["formulation"].append(name)
        out["status"].append(row["status"])
        out["objective"].append(row["objective"])
        obj = row["objective"]
        out["gap_pct"].append(100.0 * (ref_obj - obj) / abs(ref_obj) if ref_obj and obj is not None else None)
        out["elaborate_s"].append(row["elaborate_s"])
        out["solve_s"].append(row["solve_s"])
        for col in COMPARED:
            mine = columns.get(name, {}).get(col)
            ref = columns.get(reference, {}).get(col) if reference else None
            diff = None
            if mine is not None and ref is not None and mine.shape == ref.shape:
                d = np.abs(mine - ref)
                diff = float(np.nanmax(d)) if np.isfinite(d).any() else None
            out[f"max_abs_diff_{col}"].append(diff)
    return out

"""A stand-in for the compiler's run loop, driving RunStore exactly as `gatc run` will.

Why in the tests: the store's contract (lookup before solving, why_rerun when
not cached, write_table + record_step after solving, finish at the end) is
exercised here the way the compiler uses it, so a test reads like a user's
session: run, edit a file, run again, see what ran and why.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa

from gatlang import __version__
from gatlang.runtime import Progress, RunStore


@dataclass
class Session:
    store: RunStore
    ran: dict[tuple[str, str | None], str] = field(default_factory=dict)      # step -> reason
    skipped: dict[tuple[str, str | None], str] = field(default_factory=dict)  # step -> note
    manifest: Path | None = None


def solve(run: str, scenario: str | None, options: dict) -> pa.Table:
    """A deterministic fake solve: what matters here is which steps run, not the numbers."""
    n = int(options.get("n", 3))
    return pa.table({"bus": [f"b{i}" for i in range(n)], "pg_mw": [float(i) for i in range(n)]})


def run_study(study: Path, runs: dict[str, dict], *, data: list[Path] = (), force: bool = False,
              only: set[str] | None = None, fail: Callable[[str, str | None], bool] = lambda r, s: False,
              version: str = __version__) -> Session:
    store = RunStore(study, "demo", force=force)
    study_hash = store.add_inputs([study], "study")
    data_hash = store.add_inputs(data, "network")
    session = Session(store)
    with Progress(quiet=True) as progress:
        for run, options in runs.items():
            if only is not None and run not in only:
                continue
            for scenario in options.get("scenarios", [None]):
                parts = {"run_block": {k: v for k, v in options.items() if k != "scenarios"},
                         "inputs": sorted([*study_hash.values(), *data_hash.values()]),
                         "gatlang": version}
                key = store.step_key(run, scenario, parts)
                hit = store.lookup(run, scenario, key)
                if hit is not None:
                    progress.note(hit.skip_note())
                    session.skipped[(run, scenario)] = hit.skip_note()
                    continue
                session.ran[(run, scenario)] = store.why_rerun(run, scenario, parts)
                if fail(run, scenario):
                    store.record_step(run, scenario, key, parts, {"status": "failed", "diagnostics": []})
                    continue
                store.write_table(run, scenario, "gens", solve(run, scenario, options), units={"pg_mw": "MW"})
                store.record_step(run, scenario, key, parts, {
                    "status": "succeeded", "objective": 1.0,
                    "solver": {"name": "highs", "version": "1.x", "options": {"presolve": "on"}},
                    "timings": {"build": 0.01, "solve": 0.02}, "summary": {"rows": 3}})
    session.manifest = store.finish(passes={"parse": 0.001, "check": 0.002}, diagnostics=[])
    return session

"""The run folder of a study: outputs, the run.json manifest, and skipping unchanged steps.

Layout (see docs/run-json.md)::

    runs/<study>/run.json
    runs/<study>/<run>/<scenario>/<table>.parquet     # <run>/<table>.parquet without scenario

Why the store owns caching: whether a step may be skipped depends on three
things only the store sees together -- the key components recorded last time,
the input files hashed this time, and whether the recorded output files are
still on disk with the recorded content.  The compiler hands over the
components (``parts``) and gets back a yes/no plus a sentence for the user.

Crash safety: every output and every save of run.json is atomic
(:mod:`gatlang.runtime.atomic`), and run.json is saved after *each* recorded
step, so a run killed at step 7 keeps steps 1-6 and skips them next time.
Steps of the previous run.json that this invocation does not touch (for
example with ``--only``) are carried over unchanged.
"""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..diagnostics import DiagnosticSink, GatError, Span
from . import codes
from .atomic import as_arrow, sweep_temporaries, write_json_atomic, write_parquet_atomic
from .hashing import sha256_path, canonical_json, hash_parts, part_hashes, sha256_file
from .jsonable import to_jsonable
from .lock import FolderLock
from .manifest import MANIFEST_NAME, Previous, host_info, load_previous, local_time, now_iso
from .reasons import describe_changes
from .schema import SCHEMA_VERSION
from .units import suffix_units

StepId = tuple[str, "str | None"]

STATUSES = ("succeeded", "failed")
MAX_STORED_PART = 16_384  # chars of canonical JSON kept per key component; longer ones keep a hash
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_STORE_OWNED = frozenset({"run", "scenario", "key", "parts", "part_hashes", "outputs",
                          "recorded", "cached"})
_TOP_LEVEL = frozenset({"schema", "gatlang", "python", "platform", "study", "created", "finished",
                        "status", "force", "root", "inputs", "passes", "steps", "warnings",
                        "errors", "notes"})


@dataclass
class StepOutcome:
    """The result of one (run, scenario) step, computed now or reused from a previous run."""

    run: str
    scenario: str | None
    key: str
    status: str
    cached: bool
    reason: str
    record: dict = field(repr=False)

    @property
    def label(self) -> str:
        return f"run {self.run}" + (f" scenario {self.scenario}" if self.scenario else "")

    def skip_note(self) -> str:
        """e.g. 'skipped run dcp: unchanged since 2026-11-23 10:00 (use --force)'."""
        return f"skipped {self.label}: {self.reason} (use --force)"


@dataclass(frozen=True)
class StepPlan:
    """What to do with a step: reuse ``cached`` if set, else run it because of ``reason``."""

    run: str
    scenario: str | None
    key: str
    cached: StepOutcome | None
    reason: str

    def message(self) -> str:
        """The line to show the user: 'skipped run dcp: ...' or 'running run dcp: --force'."""
        if self.cached is not None:
            return self.cached.skip_note()
        label = f"run {self.run}" + (f" scenario {self.scenario}" if self.scenario else "")
        return f"running {label}: {self.reason}"


def _stored_part(value: Any) -> Any:
    """The component as kept in run.json: itself when small, else ``'sha256:<hash>'``."""
    data = to_jsonable(value)
    text = canonical_json(data)
    return data if len(text) <= MAX_STORED_PART else f"sha256:{hash_parts({'v': data})}"


def _diag_dicts(items: Iterable[Any]) -> list[dict]:
    return [d if isinstance(d, dict) else to_jsonable(d) for d in items]


class RunStore:
    """Run folder of one study; see the module docstring for the layout and guarantees.

    Errors that stop the run raise :class:`GatError` with a GAT09xx diagnostic;
    warnings (an unreadable previous run.json, an edited output file) are
    collected in :attr:`diagnostics` and written to run.json by :meth:`finish`.
    """

    def __init__(self, study_file: Path, study_name: str, root: Path | None = None, *,
                 force: bool = False, span: Span | None = None,
                 sink: DiagnosticSink | None = None) -> None:
        self.study_file = Path(study_file).absolute()
        self.study_dir = self.study_file.parent
        self.study_name = study_name
        self.root = Path(root).absolute() if root is not None else self.study_dir / "runs" / study_name
        self.manifest_path = self.root / MANIFEST_NAME
        self.force = force
        self.span = span if span is not None else Span.point(str(study_file), 1, 1)
        self.diagnostics = sink if sink is not None else DiagnosticSink()
        self._check_name(study_name, "study")
        self.created = now_iso()
        self._mutex = threading.RLock()
        self._lock = FolderLock(self.root)
        self._previous: Previous = load_previous(self.manifest_path, self.diagnostics, self.span)
        prev = self._previous.doc or {}
        self._prev_steps: dict[StepId, dict] = {(s["run"], s["scenario"]): s for s in prev.get("steps", [])}
        self._prev_inputs: dict[str, dict] = {e["path"]: e for e in prev.get("inputs", [])}
        self._steps: dict[StepId, dict] = dict(self._prev_steps)  # carried over unless redone
        self._touched: list[StepId] = []
        self._inputs: dict[str, dict] = {}
        self._pending: dict[StepId, dict[str, dict]] = {}
        self._checked_outputs: dict[StepId, str | None] = {}

    # ------------------------------------------------------------ folder

    def _check_name(self, name: str | None, what: str) -> None:
        if name is not None and not _NAME_RE.match(name):
            raise GatError(codes.invalid_output_name(name, what, self.span))

    def _ensure_open(self) -> None:
        """Create the folder and take its lock on the first write (not on construction,
        so that merely asking ``lookup`` never blocks another run)."""
        if self._lock.held:
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            holder = self._lock.acquire()
        except OSError as exc:
            raise GatError(codes.run_folder_not_writable(self.root, exc, self.span)) from None
        if holder is not None:
            raise GatError(codes.run_folder_busy(self.root, holder, self.span))
        sweep_temporaries(self.root)

    def step_dir(self, run: str, scenario: str | None) -> Path:
        self._check_name(run, "run")
        self._check_name(scenario, "scenario")
        return self.root / run if scenario is None else self.root / run / scenario

    def _rel_input(self, path: Path) -> str:
        return Path(os.path.relpath(Path(path).absolute(), self.study_dir)).as_posix()

    # ------------------------------------------------------------ inputs and keys

    def _resolve_input(self, path: Path) -> Path:
        """A relative path is relative to the study's folder, as in the study text; a path
        that only exists relative to the working directory (already joined by the caller)
        is accepted too."""
        if path.is_absolute():
            return path
        beside = self.study_dir / path
        return path.absolute() if not beside.exists() and path.exists() else beside

    def add_inputs(self, files: Iterable[Path], role: str, *, span: Span | None = None,
                   via: str | None = None) -> dict[str, str]:
        """Hash input files or folders (role 'study', 'module', 'network' or 'table'); ``{relative path: sha256}``.

        The returned paths are relative to the study's folder and are the ones
        reasons name ("input data/case5.m changed").  `via` names the input that
        made the importer read this file (an OpenDSS `Redirect` target is read
        via its master file): next time, `dependencies(via)` lists it before the
        master is imported again, so a change in it re-runs the steps.
        """
        out: dict[str, str] = {}
        for f in files:
            path = self._resolve_input(Path(f))
            rel = self._rel_input(path)
            try:
                digest, size = sha256_path(path)
            except OSError as exc:
                raise GatError(codes.input_unreadable(path, exc, span or self.span)) from None
            entry = {"path": rel, "role": role, "sha256": digest, "bytes": size}
            if via is not None and via != rel:
                entry["via"] = via
            with self._mutex:
                if rel not in self._inputs or via is None:
                    self._inputs[rel] = entry
            out[rel] = digest
        return out

    def dependencies(self, main: str) -> list[str]:
        """Files the previous invocation's importer read via input `main` (from its run.json)."""
        return sorted(e["path"] for e in self._prev_inputs.values() if e.get("via") == main)

    @property
    def inputs(self) -> list[dict]:
        return list(self._inputs.values())

    @staticmethod
    def _key(run: str, scenario: str | None, parts: Mapping[str, Any]) -> str:
        return hash_parts({"run": run, "scenario": scenario, "parts": parts})

    def step_key(self, run: str, scenario: str | None, parts: Mapping[str, Any]) -> str:
        """Hash key of a step from its components (run block, input hashes, formulation, version...)."""
        self.step_dir(run, scenario)  # validates the names early
        return self._key(run, scenario, parts)

    # ------------------------------------------------------------ reuse

    def _output_problem(self, sid: StepId, prev: dict) -> str | None:
        """Why the recorded outputs of ``prev`` cannot be reused, or None; memoised per step."""
        if sid in self._checked_outputs:
            return self._checked_outputs[sid]
        problem = None
        for out in prev["outputs"]:
            path = self.root / out["path"]
            if not path.is_file():
                problem = f"output {out['path']} is missing"
                break
            if path.stat().st_size != out["bytes"] or sha256_file(path) != out["sha256"]:
                problem = f"output {out['path']} was modified"
                self.diagnostics.add(codes.output_modified(path, self.span))
                break
        self._checked_outputs[sid] = problem
        return problem

    def lookup(self, run: str, scenario: str | None, key: str) -> StepOutcome | None:
        """The previous result when the key is unchanged, it succeeded and its outputs are intact."""
        sid = (run, scenario)
        prev = self._prev_steps.get(sid)
        if self.force or prev is None or prev["key"] != key or prev["status"] != "succeeded":
            return None
        if self._output_problem(sid, prev) is not None:
            return None
        reason = f"unchanged since {local_time(prev['recorded'])}"
        record = {**prev, "cached": True, "reason": reason}
        with self._mutex:
            self._steps[sid] = record
            if sid not in self._touched:
                self._touched.append(sid)
        return StepOutcome(run, scenario, key, record["status"], True, reason, record)

    def why_rerun(self, run: str, scenario: str | None, parts: Mapping[str, Any]) -> str:
        """Why the step runs: '--force', 'first run', 'input data/case5.m changed', ..."""
        if self.force:
            return "--force"
        if self._previous.state == "unreadable":
            return "first run (the previous run.json could not be used)"
        if self._previous.state == "missing":
            return "first run"
        sid = (run, scenario)
        prev = self._prev_steps.get(sid)
        if prev is None:
            return "not run before"
        reasons = ["the previous attempt failed"] if prev["status"] == "failed" else []
        reasons += describe_changes(run, scenario, prev["parts"], prev["part_hashes"],
                                    to_jsonable(parts), part_hashes(parts),
                                    self._prev_inputs, self._inputs)
        if not reasons and prev["key"] != self._key(run, scenario, parts):
            reasons.append("the step key changed")
        if not reasons:
            problem = self._output_problem(sid, prev)
            reasons.append(problem or "unchanged")
        return "; ".join(reasons)

    def plan(self, run: str, scenario: str | None, parts: Mapping[str, Any]) -> StepPlan:
        """step_key + lookup + why_rerun in one call, the usual start of every step."""
        key = self.step_key(run, scenario, parts)
        hit = self.lookup(run, scenario, key)
        reason = hit.reason if hit is not None else self.why_rerun(run, scenario, parts)
        return StepPlan(run, scenario, key, hit, reason)

    # ------------------------------------------------------------ writing

    def write_table(self, run: str, scenario: str | None, name: str, table: Any,
                    units: Mapping[str, str] | None = None, *, infer_units: bool = True) -> Path:
        """Write one output table of a step atomically; it is listed in run.json with its hash.

        ``units`` maps column names to unit text, stored as field metadata
        ``b"unit"``.  With ``infer_units`` a column named like ``pg_mw`` gets
        ``MW`` from its name (see :mod:`gatlang.runtime.units`); explicit units win.
        """
        self._check_name(name, "output table")
        filename = name if name.endswith(".parquet") else f"{name}.parquet"
        path = self.step_dir(run, scenario) / filename
        arrow = as_arrow(table)
        units = {**(suffix_units(arrow.column_names) if infer_units else {}), **(units or {})}
        meta = {"gatlang.study": self.study_name, "gatlang.run": run,
                "gatlang.scenario": scenario or "", "gatlang.version": host_info()["gatlang"]}
        with self._mutex:
            self._ensure_open()
        try:  # outside the mutex: workers of one run may write their tables in parallel
            digest = write_parquet_atomic(path, arrow, units, meta)
            size = path.stat().st_size
        except OSError as exc:
            raise GatError(codes.output_write_failed(path, exc, self.span)) from None
        with self._mutex:
            self._pending.setdefault((run, scenario), {})[filename] = {
                "name": filename.removesuffix(".parquet"),
                "path": path.relative_to(self.root).as_posix(), "sha256": digest,
                "bytes": size, "rows": arrow.num_rows, "columns": list(arrow.column_names),
                "units": {str(k): str(v) for k, v in units.items()}}
        return path

    def record_step(self, run: str, scenario: str | None, key: str, parts: Mapping[str, Any],
                    record: Mapping[str, Any]) -> StepOutcome:
        """Record a finished step (status 'succeeded' or 'failed') and save run.json now.

        ``record`` holds status, objective, solver (name/version/options),
        timings (seconds), diagnostics (Diagnostic objects or their dicts) and
        summary; tables written with :meth:`write_table` for this step are
        attached as its outputs.
        """
        status = record.get("status")
        if status not in STATUSES:
            raise ValueError(f"step status must be one of {STATUSES}, got {status!r}")
        sid = (run, scenario)
        self.step_dir(run, scenario)
        reason = record.get("reason") or self.why_rerun(run, scenario, parts)
        extra = {k: v for k, v in record.items() if k not in _STORE_OWNED}
        entry: dict[str, Any] = {
            "run": run, "scenario": scenario, "key": key, "status": status, "cached": False,
            "reason": reason, "recorded": now_iso(),
            "parts": {str(k): _stored_part(v) for k, v in parts.items()},
            "part_hashes": part_hashes(parts), "outputs": [],
            "objective": None, "solver": None, "timings": {}, "diagnostics": [], "summary": None,
            **extra}
        entry["diagnostics"] = _diag_dicts(entry["diagnostics"] or [])
        with self._mutex:
            entry["outputs"] = list(self._pending.pop(sid, {}).values())
            self._checked_outputs.pop(sid, None)
            entry = to_jsonable(entry)
            self._steps.pop(sid, None)  # re-insert: the file lists steps in the order they ran
            self._steps[sid] = entry
            if sid not in self._touched:
                self._touched.append(sid)
            self._save(status="running", finished=None)
        return StepOutcome(run, scenario, key, status, False, reason, entry)

    @property
    def outcomes(self) -> list[StepOutcome]:
        """Steps looked up or recorded by this invocation, in order."""
        return [StepOutcome(s["run"], s["scenario"], s["key"], s["status"], s["cached"],
                            s["reason"], s) for s in (self._steps[sid] for sid in self._touched)]

    def _document(self, *, status: str, finished: str | None, passes: Mapping[str, float] | None = None,
                  diagnostics: Iterable[Any] = (), extra: Mapping[str, Any] | None = None) -> dict:
        diags = _diag_dicts([*diagnostics, *self.diagnostics])
        study_rel = self._rel_input(self.study_file)
        study_sha = self._inputs.get(study_rel, {}).get("sha256")
        doc: dict[str, Any] = {
            "schema": SCHEMA_VERSION, **host_info(),
            "study": {"name": self.study_name, "file": study_rel, "sha256": study_sha},
            "created": self.created, "finished": finished, "status": status, "force": self.force,
            "root": self._rel_input(self.root), "inputs": self.inputs, "passes": dict(passes or {}),
            "steps": list(self._steps.values()),
            "warnings": [d for d in diags if d.get("severity") == "warning"],
            "errors": [d for d in diags if d.get("severity") == "error"],
            "notes": [d for d in diags if d.get("severity") == "note"]}
        clash = sorted(_TOP_LEVEL & set(extra or {}))
        if clash:
            raise ValueError(f"extra keys would overwrite run.json fields: {', '.join(clash)}")
        doc.update(extra or {})
        return doc

    def _save(self, **kw: Any) -> Path:
        self._ensure_open()
        doc = self._document(**kw)
        try:
            write_json_atomic(self.manifest_path, doc)
        except OSError as exc:
            raise GatError(codes.output_write_failed(self.manifest_path, exc, self.span)) from None
        return self.manifest_path

    def finish(self, *, passes: Mapping[str, float], diagnostics: list,
               extra: Mapping[str, Any] | None = None) -> Path:
        """Write the final run.json (status 'failed' if a step failed or an error was reported)."""
        with self._mutex:
            failed = any(self._steps[sid]["status"] == "failed" for sid in self._touched)
            errors = any(d.get("severity") == "error"
                         for d in _diag_dicts([*diagnostics, *self.diagnostics]))
            status = "failed" if failed or errors else "succeeded"
            try:
                return self._save(status=status, finished=now_iso(), passes=passes,
                                  diagnostics=diagnostics, extra=extra)
            finally:
                self.close()

    def close(self) -> None:
        """Release the folder lock (done by :meth:`finish`; the OS does it if the process dies)."""
        self._lock.release()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Why a step runs again, in words a user recognises.

Why separate from the store: turning "the hash differs" into "input
data/case5.m changed" is a diff of the key *components* recorded last time
against the new ones, plus a reverse lookup from file hashes to the input files
that carried them.  That logic is pure (no files touched) and tested on its own.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SHA_RE = re.compile(r"^[0-9a-f]{64}$")
SOURCE_ROLES = frozenset({"study", "module"})


def shas_in(value: Any) -> set[str]:
    """Every SHA-256 hex string anywhere inside a JSON-like value."""
    if isinstance(value, str):
        return {value} if SHA_RE.match(value) else set()
    if isinstance(value, Mapping):
        return set().union(*(shas_in(v) for v in value.values()), *(shas_in(k) for k in value))
    if isinstance(value, (list, tuple)):
        return set().union(*(shas_in(v) for v in value))
    return set()


def _input_phrase(path: str, role: str, change: str) -> str:
    return f"{path} {change}" if role in SOURCE_ROLES else f"input {path} {change}"


def input_changes(old_value: Any, new_value: Any, old_inputs: Mapping[str, Mapping[str, Any]],
                  new_inputs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Name the input files whose hashes appear in one value and not the other.

    ``old_inputs``/``new_inputs`` map a path to its run.json entry (role, sha256).
    """
    old_shas, new_shas = shas_in(old_value), shas_in(new_value)
    by_sha_old = {e["sha256"]: p for p, e in old_inputs.items()}
    by_sha_new = {e["sha256"]: p for p, e in new_inputs.items()}
    paths = [by_sha_old[s] for s in sorted(old_shas - new_shas) if s in by_sha_old]
    paths += [by_sha_new[s] for s in sorted(new_shas - old_shas) if s in by_sha_new]
    out: list[str] = []
    for path in dict.fromkeys(paths):
        if path in old_inputs and path in new_inputs:
            change, role = "changed", new_inputs[path].get("role", "")
        elif path in new_inputs:
            change, role = "is a new input", new_inputs[path].get("role", "")
        else:
            change, role = "is no longer an input", old_inputs[path].get("role", "")
        out.append(_input_phrase(path, role, change))
    return out


def part_phrase(name: str, old: Any, new: Any, run: str, scenario: str | None) -> str:
    """A sentence for a changed key component that is not an input file."""
    if name in ("run_block", "run", "options"):
        return f"options of run {run} changed"
    if name == "gatlang":
        return f"gatlang version changed ({old} -> {new})" if isinstance(old, str) and isinstance(new, str) \
            else "gatlang version changed"
    if name == "scenario" and scenario is not None:
        return f"scenario {scenario} changed"
    if name == "solver":
        return "solver or solver options changed"
    if name == "inputs":
        return "input data changed"
    return f"{name} changed"


def describe_changes(run: str, scenario: str | None,
                     old_parts: Mapping[str, Any], old_hashes: Mapping[str, str],
                     new_parts: Mapping[str, Any], new_hashes: Mapping[str, str],
                     old_inputs: Mapping[str, Mapping[str, Any]],
                     new_inputs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One phrase per changed component, input files named where they can be."""
    reasons: list[str] = []
    for name in sorted(set(old_hashes) | set(new_hashes)):
        if name not in new_hashes:
            reasons.append(f"{name} is no longer part of the step")
            continue
        if name not in old_hashes:
            reasons.append(f"{name} is new in the step")
            continue
        if old_hashes[name] == new_hashes[name]:
            continue
        old, new = old_parts.get(name), new_parts.get(name)
        named = input_changes(old, new, old_inputs, new_inputs)
        reasons.extend(named or [part_phrase(name, old, new, run, scenario)])
    return list(dict.fromkeys(reasons))

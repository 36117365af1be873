"""Turning key differences into sentences, without touching any file."""
from __future__ import annotations

from gatlang.runtime.hashing import part_hashes
from gatlang.runtime.reasons import describe_changes

A, B, C = "a" * 64, "b" * 64, "c" * 64
OLD_INPUTS = {"feeder.gat": {"role": "study", "sha256": A}, "data/lines.parquet": {"role": "table", "sha256": B}}


def _reasons(old: dict, new: dict, new_inputs: dict) -> list[str]:
    return describe_changes("hc", "noon", old, part_hashes(old), new, part_hashes(new), OLD_INPUTS, new_inputs)


def test_added_and_removed_inputs_are_named() -> None:
    new_inputs = {"feeder.gat": {"role": "study", "sha256": A}, "data/pv.parquet": {"role": "table", "sha256": C}}
    assert _reasons({"inputs": [A, B]}, {"inputs": [A, C]}, new_inputs) == [
        "input data/lines.parquet is no longer an input", "input data/pv.parquet is a new input"]


def test_inputs_inside_a_mapping_and_other_components() -> None:
    new_inputs = {**OLD_INPUTS, "feeder.gat": {"role": "study", "sha256": C}}
    old = {"inputs": {"study": A, "tables": [B]}, "scenario": {"pv_scale": 1.0}, "formulation": "x"}
    new = {"inputs": {"study": C, "tables": [B]}, "scenario": {"pv_scale": 0.5}, "formulation": "y"}
    assert _reasons(old, new, new_inputs) == ["formulation changed", "feeder.gat changed", "scenario noon changed"]


def test_unknown_hashes_fall_back_to_the_component_name() -> None:
    assert _reasons({"inputs": ["d" * 64]}, {"inputs": ["e" * 64]}, OLD_INPUTS) == ["input data changed"]
    assert _reasons({"solver": {"name": "highs"}}, {"solver": {"name": "scip"}}, OLD_INPUTS) == \
        ["solver or solver options changed"]
    assert _reasons({"x": 1}, {"x": 1, "y": 2}, OLD_INPUTS) == ["y is new in the step"]

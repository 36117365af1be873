"""Content hashes: file hashes against coreutils' sha256sum, and stability of key hashes."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
from hypothesis import given, settings, strategies as st

from gatlang.runtime.hashing import CHUNK, canonical_json, hash_parts, part_hashes, sha256_file


def test_sha256_file_matches_sha256sum_across_chunks(tmp_path: Path) -> None:
    data = np.random.default_rng(7).integers(0, 256, CHUNK * 2 + 12345, dtype=np.uint8).tobytes()
    f = tmp_path / "blob.bin"
    f.write_bytes(data)
    assert shutil.which("sha256sum"), "coreutils sha256sum is the outside oracle"
    expected = subprocess.run(["sha256sum", str(f)], capture_output=True, text=True,
                              check=True).stdout.split()[0]
    assert sha256_file(f) == expected


def test_hash_parts_is_sha256_of_canonical_text() -> None:
    parts = {"b": [1, 2.5, None], "a": {"y": True, "x": "text"}}
    text = '{"a":{"x":"text","y":true},"b":[1,2.5,null]}'
    assert canonical_json(parts) == text
    assert hash_parts(parts) == hashlib.sha256(text.encode()).hexdigest()


def test_values_that_differ_hash_differently() -> None:
    assert hash_parts({"x": 1}) != hash_parts({"x": 1.0})          # int vs float
    assert hash_parts({"x": float("nan")}) != hash_parts({"x": None})
    assert hash_parts({"x": float("inf")}) != hash_parts({"x": float("-inf")})
    assert hash_parts({"x": "0.1"}) != hash_parts({"x": 0.1})


def test_numpy_and_python_values_hash_alike() -> None:
    assert hash_parts({"v": np.float64(0.1), "n": np.int32(3), "a": np.array([1.5, 2.0])}) == \
        hash_parts({"v": 0.1, "n": 3, "a": [1.5, 2.0]})
    assert hash_parts({"s": {3, 1, 2}}) == hash_parts({"s": [1, 2, 3]})


def test_part_hashes_name_each_component() -> None:
    parts = {"run_block": "run pf base on feeder {}", "gatlang": "0.1.0"}
    ph = part_hashes(parts)
    assert set(ph) == set(parts)
    assert ph["gatlang"] == hashlib.sha256(b'"0.1.0"').hexdigest()


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=12)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.text(max_size=10), _values, max_size=8), st.randoms(use_true_random=False))
def test_hash_parts_ignores_key_order(parts: dict, rnd) -> None:
    items = list(parts.items())
    rnd.shuffle(items)
    shuffled = dict(items)
    assert hash_parts(shuffled) == hash_parts(parts)
    assert canonical_json(shuffled) == canonical_json(parts)


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=10), _values, min_size=1, max_size=6))
def test_hash_parts_changes_when_a_component_changes(parts: dict) -> None:
    name = sorted(parts)[0]
    changed = {**parts, name: ["changed", parts[name]]}
    assert hash_parts(changed) != hash_parts(parts)
    assert part_hashes(changed)[name] != part_hashes(parts)[name]


def test_hash_parts_is_the_same_in_processes_with_other_hash_seeds() -> None:
    """Sets and dicts iterate in hash-seed order; the key must not depend on it."""
    import os
    import sys
    code = ("from gatlang.runtime.hashing import hash_parts; "
            "print(hash_parts({'phases': {'a', 'b', 'c', 'n'}, 'x': {'q': 1.5, 'p': [1, 2]}}))")
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
            for seed in ("1", "2")}
    assert seen == {hash_parts({"x": {"p": [1, 2], "q": 1.5}, "phases": ["a", "b", "c", "n"]})}

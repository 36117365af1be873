"""Content hashes: the keys that decide whether a step of a study must run again.

Why content and not timestamps: a study folder is copied, checked out from git
and synced between machines, all of which change modification times but not
content.  A step is skipped only when the *content* of everything it depends on
(the ``.gat`` text, every input file, the options, the gatlang version) hashes
to the same key as last time.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

from .jsonable import nonfinite_to_text, to_jsonable

CHUNK = 1 << 20  # 1 MiB: large enough for throughput, small enough for memory


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, read in chunks so that multi-GB tables are fine."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_path(path: str | os.PathLike[str]) -> tuple[str, int]:
    """(SHA-256, bytes) of a file, or of a folder: every file under it, by relative path.

    Why folders: a Parquet network (`tables("DIR")`) is a folder of tables; renaming,
    adding or changing any file in it must change the hash.
    """
    root = os.fspath(path)
    if not os.path.isdir(root):
        return sha256_file(root), os.stat(root).st_size
    digest, total = hashlib.sha256(), 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            digest.update(f"{os.path.relpath(full, root)}\0{sha256_file(full)}\n".encode())
            total += os.stat(full).st_size
    return digest.hexdigest(), total


def source_hash(main: str, read: Mapping[str, str]) -> str:
    """One hash for a network's input and the files its importer read through it (OpenDSS Redirects)."""
    return hash_parts({"main": main, "read": dict(read)}) if read else main


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(obj: Any) -> str:
    """One text per value: sorted keys, no whitespace, floats by ``repr``.

    ``json`` already writes a float with ``repr`` (the shortest text that reads
    back to the same double), so ``0.1`` is always ``0.1`` and never
    ``0.1000000000000000055``.  Non-finite floats become the strings ``'nan'``,
    ``'inf'`` and ``'-inf'``; ints and floats stay distinct (``1`` vs ``1.0``)
    because a change of type may change what a formulation does.
    """
    return json.dumps(to_jsonable(obj, nonfinite_to_text), sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def hash_parts(parts: Mapping[str, Any]) -> str:
    """Stable SHA-256 of a JSON-able mapping; independent of key order and process."""
    return sha256_bytes(canonical_json(parts).encode("utf-8"))


def part_hashes(parts: Mapping[str, Any]) -> dict[str, str]:
    """The hash of each component, kept in run.json so a re-run can say *what* changed."""
    return {str(name): sha256_bytes(canonical_json(value).encode("utf-8"))
            for name, value in parts.items()}

"""Bit-identity check of the three-phase Y build over every OpenDSS feeder at hand (a script, not a test).

Why a script: a change to `gatlang.network.ybus3` or its kernels must leave Y, the node names and
the node look-ups the same to the last bit on every feeder, and the feeders (every ``.dss`` that
defines a circuit under tests/data and ../shared/data) take minutes to import -- too long for the
test suite.  Run it once before a change (``--save FILE``) and once after (``--check FILE``)::

    python tests/network/ybus3_identity.py --save /tmp/y_before.json
    # ... change ybus3 ...
    python tests/network/ybus3_identity.py --check /tmp/y_before.json

What is compared, per feeder: Y's ``indptr``, ``indices`` and ``data`` bytes, the node names, every
class's terminal numbering, ``per_node`` of the buses' kV, and ``lookup`` of every bus-table name and
every name an element uses, plus unknown names, on conductors -1..5 (as a list and as an arrow array).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[2]
SEARCH = (ROOT / "tests" / "data", ROOT.parent / "shared" / "data")
_CIRCUIT = re.compile(rb"new\s+(object\s*=\s*)?circuit\.", re.IGNORECASE)


def feeders() -> list[Path]:
    """Every .dss file under `SEARCH` that defines a circuit, sorted."""
    found = []
    for base in SEARCH:
        for path in sorted(base.rglob("*")):
            if path.suffix.lower() == ".dss" and path.is_file() and _CIRCUIT.search(path.read_bytes()):
                found.append(path)
    return found


def _probe_names(net) -> list[str]:
    """Bus names to look up: the buses table's, every element's, and a few no network has."""
    names = set(net.table("buses").column("bus").to_pylist())
    for table, col in (("lines", "from_bus"), ("lines", "to_bus"), ("shunts", "bus"), ("sources", "bus"),
                       ("loads", "bus")):
        if table in net.tables and col in net.tables[table].column_names:
            names.update(v for v in net.tables[table].column(col).to_pylist() if v is not None)
    return sorted(names) + ["", "no such bus", "sourcebus.1", "\u00e9t\u00e9"]


def fingerprint(net) -> dict[str, str]:
    """Digest of everything the build returns (see the module docstring)."""
    from gatlang.network import ybus3
    y, nodes = ybus3.build_ybus3_indexed(net)
    parts: dict[str, bytes] = {
        "shape": repr(y.shape).encode(),
        "indptr": np.asarray(y.indptr, dtype=np.int64).tobytes(),
        "indices": np.asarray(y.indices, dtype=np.int64).tobytes(),
        "data": np.ascontiguousarray(y.data).tobytes(),
        "names": "\n".join(nodes.names).encode(),
    }
    for name, term in sorted(nodes.terminals.items()):
        parts[f"terminals.{name}"] = np.asarray(term.offsets, np.int64).tobytes() + \
            np.asarray(term.index, np.int64).tobytes()
    kv = net.table("buses").column("vn_kv").to_numpy(zero_copy_only=False).astype(float) \
        if "vn_kv" in net.table("buses").column_names else np.zeros(net.table("buses").num_rows)
    parts["per_node"] = nodes.per_node(kv).tobytes()
    probe = _probe_names(net)
    buses = [b for b in probe for _ in range(7)]
    conds = np.tile(np.arange(-1, 6), len(probe))
    parts["lookup"] = np.asarray(nodes.lookup(buses, conds), np.int64).tobytes()
    parts["lookup.arrow"] = np.asarray(nodes.lookup(pa.array(buses), conds), np.int64).tobytes()
    parts["lookup.empty"] = np.asarray(nodes.lookup([], np.zeros(0, np.int64)), np.int64).tobytes()
    return {k: hashlib.sha256(v).hexdigest() for k, v in parts.items()}


def run(out: Path, check: bool) -> int:
    from gatlang.diagnostics import DiagnosticSink
    from gatlang.network.opendss.importer import load_opendss
    ref = json.loads(out.read_text()) if check else {}
    got: dict[str, dict] = {}
    failures = 0
    for path in feeders():
        key = str(path.relative_to(ROOT.parent))
        try:
            net = load_opendss(path, DiagnosticSink())
        except Exception as exc:          # noqa: BLE001 -- a feeder the importer refuses is not ours
            net, why = None, repr(exc)
        if net is None:
            got[key] = {"skipped": "not imported"}
            continue
        try:
            got[key] = fingerprint(net)
        except Exception as exc:          # noqa: BLE001 -- the error itself is part of the behaviour
            got[key] = {"error": type(exc).__name__ + ": " + str(exc)}
        if check and got[key] != ref.get(key):
            failures += 1
            before = ref.get(key, {})
            diff = sorted(k for k in set(got[key]) | set(before) if got[key].get(k) != before.get(k))
            print(f"DIFFERENT {key}: {diff}", flush=True)
    built = sum(1 for v in got.values() if "names" in v)
    errors = sum(1 for v in got.values() if "error" in v)
    if check:
        missing = set(ref) - set(got)
        failures += len(missing)
        print(f"{len(got)} files, {built} feeders built, {errors} refused; {failures} different, "
              f"{len(missing)} missing")
    else:
        out.write_text(json.dumps(got, indent=1, sort_keys=True))
        print(f"{len(got)} files, {built} feeders built, {errors} refused; saved to {out}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the fingerprints to this file")
    group.add_argument("--check", type=Path, help="compare with the fingerprints of this file")
    args = ap.parse_args(argv)
    return run(args.save or args.check, check=args.check is not None)


if __name__ == "__main__":
    sys.exit(main())

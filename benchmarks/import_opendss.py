"""Time gatlang's OpenDSS import against the OpenDSS engine's own compile of the same script.

Usage: ``python benchmarks/import_opendss.py [--repeat N]``

Prints, per feeder, the best-of-N wall time of ``load_opendss`` (parse, convert,
build and validate every table, voltage bases, planning view) and of the
engine's ``compile`` (opendssdirect), and the ratio ours / engine.  The
IEEE 123 feeder comes from tests/data; the largest feeders (IEEE 8500, EPRI
ckt5, IEEE 9500) from the shared data folder when it is present.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import opendssdirect as dss

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.opendss.importer import load_opendss
from gatlang.network.ybus3 import build_ybus3

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GATLANG_SHARED_DATA", ROOT.parent / "shared" / "data")) / "opendss-ieee"
FEEDERS = {
    "IEEE 123": ROOT / "tests" / "data" / "opendss" / "ieee" / "123Bus" / "IEEE123Master.dss",
    "IEEE 8500": SHARED / "IEEETestCases" / "8500-Node" / "Master.dss",
    "EPRI ckt5": SHARED / "EPRITestCircuits" / "ckt5" / "Master_ckt5.dss",
    "IEEE 9500": SHARED / "IEEETestCases" / "ieee9500dss" / "ieee9500_base.dss",
}


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def ours(path: Path):
    sink = DiagnosticSink()
    net = load_opendss(path, sink)
    return net, sink


def engine(path: Path) -> None:
    dss.Text.Command("clear")
    try:
        dss.Text.Command(f'compile "{path}"')
    except dss.DSSException:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    ours(FEEDERS["IEEE 123"])            # warm up imports
    print(f"{'feeder':<10} {'elements':>9} {'gatlang s':>10} {'ybus3 s':>8} {'OpenDSS s':>10} {'ratio':>7}  note")
    for name, path in FEEDERS.items():
        if not path.exists():
            print(f"{name:<10} (not found: {path})")
            continue
        t_ours, (net, sink) = best(lambda: ours(path), args.repeat)
        t_eng, _ = best(lambda: engine(path), args.repeat)
        n = sum(t.num_rows for t in net.tables.values()) if net is not None else 0
        t_y = best(lambda: build_ybus3(net), args.repeat)[0] if net is not None else float("nan")
        note = "" if net is not None else f"not imported: {len(sink.errors)} error(s), e.g. {sink.errors[0].code}"
        if net is not None and sink.warnings:
            note = f"{len(sink.warnings)} warning(s)"
        print(f"{name:<10} {n:>9} {t_ours:>10.3f} {t_y:>8.3f} {t_eng:>10.3f} {t_ours / t_eng:>7.2f}  {note}")


if __name__ == "__main__":
    main()

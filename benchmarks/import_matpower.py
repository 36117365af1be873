"""Side by side: gatlang's MATPOWER importer (+ balanced lowering) vs pandapower's from_mpc.

Run:  python benchmarks/import_matpower.py [case.m ...]
Default cases: the large pglib / MATPOWER cases in ../shared/data.  Prints the
best of three wall times of each tool and the ratio (pandapower / ours).
pandapower's `from_mpc` parses .m files through matpowercaseframes.
"""
from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.balanced import from_network
from gatlang.network.matpower import load_matpower

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT = [SHARED / "pglib-opf" / "pglib_opf_case1354_pegase.m",
           SHARED / "matpower" / "data" / "case9241pegase.m",
           SHARED / "pglib-opf" / "pglib_opf_case10000_goc.m",
           SHARED / "matpower" / "data" / "case13659pegase.m"]


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def ours(path: Path) -> None:
    sink = DiagnosticSink()
    from_network(load_matpower(path, sink), sink)


def theirs(path: Path) -> None:
    from pandapower.converter.matpower import from_mpc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_mpc(str(path), f_hz=60)


def main(paths: list[Path]) -> None:
    print(f"{'case':32s} {'gatlang s':>10s} {'pandapower s':>13s} {'ratio':>7s}")
    for p in paths:
        a = best(lambda: ours(p))
        b = best(lambda: theirs(p))
        print(f"{p.name:32s} {a:10.3f} {b:13.3f} {b / a:7.1f}x")


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]] or DEFAULT)

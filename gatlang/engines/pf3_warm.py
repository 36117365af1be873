"""Compile the unbalanced power flow's kernels once per machine: ``python -m gatlang.engines.pf3_warm [FEEDER]``.

Why: the compiled kernels (`pf3_kernels`, `pf3_control_kernel`, `sparse_lu`,
`pf3_load_kernels`, `gatlang.network.ybus3_kernels`; numba with ``cache=True``)
are built on their first use and kept on disk; building them takes about a
minute on a loaded 2-core machine, which a user would otherwise meet in the
middle of their first study (and each of CI's test workers would pay it again).  The project's bootstrap runs this on
the example IEEE 13 feeder with every method and both regulator modes, so that
every kernel is compiled for the argument types real solves use; with the
cache warm it takes about a second.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from gatlang.diagnostics import DiagnosticSink
from gatlang.engines.pf3 import solve_unbalanced
from gatlang.network.opendss.importer import load_opendss

#: the feeder the bootstrap warms up on (in the repository)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ieee13" / "IEEE13Nodeckt.dss"


def warm(feeder: Path = EXAMPLE) -> float:
    """Solve ``feeder`` with every method and regulator mode; returns the seconds it took."""
    started = time.perf_counter()
    net = load_opendss(feeder, DiagnosticSink())
    if net is None:
        raise SystemExit(f"cannot import {feeder}")
    for method in ("fixed_point", "newton", "sweep"):
        for regulators in ("control", "fixed"):
            result = solve_unbalanced(net, method=method, regulators=regulators)
            if not result.converged:
                raise SystemExit(f"{method} ({regulators}) did not converge on {feeder}")
    return time.perf_counter() - started


def main(argv: list[str]) -> None:
    seconds = warm(Path(argv[0]) if argv else EXAMPLE)
    print(f"power flow kernels ready ({seconds:.1f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])

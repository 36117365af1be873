"""`expect` statements: a study is also its own regression test.

    expect dc.objective ~= 17480 $/h within 1e-4      # relative tolerance
    expect dc.objective ~= 17480 $/h within 5 $/h     # absolute tolerance
    expect ac.status == locally_optimal

Why checked after all steps: an expectation is about results, so it needs the
run (or its cached record); a failed expectation is an error diagnostic at the
`expect` line, which makes `gatc run` exit non-zero -- in CI as at a desk.
A run with several scenarios must meet the expectation in every scenario.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gatlang.diagnostics import DiagnosticSink
from gatlang.semantics import units as U
from gatlang.semantics.options import Quantity, evaluate
from gatlang.syntax import ast

if TYPE_CHECKING:
    from gatlang.passes import Compilation

DEFAULT_RELATIVE = 1e-6


def check_expects(c: "Compilation") -> None:
    assert c.program is not None
    for exp in c.program.expects:
        steps = [s for s in c.steps if s.run.name == exp.run]
        if not steps:
            continue  # run not selected (--only) or not planned
        for step in steps:
            check_one(exp, step.record, step.label, c.sink)


def check_one(exp: ast.ExpectStmt, record: dict[str, Any], label: str, sink: DiagnosticSink) -> None:
    got = record.get(exp.attr)
    if record.get("status") == "failed" and exp.attr != "status":
        sink.error("GAT0701", f"expect {exp.run}.{exp.attr}: run `{label}` failed, so there is nothing to check",
                   exp.span, help="fix the run's own errors first (reported above)")
        return
    if exp.attr == "status":
        got = record.get("status_detail") or record.get("solve_status") or record.get("status")
    want = evaluate(exp.value, sink)
    if want is None:
        return
    if isinstance(want, str) or isinstance(got, str):
        ok = (str(got) == str(want)) if exp.op in ("==", "~=") else (str(got) != str(want))
        if not ok:
            sink.error("GAT0701", f"expect {exp.run}.{exp.attr} {exp.op} {want}: got {got} in `{label}`", exp.span)
        return
    if got is None:
        sink.error("GAT0701", f"expect {exp.run}.{exp.attr}: run `{label}` has no {exp.attr}", exp.span)
        return
    unit_text = record.get(f"{exp.attr}_unit") or ""
    target = _in_result_unit(want, unit_text, exp, sink)
    if target is None:
        return
    tol_abs = _tolerance(exp, target, unit_text, sink)
    if tol_abs is None:
        return
    got = float(got)
    ok = {
        "~=": abs(got - target) <= tol_abs, "==": abs(got - target) <= tol_abs,
        "!=": abs(got - target) > tol_abs,
        "<=": got <= target + tol_abs, ">=": got >= target - tol_abs,
        "<": got < target, ">": got > target,
    }[exp.op]
    if not ok:
        rel = abs(got - target) / abs(target) if target else math.inf
        sink.error("GAT0701", f"expect {exp.run}.{exp.attr} {exp.op} {target:.6g} {unit_text}".rstrip()
                   + f": got {got:.6g} in `{label}` (difference {abs(got - target):.3g}, relative {rel:.2e})",
                   exp.span, help=f"allowed difference {tol_abs:.3g} {unit_text}".rstrip()
                   + "; if the new value is right, update the expectation")


def _in_result_unit(want: Any, unit_text: str, exp: ast.ExpectStmt, sink: DiagnosticSink) -> float | None:
    if not isinstance(want, Quantity):
        return float(want)
    if not unit_text:
        return want.canonical
    result_unit = U.parse_unit(unit_text)
    if not U.compatible(want.unit, result_unit):
        sink.error("GAT0302", f"unit mismatch: the result is in {unit_text}, the expectation in {want.text}",
                   exp.value.span, help=f"write the value in {unit_text} or a unit of the same dimension")
        return None
    return U.from_canonical(want.canonical, result_unit)


def _tolerance(exp: ast.ExpectStmt, target: float, unit_text: str, sink: DiagnosticSink) -> float | None:
    """`within 1e-4` is relative, `within 0.1 %` is relative in percent, `within 5 $/h` is absolute."""
    if exp.tolerance is None:
        return DEFAULT_RELATIVE * abs(target) if exp.op in ("~=", "==", "!=") else 0.0
    tol = evaluate(exp.tolerance, sink)
    if tol is None:
        return None
    if isinstance(tol, Quantity) and not tol.unit.dims.is_dimensionless:
        return _in_result_unit(tol, unit_text, exp, sink)
    value = tol.canonical if isinstance(tol, Quantity) else float(tol)
    return abs(value) * abs(target)

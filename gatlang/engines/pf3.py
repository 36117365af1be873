"""Unbalanced (three-phase, per-conductor) power flow: the entry point :func:`solve_unbalanced`.

Why one front door: Newton (`pf3_newton`) and the fixed-point Z-bus iteration
(`pf3_fixed`) solve the same equations (`pf3_system`); what they share --
option checks, the start point, the control loop of regulators and
capacitors (`pf3_controls`), flows and losses (`pf3_flows`), and turning
every failure into a coded diagnostic naming the worst nodes -- is written
once here.

Speed: everything that depends only on the data (Y, bases, load branches,
the factorisation of the fixed-point matrix, flow primitives) is cached per
network version (`pf3_cache`), so a study's later solves pay only for the
iterations; tap and capacitor steps are solved by compensation on the
cached factorisation (`pf3_linear`); the mismatch and the compensation
products run as compiled loops (`pf3_kernels`), since on a small feeder
numpy's per-call dispatch cost more than the arithmetic; branch flows are
computed on first access.  benchmarks/pf_unbalanced.py compares with the
engine's own Solve.

Validated against the OpenDSS engine (opendssdirect.py) on the IEEE 13, 34,
123 and 8500 node feeders and small capacitor-control cases (tests/engines3).
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace

import numpy as np

from gatlang.diagnostics import Diagnostic, Span, error, warning
from gatlang.engines import pf3_result as codes
from gatlang.engines.pf3_cache import NETWORK_TABLES, memo
from gatlang.engines.pf3_capcontrol import capcontrols
from gatlang.engines.pf3_controls import KERNELS, MAX_CONTROL_ROUNDS, control_loop
from gatlang.engines.pf3_flows import FlowSource
from gatlang.engines.pf3_linear import linear_solver
from gatlang.engines.pf3_regcontrol import RegulatorBank, final_taps
from gatlang.engines.pf3_regcontrol import regulators as find_regulators
from gatlang.engines.pf3_result import PF3Result, Solve3Outcome, name_nodes
from gatlang.engines.pf3_sweep import meshed_error, sweep_check
from gatlang.runtime.collector import collector_paused
from gatlang.engines.pf3_system import System3, build_system, no_source_error
from gatlang.network.model import Network

REGULATOR_MODES = ("control", "fixed")
#: mismatch floor in units of (machine epsilon x largest row sum of |Y| in pu): below it the
#: residual is round-off in ``Y v`` and no kernel can reduce it further
ROUNDOFF_FACTOR = 4.0


def _options_error(method: str, regulators: str, tol: float, max_iter: int, load_scale: float,
                   pv_scale: float, span: Span | None) -> Diagnostic | None:
    if method not in KERNELS:
        return error(codes.BAD_OPTION, f"unknown unbalanced power-flow method `{method}`", span,
                     help="use one of: " + ", ".join(KERNELS))
    if regulators not in REGULATOR_MODES:
        return error(codes.BAD_OPTION, f"unknown regulator mode `{regulators}`", span,
                     help="use `control` (taps move to bring voltages into band) or `fixed` (taps as given)")
    if not (tol > 0 and np.isfinite(tol)) or max_iter < 1:
        return error(codes.BAD_OPTION, f"power-flow tolerance must be > 0 and max_iter >= 1 "
                     f"(got tol={tol}, max_iter={max_iter})", span,
                     help="the defaults tol = 1e-8 and max_iter = 50 suit distribution feeders")
    if not (np.isfinite(load_scale) and np.isfinite(pv_scale)) or load_scale < 0 or pv_scale < 0:
        return error(codes.BAD_OPTION, f"load_scale and pv_scale must be finite and >= 0 "
                     f"(got {load_scale}, {pv_scale})", span, help="e.g. load_scale = 0.4 for light load")
    return None


def roundoff_floor(system: System3) -> float:
    """The smallest mismatch (pu) worth asking for: round-off of ``Y v`` at |v| ~ 1."""
    if system.n == 0:
        return 0.0
    if "roundoff" not in system.network_shared:
        largest_row = float(system.row_abs_sums().max())
        system.network_shared["roundoff"] = ROUNDOFF_FACTOR * sys.float_info.epsilon * largest_row
    return system.network_shared["roundoff"]


def start_voltages(system: System3, reuse: dict | None = None) -> np.ndarray:
    """The network with every load at its nominal admittance, solved once: a start point that
    carries every transformer's phase shift and the regulators' present taps.  It uses the
    fixed-point kernel's factorisation (the same matrix), so it costs one triangular solve."""
    lu = linear_solver(system, {} if reuse is None else reuse)
    return np.asarray(lu.solve(system.isrc), dtype=complex)


def _singular(exc: str, span: Span | None) -> Diagnostic:
    return error(codes.SINGULAR, f"the network admittance matrix is singular ({exc}): some nodes have no "
                 "path to ground or to the source", span,
                 help="look for floating nodes: a delta winding or an ungrounded wye with nothing "
                      "referencing it to ground, or a zero-impedance loop")


def _not_converged(system: System3, out: Solve3Outcome, method: str, max_iter: int,
                   span: Span | None) -> Diagnostic:
    """GAT0840: name the nodes where the current balance is furthest from holding."""
    mis = np.nan_to_num(np.abs(system.mismatch(out.v)), nan=np.inf)
    worst = np.argsort(-mis)[:codes.NAMED_NODES]
    names = [system.names[i] for i in system.live]
    return error(
        codes.NOT_CONVERGED, f"{method} unbalanced power flow did not converge in {out.iterations} "
        f"iteration(s) (largest mismatch {out.history[-1]:.3g} pu); worst nodes: "
        f"{name_nodes(names, worst, mis[worst])}", span,
        help=f"raise max_iter (now {max_iter})" + (", try method = newton" if method != "newton" else "")
        + "; if it still fails the load may be beyond what the feeder can carry: check the loads "
        "(kW vs MW) and impedances near those nodes")


def _failed(method: str, diags: list[Diagnostic], started: float) -> PF3Result:
    return PF3Result(False, 0, float("nan"), method, [], np.zeros(0, complex), np.zeros(0), diagnostics=diags,
                     wall_time=time.perf_counter() - started)


def _unmodelled(net: Network, span: Span | None) -> list[Diagnostic]:
    out = []
    n_storage = net.tables["storage"].num_rows if "storage" in net.tables else 0
    if n_storage:
        out.append(warning(codes.NOT_MODELLED, f"{n_storage} storage element(s) are left out of the "
                           "unbalanced power flow (idle)", span,
                           help="model a storage unit's dispatch as a generator or load to include it"))
    return out


def solve_unbalanced(net: Network, *, method: str = "fixed_point", tol: float = 1e-8, max_iter: int = 50,
                     regulators: str = "control", load_scale: float = 1.0, pv_scale: float = 1.0,
                     span: Span | None = None) -> PF3Result:
    """Solve the unbalanced power flow of ``net`` (an OpenDSS-style three-phase network).

    ``method``: ``fixed_point`` (alias ``zbus``; the default: the engine's own
    scheme on a once-factorised matrix, Anderson-accelerated, handing over to
    Newton by itself if it stalls), ``newton`` (current-injection Newton,
    rectangular) or ``sweep`` (the backward-forward sweep of radial feeders,
    `pf3_sweep`; GAT0803 on a meshed one).  All stop at the same exact criterion.
    ``tol``: largest nodal mismatch, pu of 1 MVA (floored at the round-off
    level of the network's admittances, see :func:`roundoff_floor`).
    ``regulators``: ``control`` runs the control loop of the regulators (band,
    line drop compensation, the engine's static-mode steps) and capacitor
    controls (`pf3_capcontrol`); ``fixed`` keeps the taps in the transformers
    table and every capacitor as in the data.  ``load_scale`` multiplies every load,
    ``pv_scale`` every PV system's output.

    Never raises on bad data: a result with ``converged=False`` carries coded
    diagnostics (GAT0840-GAT0850) saying why; capacitor controls that cannot
    be simulated are reported as warnings (GAT0811-GAT0813).
    """
    started = time.perf_counter()
    with collector_paused():
        return _solve(net, method, tol, max_iter, regulators, load_scale, pv_scale, span, started)


def _solve(net: Network, method: str, tol: float, max_iter: int, regulators: str, load_scale: float,
           pv_scale: float, span: Span | None, started: float) -> PF3Result:
    bad = _options_error(method, regulators, tol, max_iter, load_scale, pv_scale, span)
    if bad is not None:
        return _failed(method, [bad], started)
    if net.table("sources").num_rows == 0:
        return _failed(method, [no_source_error(net, span)], started)
    if method == "sweep":
        meshed = memo(net, "sweep_check", lambda: sweep_check(net), NETWORK_TABLES)
        if meshed is not None:
            return _failed(method, [meshed_error(meshed, span)], started)
    system = build_system(net, load_scale, pv_scale, span)
    diags = list(system.diagnostics) + _unmodelled(net, span)
    tol_eff = max(tol, roundoff_floor(system))
    all_regs = memo(net, "regulators", lambda: RegulatorBank.of(find_regulators(net, system), system),
                    NETWORK_TABLES)
    regs = all_regs if regulators == "control" else RegulatorBank([])
    caps, cap_diags = memo(net, "capcontrols", lambda: capcontrols(net, system, None),
                           NETWORK_TABLES + ("cap_controls",)) \
        if regulators == "control" else ([], [])
    diags += [replace(d, span=span) for d in cap_diags]
    reuse: dict = {}
    try:
        v = start_voltages(system, reuse)
    except RuntimeError as exc:
        return _failed(method, diags + [_singular(str(exc), span)], started)
    if not np.all(np.isfinite(v)):
        return _failed(method, diags + [_singular("the start point is not finite", span)], started)
    loop = control_loop(net, system, method, v, tol_eff, max_iter, reuse, regs, caps)
    out, history, rounds, at_limit, states = loop.out, loop.history, loop.rounds, loop.at_limit, loop.states
    iterations, v, used = loop.iterations, out.v, loop.method
    if not loop.settled:
        diags.append(warning(codes.REG_NOT_SETTLED, f"the control loop (regulators and capacitor controls) "
                             f"did not settle in {MAX_CONTROL_ROUNDS} rounds; the last taps and capacitor "
                             "states are reported", span,
                             help="widen the regulators' band or the capacitors' on/off settings, or solve "
                                  "with regulators = fixed"))
    if at_limit:
        diags.append(warning(codes.REG_AT_LIMIT, f"{len(at_limit)} regulator(s) are at a tap limit with the "
                             f"voltage still out of band: {', '.join(sorted(at_limit)[:5])}", span,
                             help="the feeder needs more regulation range here, or less load"))
    if out.failure is not None:
        diags.append(replace(out.failure, span=span))
    elif not out.converged:
        diags.append(_not_converged(system, out, method, max_iter, span))
    v_full = system.v_full(v)
    taps_now = {row["transformer"]: list(row["taps_pu"]) for row in system.regulated.rows}
    taps, positions = final_taps(all_regs.regs, system)
    return PF3Result(
        converged=out.converged, iterations=iterations, max_mismatch=history[-1] if history else 0.0,
        method=used, nodes=list(system.names), v=v_full, vbase_v=system.vbase,
        flow_source=FlowSource(net, system.nodes, v_full, taps_now), taps=taps, tap_positions=positions,
        control_iterations=rounds, diagnostics=diags, wall_time=time.perf_counter() - started,
        mismatch_history=history, capacitor_states=states)

"""The regulator control loop compiled as one call: solve, step the regulators, compensate, solve again.

Why: `pf3_controls.control_loop` runs five to ten rounds on a feeder with
regulators, and each round is a dozen Python-level calls (the compensated
solver, the regulators' check, the tap steps and their stamps, the outcome
bookkeeping) that together cost more than the round's iterations on a small
feeder.  For the common case -- the fixed point, regulators and no capacitor
controls, every regulated transformer's entries in the matrix's pattern --
this loop does the same rounds with the same compiled pieces, in the same
order, so the result is the same to the bit (the tests compare the two on
the IEEE feeders).  Anything else -- a stalled or diverging round, which the
Python loop hands to Newton -- returns `LOOP_FALLBACK` with nothing written
back, and the caller runs the Python loop from the start.

Each round, as `control_loop`: the fixed point (`pf3_kernels.fixed_point_loop`)
to the control tolerance while the regulators move, to the asked one once
they are settled; then every regulator's check and static step
(`pf3_kernels.regulator_steps`); the regulators with the smallest delay
move; their transformers' primitives at the new taps are stamped into the
matrix (`pf3_system.System3.set_taps`' arithmetic) and logged, and the
compensation gain of all changes so far is recomputed
(`pf3_kernels.compensation_gain`) on the columns of ``M0^{-1}`` the caller
prepared for every node a regulator touches.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gatlang.engines.pf3_kernels import FP_DONE, compensation_gain, fixed_point_loop, regulator_steps, retap_into

#: `control_rounds` outcomes (the Python loop's three exits, and "run the Python loop instead")
LOOP_SETTLED, LOOP_NOT_CONVERGED, LOOP_UNSETTLED, LOOP_FALLBACK = 0, 1, 2, 3


@njit(cache=True, nogil=True)
def _retap(x: int, taps: np.ndarray, scaled: np.ndarray, fixed: np.ndarray, wind: np.ndarray, width: int,
           prims: np.ndarray, sel: np.ndarray, pos: np.ndarray, scale: np.ndarray, count: int, data: np.ndarray,
           lr: np.ndarray, lc: np.ndarray, log_r: np.ndarray, log_c: np.ndarray, log_v: np.ndarray, logged: int) -> int:
    """Transformer x's primitive at ``taps[x]`` stamped into ``data`` (`pf3_kernels.retap_into`, on
    the padded arrays cut to the transformer's width) and its change appended to the log; returns
    the new log length."""
    prim, xv, _ = retap_into(np.ascontiguousarray(scaled[x, :width, :width]),
                             np.ascontiguousarray(fixed[x, :width, :width]), wind[x, :width], taps[x],
                             np.ascontiguousarray(prims[x, :width, :width]), sel[:count], np.zeros(0, dtype=np.int64),
                             pos[:count], scale[:count], data)
    for q in range(count):
        log_r[logged], log_c[logged], log_v[logged] = lr[q], lc[q], xv[q]
        logged += 1
    prims[x, :width, :width] = prim
    return logged


@njit(cache=True, nogil=True)
def control_rounds(y: tuple, isrc: np.ndarray, loads: tuple, lu: tuple, x0: np.ndarray, tol: float,
                   control_tol: float, max_iter: int, max_rounds: int, fp: tuple, bank: tuple, delay: np.ndarray,
                   remap: np.ndarray, vbase: np.ndarray, taps: np.ndarray, prims: np.ndarray, widths: np.ndarray,
                   plans: tuple, store: np.ndarray, row_of: np.ndarray, history: np.ndarray) -> tuple:
    """The control loop of `pf3_controls.control_loop` for regulators alone (see the module docstring).

    ``y = (indptr, indices, data)``: the matrix, ``data`` a copy this loop stamps
    into; ``fp = (depth, divergence, stall_rate, stall_window)`` the fixed point's
    settings; ``bank`` = the arrays of `pf3_regcontrol.RegulatorBank` (terms,
    scaled, fixed, wind, xf, winding, base, other, par, max_change, fraction);
    ``taps``/``prims`` (transformers x ...): present taps and primitives, updated
    in place; ``plans = (sel, pos, scale, lr, lc, count, nodes, node_count)``: each
    regulated transformer's stamp plan, padded; ``store[row_of[u]]`` = ``M0^{-1} e_u``
    for every node a plan touches.  ``history`` (length >= (2 max_rounds + 3) *
    (max_iter + 1): a settled check may follow every round) receives every round's mismatches.

    Returns (status, x, iterations, history length, start of the last round's
    history, the last round's iterations, rounds, stuck mask, log rows, log
    columns, log values, changed nodes, stamps made).
    """
    indptr, indices, data = y
    terms, scaled, fixed, wind, xf, winding, base, other, par, max_change, fraction = bank
    sel, pos, scale, lr, lc, count, nodes, node_count = plans
    depth, divergence, stall_rate, stall_window = fp
    n, nreg, nxf = len(x0), len(xf), taps.shape[0]
    cap = (max_rounds + 1) * sel.shape[1] * max(nxf, 1)
    log_r = np.empty(cap, dtype=np.int64)
    log_c = np.empty(cap, dtype=np.int64)
    log_v = np.empty(cap, dtype=np.complex128)
    logged = 0
    stamps = 0
    changed = np.zeros(n, dtype=np.bool_)
    u = np.zeros(0, dtype=np.int64)
    gain = np.zeros((0, 0), dtype=np.complex128)
    new = np.empty(nreg)
    wanted = np.empty(nreg)
    stuck = np.zeros(nreg, dtype=np.bool_)
    touched = np.zeros(nxf, dtype=np.bool_)
    moves = np.zeros(nreg, dtype=np.bool_)
    order = np.empty(max(nxf, 1), dtype=np.int64)
    round_history = np.empty(max_iter + 1)
    x = x0.copy()
    iterations = rounds = written_total = last_start = last_it = 0
    tight = False
    while True:
        comp = (store, row_of[u], gain, u)
        round_tol = tol if tight else max(tol, control_tol)
        x, it, written, status = fixed_point_loop(y, isrc, loads, lu, comp, x, round_tol, max_iter, depth,
                                                  divergence, stall_rate, stall_window, round_history)
        if status != FP_DONE:
            return (LOOP_FALLBACK, x, iterations, written_total, last_start, last_it, rounds, stuck, log_r[:logged],
                    log_c[:logged], log_v[:logged], u, stamps)
        last_start, last_it = written_total, it
        history[written_total:written_total + written] = round_history[:written]
        written_total += written
        iterations += it
        if not round_history[written - 1] <= round_tol:
            return (LOOP_NOT_CONVERGED, x, iterations, written_total, last_start, last_it, rounds, stuck,
                    log_r[:logged], log_c[:logged], log_v[:logged], u, stamps)
        regulator_steps(x, remap, vbase, terms, scaled, fixed, wind, taps, xf, winding, base, other, par,
                        max_change, fraction, new, wanted)
        nearest = np.inf
        for r in range(nreg):
            tap = taps[xf[r], winding[r]]
            stuck[r] = wanted[r] != 0.0 and new[r] == tap
            if new[r] != tap:
                nearest = min(nearest, delay[r])
        if nearest == np.inf:
            if tight:
                return (LOOP_SETTLED, x, iterations, written_total, last_start, last_it, rounds, stuck,
                        log_r[:logged], log_c[:logged], log_v[:logged], u, stamps)
            tight = True
            continue
        tight = False
        rounds += 1
        if rounds > max_rounds:
            return (LOOP_UNSETTLED, x, iterations, written_total, last_start, last_it, rounds - 1, stuck,
                    log_r[:logged], log_c[:logged], log_v[:logged], u, stamps)
        touched[:] = False
        norder = 0
        for r in range(nreg):      # the regulators that move now; their transformers in order of first mover
            moves[r] = new[r] != taps[xf[r], winding[r]] and delay[r] == nearest
            if moves[r] and not touched[xf[r]]:
                touched[xf[r]] = True
                order[norder] = xf[r]
                norder += 1
        for r in range(nreg):                           # every moving regulator's winding, then the stamps
            if moves[r]:
                taps[xf[r], winding[r]] = new[r]
        for t in range(norder):
            k = order[t]
            logged = _retap(k, taps, scaled, fixed, wind, widths[k], prims, sel[k], pos[k], scale[k], count[k],
                            data, lr[k], lc[k], log_r, log_c, log_v, logged)
            stamps += 1
            for q in range(node_count[k]):
                changed[nodes[k, q]] = True
        u = np.flatnonzero(changed).astype(np.int64)
        gain = compensation_gain(u, log_r[:logged], log_c[:logged], log_v[:logged], store, row_of[u])

"""Compiled building of the load branches (`pf3_loads`): numba, cached on disk.

Why compiled: a feeder's loads become branches in a few dozen array steps
(expand each element into its phase branches, its admittance, the in-range
terms of its model, the four regions of every branch, the three parts of a
ZIP load).  On IEEE 123 (91 loads) each numpy call costs its fixed overhead
(3-20 us) and hardly anything per element: the numpy build cost ~0.2 ms of
a cold solve's ~0.5 ms of load building; the loop costs ~15 us.

Bit for bit: the loop does numpy's complex arithmetic the way numpy does it,
so the branches equal those of `pf3_loads._assemble` (the numpy formulation,
kept for the row-by-row path that the tests compare with).  A real ``x``
meeting a complex number is first made ``x + 0j`` (numpy's promotion), and
its products and quotients are spelled out (`_mul`, `_div`): numpy divides a
complex number by Smith's method with a reciprocal, which neither Python nor
numba's complex division does, and ``x * 0.0`` and the sign of zeros have to
come out the same.  (NaN inputs give NaN, perhaps with another sign bit.)

Cost: compiled once per machine with the other kernels (`pf3_warm`), loaded
from disk by a new process on first use.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

SQRT3 = math.sqrt(3.0)
#: the engine's Vlowpu (below it every model is a constant impedance)
VLOW_PU = 0.50
#: region kinds of the outer (out-of-range) behaviour
OUT_P, OUT_I, OUT_Z = 0, 1, 2
#: per engine model number (0..8; any other number reads as 0): which in-range term (1..6, 0 for
#: none) is each of its coefficients (c0, c1, c2); the terms are those of `_term` (from yeq, vb)
NORMAL_TERMS = np.array([[0, 0, 0],      # (no model: a ZIP load, split before use)
                         [0, 0, 5],      # 1 constant P
                         [1, 0, 0],      # 2 constant Z
                         [2, 0, 6],      # 3 motor: constant P, Q as an impedance
                         [2, 4, 0],      # 4 CVR with the default factors: P ~ V, Q ~ V^2
                         [0, 3, 0],      # 5 constant I
                         [0, 0, 5],      # 6 fixed Q: its P part
                         [0, 0, 5],      # 7 fixed Q (as an impedance): its P part
                         [0, 0, 0]])     # 8 ZIP (split before use)
#: how each model extends outside vmin..vmax
OUTER = np.array([OUT_P, OUT_P, OUT_Z, OUT_P, OUT_P, OUT_I, OUT_P, OUT_P, OUT_P])
#: the ZIP model's number
ZIP = 8


@njit(cache=True, nogil=True)
def _mul(ar: float, ai: float, x: float) -> tuple[float, float]:
    """``(ar + i ai) * (x + 0j)`` as numpy multiplies complex numbers."""
    return ar * x - ai * 0.0, ar * 0.0 + ai * x


@njit(cache=True, nogil=True, error_model="numpy")
def _div(ar: float, ai: float, x: float) -> tuple[float, float]:
    """``(ar + i ai) / (x + 0j)`` as numpy divides complex numbers (Smith's method, a reciprocal)."""
    br, bi = x, 0.0
    if abs(br) >= abs(bi):
        if br == 0.0:
            return ar / abs(br), ai / abs(br)
        rat = bi / br
        scl = 1.0 / (br + bi * rat)
        return (ar + ai * rat) * scl, (ai - ar * rat) * scl
    rat = br / bi
    scl = 1.0 / (bi + br * rat)
    return (ar * rat + ai) * scl, (ai * rat - ar) * scl


@njit(cache=True, nogil=True)
def _times_1j(x: float) -> tuple[float, float]:
    """``1j * x`` (numpy: ``(0 + 1j) * (x + 0j)``)."""
    return 0.0 * x - 1.0 * 0.0, 0.0 * 0.0 + 1.0 * x


@njit(cache=True, nogil=True)
def _term(term: int, yr: float, yi: float, vb: float) -> tuple[float, float]:
    """In-range term ``term`` (as numbered in `NORMAL_TERMS`) of a branch of admittance ``yr + i yi``."""
    if term == 1:
        return yr, yi
    if term == 2:
        return _times_1j(yi)
    if term == 3:
        return _mul(yr, yi, vb)
    if term == 4:
        return yr * vb, 0.0
    if term == 5:
        return _mul(yr, yi, vb * vb)
    if term == 6:
        return yr * (vb * vb), 0.0
    return 0.0, 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _regions(k: int, yr: float, yi: float, vb: float, vmin: float, vmax: float, outer: int,
             coef: np.ndarray, edges: np.ndarray) -> None:
    """Region edges and the coefficients of regions 0, 1 and 3 of branch ``k`` (region 2, the
    in-range one, is the caller's): `pf3_loads._region_coefficients` for one branch."""
    vlow = VLOW_PU * vb
    v95 = vmin * vb
    edges[k, 0] = vlow
    edges[k, 1] = v95
    edges[k, 2] = vmax * vb
    coef[k, 0, 0] = complex(yr, yi)
    if outer == OUT_Z:
        coef[k, 1, 0] = complex(yr, yi)
        coef[k, 3, 0] = complex(yr, yi)
        return
    yvr, yvi = _mul(yr, yi, vb)
    ylr, yli = _mul(yr, yi, vlow)
    if outer == OUT_I:
        ir, ii = yvr, yvi
    elif vmin > 0:
        ir, ii = _div(yvr, yvi, vmin)
    else:
        ir, ii = 0.0, 0.0
    kr, ki = _div(ir - ylr, ii - yli, v95 - vlow) if v95 > vlow else (0.0, 0.0)
    lr, li = _mul(kr, ki, vlow)
    coef[k, 1, 0] = complex(kr, ki)
    coef[k, 1, 1] = complex(ylr - lr, yli - li)
    if vmax > 0:
        ur, ui = _div(yr, yi, vmax if outer == OUT_I else vmax * vmax)
        coef[k, 3, 0] = complex(ur, ui)
    else:
        coef[k, 3, 0] = complex(yr, yi)


@njit(cache=True, nogil=True)
def _branch_count(size: int, wye: bool) -> int:
    """Branches of an element of ``size`` conductors: a wye one has one per phase conductor (all
    but the last), a delta one of two conductors one, of ``n`` conductors ``n``."""
    return max(size - (1 if wye or size == 2 else 0), 0)


#: "wye" in UTF-8
_W, _Y, _E = 119, 121, 101


@njit(cache=True, nogil=True)
def wye_strings(valid: np.ndarray, offsets: np.ndarray, data: np.ndarray, start: int,
                rows: np.ndarray) -> np.ndarray:
    """Whether the strings at ``rows`` of an Arrow string array are null, empty or "wye" (the
    row code's ``connection or "wye"``), from the array's buffers: validity bitmap (empty: no
    nulls), int32 offsets, UTF-8 data; ``start`` is the array's offset into them."""
    out = np.empty(len(rows), dtype=np.bool_)
    for i in range(len(rows)):
        j = rows[i] + start
        lo, hi = offsets[j], offsets[j + 1]
        null = len(valid) > 0 and not (valid[j >> 3] >> (j & 7)) & 1
        out[i] = null or hi == lo or (hi - lo == 3 and data[lo] == _W and data[lo + 1] == _Y and data[lo + 2] == _E)
    return out


@njit(cache=True, nogil=True)
def conductors_to_number(offsets: np.ndarray, at: np.ndarray, wye: np.ndarray,
                         nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(places in ``nodes``, row, conductor number) of the conductors that end a branch and are
    not ground (number > 0): the pairs `NodeIndex.lookup` has to number.

    ``nodes[offsets[r]:offsets[r + 1]]`` are the conductors of row ``r``;
    element ``e`` is row ``at[e]`` (a branch ends on every conductor of an
    element that has a branch).
    """
    total = 0
    for e in range(len(at)):
        r = at[e]
        if _branch_count(offsets[r + 1] - offsets[r], wye[e]):
            for p in range(offsets[r], offsets[r + 1]):
                total += nodes[p] > 0
    place = np.empty(total, dtype=np.int64)
    row = np.empty(total, dtype=np.int64)
    number = np.empty(total, dtype=np.int64)
    n = 0
    for e in range(len(at)):
        r = at[e]
        if _branch_count(offsets[r + 1] - offsets[r], wye[e]):
            for p in range(offsets[r], offsets[r + 1]):
                if nodes[p] > 0:
                    place[n], row[n], number[n] = p, r, nodes[p]
                    n += 1
    return place, row, number


@njit(cache=True, nogil=True, error_model="numpy")
def load_branches(offsets: np.ndarray, at: np.ndarray, wye: np.ndarray, place: np.ndarray, number: np.ndarray,
                  kv: np.ndarray, p: np.ndarray, q: np.ndarray, vmin: np.ndarray, vmax: np.ndarray,
                  model: np.ndarray, zipv: np.ndarray, owner: np.ndarray, kind: np.ndarray) -> tuple:
    """(a, b, yeq, coef, edges, vbase, owner, kind) of the load branches of the elements.

    Element ``e`` is row ``at[e]`` of the conductor lists (``offsets`` as in
    `conductors_to_number`); ``number[i]`` is the node index of conductor
    ``place[i]`` (any other conductor: -1); ``kv``, ``p``, ``q`` (W, var
    consumed) ``vmin``, ``vmax`` (pu), ``model`` (the engine's number),
    ``owner`` and ``kind`` (a code) per element; ``zipv`` the six ZIP
    coefficients of each element (read for model 8 only).  An element's
    branches are the engine's (`pf3_loads._branch_ends`), its power split evenly over them;
    a ZIP branch becomes three (Z, I and P parts), which come after every
    other branch: all Z parts, then the I parts, then the P parts.
    """
    index = np.full(offsets[-1], -1, dtype=np.int64)
    for i in range(len(place)):
        index[place[i]] = number[i]
    plain, zips = _totals(offsets, at, wye, model)
    n = plain + 3 * zips
    a = np.empty(n, dtype=np.int64)
    b = np.empty(n, dtype=np.int64)
    yeq = np.empty(n, dtype=np.complex128)
    coef = np.zeros((n, 4, 3), dtype=np.complex128)
    edges = np.empty((n, 3))
    vbase = np.empty(n)
    own = np.empty(n, dtype=np.int64)
    kinds = np.empty(n, dtype=np.int64)
    k_plain, k_zip = np.int64(0), plain
    for e in range(len(at)):
        first = offsets[at[e]]
        size = offsets[at[e] + 1] - first
        count = _branch_count(size, wye[e])
        vb = kv[e] * 1e3
        if wye[e] and count > 1:
            vb = vb / SQRT3
        sr, si = p[e] / count, q[e] / count
        yr, yi = _div(sr, -si, vb * vb) if vb > 0 else (0.0, 0.0)
        is_zip = model[e] == ZIP
        for j in range(count):
            other = size - 1 if wye[e] else (0 if j + 1 == size else j + 1)
            k = k_zip if is_zip else k_plain
            for part in range(3 if is_zip else 1):           # (a ZIP branch's parts are zips apart)
                kp = k + part * zips
                a[kp], b[kp] = index[first + j], index[first + other]
                vbase[kp], own[kp], kinds[kp] = vb, owner[e], kind[e]
            if is_zip:
                _zip_parts(k, zips, yr, yi, vb, vmin[e], vmax[e], zipv[e], yeq, coef, edges)
                k_zip += 1
            else:
                _plain(k, model[e], yr, yi, vb, vmin[e], vmax[e], yeq, coef, edges)
                k_plain += 1
    return a, b, yeq, coef, edges, vbase, own, kinds


@njit(cache=True, nogil=True)
def _totals(offsets: np.ndarray, at: np.ndarray, wye: np.ndarray, model: np.ndarray) -> tuple[int, int]:
    """(branches of the elements other than ZIP loads, branches of the ZIP loads)."""
    plain = zips = np.int64(0)             # (not literals: numba would compile the helpers for 0 too)
    for e in range(len(at)):
        c = _branch_count(offsets[at[e] + 1] - offsets[at[e]], wye[e])
        if model[e] == ZIP:
            zips += c
        else:
            plain += c
    return plain, zips


@njit(cache=True, nogil=True, error_model="numpy")
def _plain(k: int, model: int, yr: float, yi: float, vb: float, vmin: float, vmax: float,
           yeq: np.ndarray, coef: np.ndarray, edges: np.ndarray) -> None:
    """Branch ``k`` of a model other than ZIP (any number outside 0..8 reads as 8: no terms)."""
    m = min(max(model, 0), ZIP)
    yeq[k] = complex(yr, yi)
    for j in range(3):
        tr, ti = _term(NORMAL_TERMS[m, j], yr, yi, vb)
        coef[k, 2, j] = complex(tr, ti)
    _regions(k, yr, yi, vb, vmin, vmax, OUTER[m], coef, edges)


@njit(cache=True, nogil=True, error_model="numpy")
def _zip_parts(k: int, zips: int, yr: float, yi: float, vb: float, vmin: float, vmax: float, z: np.ndarray,
               yeq: np.ndarray, coef: np.ndarray, edges: np.ndarray) -> None:
    """The Z, I and P parts of a ZIP branch of admittance ``yr + i yi``, at branches ``k``,
    ``k + zips`` and ``k + 2 zips``: part j's admittance is ``yr z[j] + 1j yi z[j + 3]``, its
    in-range term coefficient j (times ``vb^j``), and outside the range it is Z-, I- and P-like."""
    tr, ti = _times_1j(yi)
    for j in range(3):
        ur, ui = _mul(tr, ti, z[j + 3])
        pr, pi = yr * z[j] + ur, 0.0 + ui
        kp = k + j * zips
        yeq[kp] = complex(pr, pi)
        nr, ni = (pr, pi) if j == 0 else _mul(pr, pi, vb if j == 1 else vb * vb)
        coef[kp, 2, j] = complex(nr, ni)
        _regions(kp, pr, pi, vb, vmin, vmax, OUT_Z if j == 0 else (OUT_I if j == 1 else OUT_P), coef, edges)

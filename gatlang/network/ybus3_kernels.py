"""Compiled inner loops of the three-phase Y build (numba, cached on disk).

Why compiled: a small feeder (IEEE 123) has a few hundred elements, and the
numpy formulation of `gatlang.network.ybus3` costs some hundred array calls of
3-200 us each on arrays of a few hundred entries -- call overhead, not
arithmetic.  These loops do the same work element by element in a few
microseconds: gathering each line's matrices from the flattened list columns,
a line's and a transformer's primitive and its placement, the COO triplets of
every primitive, the node numbering, and the COO -> CSC assembly.

Bit for bit: every kernel repeats the arithmetic of the numpy formulation it
replaces, operation by operation, so the matrix is the same to the last bit:

* the small complex inverses stay with ``np.linalg.inv`` (LAPACK), called by
  `ybus3` between two kernels, one call per matrix size -- but for 1 x 1
  matrices, whose LAPACK inverse is OpenBLAS's reciprocal (`inverse_1x1`);
* a complex divided by a real is numpy's (Smith's with a zero imaginary part:
  a product with the reciprocal, `_div_real`), not a plain division;
* the winding model's ``einsum`` sums its terms row of the incidence outer,
  column inner (`winding_admittances`);
* `csc_from_triplets` sums duplicate entries in the order scipy does: a stable
  counting sort by column, then libstdc++'s ``std::sort`` (introsort: not
  stable) of each column by row -- emulated step by step in `_std_sort` --
  then one pass adding neighbours.

``ybus3`` keeps the numpy formulation where it is the reference the tests
check against (`ybus3.transformer_primitives`, the per-row shunt and source
primitives).

Cost: numba compiles each kernel once per machine (``cache=True`` keeps the
machine code under ``__pycache__``); ``python -m gatlang.engines.pf3_warm``
compiles them with the power-flow kernels.  ``ybus3`` imports this module on
first use, so that importing ``ybus3`` (the balanced views do) does not start
numba.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

#: libstdc++'s introsort threshold (``_S_threshold``): shorter ranges are left to insertion sort
_THRESHOLD = 16


# ------------------------------------------------------------------ arithmetic as numpy does it

@njit(cache=True, nogil=True)
def _div_real(z: complex, r: float) -> complex:
    """``z / r`` as numpy computes a complex array divided by a real one (the real promoted to
    complex, Smith's algorithm: a product with the reciprocal, not a division)."""
    if r == 0.0:
        a = abs(r)
        return complex(z.real / a, z.imag / a)
    rat = 0.0 / r
    scl = 1.0 / (r + 0.0 * rat)
    return complex((z.real + z.imag * rat) * scl, (z.imag - z.real * rat) * scl)


@njit(cache=True, nogil=True)
def inverse_1x1(z: np.ndarray) -> np.ndarray:
    """``np.linalg.inv`` of 1 x 1 matrices, bit for bit: LAPACK's solve with OpenBLAS reduces to its
    reciprocal of the pivot (``compinv``: Smith's, on ``a (1 + ratio^2)``), which this repeats
    (`tests/network/test_ybus3_kernels.py` checks it against numpy).  Why: one ``inv`` call costs
    ten microseconds before any matrix, and most transformers (two windings) and many lines (one
    conductor) invert 1 x 1 matrices."""
    out = np.empty_like(z)
    for i in range(len(z)):
        ar, ai = z[i].real, z[i].imag
        if abs(ar) >= abs(ai):
            ratio = ai / ar
            den = 1.0 / (ar * (1.0 + ratio * ratio))
            out[i] = complex(den, -ratio * den)
        else:
            ratio = ar / ai
            den = 1.0 / (ai * (1.0 + ratio * ratio))
            out[i] = complex(ratio * den, -den)
    return out


# ------------------------------------------------------------------ std::sort of (row, value) pairs

@njit(cache=True, nogil=True)
def _swap(k: np.ndarray, v: np.ndarray, a: int, b: int) -> None:
    k[a], k[b] = k[b], k[a]
    v[a], v[b] = v[b], v[a]


@njit(cache=True, nogil=True)
def _unguarded_linear_insert(k: np.ndarray, v: np.ndarray, last: int) -> None:
    key, val = k[last], v[last]
    nxt = last - 1
    while key < k[nxt]:
        k[last], v[last] = k[nxt], v[nxt]
        last = nxt
        nxt -= 1
    k[last], v[last] = key, val


@njit(cache=True, nogil=True)
def _insertion_sort(k: np.ndarray, v: np.ndarray, first: int, last: int) -> None:
    for i in range(first + 1, last):
        if k[i] < k[first]:
            key, val = k[i], v[i]
            for j in range(i, first, -1):
                k[j], v[j] = k[j - 1], v[j - 1]
            k[first], v[first] = key, val
        else:
            _unguarded_linear_insert(k, v, i)


@njit(cache=True, nogil=True)
def _move_median_to_first(k: np.ndarray, v: np.ndarray, result: int, a: int, b: int, c: int) -> None:
    if k[a] < k[b]:
        if k[b] < k[c]:
            _swap(k, v, result, b)
        elif k[a] < k[c]:
            _swap(k, v, result, c)
        else:
            _swap(k, v, result, a)
    elif k[a] < k[c]:
        _swap(k, v, result, a)
    elif k[b] < k[c]:
        _swap(k, v, result, c)
    else:
        _swap(k, v, result, b)


@njit(cache=True, nogil=True)
def _unguarded_partition(k: np.ndarray, v: np.ndarray, first: int, last: int, pivot: int) -> int:
    while True:
        while k[first] < k[pivot]:
            first += 1
        last -= 1
        while k[pivot] < k[last]:
            last -= 1
        if not first < last:
            return first
        _swap(k, v, first, last)
        first += 1


@njit(cache=True, nogil=True)
def _adjust_heap(k: np.ndarray, v: np.ndarray, first: int, hole: int, length: int, key, val) -> None:
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if k[first + child] < k[first + child - 1]:
            child -= 1
        k[first + hole], v[first + hole] = k[first + child], v[first + child]
        hole = child
    if (length & 1) == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        k[first + hole], v[first + hole] = k[first + child - 1], v[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and k[first + parent] < key:
        k[first + hole], v[first + hole] = k[first + parent], v[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    k[first + hole], v[first + hole] = key, val


@njit(cache=True, nogil=True)
def _heap_sort(k: np.ndarray, v: np.ndarray, first: int, last: int) -> None:
    """``std::__partial_sort(first, last, last)``: make_heap, then sort_heap."""
    length = last - first
    if length >= 2:
        parent = (length - 2) // 2
        while True:
            _adjust_heap(k, v, first, parent, length, k[first + parent], v[first + parent])
            if parent == 0:
                break
            parent -= 1
    while last - first > 1:
        last -= 1
        key, val = k[last], v[last]
        k[last], v[last] = k[first], v[first]
        _adjust_heap(k, v, first, 0, last - first, key, val)


@njit(cache=True, nogil=True)
def _std_sort(k: np.ndarray, v: np.ndarray, first: int, last: int, stack: np.ndarray) -> None:
    """Sort ``k[first:last]`` (carrying ``v``) exactly as libstdc++'s ``std::sort`` with a comparator
    on the key alone: introsort (median-of-three quicksort down to ranges of 16, heapsort past
    2 log2(n) levels), then insertion sort.  Why exactly: the order of equal keys it leaves is
    the order scipy sums duplicate entries in.  The recursion is an explicit stack (the ranges
    are disjoint, so the order they are processed in does not matter); `stack` (at least
    2 log2(n) + 2, 3) is its room."""
    n = last - first
    if n < 2:
        return
    depth0 = 0
    m = n
    while m > 1:
        m >>= 1
        depth0 += 1
    stack[0, 0], stack[0, 1], stack[0, 2] = first, last, 2 * depth0
    top = 1
    while top:
        top -= 1
        lo, hi, depth = stack[top, 0], stack[top, 1], stack[top, 2]
        while hi - lo > _THRESHOLD:
            if depth == 0:
                _heap_sort(k, v, lo, hi)
                break
            depth -= 1
            mid = lo + (hi - lo) // 2
            _move_median_to_first(k, v, lo, lo + 1, mid, hi - 1)
            cut = _unguarded_partition(k, v, lo + 1, hi, lo)
            stack[top, 0], stack[top, 1], stack[top, 2] = cut, hi, depth
            top += 1
            hi = cut
    if n > _THRESHOLD:
        _insertion_sort(k, v, first, first + _THRESHOLD)
        for i in range(first + _THRESHOLD, last):
            _unguarded_linear_insert(k, v, i)
    else:
        _insertion_sort(k, v, first, last)


@njit(cache=True, nogil=True)
def sort_like_scipy(k: np.ndarray, v: np.ndarray, indptr: np.ndarray) -> None:
    """Sort every segment ``indptr[j]:indptr[j + 1]`` as scipy's ``csr_sort_indices`` does (for tests)."""
    stack = np.empty((130, 3), dtype=np.int64)
    for j in range(len(indptr) - 1):
        _std_sort(k, v, indptr[j], indptr[j + 1], stack)


# ------------------------------------------------------------------ assembly

@njit(cache=True, nogil=True)
def csc_from_triplets(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indptr, indices, data) of the n x n CSC matrix of COO triplets, duplicates summed: canonical
    (rows sorted, distinct), bit for bit what ``sp.csc_matrix((vals, (rows, cols)))`` followed by
    ``sum_duplicates`` gives (see the module docstring)."""
    nnz = len(vals)
    start = np.zeros(n + 1, dtype=np.int64)
    for e in range(nnz):
        start[cols[e] + 1] += 1
    for j in range(n):
        start[j + 1] += start[j]
    nxt = start[:-1].copy()
    idx = np.empty(nnz, dtype=np.int32)
    data = np.empty(nnz, dtype=np.complex128)
    for e in range(nnz):
        c = cols[e]
        p = nxt[c]
        idx[p] = rows[e]
        data[p] = vals[e]
        nxt[c] = p + 1
    indptr = np.zeros(n + 1, dtype=np.int32)
    stack = np.empty((130, 3), dtype=np.int64)      # 2 log2(nnz) + 2 < 130
    out = 0
    for j in range(n):
        lo, hi = start[j], start[j + 1]
        _std_sort(idx, data, lo, hi, stack)
        p = lo
        while p < hi:
            r = idx[p]
            x = data[p]
            p += 1
            while p < hi and idx[p] == r:
                x += data[p]
                p += 1
            idx[out] = r
            data[out] = x
            out += 1
        indptr[j + 1] = out
    return indptr, idx[:out], data[:out]      # (views: a copy would cost fresh pages)


@njit(cache=True, nogil=True)
def stamp_entries(prim: np.ndarray, size: np.ndarray, idx: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO triplets of primitives ``prim[e, :size[e], :size[e]]`` on global nodes ``idx[e, :size[e]]``,
    element after element, row-major; entries on ground (node -1) are left out."""
    total = 0
    for e in range(len(size)):
        live = 0
        for a in range(size[e]):
            if idx[e, a] >= 0:
                live += 1
        total += live * live
    rows = np.empty(total, dtype=np.int32)
    cols = np.empty(total, dtype=np.int32)
    vals = np.empty(total, dtype=np.complex128)
    p = 0
    for e in range(len(size)):
        k = size[e]
        for a in range(k):
            ia = idx[e, a]
            if ia < 0:
                continue
            for b in range(k):
                ib = idx[e, b]
                if ib >= 0:
                    rows[p] = ia
                    cols[p] = ib
                    vals[p] = prim[e, a, b]
                    p += 1
    return rows, cols, vals


# ------------------------------------------------------------------ node numbering

#: FNV-1a (64 bits) of a bus name's UTF-8 bytes: offset basis and prime
_FNV_BASIS = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)
#: the byte the node names are joined with (`node_numbering`)
_NEWLINE = 10


@njit(cache=True, nogil=True)
def _hash(data: np.ndarray, lo: int, hi: int) -> int:
    """FNV-1a of ``data[lo:hi]``, as a non-negative int64."""
    h = _FNV_BASIS
    for p in range(lo, hi):
        h = (h ^ np.uint64(data[p])) * _FNV_PRIME
    return np.int64(h >> np.uint64(1))


@njit(cache=True, nogil=True)
def _find(table: np.ndarray, start: np.ndarray, end: np.ndarray, data: np.ndarray, qdata: np.ndarray,
          lo: int, hi: int, h: int) -> int:
    """The slot of name ``qdata[lo:hi]`` (hash `h`) in the open-addressing `table` ((code, hash) of
    each slot, code -1 free; code c is the name ``data[start[c]:end[c]]``): the one holding it, or
    the free one it would go to.  Why the hash in the table: a slot of another name is passed
    over without reading its bytes (on a large feeder, a random read costs more than the hash)."""
    mask = len(table) - 1
    s = h & mask
    n = hi - lo
    while True:
        c = table[s, 0]
        if c < 0:
            return s
        if table[s, 1] == h and end[c] - start[c] == n:
            a = start[c]
            same = True
            for q in range(n):
                if data[a + q] != qdata[lo + q]:
                    same = False
                    break
            if same:
                return s
        s = (s + 1) & mask


@njit(cache=True, nogil=True)
def encode_names(data: np.ndarray, offsets: np.ndarray) -> tuple:
    """(code of every name, in order of first appearance; the first name of each code; the hash
    table and each code's bytes ``start:end``, for `lookup_nodes`) of the strings
    ``data[offsets[i]:offsets[i + 1]]`` (an arrow string array's buffers) --
    ``pyarrow.compute.dictionary_encode``'s codes, by a hash of the bytes (`_find`)."""
    n = len(offsets) - 1
    size = 1
    while size < 2 * n:
        size <<= 1
    table = np.full((size, 2), -1, dtype=np.int64)
    start = np.empty(n, dtype=np.int64)
    end = np.empty(n, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)
    codes = np.empty(n, dtype=np.int64)
    count = 0
    for i in range(n):
        lo, hi = offsets[i], offsets[i + 1]
        h = _hash(data, lo, hi)
        s = _find(table, start, end, data, data, lo, hi, h)
        if table[s, 0] < 0:
            table[s, 0], table[s, 1] = count, h
            start[count], end[count], first[count] = lo, hi, i
            count += 1
        codes[i] = table[s, 0]
    return codes, first[:count], table, start[:count], end[:count]


@njit(cache=True, nogil=True)
def _entry_codes(codes: np.ndarray, a: int, b: int, bus_off: np.ndarray, win_off: np.ndarray) -> np.ndarray:
    """The bus code of every (bus, node list) entry: the names ``codes[:a]``, the bus of every
    transformer winding (winding w of row r is the ``(w - win_off[r])``-th of the row's buses
    ``codes[a + bus_off[r]:]``), the names ``codes[b:]``."""
    nwind = win_off[-1] - win_off[0]
    out = np.empty(a + nwind + len(codes) - b, dtype=np.int64)
    for e in range(a):                       # (loops, not slice assignments: those take seconds to compile)
        out[e] = codes[e]
    e = a
    for r in range(len(win_off) - 1):
        for w in range(win_off[r], win_off[r + 1]):
            j = bus_off[r] + w - win_off[r]
            if j < 0 or j >= b - a:
                raise IndexError("a transformer has more windings than buses")
            out[e] = codes[a + j]
            e += 1
    for i in range(b, len(codes)):
        out[e + i - b] = codes[i]
    return out


@njit(cache=True, nogil=True)
def _digits(v: int) -> int:
    """Characters of ``str(v)``."""
    n = 1 if v >= 0 else 2
    v = abs(v)
    while v >= 10:
        v //= 10
        n += 1
    return n


@njit(cache=True, nogil=True)
def _node_names(bus: np.ndarray, k: np.ndarray, start: np.ndarray, end: np.ndarray, data: np.ndarray
                ) -> tuple[np.ndarray, bool]:
    """(the names ``"bus.k"`` of the numbered nodes as UTF-8, joined by newlines; whether no bus
    name holds a newline itself, so that splitting the text at newlines gives the names back)."""
    total = 0
    clean = True
    for i in range(len(bus)):
        lo, hi = start[bus[i]], end[bus[i]]
        total += hi - lo + 2 + _digits(k[i])
        for p in range(lo, hi):
            if data[p] == _NEWLINE:
                clean = False
    out = np.empty(max(total - 1, 0), dtype=np.uint8)
    p = 0
    for i in range(len(bus)):
        if i:
            out[p] = _NEWLINE
            p += 1
        lo, hi = start[bus[i]], end[bus[i]]
        for q in range(lo, hi):
            out[p] = data[q]
            p += 1
        out[p] = 46                          # "."
        p += 1
        v = k[i]
        n = _digits(v)
        if v < 0:
            out[p] = 45                      # "-"
            v = -v
        for d in range(n - 1, -1 if k[i] >= 0 else 0, -1):
            out[p + d] = 48 + v % 10
            v //= 10
        p += n
    return out, clean


@njit(cache=True, nogil=True)
def node_numbering(data: np.ndarray, offsets: np.ndarray, a: int, b: int, bus_off: np.ndarray,
                   win_off: np.ndarray, node: np.ndarray, node_off: np.ndarray, n_table: int) -> tuple:
    """`ybus3.NodeIndex`'s numbering in one pass: the bus names (an arrow string array's buffers:
    the buses table's, the lines' ends, the transformers' buses ``[a:b]``, the shunts', the sources')
    encoded (`encode_names`), every entry's node list ``node[node_off[e]:node_off[e + 1]]`` given its
    bus (`_entry_codes`), and the distinct named (bus code, node) pairs -- every node of the first
    `n_table` entries (the buses table), elsewhere a node > 0 -- numbered in (code, node) order by
    rank on a dense grid.

    Returns (number of every node, -1 where not named; bus code and node of each number; the
    grid, code * span + node - lo -> number or -1, and its lo and span; the names' codes, first
    names and (hash table, start, end) (`encode_names`); the node names (`_node_names`) and
    whether they split)."""
    codes, first, table, start, end = encode_names(data, offsets)
    entry = _entry_codes(codes, a, b, bus_off, win_off)
    if len(node_off) != len(entry) + 1:
        raise ValueError("not one node list per bus name")
    m = node_off[len(entry)] - node_off[0]
    named_end = node_off[n_table]
    lo, hi = 1 << 30, -(1 << 30)
    for p in range(node_off[0], node_off[len(entry)]):
        if p < named_end or node[p] > 0:
            lo = min(lo, node[p])
            hi = max(hi, node[p])
    index = np.full(m, -1, dtype=np.int32)
    span = max(hi - lo + 1, 0)
    grid = np.full(len(first) * span, -1, dtype=np.int64)
    for e in range(len(entry)):
        for p in range(node_off[e], node_off[e + 1]):
            if p < named_end or node[p] > 0:
                grid[entry[e] * span + node[p] - lo] = 0
    count = 0
    for c in range(len(grid)):
        if grid[c] == 0:
            grid[c] = count
            count += 1
    bus = np.empty(count, dtype=np.int64)
    k = np.empty(count, dtype=np.int64)
    for c in range(len(grid)):
        if grid[c] >= 0:
            bus[grid[c]] = c // span
            k[grid[c]] = c % span + lo
    for e in range(len(entry)):
        for p in range(node_off[e], node_off[e + 1]):
            if p < named_end or node[p] > 0:
                index[p - node_off[0]] = grid[entry[e] * span + node[p] - lo]
    names, clean = _node_names(bus, k, start, end, data)
    return index, bus, k, grid, lo, span, codes, first, (table, start, end), names, clean


@njit(cache=True, nogil=True)
def lookup_nodes(qdata: np.ndarray, qoff: np.ndarray, split: bool, nodes: np.ndarray, data: np.ndarray,
                 table: np.ndarray, start: np.ndarray, end: np.ndarray, grid: np.ndarray, lo: int,
                 span: int) -> np.ndarray:
    """The number (`node_numbering`'s grid) of each (bus name i, ``nodes[i]``) pair, -1 for node <= 0,
    an unknown name or an unnumbered pair.  Name i is ``qdata[qoff[i]:qoff[i + 1]]``, or, if
    `split`, the i-th newline-separated part of `qdata`; names are found in `encode_names`' table."""
    n = len(nodes)
    if split:
        qoff = np.empty(n + 1, dtype=np.int64)
        qoff[0] = 0
        j = 1
        for p in range(len(qdata)):
            if qdata[p] == _NEWLINE:
                qoff[j] = p + 1
                j += 1
        qoff[n] = len(qdata) + 1             # (each part ends one byte before the next starts)
    out = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        v = nodes[i]
        if v <= 0 or v < lo or v >= lo + span:
            continue
        a, b = qoff[i], qoff[i + 1] - 1 if split else qoff[i + 1]
        c = table[_find(table, start, end, data, qdata, a, b, _hash(qdata, a, b)), 0]
        if c >= 0:
            out[i] = grid[c * span + v - lo]
    return out


@njit(cache=True, nogil=True)
def terminal_nodes(order: np.ndarray, offsets: np.ndarray, index: np.ndarray, size: np.ndarray, width: int
                   ) -> np.ndarray:
    """(len(order), width) global nodes of the first ``size[e]`` terminals of rows `order` of one
    element class (`ybus3._Terminals`), -1 past them."""
    idx = np.full((len(order), width), -1, dtype=np.int64)
    for e in range(len(order)):
        start = offsets[order[e]]
        for a in range(size[e]):
            idx[e, a] = index[start + a]
    return idx


@njit(cache=True, nogil=True)
def row_stamps(prim: np.ndarray, rows: np.ndarray, offsets: np.ndarray, index: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`stamp_entries` of primitives `prim` (m, K, K) of element `rows` of one class on all their
    terminals (`terminal_nodes`; ``offsets[r + 1] - offsets[r]``, at most K, of row r)."""
    size = np.empty(len(rows), dtype=np.int64)
    for e in range(len(rows)):
        size[e] = offsets[rows[e] + 1] - offsets[rows[e]]
    return stamp_entries(prim, size, terminal_nodes(rows, offsets, index, size, prim.shape[1]))


# ------------------------------------------------------------------ list columns

@njit(cache=True, nogil=True)
def _list_value(values: np.ndarray, offsets: np.ndarray, valid: np.ndarray, row: int, pos: int,
                width: int, fill: float) -> float:
    """Value `pos` of row `row` of a flattened list column (`ybus3._list_numpy`); `fill` for a row
    not holding exactly `width` values (null, empty, short) and for a null or NaN value."""
    lo = offsets[row]
    if offsets[row + 1] - lo != width or (len(valid) and not valid[row]):
        return fill
    x = values[lo + pos]
    return fill if x != x else x


@njit(cache=True, nogil=True)
def gather_list(order: np.ndarray, width: np.ndarray, values: np.ndarray, offsets: np.ndarray, valid: np.ndarray,
                fill: float, wmax: int) -> np.ndarray:
    """(len(order), wmax): the ``width[e]`` values of a list column for rows `order` (`_list_value`:
    `fill` where a row has not exactly that many), `fill` past them."""
    out = np.full((len(order), wmax), fill)
    for e in range(len(order)):
        for a in range(width[e]):
            out[e, a] = _list_value(values, offsets, valid, order[e], a, width[e], fill)
    return out


@njit(cache=True, nogil=True)
def first_values(order: np.ndarray, values: np.ndarray, offsets: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The first value of a list column for rows `order` (NaN for an empty or null list)."""
    out = np.full(len(order), np.nan)
    for e in range(len(order)):
        r = order[e]
        if offsets[r + 1] > offsets[r] and not (len(valid) and not valid[r]):
            out[e] = values[offsets[r]]
    return out


# ------------------------------------------------------------------ lines

@njit(cache=True, nogil=True)
def _row_holds(offsets: np.ndarray, valid: np.ndarray, row: int, width: int) -> bool:
    """Whether row `row` of a flattened list column holds exactly `width` values (not null)."""
    return offsets[row + 1] - offsets[row] == width and (len(valid) == 0 or valid[row])


@njit(cache=True, nogil=True)
def _complex_squares(out: np.ndarray, order: np.ndarray, size: np.ndarray, start: np.ndarray,
                     re_values: np.ndarray, re_offsets: np.ndarray, re_valid: np.ndarray, im_values: np.ndarray,
                     im_offsets: np.ndarray, im_valid: np.ndarray) -> None:
    """``re + 1j * im`` (size x size, row-major lists) of rows `order` into ``out[start[e]:]``, 0 where missing
    (`_list_value`'s reading, each row's checks once: five times faster than value by value)."""
    for e in range(len(order)):
        r = order[e]
        nn = size[r] * size[r]
        re_ok, im_ok = _row_holds(re_offsets, re_valid, r, nn), _row_holds(im_offsets, im_valid, r, nn)
        a, b, s = re_offsets[r], im_offsets[r], start[e]
        for pos in range(nn):
            x = re_values[a + pos] if re_ok else 0.0
            y = im_values[b + pos] if im_ok else 0.0
            out[s + pos] = complex(0.0 if x != x else x, 0.0 if y != y else y)


@njit(cache=True, nogil=True)
def line_order(status: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(the in-service lines with conductors, by number of conductors then in table order -- a stable
    sort; their numbers of conductors; every row's, from the from-end terminal `offsets`; (size,
    first, end) in that order of each number of conductors present)."""
    n = len(status)
    size = np.empty(n, dtype=np.int64)
    top = 0
    for r in range(n):
        size[r] = offsets[r + 1] - offsets[r]
        top = max(top, size[r])
    count = np.zeros(top + 2, dtype=np.int64)
    for r in range(n):
        if status[r] and size[r] > 0:
            count[size[r] + 1] += 1
    for k in range(top + 1):
        count[k + 1] += count[k]
    groups = np.empty((top + 1, 3), dtype=np.int64)
    g = 0
    for k in range(top + 1):
        if count[k + 1] > count[k]:
            groups[g, 0], groups[g, 1], groups[g, 2] = k, count[k], count[k + 1]
            g += 1
    order = np.empty(count[top + 1], dtype=np.int64)
    sizes = np.empty(count[top + 1], dtype=np.int64)
    for r in range(n):
        if status[r] and size[r] > 0:
            p = count[size[r]]
            order[p] = r
            sizes[p] = size[r]
            count[size[r]] = p + 1
    return order, sizes, size, groups[:g]


@njit(cache=True, nogil=True)
def line_matrices(order: np.ndarray, size: np.ndarray,
                  rv: np.ndarray, ro: np.ndarray, rm: np.ndarray, xv: np.ndarray, xo: np.ndarray, xm: np.ndarray,
                  gfv: np.ndarray, gfo: np.ndarray, gfm: np.ndarray, bfv: np.ndarray, bfo: np.ndarray,
                  bfm: np.ndarray, gtv: np.ndarray, gto: np.ndarray, gtm: np.ndarray, btv: np.ndarray,
                  bto: np.ndarray, btm: np.ndarray) -> tuple:
    """(start of each line's n x n block, series impedances, charging at the from ends, at the to
    ends) of lines `order`: ``re + 1j * im`` of the column pairs (r, x), (g_from, b_from),
    (g_to, b_to), each column as (values, offsets, validity) (`ybus3._list_numpy`; passed one by
    one: numba reads a tuple of arrays indexed at run time far slower).

    Why blocks one after another (not padded to the largest size): the lines of one size, sorted
    together, are then one contiguous (m, n, n) array for ``inv``, and a large feeder's mostly
    single-phase lines need a fraction of the memory (fresh pages cost more than the arithmetic)."""
    start = np.empty(len(order) + 1, dtype=np.int64)
    start[0] = 0
    for e in range(len(order)):
        n = size[order[e]]
        start[e + 1] = start[e] + n * n
    total = start[-1]
    z = np.empty(total, dtype=np.complex128)
    y_from = np.empty(total, dtype=np.complex128)
    y_to = np.empty(total, dtype=np.complex128)
    _complex_squares(z, order, size, start, rv, ro, rm, xv, xo, xm)
    _complex_squares(y_from, order, size, start, gfv, gfo, gfm, bfv, bfo, bfm)
    _complex_squares(y_to, order, size, start, gtv, gto, gtm, btv, bto, btm)
    return start, z, y_from, y_to


@njit(cache=True, nogil=True)
def _count_live(order: np.ndarray, size: np.ndarray, offsets: tuple, index: np.ndarray) -> int:
    total = 0
    for e in range(len(order)):
        live = 0
        for off in offsets:
            for a in range(size[e]):
                if index[off[order[e]] + a] >= 0:
                    live += 1
        total += live * live
    return total


@njit(cache=True, nogil=True)
def line_stamps(order: np.ndarray, size: np.ndarray, start: np.ndarray, ys: np.ndarray, y_from: np.ndarray,
                y_to: np.ndarray, f_off: np.ndarray, t_off: np.ndarray, index: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO triplets (`stamp_entries`' order) of the primitives [[ys + yf, -ys], [-ys, ys + yt]] of lines
    `order` (``size[e]`` conductors; blocks of `line_matrices`, ``ys`` the inverse series impedance),
    on their from then to terminals."""
    n_lines = len(order)
    total = _count_live(order, size, (f_off, t_off), index)
    rows = np.empty(total, dtype=np.int32)
    cols = np.empty(total, dtype=np.int32)
    vals = np.empty(total, dtype=np.complex128)
    nodes = np.empty(2 * (size.max() if n_lines else 0), dtype=np.int64)
    p = 0
    for e in range(n_lines):
        r, n, s = order[e], size[e], start[e]
        for a in range(n):
            nodes[a] = index[f_off[r] + a]
            nodes[n + a] = index[t_off[r] + a]
        for a in range(2 * n):
            ia = nodes[a]
            if ia < 0:
                continue
            for b in range(2 * n):
                ib = nodes[b]
                if ib < 0:
                    continue
                y = ys[s + (a % n) * n + b % n]
                if a < n and b < n:
                    v = y + y_from[s + a * n + b]
                elif a >= n and b >= n:
                    v = y + y_to[s + (a - n) * n + b - n]
                else:
                    v = -y
                rows[p] = ia
                cols[p] = ib
                vals[p] = v
                p += 1
    return rows, cols, vals


# ------------------------------------------------------------------ transformers

SQRT3 = math.sqrt(3.0)


@njit(cache=True, nogil=True)
def winding_model(nw: np.ndarray, nph: np.ndarray, wye: np.ndarray, kv: np.ndarray, r_pct: np.ndarray,
                  taps: np.ndarray, kva1: np.ndarray, scalars: np.ndarray, width: int) -> tuple:
    """Per transformer (rows of windings `nw`, phases `nph`, wye bits `wye`): (short-circuit
    impedances ``zb`` (m, width, width) between winding 1 and the others, and between the others
    (``(zb[i, i] + zb[j, j] - z_ij) / 2``), ohm on one volt -- to be inverted; ``zbase`` (m,);
    winding volts times tap ``vb`` (m, W); magnetising branch ``mag`` (m,), %; anti-floating shunt
    per winding (m, W)).  The arithmetic of `ybus3._terminal_y` and `ybus3._antifloat`.

    `scalars` (6, m): no-load loss, magnetising current, anti-floating ppm (NaN read as 0) and the
    reactances xhl, xht, xlt, % (NaN kept)."""
    m, wmax = kv.shape
    zb = np.zeros((m, width, width), dtype=np.complex128)
    zbase = np.empty(m)
    vb = np.ones((m, wmax))
    mag = np.empty(m, dtype=np.complex128)
    float_y = np.zeros((m, wmax), dtype=np.complex128)
    for e in range(m):
        n1 = nw[e] - 1
        noloadloss, imag, ppm = scalars[0, e], scalars[1, e], scalars[2, e]
        noloadloss = 0.0 if noloadloss != noloadloss else noloadloss
        imag = 0.0 if imag != imag else imag
        ppm = 0.0 if ppm != ppm else ppm
        zbase[e] = nph[e] / (kva1[e] * 1e3)
        mag[e] = complex(noloadloss, -imag)
        va_phase = kva1[e] * 1e3 / nph[e]
        for w in range(nw[e]):
            vbase = kv[e, w] * 1e3 / (SQRT3 if (wye[e] >> w) & 1 and nph[e] > 1 else 1.0)
            vb[e, w] = vbase * taps[e, w]
            z = complex(0.0, -ppm * 1e-6 * va_phase)
            float_y[e, w] = _div_real(_div_real(z, vbase * vbase), 2.0)
        for i in range(n1):
            rsum = r_pct[e, 0] / 100.0 + r_pct[e, i + 1] / 100.0
            zb[e, i, i] = complex(rsum * zbase[e], scalars[3 + i, e] / 100.0 * zbase[e])
        k = n1
        for i in range(n1):
            for j in range(i + 1, n1):
                rsum = r_pct[e, i + 1] / 100.0 + r_pct[e, j + 1] / 100.0
                zij = complex(rsum * zbase[e], scalars[3 + k, e] / 100.0 * zbase[e])
                d = zb[e, i, i] + zb[e, j, j] - zij
                zb[e, i, j] = zb[e, j, i] = complex(0.5 * d.real, 0.5 * d.imag)
                k += 1
    return zb, zbase, vb, mag, float_y


@njit(cache=True, nogil=True)
def winding_model_of_columns(order: np.ndarray, nw: np.ndarray, nph: np.ndarray, wye: np.ndarray, wmax: int,
                             kv_values: np.ndarray, kv_offsets: np.ndarray, kv_valid: np.ndarray,
                             r_values: np.ndarray, r_offsets: np.ndarray, r_valid: np.ndarray,
                             tap_values: np.ndarray, tap_offsets: np.ndarray, tap_valid: np.ndarray,
                             kva_values: np.ndarray, kva_offsets: np.ndarray, kva_valid: np.ndarray,
                             scalars: np.ndarray) -> tuple:
    """`winding_model` of transformers `order`, read from the table's columns: the winding lists
    kv, r_pct (NaN where missing) and taps (1 where missing) (`gather_list`), the first kVA
    (`first_values`) and the scalar columns `scalars` (6, rows) of every row.  Why one kernel:
    each call from Python costs more than a few transformers' arithmetic."""
    kv = gather_list(order, nw, kv_values, kv_offsets, kv_valid, np.nan, wmax)
    r_pct = gather_list(order, nw, r_values, r_offsets, r_valid, np.nan, wmax)
    taps = gather_list(order, nw, tap_values, tap_offsets, tap_valid, 1.0, wmax)
    kva1 = first_values(order, kva_values, kva_offsets, kva_valid)
    picked = np.empty((len(scalars), len(order)))
    for c in range(len(scalars)):
        for e in range(len(order)):
            picked[c, e] = scalars[c, order[e]]
    return winding_model(nw, nph, wye, kv, r_pct, taps, kva1, picked, wmax - 1)


@njit(cache=True, nogil=True)
def _winding_y(nw: int, zinv: np.ndarray, mag: complex, zbase: float, vb: np.ndarray, y: np.ndarray) -> None:
    """One phase of one transformer, both ends of every winding, into ``y`` (2 nw, 2 nw):
    ``A^T zinv A`` (A: winding k+1 against winding 1), the magnetising branch across winding 2,
    scaled by the turns ``1 / vb`` of the windings it joins."""
    t = 1.0 / vb[:nw]
    for i in range(nw):
        for j in range(nw):
            acc = 0j
            for k in range(nw - 1):          # as einsum: incidence row outer, column inner
                aki = 1.0 if i == k + 1 else (-1.0 if i == 0 else 0.0)
                for m in range(nw - 1):
                    amj = 1.0 if j == m + 1 else (-1.0 if j == 0 else 0.0)
                    p = zinv[k, m] * aki
                    acc += p * amj
            if i == 1 and j == 1:
                acc += _div_real(_div_real(mag, 100.0), zbase)
            acc = complex(t[i] * acc.real, t[i] * acc.imag)
            acc = complex(acc.real * t[j], acc.imag * t[j])
            y[2 * i, 2 * j] = acc
            y[2 * i + 1, 2 * j + 1] = acc
            y[2 * i, 2 * j + 1] = -acc
            y[2 * i + 1, 2 * j] = -acc


@njit(cache=True, nogil=True)
def _ends(nw: int, nph: int, wye: int, step: int, ph: int, ends: np.ndarray) -> None:
    """Primitive terminals of both ends of every winding for phase `ph` (`ybus3._winding_ends`)."""
    ncond = nph + 1
    for w in range(nw):
        if (wye >> w) & 1:
            lo = nph
        else:
            lo = (ph + step) % nph if nph > 1 else 1
        ends[2 * w] = w * ncond + ph
        ends[2 * w + 1] = w * ncond + lo


@njit(cache=True, nogil=True)
def _place(prim: np.ndarray, n: int, p: int, wye: int, step: int, zinv: np.ndarray, mag: complex, zbase: float,
           vb: np.ndarray, float_y: np.ndarray, series: bool, shunts: bool, y: np.ndarray, ends: np.ndarray) -> None:
    """Add one transformer's primitive (n windings, p phases) to ``prim``: the winding model
    (`series`) placed phase by phase, then (`shunts`) the anti-floating shunt `float_y` (n,) at both
    ends of every winding and once more on a wye neutral -- the additions in the order of
    `ybus3._place`.  ``y``, ``ends``: scratch."""
    if series:
        _winding_y(n, zinv, mag, zbase, vb, y)
    for ph in range(p):
        _ends(n, p, wye, step, ph, ends)
        if series:
            for a in range(2 * n):
                for b in range(2 * n):
                    prim[ends[a], ends[b]] += y[a, b]
        if shunts:
            for a in range(2 * n):
                prim[ends[a], ends[a]] += float_y[a // 2]
    if shunts:
        for w in range(n):
            if (wye >> w) & 1:
                c = w * (p + 1) + p
                prim[c, c] += float_y[w]


@njit(cache=True, nogil=True)
def transformer_primitives(nw: np.ndarray, nph: np.ndarray, wye: np.ndarray, step: np.ndarray,
                           zinv: np.ndarray, mag: np.ndarray, zbase: np.ndarray, vb: np.ndarray,
                           float_y: np.ndarray, series: bool, shunts: bool, width: int) -> np.ndarray:
    """(m, width, width) primitives over (winding, conductor) of transformers (`_place`; the inputs
    those of `winding_model`, ``zinv`` its ``zb`` inverted).  `wye`: bit w set for a wye winding w;
    `step`: +-1, the conductor a delta winding's phase k runs to (k + step; `ybus3._winding_ends`)."""
    m = len(nw)
    prim = np.zeros((m, width, width), dtype=np.complex128)
    wmax = vb.shape[1]
    y = np.zeros((2 * wmax, 2 * wmax), dtype=np.complex128)
    ends = np.zeros(2 * wmax, dtype=np.int64)
    for e in range(m):
        _place(prim[e], nw[e], nph[e], wye[e], step[e], zinv[e], mag[e], zbase[e], vb[e], float_y[e],
               series, shunts, y, ends)
    return prim


@njit(cache=True, nogil=True)
def transformer_stamps(nw: np.ndarray, nph: np.ndarray, wye: np.ndarray, step: np.ndarray,
                       zinv: np.ndarray, mag: np.ndarray, zbase: np.ndarray, vb: np.ndarray,
                       float_y: np.ndarray, order: np.ndarray, code: np.ndarray, offsets: np.ndarray,
                       index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO triplets (`stamp_entries`' order) of the full primitives (`transformer_primitives`) of
    transformers `order`, each on ``nw (nph + 1)`` terminals from ``offsets[order[e]]`` -- one
    element's primitive at a time in a scratch matrix, not all of them at once.

    Refused: a structure (`code`, rows of one structure together) whose first transformer has not
    that many terminals, and terminals past the numbering.  Why the first: every row of a
    structure is stamped on as many terminals as its first has (a row with its phases left null
    counts as three-phase, as it always did)."""
    m = len(nw)
    size = nw * (nph + 1)
    width = size.max() if m else 0
    for e in range(m):
        r = order[e]
        if (e == 0 or code[e] != code[e - 1]) and offsets[r + 1] - offsets[r] != size[e]:
            raise ValueError("a transformer's terminals are not (phases + 1) per winding")
        if offsets[r] + size[e] > len(index):
            raise IndexError("transformer terminals past the node numbering")
    total = 0
    for e in range(m):
        live = 0
        for a in range(size[e]):
            if index[offsets[order[e]] + a] >= 0:
                live += 1
        total += live * live
    rows = np.empty(total, dtype=np.int32)
    cols = np.empty(total, dtype=np.int32)
    vals = np.empty(total, dtype=np.complex128)
    prim = np.zeros((width, width), dtype=np.complex128)
    wmax = vb.shape[1]
    y = np.zeros((2 * wmax, 2 * wmax), dtype=np.complex128)
    ends = np.zeros(2 * wmax, dtype=np.int64)
    p = 0
    for e in range(m):
        k = size[e]
        prim[:k, :k] = 0j
        _place(prim, nw[e], nph[e], wye[e], step[e], zinv[e], mag[e], zbase[e], vb[e], float_y[e], True, True,
               y, ends)
        base = offsets[order[e]]
        for a in range(k):
            ia = index[base + a]
            if ia < 0:
                continue
            for b in range(k):
                ib = index[base + b]
                if ib >= 0:
                    rows[p] = ia
                    cols[p] = ib
                    vals[p] = prim[a, b]
                    p += 1
    return rows, cols, vals


# ------------------------------------------------------------------ shunts

@njit(cache=True, nogil=True)
def shunt_primitives(y: np.ndarray, wye: np.ndarray, nconds: np.ndarray, nph: np.ndarray, width: int
                     ) -> np.ndarray:
    """(m, width, width) primitives of shunt banks: admittance `y` per phase, wye phases to the
    last conductor, delta phases to the next one (`ybus3._shunt_primitives`)."""
    m = len(y)
    prim = np.zeros((m, width, width), dtype=np.complex128)
    for e in range(m):
        p = nph[e]
        for k in range(p):
            b = p if wye[e] else ((k + 1) % p if p > 1 else 1)
            prim[e, k, k] += y[e]
            prim[e, k, b] += -y[e]
            prim[e, b, k] += -y[e]
            prim[e, b, b] += y[e]
    return prim


# ------------------------------------------------------------------ sources

@njit(cache=True, nogil=True)
def sequence_matrices(zm: np.ndarray, d: np.ndarray, size: np.ndarray, width: int) -> np.ndarray:
    """(m, width, width) phase impedances ``zm`` off the diagonal, ``zm + d`` on it (`ybus3.sequence_matrix`:
    ``full(zm) + eye * (zs - zm)``, the eye's zeros adding nothing)."""
    out = np.zeros((len(zm), width, width), dtype=np.complex128)
    for e in range(len(zm)):
        for a in range(size[e]):
            for b in range(size[e]):
                out[e, a, b] = zm[e] + d[e] if a == b else zm[e]
    return out

"""The compiled kernels of the Y build repeat scipy's and numpy's arithmetic bit for bit.

Why: `gatlang.network.ybus3_kernels` replaces the COO -> CSC conversion and the
numpy winding model; the matrix must stay the same to the last bit, so the sum
order of duplicate entries (scipy sorts each column with ``std::sort``, which is
not stable) and every complex operation must be those of the code replaced.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from gatlang.network import ybus3
from gatlang.network import ybus3_kernels as kernels


def _scipy_sorted(keys: np.ndarray, vals: np.ndarray, indptr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = sp.csr_matrix((vals.copy(), keys.copy(), indptr.copy()), shape=(len(indptr) - 1, int(keys.max()) + 1))
    m.has_sorted_indices = False
    m.sort_indices()
    return m.indices, m.data


@pytest.mark.parametrize("seed", range(6))
def test_std_sort_leaves_equal_keys_where_scipy_does(seed: int) -> None:
    """Segments of every length up to 300 (past the insertion-sort threshold, and deep enough for
    the heapsort fallback on adversarial orders), keys from few distinct values; the values are
    the original positions, so any difference in the order of equal keys shows."""
    rng = np.random.default_rng(seed)
    lengths = np.concatenate([np.arange(1, 80), rng.integers(80, 300, 20)])
    segments = []
    for n in lengths:
        pattern = seed % 3
        if pattern == 0:
            segments.append(rng.integers(0, max(2, n // 4), n))
        elif pattern == 1:
            segments.append(np.sort(rng.integers(0, 5, n))[::-1].copy())
        else:                                              # organ pipe: bad pivots
            half = np.arange(n // 2)
            segments.append(np.concatenate([half, half[::-1], [0] * (n % 2)]))
    keys = np.concatenate(segments).astype(np.int32)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    vals = np.arange(len(keys)).astype(complex)
    ref_keys, ref_vals = _scipy_sorted(keys, vals, indptr)
    ours_keys, ours_vals = keys.copy(), vals.copy()
    kernels.sort_like_scipy(ours_keys, ours_vals, indptr)
    np.testing.assert_array_equal(ours_keys, ref_keys)
    np.testing.assert_array_equal(ours_vals, ref_vals)


@pytest.mark.parametrize("seed", range(4))
def test_csc_from_triplets_is_scipys_matrix_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, nnz = 40, 3000
    rows = rng.integers(0, n, nnz).astype(np.int32)
    cols = rng.integers(0, n // 2, nnz).astype(np.int32)          # long columns, many duplicates
    vals = rng.standard_normal(nnz) * 10.0 ** rng.integers(-6, 6, nnz) + 1j * rng.standard_normal(nnz)
    ref = sp.csc_matrix((vals, (rows, cols)), shape=(n, n))
    ref.sum_duplicates()
    indptr, indices, data = kernels.csc_from_triplets(rows, cols, vals, n)
    for ours, theirs in ((indptr, ref.indptr), (indices, ref.indices), (data, ref.data)):
        np.testing.assert_array_equal(ours, theirs)
        assert ours.dtype == theirs.dtype


def _row(nw: int, phases: int | None, connections: list[str] | None, shift: float | None, ppm: float) -> dict:
    return {"kv": [12.47, 4.16, 0.24][:nw], "kva": [500.0] * nw, "r_pct": [0.5, 0.7, 0.9][:nw],
            "taps_pu": [1.0] * nw, "xhl_pct": 2.0, "xht_pct": 2.5 if nw > 2 else None,
            "xlt_pct": 1.5 if nw > 2 else None, "noloadloss_pct": 0.2, "imag_pct": 0.4, "ppm_antifloat": ppm,
            "phases": phases, "connections": connections, "shift_deg": shift}


_ODD_ROWS = [
    _row(2, 3, ["wye", "wye"], None, 1.0),
    _row(2, 3, ["delta", "wye"], 30.0, 1.0),
    _row(2, 3, ["delta", "wye"], -30.0, 0.0),
    _row(2, None, None, None, 1.0),
    _row(2, 1, ["wye", "wye"], None, 1.0),
    _row(2, 1, ["delta", "delta"], None, 1.0),
    _row(3, 1, ["wye", "wye", "wye"], None, 1.0),                   # centre-tapped service transformer
    _row(3, 3, ["delta", "wye", "delta"], None, 2.0),
]


def test_primitive_parts_equal_the_numpy_winding_model() -> None:
    """Every structure at once through the kernels against `_place` of the numpy batch (one
    structure at a time), both parts bit for bit."""
    parts = ybus3.transformer_primitive_parts(_ODD_ROWS)
    for row, (scaled, fixed) in zip(_ODD_ROWS, parts):
        b = ybus3.TransformerBatch.from_rows([row])
        structure = ybus3._structure(row)
        ref_scaled = ybus3._place(structure, ybus3._terminal_y(b), np.zeros((1, b.nw), dtype=complex))[0]
        ref_fixed = ybus3._place(structure, np.zeros_like(ybus3._terminal_y(b)), ybus3._antifloat(b))[0]
        np.testing.assert_array_equal(scaled, ref_scaled)
        np.testing.assert_array_equal(fixed, ref_fixed)


def test_kernel_primitives_equal_transformer_primitives() -> None:
    """The builder's full primitive (winding model and shunts in one placement) is the numpy one."""
    for row in _ODD_ROWS:
        row = dict(row, taps_pu=[1.0, 1.05, 0.95][:len(row["kv"])])
        nw, nph, wye, step = ybus3._structure_arrays([ybus3._structure(row)], np.zeros(1, dtype=np.int64))
        k = len(row["kv"])
        scalars = np.array([[row.get(c)] for c in ybus3._WINDING_SCALARS], dtype=float)
        model = ybus3._transformer_model(nw, nph, wye, np.array([row["kv"]]), np.array([row["r_pct"]]),
                                         np.array([row["taps_pu"]]), np.array([row["kva"][0]]), scalars)
        size = int(nw[0] * (nph[0] + 1))
        ours = kernels.transformer_primitives(nw, nph, wye, step, *model, True, True, size)[0]
        np.testing.assert_array_equal(ours, ybus3.transformer_primitives([row])[0], err_msg=str((k, row)))


def test_inverse_1x1_is_numpys() -> None:
    """numpy's LAPACK (OpenBLAS) inverts a 1 x 1 matrix as the kernel does, to the last bit, over
    magnitudes from 1e-8 to 1e8 and either part dominant."""
    rng = np.random.default_rng(0)
    m = 20000
    z = (rng.standard_normal(m) * 10.0 ** rng.uniform(-8, 8, m)
         + 1j * rng.standard_normal(m) * 10.0 ** rng.uniform(-8, 8, m))
    np.testing.assert_array_equal(kernels.inverse_1x1(z), np.linalg.inv(z.reshape(m, 1, 1)).reshape(m))


@pytest.mark.parametrize("seed", range(4))
def test_line_order_is_a_stable_sort_by_size(seed: int) -> None:
    """`line_order` against its numpy definition: in-service lines with conductors, stably by size,
    and the bounds of each size's block."""
    rng = np.random.default_rng(seed)
    size = rng.integers(0, 5, 60)
    offsets = np.concatenate([[0], np.cumsum(size)]).astype(np.int64)
    status = rng.random(60) < 0.8
    order, sizes, every, groups = kernels.line_order(status, offsets)
    live = np.flatnonzero(status & (size > 0))
    expected = live[size[live].argsort(kind="stable")]
    np.testing.assert_array_equal(order, expected)
    np.testing.assert_array_equal(sizes, size[expected])
    np.testing.assert_array_equal(every, size)
    present = np.bincount(size[expected]).nonzero()[0]
    bounds = [(n, *np.searchsorted(size[expected], (n, n + 1))) for n in present]
    assert groups.tolist() == [list(map(int, b)) for b in bounds]

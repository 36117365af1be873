"""`gatlang.engines.sparse_lu.lu_factor` against dense LAPACK solves and SuperLU.

The factorisation is checked through what it is for: ``P A = L U`` holds
entry by entry, and solving with the factors (`pf3_kernels.lu_solve_into`)
is as accurate (backward error) as numpy's dense solver -- on random matrices that need
row pivoting, on diagonally strong ones that must keep their diagonal
pivots, and on the IEEE feeders' fixed-point matrices, where the fill must
not exceed SuperLU's with the same ordering and threshold.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from hypothesis import given, settings
from hypothesis import strategies as st

from gatlang.diagnostics import DiagnosticSink
from gatlang.engines.pf3_kernels import leaves_first_order, lu_solve_into, permute_csc
from gatlang.engines.pf3_linear import DIAG_PIVOT_THRESHOLD, ORDERED_LU_OPTIONS
from gatlang.engines.pf3_system import build_system
from gatlang.engines.sparse_lu import LU_OK, LU_SINGULAR, lu_factor
from gatlang.network.opendss.importer import load_opendss

from .dss_oracle import FEEDERS


def _factor(a: sp.csc_matrix, tol: float = DIAG_PIVOT_THRESHOLD) -> tuple:
    a = a.tocsc()
    a.sort_indices()
    return lu_factor(a.indptr.astype(np.int64), a.indices.astype(np.int64), a.data.astype(complex), tol)


def _dense(ptr: np.ndarray, idx: np.ndarray, val: np.ndarray, n: int) -> np.ndarray:
    return sp.csc_matrix((val, idx, ptr), shape=(n, n)).toarray()


def _solve(factors: tuple, b: np.ndarray) -> np.ndarray:
    _, lp, li, lx, up, ui, ux, pinv = factors
    out = np.empty(len(b), dtype=complex)
    lu_solve_into(lp, li, lx, up, ui, ux, pinv, np.arange(len(b)), b.astype(complex), out)
    return out


def _check(a: sp.csc_matrix, factors: tuple) -> None:
    status, lp, li, lx, up, ui, ux, pinv = factors
    n = a.shape[0]
    assert status == LU_OK
    assert sorted(pinv.tolist()) == list(range(n))
    lower, upper = _dense(lp, li, lx, n), _dense(up, ui, ux, n)
    assert np.allclose(np.diag(lower), 1.0) and not np.any(np.triu(lower, 1))
    assert not np.any(np.tril(upper, -1))
    pa = np.empty_like(a.toarray())
    pa[pinv] = a.toarray()                       # row i of A is row pinv[i] of P A
    assert np.max(np.abs(lower @ upper - pa)) <= 1e-12 * max(np.max(np.abs(pa)), 1.0)
    rng = np.random.default_rng(0)
    b = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    dense = a.toarray()

    def backward_error(x: np.ndarray) -> float:          # |A x - b| / (|A| |x| + |b|), row by row
        return float(np.max(np.abs(dense @ x - b) / (np.abs(dense) @ np.abs(x) + np.abs(b))))

    # backward stable as LAPACK's dense solve is (the feeders' matrices are ill-conditioned, so residuals
    # are compared, not solutions; threshold pivoting trades a little growth for order, hence the margin)
    assert backward_error(_solve(factors, b)) <= max(10 * backward_error(np.linalg.solve(dense, b)), 1e-13)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), density=st.floats(0.02, 0.5), seed=st.integers(0, 2**31 - 1),
       strong=st.booleans())
def test_factors_reproduce_the_matrix_and_its_solution(n: int, density: float, seed: int, strong: bool) -> None:
    """Random sparse complex matrices: diagonally strong ones (kept in order) and ones with
    a weak or missing diagonal (which need row exchanges)."""
    rng = np.random.default_rng(seed)
    a = sp.random(n, n, density=density, random_state=rng, dtype=float).tocsc()
    a = a + 1j * sp.random(n, n, density=density, random_state=rng, dtype=float)
    perm = rng.permutation(n)                    # a nonsingular structure: a permuted diagonal
    a = a + sp.csc_matrix((rng.uniform(0.5, 2.0, n) * (3.0 * n if strong else 1.0), (perm if not strong
                          else np.arange(n), np.arange(n))), shape=(n, n))
    if abs(np.linalg.det(a.toarray())) < 1e-8:
        return
    factors = _factor(a.tocsc())
    _check(a.tocsc(), factors)
    if strong:
        assert np.array_equal(factors[-1], np.arange(n))      # the diagonal was always pivot enough


def test_a_zero_diagonal_is_pivoted_around() -> None:
    a = sp.csc_matrix(np.array([[0, 2, 0], [1, 0, 0], [0, 1, 3]], dtype=complex))
    factors = _factor(a)
    _check(a, factors)
    assert not np.array_equal(factors[-1], np.arange(3))


def test_a_structurally_singular_matrix_is_reported() -> None:
    a = sp.csc_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=complex))
    assert _factor(a)[0] == LU_SINGULAR


@pytest.mark.parametrize("feeder", ["ieee13", "ieee34", "ieee123"])
def test_feeder_matrices_factor_with_no_more_fill_than_superlu(feeder: str) -> None:
    """The fixed-point matrices the power flow factorises, in their leaves-first order."""
    m = build_system(load_opendss(FEEDERS[feeder], DiagnosticSink())).fixed_point_matrix()
    order = leaves_first_order(m.indptr, m.indices, m.shape[0])
    indptr, indices, data = permute_csc(m.indptr, m.indices, m.data, order)
    permuted = sp.csc_matrix((data, indices, indptr), shape=m.shape)
    factors = lu_factor(indptr.astype(np.int64), indices.astype(np.int64), data, DIAG_PIVOT_THRESHOLD)
    _check(permuted, factors)
    superlu = spla.splu(permuted, **ORDERED_LU_OPTIONS)
    # (scipy's L and U leave out entries that cancel to exactly zero; this loop stores them)
    assert np.count_nonzero(factors[3]) + np.count_nonzero(factors[6]) <= superlu.L.nnz + superlu.U.nnz


def test_fill_beyond_the_first_guess_grows_the_factors() -> None:
    """An arrowhead eliminated from its dense corner fills both factors completely -- far more entries
    than the room first reserved for them (twice the matrix's), so the arrays must grow on the way."""
    n = 60
    rng = np.random.default_rng(4)
    a = sp.lil_matrix((n, n), dtype=complex)
    a[0, :] = rng.standard_normal(n) + 1j
    a[:, 0] = (rng.standard_normal(n) + 1j).reshape(-1, 1)
    a.setdiag(4.0 * n + rng.standard_normal(n))
    a = a.tocsc()
    factors = _factor(a)
    assert len(factors[2]) + len(factors[5]) > 2 * a.nnz + n
    _check(a, factors)

"""Anderson acceleration of a fixed-point iteration, on real vectors.

Why: the current-injection fixed point converges linearly; mixing the last
few steps (type-II Anderson, Walker & Ni 2011) cuts its iterations by about
half on the IEEE feeders.  It works on real vectors (real and imaginary parts
interleaved) because the load currents are not complex-analytic (they depend
on ``conj(v)``), so a complex mixing coefficient would be the wrong model.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import lapack


class Anderson:
    """Type-II Anderson mixing on real vectors: ``x+ = x + g - (dX + dG) gamma``,
    ``gamma = argmin |g - dG gamma|`` over the last ``depth`` differences.

    The differences live in preallocated ring buffers and their Gram matrix is
    updated one row per step, so a step costs three matrix-vector products of
    ``depth`` rows and a ``depth``-square Cholesky solve (LAPACK directly:
    ``numpy.linalg.solve`` costs more than the solve itself at this size).
    """

    def __init__(self, depth: int, size: int) -> None:
        self.depth = depth
        self.dx = np.empty((depth, size))
        self.dg = np.empty((depth, size))
        self.gram = np.zeros((depth, depth))
        self.count = 0
        self.last: tuple[np.ndarray, np.ndarray] | None = None

    def reset(self) -> None:
        self.count = 0
        self.last = None

    def step(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.last is not None:
            k = self.count % self.depth
            np.subtract(x, self.last[0], out=self.dx[k])
            np.subtract(g, self.last[1], out=self.dg[k])
            self.count += 1
            m = min(self.count, self.depth)
            row = rows_dot(self.dg[:m], self.dg[k])
            self.gram[k, :m] = row
            self.gram[:m, k] = row
        self.last = (x, g)
        m = min(self.count, self.depth)
        if m == 0:
            return x + g
        a = self.gram[:m, :m].copy()
        a.flat[::m + 1] += 1e-14 * a.trace()     # keeps the normal equations solvable when steps align
        _, gamma, info = lapack.dposv(a, rows_dot(self.dg[:m], g))
        if info != 0:
            self.reset()
            return x + g
        return x + g - rows_combine(self.dx[:m] + self.dg[:m], gamma)


#: below this many matrix entries a BLAS product runs single-threaded (OpenBLAS threads a real
#: gemv from about 9216 entries, a complex one from fewer) and is the fastest; above it ``einsum``
#: is used: on a busy machine a threaded BLAS call was measured to stall for milliseconds
BLAS_SINGLE_THREAD = 4096


def rows_dot(rows: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``rows @ v`` (see `BLAS_SINGLE_THREAD`)."""
    return rows @ v if rows.size <= BLAS_SINGLE_THREAD else np.einsum("ij,j->i", rows, v)


def rows_combine(rows: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``rows^T @ c`` (see `BLAS_SINGLE_THREAD`)."""
    return rows.T @ c if rows.size <= BLAS_SINGLE_THREAD else np.einsum("ij,i->j", rows, c)

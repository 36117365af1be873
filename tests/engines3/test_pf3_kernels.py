"""The compiled mismatch (`pf3_kernels`) equals its sparse-product definition.

The definition, ``Y v - i_src + A i_load(A^T v)`` (`System3.mismatch_reference`),
is what the engine comparisons in this folder validate; here the compiled
pass must reproduce it at every load-model region (voltages scaled from deep
undervoltage to overvoltage) and propagate a NaN to the norm, which the
kernels use to detect divergence.
"""
from __future__ import annotations

import numpy as np
import pytest

from gatlang.diagnostics import DiagnosticSink
from gatlang.engines.pf3 import roundoff_floor, start_voltages
from gatlang.engines.pf3_system import build_system
from gatlang.network.opendss.importer import load_opendss

from .dss_oracle import FEEDERS


@pytest.fixture(scope="module")
def system123():
    net = load_opendss(FEEDERS["ieee123"], DiagnosticSink())
    return build_system(net)


@pytest.mark.parametrize("scale", [0.0, 0.3, 0.7, 0.93, 1.0, 1.08, 1.4])
def test_compiled_mismatch_equals_definition(system123, scale: float) -> None:
    s = system123
    rng = np.random.default_rng(7)
    v = start_voltages(s, {}) * scale * (1 + 0.02 * rng.standard_normal(s.n)) * np.exp(0.01j * rng.standard_normal(s.n))
    f, norm = s.mismatch_norm(v)
    ref = s.mismatch_reference(v)
    scale_ref = max(float(np.max(np.abs(ref))), 1.0)
    assert np.max(np.abs(f - ref)) <= 1e-12 * scale_ref
    assert norm == pytest.approx(float(np.max(np.abs(ref))), rel=1e-12, abs=1e-12)


def test_compiled_mismatch_propagates_nan(system123) -> None:
    v = start_voltages(system123, {})
    v[5] = np.nan
    _, norm = system123.mismatch_norm(v)
    assert np.isnan(norm)


def test_compensated_solve_equals_a_fresh_factorisation(system123) -> None:
    """Tap steps on every regulator (more changed nodes than the column store starts with, so it
    grows): the compensated solve equals a solve with the changed matrix factorised afresh."""
    from gatlang.engines.pf3_linear import Compensated, factorise, linear_solver

    s = system123.clone()
    linear_solver(s, {})                                  # the shared factorisation of the original
    reg = s.regulated
    s.set_taps({k: [t * 1.0125 for t in (row["taps_pu"] or [1.0] * len(row["kv"]))]
                for k, row in enumerate(reg.rows)})
    assert len(s.changed_nodes) > 8
    comp = linear_solver(s, {})
    assert isinstance(comp, Compensated)
    rng = np.random.default_rng(3)
    b = rng.standard_normal(s.n) + 1j * rng.standard_normal(s.n)
    fresh = factorise(s).solve(b)
    assert np.max(np.abs(comp.solve(b) - fresh)) <= 1e-10 * np.max(np.abs(fresh))


def test_compiled_triangular_solves_equal_superlu(system123) -> None:
    """`pf3_linear.Factors` (compiled sweeps over SuperLU's L, U and permutations) solves as SuperLU does."""
    from gatlang.engines.pf3_linear import Factors, factorise

    factors = factorise(system123)
    assert isinstance(factors, Factors)
    rng = np.random.default_rng(11)
    b = rng.standard_normal(system123.n) + 1j * rng.standard_normal(system123.n)
    ref = factors.lu.solve(b)
    assert np.max(np.abs(factors.solve(b) - ref)) <= 1e-12 * np.max(np.abs(ref))
    two = np.stack([b, 2j * b], axis=1)                    # several right-hand sides, column by column
    assert np.max(np.abs(factors.solve(two) - factors.lu.solve(two))) <= 1e-12 * np.max(np.abs(ref))


@pytest.mark.parametrize("taps", [False, True])
def test_compiled_fixed_point_follows_the_numpy_iteration(system123, taps: bool) -> None:
    """`pf3_kernels.fixed_point_loop` (the whole Anderson-accelerated iteration compiled) takes the
    steps of its numpy definition (`pf3_fixed._fixed_point_python`): same mismatch after every
    iteration (to the rounding level near the solution), same voltages -- with the base factorisation and with a compensated one."""
    from gatlang.engines.pf3_fixed import _fixed_point_python, fixed_point
    from gatlang.engines.pf3_linear import linear_solver

    s = system123.clone()
    v0 = start_voltages(s, {})
    if taps:
        s.set_taps({k: [t * 1.00625 for t in (row["taps_pu"] or [1.0] * len(row["kv"]))]
                    for k, row in enumerate(s.regulated.rows)})
    tol = max(1e-9, roundoff_floor(s))
    compiled = fixed_point(s, v0, tol, 50, {})
    reference = _fixed_point_python(s, linear_solver(s, {}), v0, tol, 50)
    assert compiled.converged and reference.converged
    assert compiled.iterations == reference.iterations
    # equal steps; near the solution both are at the rounding level of Anderson's least squares
    np.testing.assert_allclose(compiled.history, reference.history, rtol=1e-5, atol=1e-6 * reference.history[0])
    # the same solution, to what a mismatch of 1e-9 pu of 1 MVA leaves open at the 120 V nodes
    assert np.max(np.abs(compiled.v - reference.v)) <= 1e-7


def test_compiled_fixed_point_reports_a_stall(system123) -> None:
    """With too few iterations to converge from a poor start the loop stops as its definition does."""
    from gatlang.engines.pf3_fixed import _fixed_point_python, fixed_point
    from gatlang.engines.pf3_linear import linear_solver

    s = system123.clone()
    v0 = start_voltages(s, {}) * 0.2
    compiled = fixed_point(s, v0, 1e-14, 3, {})
    reference = _fixed_point_python(s, linear_solver(s, {}), v0, 1e-14, 3)
    assert not compiled.converged and compiled.iterations == reference.iterations == 3
    np.testing.assert_allclose(compiled.history, reference.history, rtol=1e-6)

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
    """`pf3_linear.Factors` (compiled sweeps over SuperLU's L, U and permutations, composed with the
    leaves-first reordering) solves with the fixed-point matrix as SuperLU's own factorisation of it does."""
    import scipy.sparse.linalg as spla

    from gatlang.engines.pf3_linear import Factors, factorise

    factors = factorise(system123)
    assert isinstance(factors, Factors)
    m = system123.fixed_point_matrix()
    rng = np.random.default_rng(11)
    b = rng.standard_normal(system123.n) + 1j * rng.standard_normal(system123.n)
    ref = spla.splu(m, permc_spec="MMD_AT_PLUS_A").solve(b)

    def backward_error(x: np.ndarray) -> float:          # |M x - b| / (|M| |x| + |b|), row by row
        return float(np.max(np.abs(m @ x - b) / (abs(m) @ np.abs(x) + np.abs(b))))

    x = factors.solve(b)
    assert backward_error(x) <= max(10 * backward_error(ref), 1e-15)
    assert np.max(np.abs(x - ref)) <= 1e-6 * np.max(np.abs(ref))     # the matrix is ill-conditioned
    two = factors.solve(np.stack([b, 2j * b], axis=1))   # several right-hand sides, column by column
    assert np.array_equal(two[:, 0], x) and np.allclose(two[:, 1], 2j * x, rtol=1e-14, atol=0)


def test_leaves_first_order_is_a_permutation_with_no_more_fill() -> None:
    """The reordering covers every node once (several components too) and, on IEEE 123, leaves
    SuperLU less fill than its own minimum-degree ordering."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    from gatlang.engines.pf3_kernels import leaves_first_order, permute_csc
    from gatlang.engines.pf3_linear import ORDERED_LU_OPTIONS

    blocks = sp.block_diag([sp.random(30, 30, density=0.1, random_state=k) for k in range(3)]).tocsc()
    pattern = (blocks + blocks.T + sp.eye(90)).tocsc()
    order = leaves_first_order(pattern.indptr, pattern.indices, 90)
    assert sorted(order.tolist()) == list(range(90))
    indptr, indices, data = permute_csc(pattern.indptr, pattern.indices, pattern.data, order)
    permuted = sp.csc_matrix((data, indices, indptr), shape=pattern.shape)
    assert (permuted - pattern[order][:, order]).count_nonzero() == 0 and permuted.has_sorted_indices
    net = load_opendss(FEEDERS["ieee123"], DiagnosticSink())
    m = build_system(net).fixed_point_matrix()
    order = leaves_first_order(m.indptr, m.indices, m.shape[0])
    ours = spla.splu(m[order][:, order].tocsc(), **ORDERED_LU_OPTIONS)
    mmd = spla.splu(m, permc_spec="MMD_AT_PLUS_A")
    assert ours.L.nnz + ours.U.nnz <= mmd.L.nnz + mmd.U.nnz


@pytest.mark.parametrize("feeder", ["ieee13", "ieee123"])
def test_compiled_regulator_check_equals_the_step_by_step_rules(feeder: str) -> None:
    """`regulator_actions` (every regulator in one compiled call) moves the same regulators to the
    same taps, and finds the same ones stuck at a limit, as `wanted_change` and `static_step` one by
    one -- at voltages from deep under to over the band, and at taps off their starting value."""
    from gatlang.engines.pf3_regcontrol import RegulatorBank, regulator_actions, regulator_actions_reference, regulators

    net = load_opendss(FEEDERS[feeder], DiagnosticSink())
    s = build_system(net)
    bank = RegulatorBank.of(regulators(net, s), s)
    assert bank.regs
    rng = np.random.default_rng(11)
    v0 = start_voltages(s, {})
    seen = set()
    for trial in range(40):
        if trial % 10 == 5:            # taps moved (some to their limits) before the check
            s.set_taps({reg.xf: [min(max(t + reg.step * rng.integers(-20, 21), reg.tap_min), reg.tap_max)
                                 for t in s.regulated.tap_array()[reg.xf, :len(s.regulated.rows[reg.xf]["kv"])]]
                        for reg in bank.regs})
        v = v0 * rng.uniform(0.85, 1.12) * np.exp(0.02j * rng.standard_normal(s.n))
        acts, stuck = regulator_actions(bank, s, v)
        ref_acts, ref_stuck = regulator_actions_reference(bank.regs, s, s.v_full(v))
        assert [a[1].name for a in acts] == [a[1].name for a in ref_acts]
        assert [a[2] for a in acts] == pytest.approx([a[2] for a in ref_acts], abs=1e-12)
        assert stuck == ref_stuck
        seen.update(("moved" if acts else "quiet", "stuck" if stuck else "free"))
    assert {"moved", "stuck", "free"} <= seen      # (quiet: the end of every control loop in the engine tests)


@pytest.mark.parametrize("feeder", ["ieee13", "ieee34", "ieee123"])
def test_tap_steps_stamped_in_place_equal_the_matrix_built_at_those_taps(feeder: str) -> None:
    """`System3.set_taps` writes tap steps into the per-unit matrix through stamp plans
    (`pf3_kernels.stamp_plan_arrays`); the result is the matrix built from a transformers table
    that carries the new taps."""
    import pyarrow as pa

    from gatlang.network.model import Network

    net = load_opendss(FEEDERS[feeder], DiagnosticSink())
    s = build_system(net)
    rng = np.random.default_rng(5)
    new = {k: [float(t) for t in 1.0 + 0.00625 * rng.integers(-16, 17, size=len(row["kv"]))]
           for k, row in enumerate(s.regulated.rows)}
    assert new
    s.set_taps(new)
    s.set_taps({k: [t + 0.00625 for t in taps] for k, taps in list(new.items())[:1]})   # a second step on one
    new.update({k: [t + 0.00625 for t in taps] for k, taps in list(new.items())[:1]})
    xf = net.table("transformers")
    by_name = {s.regulated.names[k]: taps for k, taps in new.items()}
    column = [by_name.get(name, taps) for name, taps in zip(xf.column("transformer").to_pylist(),
                                                             xf.column("taps_pu").to_pylist())]
    tables = dict(net.tables)
    tables["transformers"] = xf.set_column(xf.schema.get_field_index("taps_pu"), "taps_pu",
                                           pa.array(column, type=xf.schema.field("taps_pu").type))
    rebuilt = build_system(Network(net.name, net.base_mva, net.frequency_hz, net.balanced, tables))
    a, b = s.ypu.toarray(), rebuilt.ypu.toarray()
    assert np.max(np.abs(a - b)) <= 1e-12 * np.max(np.abs(b))


@pytest.mark.parametrize("feeder", ["ieee13", "ieee34", "ieee123"])
def test_fixed_point_matrix_is_the_network_plus_the_nominal_loads(feeder: str) -> None:
    """The compiled in-place sum (`pf3_kernels.add_branch_admittances`) equals the sparse sum of
    its definition, ``Y + A diag(Yeq) A^T``; so does the fallback for a branch off the pattern."""
    import dataclasses

    s = build_system(load_opendss(FEEDERS[feeder], DiagnosticSink()))
    ref = (s.ypu + s.nominal_load_matrix()).toarray()
    assert np.max(np.abs(s.fixed_point_matrix().toarray() - ref)) <= 1e-15 * np.max(np.abs(ref))  # (summation order)
    # a branch between two nodes the network does not join: the COO path
    pair = next((i, j) for i in range(s.n) for j in range(s.n) if s.ypu[i, j] == 0 and i != j)
    ld = s.loads
    extra = dataclasses.replace(ld, a=np.r_[ld.a, pair[0]], b=np.r_[ld.b, pair[1]], yeq=np.r_[ld.yeq, 0.3 - 0.1j],
                                coef=np.r_[ld.coef, ld.coef[:1]], edges=np.r_[ld.edges, ld.edges[:1]],
                                vbase=np.r_[ld.vbase, ld.vbase[:1]], owner=np.r_[ld.owner, ld.owner[:1]],
                                kind=np.r_[ld.kind, ld.kind[:1]])
    s2 = dataclasses.replace(s, loads=extra)
    ref = (s2.ypu + s2.nominal_load_matrix()).toarray()
    assert np.max(np.abs(s2.fixed_point_matrix().toarray() - ref)) <= 1e-15 * np.max(np.abs(ref))
    assert ref[pair] == -(0.3 - 0.1j)

"""Ybus against pandapower's own (``net._ppc["internal"]["Ybus"]``) on cases with taps and phase shifters."""
from __future__ import annotations

import numpy as np
import pytest

from gatlang.engines.ybus import make_b_matrices, make_ybus

from .pf_oracles import cached_case, cached_oracle, pglib_path


@pytest.mark.parametrize("name", ["case14", "case118", pytest.param("case1354", marks=pytest.mark.slow)])
def test_ybus_matches_pandapower(name, shared_data):
    path = pglib_path(name, shared_data)
    case, net = cached_case(path), cached_oracle(path).net
    if name == "case1354":
        assert np.count_nonzero(case.shift) > 0 and np.count_nonzero(case.tap != 1) > 0
    ours = make_ybus(case).ybus
    # pandapower's internal bus order: lookup[pandapower bus index] (= MATPOWER number - 1)
    order = net._pd2ppc_lookups["bus"][case.bus_id.astype(int) - 1]
    theirs = net._ppc["internal"]["Ybus"][order][:, order]
    assert abs(ours - theirs).max() < 1e-8 * abs(theirs).max()


def test_b_matrices_are_symmetric_without_shifters(shared_data):
    """B' and B'' of a case without phase shifters are symmetric (MATPOWER makeB); XB's B' has no R."""
    case = cached_case(pglib_path("case118", shared_data))
    bp_xb, bpp_xb = make_b_matrices(case, "xb")
    bp_bx, bpp_bx = make_b_matrices(case, "bx")
    for m in (bp_xb, bpp_xb, bp_bx, bpp_bx):
        assert abs(m - m.T).max() < 1e-9
    # XB: B' = sum of 1/x on the off-diagonal
    k = 0
    f, t = int(case.f[k]), int(case.t[k])
    parallel = ((case.f == f) & (case.t == t)) | ((case.f == t) & (case.t == f))
    assert bp_xb[f, t] == pytest.approx(-np.sum(1 / case.x[parallel]))

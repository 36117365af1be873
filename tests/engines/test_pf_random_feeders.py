"""Random radial feeders (varied depth, branching, R/X, loads, a transformer at the head)
solved by pandapower's Newton and by every gatlang method that applies."""
from __future__ import annotations

import warnings

import numpy as np
import pandapower as pp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatlang.engines.pf_balanced import solve_balanced

from .pf_ppc_case import solved_pandapower


def random_feeder(seed: int, n: int) -> pp.pandapowerNet:
    """A 20 kV feeder behind a 110/20 kV transformer: bus k hangs off a random earlier bus."""
    rng = np.random.default_rng(seed)
    net = pp.create_empty_network(sn_mva=10.0)
    hv = pp.create_bus(net, 110.0)
    pp.create_ext_grid(net, hv, vm_pu=1.0 + 0.04 * rng.random(), va_degree=0.0)
    buses = pp.create_buses(net, n, 20.0)
    pp.create_transformer_from_parameters(net, hv, buses[0], sn_mva=25.0, vn_hv_kv=110.0, vn_lv_kv=20.0,
                                          vkr_percent=0.4, vk_percent=12.0, pfe_kw=0.0, i0_percent=0.0,
                                          tap_pos=int(rng.integers(-2, 3)), tap_neutral=0, tap_step_percent=1.5,
                                          tap_side="hv", tap_min=-9, tap_max=9)
    k = np.arange(1, n)
    parent = buses[rng.integers(np.maximum(0, k - 4), k)]     # mostly long chains, some branching
    m = n - 1
    pp.create_lines_from_parameters(net, parent, buses[k], length_km=0.3 + 2 * rng.random(m),
                                    r_ohm_per_km=0.1 + 0.5 * rng.random(m), x_ohm_per_km=0.1 + 0.3 * rng.random(m),
                                    c_nf_per_km=200 * rng.random(m), max_i_ka=0.4)
    pp.create_loads(net, buses[k], p_mw=0.4 * rng.random(m), q_mvar=0.2 * rng.random(m) - 0.05)
    return net


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), n=st.integers(3, 60))
def test_random_radial_feeders_match_pandapower(seed, n):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        case, v_pp = solved_pandapower(random_feeder(seed, n))
    for method in ("newton", "sweep", "fast_decoupled_bx"):
        res = solve_balanced(case, method=method, max_iter=200)
        assert res.converged, (method, [d.message for d in res.diagnostics])
        assert np.max(np.abs(res.v - v_pp)) < 1e-6, method

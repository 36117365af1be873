"""Helpers of the balanced power-flow tests: cases loaded the way users load them, and
pandapower's Newton solution of the same data (the oracle), each computed once per session.

Plain cached functions rather than fixtures, so that tests/engines needs no conftest of its own."""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandapower as pp

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.balanced import BalancedCase, from_network
from gatlang.network.matpower import load_matpower

from .pf_mpc_text import read_ppc

PGLIB_LOCAL = {"case14": "pglib_opf_case14_ieee.m", "case118": "pglib_opf_case118_ieee.m"}
PGLIB_SHARED = {"case1354": "pglib-opf/pglib_opf_case1354_pegase.m"}


@dataclass
class Oracle:
    """pandapower's solved network and its bus voltages keyed by MATPOWER bus number (text)."""

    net: object
    v: dict[str, complex]

    def voltages(self, bus_id: np.ndarray) -> np.ndarray:
        return np.array([self.v[b] for b in bus_id])


def load_case(path: Path) -> BalancedCase:
    """The user's path: MATPOWER file -> canonical Network -> BalancedCase."""
    sink = DiagnosticSink()
    net = load_matpower(path, sink)
    assert net is not None and not sink.has_errors, [d.message for d in sink]
    return from_network(net, sink)


def pandapower_oracle(path: Path, **runpp_kwargs) -> Oracle:
    """pandapower's Newton on the same MATPOWER file (read independently, converted by ``from_ppc``)."""
    from pandapower.converter.pypower import from_ppc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = from_ppc(read_ppc(path), f_hz=60)
        pp.runpp(net, algorithm="nr", tolerance_mva=1e-10, max_iteration=50, **runpp_kwargs)
    v = net.res_bus.vm_pu.to_numpy() * np.exp(1j * np.deg2rad(net.res_bus.va_degree.to_numpy()))
    # from_ppc numbers pandapower buses as the MATPOWER bus number minus one
    return Oracle(net, dict(zip((net.res_bus.index + 1).astype(str), v)))


TESTS_DATA = Path(__file__).resolve().parents[1] / "data" / "pglib"


def pglib_path(name: str, shared_data: Path) -> Path:
    """Small cases are copied into tests/data/pglib; case1354 is read from the shared data folder."""
    if name in PGLIB_LOCAL:
        return TESTS_DATA / PGLIB_LOCAL[name]
    return shared_data / PGLIB_SHARED[name]


@functools.cache
def cached_case(path: Path) -> BalancedCase:
    return load_case(path)


@functools.cache
def cached_oracle(path: Path, enforce_q_lims: bool = False) -> Oracle:
    return pandapower_oracle(path, enforce_q_lims=enforce_q_lims)

"""Helpers shared by the network tests: the pandapower oracle and a reference Ybus.

The Ybus here is MATPOWER's ``makeYbus`` written out directly from the
BalancedCase arrays, so that the lowering is checked against pandapower's own
admittance matrix (built by pandapower from the same case file through its own
parser, ``pandapower.converter.matpower.from_mpc``), not against another module
of this project.
"""
from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.balanced import BalancedCase, from_network
from gatlang.network.matpower import load_matpower


def reference_ybus(c: BalancedCase) -> sp.csr_matrix:
    ys = 1 / (c.r + 1j * c.x)
    tau = c.tap * np.exp(1j * c.shift)
    ytt = ys + 0.5j * c.b
    yff, yft, ytf = ytt / (tau * np.conj(tau)), -ys / np.conj(tau), -ys / tau
    n, d = c.n_bus, np.arange(c.n_bus)
    return sp.coo_matrix((np.r_[yff, yft, ytf, ytt, c.gs + 1j * c.bs],
                          (np.r_[c.f, c.f, c.t, c.t, d], np.r_[c.f, c.t, c.f, c.t, d])),
                         shape=(n, n)).tocsr()


def lowered(path: Path) -> BalancedCase:
    sink = DiagnosticSink()
    net = load_matpower(path, sink)
    assert net is not None, [d.message for d in sink.errors]
    return from_network(net, sink)


def _ppc_from_m(path: str) -> dict:
    """A minimal, independent reading of a .m case into a PYPOWER dict (fallback oracle input).

    Used only when matpowercaseframes (pandapower's .m reader) is not installed;
    pandapower still does the conversion and builds the admittances.
    """
    text = Path(path).read_text()
    ppc: dict = {"version": "2"}
    ppc["baseMVA"] = float(re.search(r"mpc\.baseMVA\s*=\s*([0-9.eE+-]+)", text).group(1))
    for name in ("bus", "gen", "branch", "gencost"):
        m = re.search(rf"mpc\.{name}\s*=\s*\[(.*?)\];", text, re.S)
        if m is None:
            continue
        rows = []
        for line in m.group(1).splitlines():
            for part in line.split("%", 1)[0].split(";"):
                if part.split():
                    rows.append([float(v) for v in part.replace(",", " ").split()])
        width = max(len(r) for r in rows)
        ppc[name] = np.array([r + [0.0] * (width - len(r)) for r in rows])
    return ppc


def _from_mpc(path: str):
    from pandapower.converter.pypower import from_ppc

    try:
        import matpowercaseframes  # noqa: F401
    except ImportError:
        return from_ppc(_ppc_from_m(path), f_hz=60)
    from pandapower.converter.matpower import from_mpc
    return from_mpc(path, f_hz=60)


@functools.lru_cache(maxsize=8)
def pandapower_case(path: str):
    """pandapower's conversion of the case file, solved with its Newton power flow."""
    import pandapower as pp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = _from_mpc(path)
        pp.runpp(net, tolerance_mva=1e-10, numba=False)
    return net


@functools.lru_cache(maxsize=4)
def pandapower_unsolved(path: str):
    """pandapower's conversion with its Ybus built (one Newton step; convergence not needed)."""
    import pandapower as pp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = _from_mpc(path)
        try:
            pp.runpp(net, numba=False, max_iteration=1)
        except pp.LoadflowNotConverged:
            pass   # the admittance matrix is built before the iterations
    return net


def pandapower_ybus_in_file_order(net) -> sp.csr_matrix:
    """pandapower's internal Ybus permuted to the order of the buses in the file."""
    perm = net._pd2ppc_lookups["bus"][net.bus.index.values]
    return net._ppc["internal"]["Ybus"][perm][:, perm].tocsr()

"""Test helper: a BalancedCase from pandapower's internal MATPOWER-style case (``net._ppc``).

Why: for networks that exist only as pandapower objects (case33bw), the oracle's
own internal matrices are the surest way to make both sides solve the same
data.  pandapower's ppc is already in per unit, in internal bus order, with
out-of-service elements kept (status 0) - they are dropped here, as
BalancedCase expects.
"""
from __future__ import annotations

import numpy as np
import pandapower as pp

from gatlang.network.balanced import BalancedCase

# MATPOWER column indices (idx_bus, idx_gen, idx_brch)
BUS_I, BUS_TYPE, PD, QD, GS, BS, VM, VA, BASE_KV, VMAX, VMIN = 0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 12
GEN_BUS, PG, QG, QMAX, QMIN, VG, GEN_STATUS, PMAX, PMIN = 0, 1, 2, 3, 4, 5, 7, 8, 9
F_BUS, T_BUS, BR_R, BR_X, BR_B, RATE_A, TAP, SHIFT, BR_STATUS = 0, 1, 2, 3, 4, 5, 8, 9, 10


def case_from_ppc(ppc: dict, name: str) -> BalancedCase:
    """Lower a pandapower/MATPOWER ppc dict (0-based bus numbers) to a BalancedCase."""
    base = float(ppc["baseMVA"])
    bus, gen, br = ppc["bus"], ppc["gen"], ppc["branch"]
    gen = gen[gen[:, GEN_STATUS] > 0]
    br = br[br[:, BR_STATUS].real > 0]
    number = bus[:, BUS_I].real.astype(np.int64)
    index = np.full(number.max() + 1, -1)
    index[number] = np.arange(len(number))
    ng, nl = len(gen), len(br)
    # pandapower's branch table may carry a conductance column (BR_G) for lines; cases used here have none
    return BalancedCase(
        name=name, base_mva=base, bus_id=number.astype(str), bus_type=bus[:, BUS_TYPE].real.astype(np.int8),
        pd=bus[:, PD].real / base, qd=bus[:, QD].real / base, gs=bus[:, GS].real / base, bs=bus[:, BS].real / base,
        vm=bus[:, VM].real, va=np.deg2rad(bus[:, VA].real), base_kv=bus[:, BASE_KV].real,
        vmin=bus[:, VMIN].real, vmax=bus[:, VMAX].real,
        gen_id=np.arange(ng).astype(str), gen_bus=index[gen[:, GEN_BUS].real.astype(np.int64)],
        pg=gen[:, PG].real / base, qg=gen[:, QG].real / base, pmin=gen[:, PMIN].real / base,
        pmax=gen[:, PMAX].real / base, qmin=gen[:, QMIN].real / base, qmax=gen[:, QMAX].real / base,
        vg=gen[:, VG].real, cost_c2=np.zeros(ng), cost_c1=np.zeros(ng), cost_c0=np.zeros(ng),
        cost_pwl=[None] * ng, branch_id=np.arange(nl).astype(str),
        f=index[br[:, F_BUS].real.astype(np.int64)], t=index[br[:, T_BUS].real.astype(np.int64)],
        r=br[:, BR_R].real, x=br[:, BR_X].real, b=br[:, BR_B].real, rate_a=br[:, RATE_A].real / base,
        tap=np.where(br[:, TAP].real == 0, 1.0, br[:, TAP].real), shift=np.deg2rad(br[:, SHIFT].real),
        angmin=np.full(nl, -np.pi), angmax=np.full(nl, np.pi))


def solved_pandapower(net, **kwargs) -> tuple[BalancedCase, np.ndarray]:
    """Run pandapower's Newton on ``net``; return the case it solved and its complex bus voltages."""
    pp.runpp(net, algorithm="nr", tolerance_mva=1e-10, max_iteration=50, **kwargs)
    ppc = net._ppc
    case = case_from_ppc(ppc, net.name or "pandapower")
    v = ppc["bus"][:, VM].real * np.exp(1j * np.deg2rad(ppc["bus"][:, VA].real))
    return case, v

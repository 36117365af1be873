"""Kron reduction of explicit neutral conductors (node 4) for the ``kron_reduce=True`` import.

Why: many three-phase kernels (and PowerModelsDistribution's default) want
3x3 phase matrices; a four-wire line whose neutral is grounded along its
length is reduced by eliminating the neutral row/column of its impedance,
Z_pp - Z_pn Z_nn^-1 Z_np (conductors on node 4 or ground at both ends).
Elements whose neutral terminal is node 4 are then connected to ground
(node 0) instead.  The shunt capacitance keeps the phase block (a grounded
neutral carries no charge equation of its own).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from gatlang.network.model import Network

NEUTRAL = 4


def kron(z: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Eliminate the conductors not in `keep` from the (complex) matrix `z`."""
    drop = ~keep
    if not drop.any():
        return z
    zpp, zpn = z[np.ix_(keep, keep)], z[np.ix_(keep, drop)]
    znp, znn = z[np.ix_(drop, keep)], z[np.ix_(drop, drop)]
    return zpp - zpn @ np.linalg.solve(znn, znp)


def _reduce_lines(tbl: pa.Table) -> pa.Table:
    cols = {c: tbl.column(c).to_pylist() for c in tbl.column_names}
    for i, (fc, tc) in enumerate(zip(cols["f_conn"], cols["t_conn"])):
        # a conductor that is neutral (4) or grounded (0) at both ends is eliminated
        keep = np.asarray([not (a in (0, NEUTRAL) and b in (0, NEUTRAL)) for a, b in zip(fc, tc)])
        if keep.all() or not keep.any():
            continue
        n = len(fc)
        z = (np.asarray(cols["r_ohm"][i]) + 1j * np.asarray(cols["x_ohm"][i])).reshape(n, n)
        zr = kron(z, keep)
        cols["r_ohm"][i], cols["x_ohm"][i] = zr.real.ravel().tolist(), zr.imag.ravel().tolist()
        for m in ("g_from_s", "b_from_s", "g_to_s", "b_to_s"):
            if cols[m][i] is not None:
                cols[m][i] = np.asarray(cols[m][i]).reshape(n, n)[np.ix_(keep, keep)].ravel().tolist()
        cols["f_conn"][i] = [k for k, ok in zip(fc, keep) if ok]
        cols["t_conn"][i] = [k for k, ok in zip(tc, keep) if ok]
    return pa.table(cols, schema=tbl.schema)


def _ground_neutral(tbl: pa.Table, col: str, nested: bool = False) -> pa.Table:
    vals = tbl.column(col).to_pylist()
    if nested:
        vals = [[[0 if k == NEUTRAL else k for k in w] for w in ws] for ws in vals]
    else:
        vals = [[0 if k == NEUTRAL else k for k in v] if v is not None else v for v in vals]
    return tbl.set_column(tbl.schema.get_field_index(col), tbl.schema.field(col),
                          pa.array(vals, type=tbl.schema.field(col).type))


def kron_reduce_tables(net: Network) -> None:
    """Reduce lines in place; ground node-4 terminals of every other element."""
    if "lines" in net.tables:
        net.tables["lines"] = _reduce_lines(net.tables["lines"])
    for name in ("loads", "generators", "pv_systems", "storage", "shunts", "sources"):
        if name in net.tables:
            net.tables[name] = _ground_neutral(net.tables[name], "conn")
    if "transformers" in net.tables:
        net.tables["transformers"] = _ground_neutral(net.tables["transformers"], "conns", nested=True)

"""Voltage-dependent injections (loads, generators, PV) as vectorised *load branches*.

Why branches: every OpenDSS load model draws, on each of its phases, a current
between two nodes (phase to neutral/ground for wye, phase to phase for
delta) that is ``I = y(|d|) * d``, with ``d`` the voltage across the branch
and ``y`` a complex function of its magnitude only.  The engine's models
(Load.pas ``DoConstantPQLoad``, ``DoConstantZLoad``, ``DoConstantILoad``,
``DoZIPVModel``, ``DoMotorTypeLoad``, ``DoCVRModel``) are piecewise in
``m = |d|``:

* ``m <= vlow``      constant impedance ``Yeq`` (the nominal admittance);
* ``vlow < m <= vmin``  current linear in ``m`` between the two ends (the
  engine's ``InterpolateY95_YLow`` / ``InterpolateY95I_YLow``);
* ``vmin < m <= vmax``  the model proper;
* ``m > vmax``       constant impedance at the upper limit.

In each region ``y(m) = c0 + c1/m + c2/m^2``, so one array of coefficients
``(n, 4 regions, 3)`` describes every branch of every model, and one
vectorised evaluation gives the currents and the derivatives Newton needs
(``dI/d Re d`` and ``dI/d Im d``).  A ZIP load is three branches (its Z, I and
P parts), each with its own scaled ``Yeq``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gatlang.diagnostics import Diagnostic, Span, warning
from gatlang.engines import pf3_result as codes
from gatlang.engines.pf3_cache import rows as table_rows
from gatlang.network.model import Network
from gatlang.network.ybus3 import _flatten, _numbers, _strings

SQRT3 = math.sqrt(3.0)
#: the engine's Vlowpu (below it every model is a constant impedance)
VLOW_PU = 0.50
# region kinds of the outer (out-of-range) behaviour
_OUT_P, _OUT_I, _OUT_Z = 0, 1, 2


@dataclass
class LoadBranches:
    """Arrays over load branches; ``a``/``b`` are node indices (-1 = ground).

    ``coef[k, r, :]`` = (c0, c1, c2) of branch k in region r (0: below vlow,
    1: vlow..vmin, 2: vmin..vmax, 3: above vmax), in siemens with ``m`` in
    volts; ``edges[k]`` = (vlow, vmin, vmax) in volts.  ``owner`` is the row
    of the element in ``kind``'s table, for reporting.
    """

    a: np.ndarray
    b: np.ndarray
    yeq: np.ndarray
    coef: np.ndarray
    edges: np.ndarray
    vbase: np.ndarray
    owner: np.ndarray
    kind: np.ndarray

    def __post_init__(self) -> None:
        # flat (n*4, 3) view and row offsets: one gather picks every branch's region coefficients
        self._flat = self.coef.reshape(-1, 3)
        self._row = np.arange(self.n) * 4
        self._edges = [np.ascontiguousarray(self.edges[:, j]) for j in range(3)]   # contiguous compares

    @property
    def n(self) -> int:
        return len(self.a)

    def per_unit(self, vb: np.ndarray, sbase: float) -> "LoadBranches":
        """The same branches with voltages in pu of ``vb`` (per branch) and currents in pu of
        ``sbase / vb``: ``I_pu(d_pu) = vb/S * I(vb d_pu)``, so ``c0, c1, c2`` scale by
        ``vb^2/S, vb/S, 1/S`` and the region edges by ``1/vb``.  Kernels then never convert."""
        scale = np.stack([vb * vb, vb, np.ones_like(vb)], axis=1) / sbase
        return LoadBranches(self.a, self.b, self.yeq * vb * vb / sbase, self.coef * scale[:, None, :],
                            self.edges / vb[:, None], self.vbase, self.owner, self.kind)

    def admittance(self, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``y(m)`` and ``dy/dm`` per branch (vectorised over the regions)."""
        c, inv = self._coefficients(m)
        y = c[:, 0] + (c[:, 1] + c[:, 2] * inv) * inv
        dy = -(c[:, 1] + 2.0 * c[:, 2] * inv) * inv * inv
        return y, dy

    def _coefficients(self, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        e0, e1, e2 = self._edges
        region = self._row + (m > e0) + (m > e1) + (m > e2)
        inv = np.divide(1.0, m, out=np.zeros_like(m), where=m > 0)     # no errstate: it costs more
        return self._flat[region], inv

    def currents(self, d: np.ndarray) -> np.ndarray:
        """Current drawn by each branch (from node a to node b) at branch voltages ``d``."""
        c, inv = self._coefficients(np.abs(d))
        return (c[:, 0] + (c[:, 1] + c[:, 2] * inv) * inv) * d

    def currents_and_derivatives(self, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(I, dI/d Re d, dI/d Im d): ``I = y(m) d`` so ``dI/dx = y dx + d y'(m) dm/dx``."""
        m = np.abs(d)
        y, dy = self.admittance(m)
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(m > 0, d / m, 0.0)
        i = y * d
        return i, y + d * dy * u.real, 1j * y + d * dy * u.imag


# ---------------------------------------------------------------- coefficients per model

def _region_coefficients(yeq: np.ndarray, vb: np.ndarray, vmin: np.ndarray, vmax: np.ndarray,
                         normal: np.ndarray, outer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(coef (n,4,3), edges (n,3)) from the nominal admittance and the in-range coefficients.

    ``normal`` (n,3) are (c0, c1, c2) between vmin and vmax; ``outer`` says how
    the engine extends the model outside that range (P-like, I-like or Z).
    """
    n = len(yeq)
    coef = np.zeros((n, 4, 3), dtype=complex)
    vlow = VLOW_PU * vb
    v95, v105 = vmin * vb, vmax * vb
    coef[:, 0, 0] = yeq
    # between vlow and vmin: I(m) = yeq vlow + k (m - vlow), k from the current at vmin
    i95 = np.where(outer == _OUT_I, yeq * vb, np.where(vmin > 0, yeq * vb / np.where(vmin > 0, vmin, 1), 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(v95 > vlow, (i95 - yeq * vlow) / (v95 - vlow), 0.0)
    coef[:, 1, 0] = k
    coef[:, 1, 1] = yeq * vlow - k * vlow
    coef[:, 2] = normal
    upper = np.where(outer == _OUT_I, yeq / np.where(vmax > 0, vmax, 1.0),
                     yeq / np.where(vmax > 0, vmax * vmax, 1.0))
    coef[:, 3, 0] = np.where(vmax > 0, upper, yeq)
    z = outer == _OUT_Z
    coef[z] = 0.0
    coef[z, :, 0] = yeq[z, None]
    edges = np.stack([vlow, v95, v105], axis=1)
    return coef, edges


def _normal_coefficients(model: np.ndarray, yeq: np.ndarray, vb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """In-range (c0, c1, c2) and outer kind for the engine's load models 1-7 (8 is split elsewhere)."""
    n = len(model)
    c = np.zeros((n, 3), dtype=complex)
    outer = np.full(n, _OUT_P)
    p = (model == 1) | (model == 6) | (model == 7)          # constant P (fixed Q models: P part)
    c[p, 2] = yeq[p] * vb[p] ** 2
    z = model == 2
    c[z, 0] = yeq[z]
    outer[z] = _OUT_Z
    i = model == 5
    c[i, 1] = yeq[i] * vb[i]
    outer[i] = _OUT_I
    motor = model == 3                                        # constant P, Q as an impedance
    c[motor, 2] = yeq[motor].real * vb[motor] ** 2
    c[motor, 0] = 1j * yeq[motor].imag
    cvr = model == 4                                          # default CVR factors: P ~ V, Q ~ V^2
    c[cvr, 1] = yeq[cvr].real * vb[cvr]
    c[cvr, 0] = 1j * yeq[cvr].imag
    return c, outer


# ---------------------------------------------------------------- building from the tables

#: the engine's load model number of a load without ``dss_model`` (any other name: constant power)
_MODEL_NUMBERS = {"constant_power": 1, "constant_impedance": 2, "constant_current": 5, "zip": 8}
#: kV of an element that gives none (the engine's default)
_DEFAULT_KV = 12.47
#: the engine's voltage limits of loads without their own, and of generators and PV systems (pu)
_LOAD_LIMITS, _DER_LIMITS = (0.95, 1.05), (0.90, 1.10)
#: why a load's model is approximated (`_approx_note`), by code; 0 = exact
_NOTES = {1: "ZIP without 7 coefficients: constant power", 2: "ZIP low-voltage cut-off ignored",
          3: "model {model}: fixed Q taken as constant power"}


@dataclass
class _Flat:
    """The inputs of `_assemble`, one entry per branch in output order (ZIP loads not yet split).

    ``s`` is the power the branch consumes (VA); ``zip`` holds the six ZIP
    coefficients of the model-8 branches, in branch order.
    """

    a: np.ndarray
    b: np.ndarray
    s: np.ndarray
    vb: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    model: np.ndarray
    owner: np.ndarray
    kind: np.ndarray
    zip: np.ndarray

    @classmethod
    def concat(cls, parts: list["_Flat"]) -> "_Flat":
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__))


def build_load_branches(net: Network, node, load_scale: float = 1.0, pv_scale: float = 1.0,
                        span: Span | None = None) -> tuple[LoadBranches, list[Diagnostic]]:
    """Load branches of every in-service load, generator and PV system.

    ``node`` numbers the conductors: either an object with a bulk
    ``lookup(buses, nodes) -> indices`` (`ybus3.NodeIndex`: every table is read
    column-wise and the ends of all branches are numbered in one call) or a
    callable ``node(bus, k)`` (one call per branch end, row by row; kept while
    callers move to the bulk form).  Unknown conductors and ground are -1.
    Generators and PV systems are negative constant-power loads (the engine's
    generator model 1 and a PV system at its ``pf`` with output
    ``pmpp * irradiance``, capped at ``kva``), with the engine's 0.90/1.10 pu
    limits.  Returns the branches and warnings for approximated models.
    """
    if hasattr(node, "lookup"):
        flat, notes, count = _bulk_branches(net, node.lookup, load_scale, pv_scale)
    else:
        flat, notes, count = _row_branches(net, node, load_scale, pv_scale)
    diags: list[Diagnostic] = []
    if count:
        diags.append(warning(codes.LOAD_MODEL_APPROX, f"{count} load(s) use a model solved with an "
                             f"approximation: {', '.join(notes)}" + (" ..." if count > 5 else ""),
                             span, help="use load models 1, 2, 3, 4, 5 or 8 for an exact match with OpenDSS"))
    return _assemble(flat), diags


def _approx_note(load: str, code: int, model: int) -> str:
    """The warning's words for one approximated load (``code`` as in `_NOTES`)."""
    return f"{load} ({_NOTES[code].format(model=model)})"


# ---------------------------------------------------------------- column-wise (bulk) building

@dataclass
class _Elements:
    """The in-service elements of one table, one entry per element in row order.

    ``rows`` are the elements' rows in the table (the branches' owners);
    ``buses`` and the conductor lists (``nodes`` split at ``offsets``) cover
    every row of the table; ``p``/``q`` are the element's total consumption
    (W, var); ``zip`` its six ZIP coefficients, or None when no element is a
    ZIP load.
    """

    kind: str
    rows: np.ndarray
    buses: pa.Array
    nodes: np.ndarray
    offsets: np.ndarray
    wye: np.ndarray
    kv: np.ndarray
    p: np.ndarray
    q: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    model: np.ndarray
    zip: np.ndarray | None = None


def _bulk_branches(net: Network, lookup, load_scale: float,
                   pv_scale: float) -> tuple[_Flat, list[str], int]:
    """(branches, first five approximation notes, number of notes), every table read column-wise
    and every branch end numbered by one ``lookup``."""
    notes: list[str] = []
    count = 0
    elements: list[_Elements] = []
    for name in ("loads", "generators", "pv_systems"):
        t = net.tables.get(name)              # absent: nothing to read (`Network.table` would build one)
        rows = _in_service(t) if t is not None else np.zeros(0, dtype=np.int64)
        if not len(rows):
            continue
        if name == "loads":
            el, notes, count = _load_elements(t, rows, load_scale)
        elif name == "generators":
            el = _generator_elements(net, t, rows)
        else:
            el = _pv_elements(t, rows, pv_scale)
        elements.append(el)
    if not elements:
        return _empty_flat(), notes, count
    parts, buses = zip(*(_expand(el) for el in elements))
    flat = _Flat.concat(list(parts))
    bus = pa.concat_arrays([_strings(b) for b in buses])
    ends = lookup(pa.concat_arrays([bus, bus]), np.concatenate([flat.a, flat.b]))
    flat.a, flat.b = ends[: len(flat.a)], ends[len(flat.a):]
    return flat, notes, count


def _empty_flat() -> _Flat:
    i, f = np.zeros(0, dtype=int), np.zeros(0)
    return _Flat(i, i, np.zeros(0, dtype=complex), f, f, f, i, i, np.zeros(0, dtype=object), np.zeros((0, 6)))


def _column(t: pa.Table, name: str) -> pa.Array | None:
    """Column ``name`` as one array; None if the table has no such column."""
    if t.schema.get_field_index(name) < 0:
        return None
    col = t.column(name)
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _floats(t: pa.Table, name: str, rows: np.ndarray, fill: float, falsy: bool = False) -> np.ndarray:
    """Column ``name`` at ``rows`` as floats, nulls (and zeros too when ``falsy``: the row code's
    ``x or fill``) read as ``fill``; a missing column reads as ``fill`` throughout."""
    arr = _column(t, name)
    if arr is None:
        return np.full(len(rows), fill, dtype=float)
    x = _numbers(arr, fill).astype(float, copy=False)[rows]
    return np.where(x == 0, fill, x) if falsy else x


def _in_service(t: pa.Table) -> np.ndarray:
    """Rows whose status is true (a null status is out of service, as in the row code)."""
    arr = _column(t, "status")
    if arr is None:
        return np.arange(t.num_rows)
    return np.flatnonzero(_numbers(arr, False)) if t.num_rows else np.zeros(0, dtype=np.int64)


def _conductors(t: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, offsets) of the ``conn`` lists of every row (a null list is empty)."""
    arr = _column(t, "conn")
    if arr is None:
        return np.zeros(0, dtype=np.int64), np.zeros(t.num_rows + 1, dtype=np.int64)
    values, offsets = _flatten(arr)
    return _numbers(values).astype(np.int64, copy=False), offsets


def _elements(t: pa.Table, kind: str, rows: np.ndarray, wye: np.ndarray, kv: np.ndarray, p: np.ndarray,
              q: np.ndarray, limits: tuple[float, float], model: np.ndarray | None = None) -> _Elements:
    """`_Elements` of ``rows``; the limits are the engine's unless the table has its own
    (``vminpu``/``vmaxpu``), the model constant power unless given."""
    if kind == "load":
        vmin, vmax = _floats(t, "vminpu", rows, limits[0]), _floats(t, "vmaxpu", rows, limits[1])
    else:
        vmin, vmax = np.full(len(rows), limits[0]), np.full(len(rows), limits[1])
    nodes, offsets = _conductors(t)
    return _Elements(kind, rows, _column(t, "bus"), nodes, offsets, wye, kv, p, q, vmin, vmax,
                     np.ones(len(rows), dtype=np.int64) if model is None else model)


def _load_elements(t: pa.Table, rows: np.ndarray, load_scale: float) -> tuple[_Elements, list[str], int]:
    """The in-service loads, with the first five approximation notes and their number."""
    model, zipv, note = _load_models(t, rows)
    wye = np.ones(len(rows), dtype=bool)
    conn = _column(t, "connection")
    if conn is not None:               # null and "" read as wye, as in the row code
        wye = _numbers(pc.or_(pc.equal(conn, "wye"), pc.equal(conn, "")), True).astype(bool)[rows]
    p = _floats(t, "p_mw", rows, 0.0, falsy=True) * 1e6 * load_scale
    q = _floats(t, "q_mvar", rows, 0.0, falsy=True) * 1e6 * load_scale
    el = _elements(t, "load", rows, wye, _floats(t, "vn_kv", rows, _DEFAULT_KV, falsy=True), p, q,
                   _LOAD_LIMITS, model)
    el.zip = zipv
    flagged = np.flatnonzero(note)
    names = t.column("load").take(rows[flagged[:5]]).to_pylist() if len(flagged) else []
    notes = [_approx_note(n, int(note[k]), int(model[k])) for n, k in zip(names, flagged[:5])]
    return el, notes, len(flagged)


def _load_models(t: pa.Table, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(engine model number, ZIP coefficients (n, 6) or None, `_NOTES` code) of the loads at ``rows``.

    ``dss_model`` when set (non-zero), else the number of the ``model`` name;
    a ZIP load with fewer than six coefficients is solved as constant power.
    """
    dss = _column(t, "dss_model")
    model = _numbers(dss, 0).astype(np.int64)[rows] if dss is not None else np.zeros(len(rows), dtype=np.int64)
    unset = model == 0
    if unset.any():
        names = _column(t, "model")
        code = np.full(len(rows), len(_MODEL_NUMBERS))
        if names is not None:
            code = _numbers(pc.index_in(names, value_set=pa.array(list(_MODEL_NUMBERS))),
                            len(_MODEL_NUMBERS)).astype(np.int64)[rows]
        model = np.where(unset, np.array([*_MODEL_NUMBERS.values(), 1])[code], model)
    note = np.where((model == 6) | (model == 7), 3, 0)
    zip8 = model == 8
    if not zip8.any():
        return model, None, note
    arr = _column(t, "zipv")
    values, offsets = _flatten(arr) if arr is not None else (pa.array([], pa.float64()), np.zeros(t.num_rows + 1))
    values = np.append(_numbers(values, np.nan).astype(float), np.nan)     # the pad: index -1 reads nan
    first = offsets[rows].astype(np.int64)
    size = offsets[rows + 1] - first
    short = zip8 & (size < 6)
    cut = zip8 & (size > 6) & (values[np.where(size > 6, first + 6, -1)] > 0)
    zipv = np.zeros((len(rows), 6))
    full = zip8 & ~short
    zipv[full] = values[first[full, None] + np.arange(6)]
    return np.where(short, 1, model), zipv, np.where(short, 1, np.where(cut, 2, note))


def _generator_elements(net: Network, t: pa.Table, rows: np.ndarray) -> _Elements:
    """The in-service generators: constant power, at their bus's kV unless they give one."""
    kv = _floats(t, "vn_kv", rows, 0.0, falsy=True)
    unset = np.flatnonzero(kv == 0)
    if len(unset):
        kv[unset] = _bus_kvs(net, _column(t, "bus").take(rows[unset]))
    p = -_floats(t, "p_mw", rows, 0.0, falsy=True) * 1e6
    q = -_floats(t, "q_mvar", rows, 0.0, falsy=True) * 1e6
    return _elements(t, "generator", rows, np.ones(len(rows), dtype=bool), kv, p, q, _DER_LIMITS)


def _pv_elements(t: pa.Table, rows: np.ndarray, pv_scale: float) -> _Elements:
    """The in-service PV systems: ``pmpp * irradiance`` at ``pf``, capped at ``kva``."""
    p = _floats(t, "pmpp_mw", rows, 0.0, falsy=True) * _floats(t, "irradiance", rows, 1.0) * pv_scale
    kva = _floats(t, "kva", rows, 0.0, falsy=True) / 1e3
    pf = _floats(t, "pf", rows, 1.0, falsy=True)
    q = p * np.sqrt(np.maximum(1.0 / (pf * pf) - 1.0, 0.0)) * np.copysign(1.0, pf)
    size = np.hypot(p, q)
    cap = np.flatnonzero((kva > 0) & (size > kva))
    if len(cap):
        scale = kva[cap] / size[cap]
        p[cap], q[cap] = p[cap] * scale, q[cap] * scale
    return _elements(t, "pv", rows, np.ones(len(rows), dtype=bool), _floats(t, "vn_kv", rows, _DEFAULT_KV, falsy=True),
                     -p * 1e6, -q * 1e6, _DER_LIMITS)


def _bus_kvs(net: Network, buses: pa.Array) -> np.ndarray:
    """Nominal kV of each of ``buses`` from the buses table (the first row of that name),
    `_DEFAULT_KV` for an unknown bus or one without a kV."""
    table = net.tables.get("buses")
    if table is None or not table.num_rows:
        return np.full(len(buses), _DEFAULT_KV)
    at = _numbers(pc.index_in(buses, value_set=_column(table, "bus")), -1).astype(np.int64)
    kv = np.append(_numbers(_column(table, "vn_kv"), 0.0).astype(float), 0.0)[at]    # -1: the pad
    return np.where(kv == 0, _DEFAULT_KV, kv)


def _expand(el: _Elements) -> tuple[_Flat, pa.Array]:
    """The branches of ``el`` (node numbers still the conductors) and the bus of each.

    The engine's way: a wye element has a branch from each phase conductor to
    its last one; a delta element of two conductors has one branch, of ``n``
    conductors ``n`` branches (k to k+1 mod n).  An element's power is split
    evenly over its branches.
    """
    first = el.offsets[el.rows]
    size = el.offsets[el.rows + 1] - first
    count = np.where(el.wye, np.maximum(size - 1, 0), np.where(size == 2, 1, size))
    e = np.repeat(np.arange(len(count)), count)                         # element of each branch
    j = np.arange(len(e)) - np.repeat(np.cumsum(count) - count, count)   # its place in the element
    at, n = first[e], size[e]
    a = el.nodes[at + j]
    b = el.nodes[np.where(el.wye[e], at + n - 1, at + (j + 1) % np.maximum(n, 1))]
    nph = count[e]
    vb = np.where(el.wye & (count > 1), el.kv * 1e3 / SQRT3, el.kv * 1e3)[e]
    s = np.empty(len(e), dtype=complex)
    s.real, s.imag = el.p[e] / nph, el.q[e] / nph
    model = el.model[e]
    owner = el.rows[e]
    zipv = el.zip[e][model == 8] if el.zip is not None else np.zeros((0, 6))
    kind = np.full(len(e), el.kind, dtype=object)
    return (_Flat(a, b, s, vb, el.vmin[e], el.vmax[e], model, owner, kind, zipv),
            el.buses.take(pa.array(owner)))


# ---------------------------------------------------------------- row-wise building (callable ``node``)

def _branch_ends(conn: list[int], connection: str) -> tuple[list[tuple[int, int]], int]:
    """(node pairs, number of phases) of a one-terminal element, the engine's way."""
    if connection == "wye":
        nph = len(conn) - 1
        return [(conn[k], conn[-1]) for k in range(nph)], nph
    if len(conn) == 2:
        return [(conn[0], conn[1])], 1
    return [(conn[k], conn[(k + 1) % len(conn)]) for k in range(len(conn))], len(conn)


def _phase_vbase(kv: float, connection: str, nphases: int) -> float:
    """The engine's VBase: line-to-neutral for a 2- or 3-phase wye element, else the kV given."""
    return kv * 1e3 / SQRT3 if connection == "wye" and nphases > 1 else kv * 1e3


@dataclass
class _Rows:
    a: list[int]
    b: list[int]
    s: list[complex]       # VA per branch (consumed)
    vb: list[float]
    vmin: list[float]
    vmax: list[float]
    model: list[int]
    owner: list[int]
    kind: list[str]
    zipv: list[list[float] | None]

    @classmethod
    def empty(cls) -> "_Rows":
        return cls([], [], [], [], [], [], [], [], [], [])

    def flat(self) -> _Flat:
        zp = [z[:6] for z, m in zip(self.zipv, self.model) if m == 8]
        return _Flat(np.asarray(self.a, dtype=int), np.asarray(self.b, dtype=int),
                     np.asarray(self.s, dtype=complex), np.asarray(self.vb, dtype=float),
                     np.asarray(self.vmin, dtype=float), np.asarray(self.vmax, dtype=float),
                     np.asarray(self.model, dtype=int), np.asarray(self.owner, dtype=int),
                     np.asarray(self.kind, dtype=object), np.asarray(zp, dtype=float).reshape(-1, 6))


def _add_element(rows: _Rows, node, bus: str, conn: list[int], connection: str, kv: float, s_total: complex,
                 vmin: float, vmax: float, model: int, owner: int, kind: str,
                 zipv: list[float] | None = None) -> None:
    pairs, nph = _branch_ends(conn, connection)
    vb = _phase_vbase(kv, connection, nph)
    for na, nb in pairs:
        rows.a.append(node(bus, na))
        rows.b.append(node(bus, nb))
        rows.s.append(s_total / nph)
        rows.vb.append(vb)
        rows.vmin.append(vmin)
        rows.vmax.append(vmax)
        rows.model.append(model)
        rows.owner.append(owner)
        rows.kind.append(kind)
        rows.zipv.append(zipv)


def _row_branches(net: Network, node, load_scale: float, pv_scale: float) -> tuple[_Flat, list[str], int]:
    """(branches, first five approximation notes, number of notes), row by row with ``node(bus, k)``."""
    rows = _Rows.empty()
    approx: list[str] = []
    for i, r in enumerate(table_rows(net, "loads")):
        if not r["status"]:
            continue
        model = int(r["dss_model"] or _MODEL_NUMBERS.get(r["model"], 1))
        zipv = list(r["zipv"] or []) if model == 8 else None
        if zipv is not None:
            if len(zipv) < 6:
                approx.append(_approx_note(r["load"], 1, model))
                model, zipv = 1, None
            elif len(zipv) > 6 and zipv[6] > 0:
                approx.append(_approx_note(r["load"], 2, model))
        elif model in (6, 7):
            approx.append(_approx_note(r["load"], 3, model))
        s = complex(r["p_mw"] or 0.0, r["q_mvar"] or 0.0) * 1e6 * load_scale
        _add_element(rows, node, r["bus"], r["conn"], r["connection"] or "wye", r["vn_kv"] or _DEFAULT_KV, s,
                     r["vminpu"] if r["vminpu"] is not None else _LOAD_LIMITS[0],
                     r["vmaxpu"] if r["vmaxpu"] is not None else _LOAD_LIMITS[1], model, i, "load", zipv)
    for i, r in enumerate(table_rows(net, "generators")):
        if not r["status"]:
            continue
        s = -complex(r["p_mw"] or 0.0, r["q_mvar"] or 0.0) * 1e6
        vn = (r.get("vn_kv") or _bus_kv(net, r["bus"]))
        _add_element(rows, node, r["bus"], r["conn"], "wye", vn, s, *_DER_LIMITS, 1, i, "generator")
    for i, r in enumerate(table_rows(net, "pv_systems")):
        if not r["status"]:
            continue
        p = (r["pmpp_mw"] or 0.0) * (r["irradiance"] if r["irradiance"] is not None else 1.0) * pv_scale
        kva = (r["kva"] or 0.0) / 1e3
        pf = r["pf"] if r["pf"] else 1.0
        q = p * math.sqrt(max(1.0 / (pf * pf) - 1.0, 0.0)) * math.copysign(1.0, pf)
        if kva > 0 and abs(complex(p, q)) > kva:
            scale = kva / abs(complex(p, q))
            p, q = p * scale, q * scale
        _add_element(rows, node, r["bus"], r["conn"], "wye", r["vn_kv"] or _DEFAULT_KV, -complex(p, q) * 1e6,
                     *_DER_LIMITS, 1, i, "pv")
    return rows.flat(), approx[:5], len(approx)


def _bus_kv(net: Network, bus: str) -> float:
    buses = net.table("buses")
    names = buses.column("bus").to_pylist()
    kv = buses.column("vn_kv").to_pylist()
    try:
        return kv[names.index(bus)] or _DEFAULT_KV
    except ValueError:
        return _DEFAULT_KV


# ---------------------------------------------------------------- assembly

def _assemble(flat: _Flat) -> LoadBranches:
    vb, s, model = flat.vb, flat.s, flat.model
    with np.errstate(divide="ignore", invalid="ignore"):
        yeq = np.where(vb > 0, np.conj(s) / (vb * vb), 0.0)
    vmin, vmax = flat.vmin, flat.vmax
    a, b, owner, kind = flat.a, flat.b, flat.owner, flat.kind
    normal, outer = _normal_coefficients(model, yeq, vb)
    # ZIP loads: one branch per part (Z, I, P), real and imaginary parts scaled separately
    ex = np.flatnonzero(model == 8)
    if len(ex):
        zp = flat.zip
        parts_y = [yeq[ex].real * zp[:, j] + 1j * yeq[ex].imag * zp[:, j + 3] for j in range(3)]
        new_y = np.concatenate(parts_y)
        new_outer = np.repeat([_OUT_Z, _OUT_I, _OUT_P], len(ex))
        new_normal = np.zeros((3 * len(ex), 3), dtype=complex)
        vbx = np.tile(vb[ex], 3)
        new_normal[: len(ex), 0] = parts_y[0]
        new_normal[len(ex): 2 * len(ex), 1] = parts_y[1] * vb[ex]
        new_normal[2 * len(ex):, 2] = parts_y[2] * vb[ex] ** 2
        keep = np.ones(len(model), dtype=bool)
        keep[ex] = False
        idx = np.r_[np.flatnonzero(keep), np.tile(ex, 3)]
        yeq = np.r_[yeq[keep], new_y]
        normal = np.r_[normal[keep], new_normal]
        outer = np.r_[outer[keep], new_outer]
        vb = np.r_[vb[keep], vbx]
        a, b, vmin, vmax, owner, kind = a[idx], b[idx], vmin[idx], vmax[idx], owner[idx], kind[idx]
    coef, edges = _region_coefficients(yeq, vb, vmin, vmax, normal, outer)
    return LoadBranches(a, b, yeq, coef, edges, vb, owner, kind)

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
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gatlang.diagnostics import Diagnostic, Span, warning
from gatlang.engines import pf3_result as codes
from gatlang.engines.pf3_cache import rows as table_rows
from gatlang.engines.pf3_load_kernels import NORMAL_TERMS as _NORMAL_TERMS
from gatlang.engines.pf3_load_kernels import OUT_I as _OUT_I
from gatlang.engines.pf3_load_kernels import OUT_P as _OUT_P
from gatlang.engines.pf3_load_kernels import OUT_Z as _OUT_Z
from gatlang.engines.pf3_load_kernels import OUTER as _OUTER
from gatlang.engines.pf3_load_kernels import SQRT3, VLOW_PU, conductors_to_number, load_branches, wye_strings
from gatlang.network.model import Network
from gatlang.network.ybus3 import _flatten, _numbers


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

    # What the numpy evaluation (`admittance`, `currents`, ...) reads, made on its first use: the
    # solvers' kernels read ``coef`` and ``edges`` themselves, and the branches are rebuilt several
    # times per solve (per unit, scaled), each time for nothing if made eagerly.

    @cached_property
    def _flat(self) -> np.ndarray:
        """``coef`` as (n*4, 3): with `_row`, one gather picks every branch's region coefficients."""
        return self.coef.reshape(-1, 3)

    @cached_property
    def _row(self) -> np.ndarray:
        return np.arange(self.n) * 4

    @cached_property
    def _edges(self) -> list[np.ndarray]:
        """The three edge columns, contiguous (faster compares)."""
        return [np.ascontiguousarray(self.edges[:, j]) for j in range(3)]

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

#: the in-range terms of `_NORMAL_TERMS`, from (yeq, vb)
_TERMS = {1: lambda y, vb: y, 2: lambda y, vb: 1j * y.imag, 3: lambda y, vb: y * vb,
          4: lambda y, vb: y.real * vb, 5: lambda y, vb: y * vb ** 2, 6: lambda y, vb: y.real * vb ** 2}


def _region_coefficients(yeq: np.ndarray, vb: np.ndarray, vmin: np.ndarray, vmax: np.ndarray,
                         normal: np.ndarray, outer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(coef (n,4,3), edges (n,3)) from the nominal admittance and the in-range coefficients.

    ``normal`` (n,3) are (c0, c1, c2) between vmin and vmax; ``outer`` says how
    the engine extends the model outside that range (P-like, I-like or Z).  A
    Z-like branch is ``yeq`` in every region (its ``normal`` is (yeq, 0, 0)).
    Written with few array calls, and none for an outer kind no branch has:
    on a small feeder their fixed cost is the cost.
    """
    n = len(yeq)
    coef = np.zeros((n, 4, 3), dtype=complex)
    edges = np.empty((n, 3))
    vlow, v95 = np.multiply(VLOW_PU, vb, out=edges[:, 0]), np.multiply(vmin, vb, out=edges[:, 1])
    np.multiply(vmax, vb, out=edges[:, 2])
    kinds = np.bincount(outer, minlength=3)
    z = outer == _OUT_Z if kinds[_OUT_Z] else None
    i = outer == _OUT_I if kinds[_OUT_I] else None
    # between vlow and vmin: I(m) = yeq vlow + k (m - vlow), k from the current at vmin
    yv, yl = yeq * vb, yeq * vlow
    i95 = np.divide(yv, vmin, out=np.zeros(n, dtype=complex), where=vmin > 0)
    if i is not None:
        i95 = np.where(i, yv, i95)
    k = np.divide(i95 - yl, v95 - vlow, out=np.zeros(n, dtype=complex), where=v95 > vlow)
    lin = yl - k * vlow
    upper = np.divide(yeq, vmax * vmax if i is None else np.where(i, vmax, vmax * vmax), out=yeq.copy(),
                      where=vmax > 0)
    if z is not None:
        k, lin, upper = np.where(z, yeq, k), np.where(z, 0.0, lin), np.where(z, yeq, upper)
    coef[:, 0, 0] = yeq
    coef[:, 1, 0] = k
    coef[:, 1, 1] = lin
    coef[:, 2] = normal
    coef[:, 3, 0] = upper
    return coef, edges


def _normal_coefficients(m: np.ndarray, present: np.ndarray, yeq: np.ndarray,
                         vb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """In-range (c0, c1, c2) and outer kind for the engine's load models 1-7 (8 is split elsewhere).

    ``m`` is the model number of each branch (0..8, 0 and 8 without terms),
    ``present`` the numbers that occur.  Only the terms (`_TERMS`) of those
    models are computed, for every branch, and each coefficient picks its own
    (`_NORMAL_TERMS`): a few whole-array calls instead of a masked assignment
    per model.
    """
    n = len(m)
    if len(present) == 1:                       # one model (a large feeder's usual case): no picking
        c = np.zeros((n, 3), dtype=complex)
        for j, term in enumerate(_NORMAL_TERMS[present[0]]):
            if term:
                c[:, j] = _TERMS[term](yeq, vb)
        return c, np.full(n, _OUTER[present[0]])
    terms = np.zeros((7, n), dtype=complex)
    for term in set(_NORMAL_TERMS[present].ravel().tolist()):
        if term:
            terms[term] = _TERMS[term](yeq, vb)
    return terms[_NORMAL_TERMS[m], np.arange(n)[:, None]], _OUTER[m]


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
        branches, notes, count = _bulk_branches(net, node.lookup, load_scale, pv_scale)
    else:
        flat, notes, count = _row_branches(net, node, load_scale, pv_scale)
        branches = _assemble(flat)
    diags: list[Diagnostic] = []
    if count:
        diags.append(warning(codes.LOAD_MODEL_APPROX, f"{count} load(s) use a model solved with an "
                             f"approximation: {', '.join(notes)}" + (" ..." if count > 5 else ""),
                             span, help="use load models 1, 2, 3, 4, 5 or 8 for an exact match with OpenDSS"))
    return branches, diags


def _approx_note(load: str, code: int, model: int) -> str:
    """The warning's words for one approximated load (``code`` as in `_NOTES`)."""
    return f"{load} ({_NOTES[code].format(model=model)})"


# ---------------------------------------------------------------- column-wise (bulk) building
#
# Why the calls are counted: IEEE 123 has 91 loads, so every numpy or arrow call costs its
# fixed overhead (a microsecond or more, several for arrow) and hardly anything per element.
# Hence the tables are read column by column into per-element arrays, and everything after
# (the branches of each element, their ends, admittances and region coefficients) is one
# compiled loop (`pf3_load_kernels.load_branches`).

#: the ``connection`` values that read as wye (the row code's ``connection or "wye"``)
_WYE = pc.SetLookupOptions(pa.array(["wye", "", None]), skip_nulls=False)
#: ``kind`` of the branches of each element class, by `_Elements.kind`
_KIND_NAMES = np.array(["load", "generator", "pv"], dtype=object)
_LOAD, _GENERATOR, _PV = 0, 1, 2
#: the engine model numbers a load can give (`_load_models` counts any other as this one)
_ANY_MODEL = 9


@dataclass
class _Elements:
    """The in-service elements of one table (or of several: `concat`), one entry per element.

    Element ``e`` is row ``at[e]`` of the conductor lists (``nodes`` split at
    ``offsets``, every row of the table(s)) and of ``names`` (the bus of every
    row); ``rows`` is its row in its own table (its branches' owner) and
    ``kind`` its table (`_KIND_NAMES`); ``p``/``q`` are its total consumption
    (W, var); ``zip`` its six ZIP coefficients, or None when no element is a
    ZIP load.
    """

    kind: np.ndarray
    rows: np.ndarray
    at: np.ndarray
    names: list[str]
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

    @classmethod
    def concat(cls, parts: list["_Elements"]) -> "_Elements":
        """The elements of ``parts``, one table after the other (rows and conductors renumbered)."""
        if len(parts) == 1:
            return parts[0]
        row_base = np.cumsum([0] + [len(p.offsets) - 1 for p in parts])
        node_base = np.cumsum([0] + [len(p.nodes) for p in parts])
        offsets = [p.offsets[:-1] + base for p, base in zip(parts, node_base)] + [node_base[-1:]]
        zipv = None
        if any(p.zip is not None for p in parts):
            zipv = np.concatenate([p.zip if p.zip is not None else np.zeros((len(p.rows), 6)) for p in parts])
        joined = {f: np.concatenate([getattr(p, f) for p in parts])
                  for f in ("kind", "rows", "nodes", "wye", "kv", "p", "q", "vmin", "vmax", "model")}
        return cls(**joined, at=np.concatenate([p.at + base for p, base in zip(parts, row_base)]),
                   names=[name for p in parts for name in p.names], offsets=np.concatenate(offsets), zip=zipv)


def _bulk_branches(net: Network, lookup, load_scale: float,
                   pv_scale: float) -> tuple[LoadBranches, list[str], int]:
    """(branches, first five approximation notes, number of notes), every table read column-wise
    and every conductor numbered by one ``lookup``."""
    notes: list[str] = []
    count = 0
    parts: list[_Elements] = []
    for kind, name in enumerate(("loads", "generators", "pv_systems")):
        t = net.tables.get(name)              # absent: nothing to read (`Network.table` would build one)
        rows = _in_service(t) if t is not None and t.num_rows else None
        if rows is None or not len(rows):
            continue
        if kind == _LOAD:
            el, notes, count = _load_elements(t, rows, load_scale)
        elif kind == _GENERATOR:
            el = _generator_elements(net, t, rows)
        else:
            el = _pv_elements(t, rows, pv_scale)
        parts.append(el)
    if not parts:
        return _assemble(_empty_flat()), notes, count
    return _branches(_Elements.concat(parts), lookup), notes, count


def _branches(el: _Elements, lookup) -> LoadBranches:
    """The load branches of ``el`` (`pf3_load_kernels.load_branches`), their ends numbered by
    one ``lookup`` of just the conductors that end a branch and are not ground."""
    place, row, conductor = conductors_to_number(el.offsets, el.at, el.wye, el.nodes)
    names = el.names
    number = lookup(list(map(names.__getitem__, row.tolist())), conductor).astype(np.int64, copy=False)
    zipv = el.zip if el.zip is not None else _NO_ZIP
    a, b, yeq, coef, edges, vbase, owner, kind = load_branches(
        el.offsets, el.at, el.wye, place, number, el.kv, el.p, el.q, el.vmin, el.vmax, el.model, zipv,
        el.rows, el.kind)
    return LoadBranches(a, b, yeq, coef, edges, vbase, owner, _KIND_NAMES[kind])


#: the ZIP coefficients the kernel is given when no element is a ZIP load (it reads none)
_NO_ZIP = np.zeros((0, 6))


def _empty_flat() -> _Flat:
    """No branches (the dtypes the row code gives)."""
    i, f = np.zeros(0, dtype=int), np.zeros(0)
    return _Flat(i, i, np.zeros(0, dtype=complex), f, f, f, i, i, np.zeros(0, dtype=object), np.zeros((0, 6)))


def _column(t: pa.Table, name: str) -> pa.ChunkedArray | None:
    """Column ``name``; None if the table has no such column."""
    try:
        return t.column(name)
    except KeyError:
        return None


def _array(col: pa.ChunkedArray) -> pa.Array:
    """A column as one array (nearly always its only chunk: no copy)."""
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _values(t: pa.Table, name: str, rows: np.ndarray, fill) -> np.ndarray | None:
    """Column ``name`` at ``rows`` as numpy (a copy), nulls read as ``fill``; None if the table
    has no such column."""
    col = _column(t, name)
    if col is None:
        return None
    return (pc.fill_null(col, fill) if col.null_count else col).to_numpy()[rows]


def _floats(t: pa.Table, name: str, rows: np.ndarray, fill: float, falsy: bool = False) -> np.ndarray:
    """Column ``name`` at ``rows`` as floats, nulls (and zeros too when ``falsy``: the row code's
    ``x or fill``) read as ``fill``; a missing column reads as ``fill`` throughout."""
    x = _values(t, name, rows, fill)
    if x is None:
        return np.full(len(rows), fill, dtype=float)
    if falsy and fill == 0:
        return x + 0.0                   # -0.0 reads as 0.0, as ``-0.0 or 0.0`` does; all else stays
    if falsy:
        x[x == 0] = fill
    return x


def _in_service(t: pa.Table) -> np.ndarray:
    """Rows whose status is true (a null status is out of service, as in the row code)."""
    on = _values(t, "status", slice(None), False)
    return np.arange(t.num_rows) if on is None else on.nonzero()[0]


def _elements(t: pa.Table, kind: int, rows: np.ndarray, wye: np.ndarray, kv: np.ndarray, p: np.ndarray,
              q: np.ndarray, model: np.ndarray | None = None) -> _Elements:
    """`_Elements` of ``rows``: a load's voltage limits are its own (``vminpu``/``vmaxpu``,
    0.95/1.05 if null), a generator's or PV system's the engine's 0.90/1.10; the model is
    constant power unless given."""
    if kind == _LOAD:
        vmin, vmax = _floats(t, "vminpu", rows, _LOAD_LIMITS[0]), _floats(t, "vmaxpu", rows, _LOAD_LIMITS[1])
    else:
        vmin, vmax = np.full(len(rows), _DER_LIMITS[0]), np.full(len(rows), _DER_LIMITS[1])
    conn = _column(t, "conn")
    if conn is None:
        nodes, offsets = np.zeros(0, dtype=np.int64), np.zeros(t.num_rows + 1, dtype=np.int64)
    else:
        values, offsets = _flatten(conn)      # a null list is empty
        nodes = _numbers(values).astype(np.int64, copy=False)
    model = np.full(len(rows), 1) if model is None else model.astype(np.int64, copy=False)
    return _Elements(np.full(len(rows), kind), rows, rows, _array(_column(t, "bus")).to_pylist(), nodes, offsets,
                     wye, kv, p, q, vmin, vmax, model)


def _load_elements(t: pa.Table, rows: np.ndarray, load_scale: float) -> tuple[_Elements, list[str], int]:
    """The in-service loads, with the first five approximation notes and their number."""
    model, zipv, note = _load_models(t, rows)
    wye = _wye(_column(t, "connection"), rows)
    p, q = _floats(t, "p_mw", rows, 0.0, falsy=True) * 1e6, _floats(t, "q_mvar", rows, 0.0, falsy=True) * 1e6
    if load_scale != 1.0:                 # (times 1.0 changes nothing, not even a zero's sign)
        p, q = p * load_scale, q * load_scale
    el = _elements(t, _LOAD, rows, wye, _floats(t, "vn_kv", rows, _DEFAULT_KV, falsy=True), p, q, model)
    el.zip = zipv
    if note is None:
        return el, [], 0
    flagged = note.nonzero()[0]
    names = t.column("load").take(rows[flagged[:5]]).to_pylist()
    return el, [_approx_note(n, int(note[k]), int(model[k])) for n, k in zip(names, flagged[:5])], len(flagged)


def _wye(col: pa.ChunkedArray | None, rows: np.ndarray) -> np.ndarray:
    """Whether the loads at ``rows`` are wye: their ``connection`` is "wye", "" or null.

    A plain string column is read from its Arrow buffers by a compiled loop
    (`pf3_load_kernels.wye_strings`): ``pc.is_in`` costs 10-25 us, most of it
    building its hash set again on every call.
    """
    if col is None:
        return np.full(len(rows), True)
    arr = _array(col)
    if not pa.types.is_string(arr.type):
        return pc.is_in(arr, options=_WYE).to_numpy(zero_copy_only=False)[rows]
    valid, offsets, data = arr.buffers()
    return wye_strings(_view(valid, np.uint8), _view(offsets, np.int32), _view(data, np.uint8), arr.offset, rows)


def _view(buf: pa.Buffer | None, dtype: type) -> np.ndarray:
    """An Arrow buffer as a numpy array (None: empty), read-only whatever the buffer is (so that the
    kernel is compiled for one signature)."""
    x = np.frombuffer(buf, dtype) if buf is not None else np.zeros(0, dtype)
    x.flags.writeable = False
    return x


def _load_models(t: pa.Table, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(engine model number, ZIP coefficients (n, 6), `_NOTES` code) of the loads at ``rows``;
    the coefficients are None without a ZIP load, the codes None without an approximated load.

    ``dss_model`` when set (non-zero), else the number of the ``model`` name;
    a ZIP load with fewer than six coefficients is solved as constant power.
    """
    model = _values(t, "dss_model", rows, 0)
    if model is None:
        model = np.zeros(len(rows), dtype=np.int64)
    used = np.bincount(np.minimum(np.maximum(model, 0), _ANY_MODEL), minlength=_ANY_MODEL + 1)
    if used[0]:                                 # unset: the number of the model's name
        names = _column(t, "model")
        code = np.full(len(rows), len(_MODEL_NUMBERS))
        if names is not None:
            code = _numbers(pc.index_in(_array(names), value_set=pa.array(list(_MODEL_NUMBERS))),
                            len(_MODEL_NUMBERS)).astype(np.int64)[rows]
        model = np.where(model == 0, np.array([*_MODEL_NUMBERS.values(), 1])[code], model)
        used = np.bincount(np.minimum(np.maximum(model, 0), _ANY_MODEL), minlength=_ANY_MODEL + 1)
    fixed_q = (model == 6) | (model == 7) if used[6] or used[7] else None
    if not used[8]:
        return model, None, None if fixed_q is None else np.where(fixed_q, 3, 0)
    arr = _column(t, "zipv")
    values, offsets = (_flatten(arr) if arr is not None
                       else (pa.array([], pa.float64()), np.zeros(t.num_rows + 1, dtype=np.int64)))
    values = np.append(_numbers(values, np.nan).astype(float), np.nan)     # the pad: index -1 reads nan
    first = offsets[rows].astype(np.int64)
    size = offsets[rows + 1] - first
    zip8 = model == 8
    short = zip8 & (size < 6)
    cut = zip8 & (size > 6) & (values[np.where(size > 6, first + 6, -1)] > 0)
    zipv = np.zeros((len(rows), 6))
    full = zip8 & ~short
    zipv[full] = values[first[full, None] + np.arange(6)]
    note = np.where(short, 1, np.where(cut, 2, 0 if fixed_q is None else np.where(fixed_q, 3, 0)))
    return np.where(short, 1, model), zipv, note if note.any() else None


def _generator_elements(net: Network, t: pa.Table, rows: np.ndarray) -> _Elements:
    """The in-service generators: constant power, at their bus's kV unless they give one."""
    kv = _floats(t, "vn_kv", rows, 0.0, falsy=True)
    unset = (kv == 0).nonzero()[0]
    if len(unset):
        kv[unset] = _bus_kvs(net, _array(t.column("bus")).take(pa.array(rows[unset])))
    p = -_floats(t, "p_mw", rows, 0.0, falsy=True) * 1e6
    q = -_floats(t, "q_mvar", rows, 0.0, falsy=True) * 1e6
    return _elements(t, _GENERATOR, rows, np.full(len(rows), True), kv, p, q)


def _pv_elements(t: pa.Table, rows: np.ndarray, pv_scale: float) -> _Elements:
    """The in-service PV systems: ``pmpp * irradiance`` at ``pf``, capped at ``kva``."""
    p = _floats(t, "pmpp_mw", rows, 0.0, falsy=True) * _floats(t, "irradiance", rows, 1.0) * pv_scale
    kva = _floats(t, "kva", rows, 0.0, falsy=True) / 1e3
    pf = _floats(t, "pf", rows, 1.0, falsy=True)
    q = p * np.sqrt(np.maximum(1.0 / (pf * pf) - 1.0, 0.0)) * np.copysign(1.0, pf)
    size = np.hypot(p, q)
    cap = ((kva > 0) & (size > kva)).nonzero()[0]
    if len(cap):
        scale = kva[cap] / size[cap]
        p[cap], q[cap] = p[cap] * scale, q[cap] * scale
    return _elements(t, _PV, rows, np.full(len(rows), True),
                     _floats(t, "vn_kv", rows, _DEFAULT_KV, falsy=True), -p * 1e6, -q * 1e6)


def _bus_kvs(net: Network, buses: pa.Array) -> np.ndarray:
    """Nominal kV of each of ``buses`` from the buses table (the first row of that name),
    `_DEFAULT_KV` for an unknown bus or one without a kV."""
    table = net.tables.get("buses")
    if table is None or not table.num_rows:
        return np.full(len(buses), _DEFAULT_KV)
    at = _numbers(pc.index_in(buses, value_set=_array(table.column("bus"))), -1).astype(np.int64)
    kv = np.append(_values(table, "vn_kv", slice(None), 0.0).astype(float), 0.0)[at]    # -1: the pad
    kv[kv == 0] = _DEFAULT_KV
    return kv


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
    """The load branches of ``flat``: a ZIP load's branch is split into its Z, I and P parts,
    which come after every other branch."""
    vb, model = flat.vb, flat.model
    yeq = np.divide(np.conj(flat.s), vb * vb, out=np.zeros(len(vb), dtype=complex), where=vb > 0)
    vmin, vmax = flat.vmin, flat.vmax
    a, b, owner, kind = flat.a, flat.b, flat.owner, flat.kind
    m = np.minimum(np.maximum(model, 0), 8)                 # 8: ZIP, or no model the engine has
    present = np.bincount(m, minlength=9).nonzero()[0]
    normal, outer = _normal_coefficients(m, present, yeq, vb)
    # ZIP loads: one branch per part (Z, I, P), real and imaginary parts scaled separately
    ex = (model == 8).nonzero()[0] if len(present) and present[-1] == 8 else ()
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

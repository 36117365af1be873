"""Arrow schemas of the canonical network model (see docs/network-model.md).

Why one module of schemas: every importer (MATPOWER, PSS/E, OpenDSS, Parquet)
writes these tables and every consumer (per-unit lowering, the compiler's
entity tables, run outputs) reads them, so the column names, types and units
are fixed here, once.  The schemas are data, not classes, so that a table can
be validated, written to Parquet and read back without any code per table.

Conventions (the doc has the full text):

* units are in column names (``_kv``, ``_mw``, ``_mvar``, ``_ohm``, ``_s``,
  ``_pu``, ``_deg``, ``_pct`` ...); impedances are physical, except where a
  column name says ``_pu``/``_pct``;
* per-phase matrices are row-major ``list<float64>`` of length ``n*n``, totals
  for the element;
* phases/terminals are ``list<int8>`` (1, 2, 3 = a, b, c; 4 = neutral; 0 = ground);
* a field with ``nullable=False`` is *required*: a table without it is a
  schema violation; any other missing column is filled with its default
  (``DEFAULTS``) or with nulls.
"""
from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

F64 = pa.float64()
I64 = pa.int64()
I8 = pa.int8()
STR = pa.string()
BOOL = pa.bool_()
PHASES = pa.list_(I8)            # phases / terminal connections
MATRIX = pa.list_(F64)           # row-major n*n matrix, or a per-winding vector
STRS = pa.list_(STR)             # per-winding strings (bus ids, connections)
CONNS = pa.list_(pa.list_(I8))   # per-winding terminal lists

# Allowed values of the enumerated string columns (checked by Network.validate).
BUS_KINDS = ("pq", "pv", "ref", "isolated")
CONNECTIONS = ("wye", "delta")
LOAD_MODELS = ("constant_power", "constant_impedance", "constant_current", "zip", "other")


def _f(name: str, type_: pa.DataType, required: bool = False, default: Any = None,
       doc: str = "") -> pa.Field:
    """A field; ``doc`` and ``default`` travel in the field metadata (and so into Parquet)."""
    md = {"doc": doc}
    if default is not None:
        md["default"] = json.dumps(default)
    return pa.field(name, type_, nullable=not required, metadata=md)


def _provenance() -> list[pa.Field]:
    """Where each element came from, so that later diagnostics can point into the input."""
    return [_f("source_file", STR, doc="input file the element was read from"),
            _f("source_line", I64, doc="1-based line in source_file")]


def _status() -> pa.Field:
    return _f("status", BOOL, default=True, doc="in service")


_TABLES: dict[str, list[pa.Field]] = {
    "buses": [
        _f("bus", STR, True, doc="bus id (MATPOWER/PSS/E bus numbers as decimal text)"),
        _f("name", STR, doc="display name (MATPOWER bus_name, PSS/E name)"),
        _f("vn_kv", F64, doc="nominal line-to-line voltage, kV; 0/null = unknown (per unit data, "
                             "converted with a 1 kV base)"),
        _f("phases", PHASES, doc="phases present at the bus"),
        _f("kind", STR, default="pq", doc="pq | pv | ref | isolated"),
        _f("vmin_pu", F64), _f("vmax_pu", F64),
        _f("vm_pu", F64, doc="voltage magnitude (initial value / solved value from the file)"),
        _f("va_deg", F64, doc="voltage angle"),
        _f("x", F64, doc="coordinate (longitude or x)"), _f("y", F64),
        _f("area", I64), _f("zone", I64),
        *_provenance(),
    ],
    "lines": [
        _f("line", STR, True),
        _f("from_bus", STR, True), _f("to_bus", STR, True),
        _f("f_conn", PHASES), _f("t_conn", PHASES),
        _f("length_km", F64),
        _f("r_ohm", MATRIX, doc="series resistance matrix, total"),
        _f("x_ohm", MATRIX, doc="series reactance matrix, total"),
        _f("g_from_s", MATRIX, doc="shunt conductance at the from end"),
        _f("b_from_s", MATRIX, doc="shunt susceptance at the from end (half of MATPOWER's b)"),
        _f("g_to_s", MATRIX), _f("b_to_s", MATRIX),
        _f("normamps_a", F64), _f("emergamps_a", F64),
        _f("rate_a_mva", F64, doc="null = unlimited (MATPOWER rateA 0)"),
        _f("rate_b_mva", F64), _f("rate_c_mva", F64),
        _f("angmin_deg", F64), _f("angmax_deg", F64),
        _status(),
        _f("switch", BOOL, default=False, doc="a switch (zero-impedance, open when status false)"),
        _f("linecode", STR),
        *_provenance(),
    ],
    "transformers": [
        _f("transformer", STR, True),
        _f("phases", I64, doc="number of phases"),
        _f("windings", I64, default=2),
        _f("buses", STRS, True, doc="bus per winding"),
        _f("conns", CONNS, doc="terminals per winding"),
        _f("connections", STRS, doc="wye | delta per winding"),
        _f("kv", MATRIX, doc="winding rated kV (line-to-line for 3-phase)"),
        _f("kva", MATRIX, doc="winding rated kVA; impedances in % are on the winding-1 kVA"),
        _f("taps_pu", MATRIX, doc="tap per winding, pu of the winding's kv"),
        _f("r_pct", MATRIX, doc="winding resistance, % (total series R = sum over windings 1, 2)"),
        _f("xhl_pct", F64), _f("xht_pct", F64), _f("xlt_pct", F64),
        _f("noloadloss_pct", F64), _f("imag_pct", F64),
        _f("ppm_antifloat", F64, doc="OpenDSS anti-floating shunt to ground, ppm of the winding "
                                     "base admittance (null = 0)"),
        _f("b_charging_pu", F64, doc="MATPOWER branch charging b of a transformer branch, total, pu "
                                     "on kva/kv of winding 1 (split half to each end); null = 0"),
        _f("shift_deg", F64, doc="phase shift, winding 1 leads winding 2"),
        _f("tap_min_pu", F64), _f("tap_max_pu", F64), _f("num_taps", I64),
        _f("rate_a_mva", F64, doc="null = unlimited"), _f("rate_b_mva", F64), _f("rate_c_mva", F64),
        _f("angmin_deg", F64), _f("angmax_deg", F64),
        _status(),
        *_provenance(),
    ],
    "loads": [
        _f("load", STR, True), _f("bus", STR, True),
        _f("conn", PHASES), _f("phases", PHASES),
        _f("connection", STR, default="wye"),
        _f("model", STR, default="constant_power"),
        _f("dss_model", I64, doc="OpenDSS load model number"),
        _f("p_mw", F64, True), _f("q_mvar", F64, default=0.0),
        _f("vn_kv", F64), _f("zipv", MATRIX), _f("vminpu", F64), _f("vmaxpu", F64),
        _status(),
        *_provenance(),
    ],
    "generators": [
        _f("gen", STR, True), _f("bus", STR, True),
        _f("conn", PHASES), _f("phases", PHASES),
        _f("p_mw", F64, default=0.0), _f("q_mvar", F64, default=0.0),
        _f("pmin_mw", F64), _f("pmax_mw", F64), _f("qmin_mvar", F64), _f("qmax_mvar", F64),
        _f("vg_pu", F64, default=1.0), _f("mbase_mva", F64),
        _status(),
        _f("cost_model", I64, doc="1 piecewise linear, 2 polynomial; null = no cost"),
        _f("cost_startup", F64), _f("cost_shutdown", F64),
        _f("cost_coeffs", MATRIX, doc="polynomial: highest power first ($/h, P in MW); "
                                      "pwl: x1, y1, x2, y2, ... (MW, $/h)"),
        *_provenance(),
    ],
    "sources": [
        _f("source", STR, True), _f("bus", STR, True),
        _f("conn", PHASES), _f("phases", PHASES),
        _f("vn_kv", F64), _f("pu", F64, default=1.0), _f("angle_deg", F64, default=0.0),
        _f("r1_ohm", F64), _f("x1_ohm", F64), _f("r0_ohm", F64), _f("x0_ohm", F64),
        *_provenance(),
    ],
    "pv_systems": [
        _f("pv", STR, True), _f("bus", STR, True),
        _f("conn", PHASES), _f("phases", PHASES),
        _f("vn_kv", F64), _f("kva", F64), _f("pmpp_mw", F64), _f("irradiance", F64),
        _f("pf", F64), _status(),
        *_provenance(),
    ],
    "storage": [
        _f("storage", STR, True), _f("bus", STR, True),
        _f("conn", PHASES), _f("phases", PHASES),
        _f("vn_kv", F64), _f("p_rated_mw", F64), _f("energy_mwh", F64), _f("soc_pct", F64),
        _f("eff_charge_pct", F64), _f("eff_discharge_pct", F64), _status(),
        *_provenance(),
    ],
    "shunts": [
        _f("shunt", STR, True), _f("bus", STR, True),
        _f("conn", PHASES), _f("phases", PHASES),
        _f("connection", STR, default="wye"),
        _f("vn_kv", F64),
        _f("g_mw", F64, default=0.0, doc="consumed at nominal voltage (1 pu)"),
        _f("b_mvar", F64, default=0.0, doc="injected at nominal voltage; positive = capacitive"),
        _status(),
        *_provenance(),
    ],
    "regulators": [
        _f("regulator", STR, True), _f("transformer", STR, True), _f("winding", I64),
        _f("vreg_v", F64), _f("band_v", F64), _f("ptratio", F64), _f("ctprim_a", F64),
        _f("r_v", F64), _f("x_v", F64), _f("delay_s", F64), _f("tap_pu", F64),
        _f("enabled", BOOL, default=True),
        *_provenance(),
    ],
    "cap_controls": [
        _f("cap_control", STR, True), _f("capacitor", STR, True),
        _f("type", STR), _f("element", STR), _f("terminal", I64),
        _f("on_setting", F64), _f("off_setting", F64), _f("ptratio", F64), _f("ctratio", F64),
        _f("delay_s", F64),
        *_provenance(),
    ],
    "dclines": [
        _f("dcline", STR, True), _f("from_bus", STR, True), _f("to_bus", STR, True),
        _f("pf_mw", F64), _f("pt_mw", F64), _f("qf_mvar", F64), _f("qt_mvar", F64),
        _f("vf_pu", F64), _f("vt_pu", F64), _f("pmin_mw", F64), _f("pmax_mw", F64),
        _f("loss0_mw", F64), _f("loss1", F64),
        _status(),
        *_provenance(),
    ],
    "dist_nodes": [
        _f("node_id", STR, True), _f("phase", I8, True), _f("type", STR),
        _f("v_min", F64), _f("v_max", F64), _f("load_p", F64), _f("load_q", F64),
        _f("feeder_id", STR),
    ],
    "dist_branches": [
        _f("branch_id", STR, True), _f("from_node", STR, True), _f("to_node", STR, True),
        _f("r", F64), _f("x", F64), _f("b", F64), _f("tap", F64), _f("status", BOOL, default=True),
        _f("thermal_limit", F64),
    ],
}

#: table name -> its schema
SCHEMAS: dict[str, pa.Schema] = {name: pa.schema(fields) for name, fields in _TABLES.items()}

#: table name -> the column holding the element id (unique within the table)
KEYS: dict[str, str] = {name: fields[0].name for name, fields in _TABLES.items()}

#: table name -> {column: default}, for columns with a default
DEFAULTS: dict[str, dict[str, Any]] = {
    name: {f.name: json.loads(f.metadata[b"default"]) for f in fields
           if f.metadata and b"default" in f.metadata}
    for name, fields in _TABLES.items()
}

#: table name -> names of the columns that must be present
REQUIRED: dict[str, tuple[str, ...]] = {
    name: tuple(f.name for f in fields if not f.nullable) for name, fields in _TABLES.items()
}

#: columns whose values must come from a closed set
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("buses", "kind"): BUS_KINDS,
    ("loads", "connection"): CONNECTIONS,
    ("shunts", "connection"): CONNECTIONS,
    ("loads", "model"): LOAD_MODELS,
}


def schema(table: str) -> pa.Schema:
    """The schema of `table`; KeyError names the known tables."""
    try:
        return SCHEMAS[table]
    except KeyError:
        raise KeyError(f"unknown network table {table!r}; known: {', '.join(SCHEMAS)}") from None


def empty_table(table: str) -> pa.Table:
    """A zero-row table with the full schema (so consumers never test for absence)."""
    return schema(table).empty_table()

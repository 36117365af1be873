"""The JSON Schema of ``run.json`` and a small validator for it.

Why in code: the same schema serves three purposes -- it is printed in
docs/run-json.md (a test keeps the two identical), it decides whether a previous
run.json can be trusted for caching (anything that does not match is treated as
corrupt and set aside), and other tools can read it to parse run.json.  The
validator covers exactly the JSON Schema keywords used below (type, enum,
required, properties, additionalProperties, items, minimum), so no extra
dependency is needed.
"""
from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 1

_DIAGNOSTIC = {
    "type": "object",
    "required": ["code", "severity", "message"],
    "properties": {
        "code": {"type": "string"},
        "severity": {"enum": ["error", "warning", "note"]},
        "message": {"type": "string"},
        "file": {"type": "string"},
        "line": {"type": "integer", "minimum": 1},
        "column": {"type": "integer", "minimum": 1},
        "help": {"type": "string"},
        "notes": {"type": "array", "items": {"type": "string"}},
    },
}

_OUTPUT = {
    "type": "object",
    "required": ["name", "path", "sha256", "bytes", "rows", "columns", "units"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "path": {"type": "string"},
        "sha256": {"type": "string"},
        "bytes": {"type": "integer", "minimum": 0},
        "rows": {"type": "integer", "minimum": 0},
        "columns": {"type": "array", "items": {"type": "string"}},
        "units": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}

_STEP = {
    "type": "object",
    "required": ["run", "scenario", "key", "status", "cached", "reason", "recorded",
                 "parts", "part_hashes", "outputs", "objective", "solver", "timings",
                 "diagnostics", "summary"],
    "properties": {
        "run": {"type": "string"},
        "scenario": {"type": ["string", "null"]},
        "key": {"type": "string"},
        "status": {"enum": ["succeeded", "failed"]},
        "cached": {"type": "boolean"},
        "reason": {"type": "string"},
        "recorded": {"type": "string"},
        "parts": {"type": "object"},
        "part_hashes": {"type": "object", "additionalProperties": {"type": "string"}},
        "outputs": {"type": "array", "items": _OUTPUT},
        "objective": {"type": ["number", "null"]},
        "solver": {"type": ["object", "null"]},
        "timings": {"type": "object", "additionalProperties": {"type": ["number", "null"]}},
        "diagnostics": {"type": "array", "items": _DIAGNOSTIC},
        "summary": {},
    },
}

RUN_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "gatlang run.json",
    "type": "object",
    "required": ["schema", "gatlang", "python", "platform", "study", "created", "finished",
                 "status", "force", "root", "inputs", "passes", "steps", "warnings", "errors",
                 "notes"],
    "properties": {
        "schema": {"type": "integer", "enum": [SCHEMA_VERSION]},
        "gatlang": {"type": "string"},
        "python": {"type": "string"},
        "platform": {"type": "string"},
        "study": {
            "type": "object",
            "required": ["name", "file", "sha256"],
            "properties": {
                "name": {"type": "string"},
                "file": {"type": "string"},
                "sha256": {"type": ["string", "null"]},
            },
        },
        "created": {"type": "string"},
        "finished": {"type": ["string", "null"]},
        "status": {"enum": ["running", "succeeded", "failed"]},
        "force": {"type": "boolean"},
        "root": {"type": "string"},
        "inputs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "role", "sha256", "bytes"],
                "additionalProperties": False,
                "properties": {
                    "path": {"type": "string"},
                    "role": {"type": "string"},
                    "sha256": {"type": "string"},
                    "bytes": {"type": "integer", "minimum": 0},
                    "via": {"type": "string"},
                },
            },
        },
        "passes": {"type": "object", "additionalProperties": {"type": "number"}},
        "steps": {"type": "array", "items": _STEP},
        "warnings": {"type": "array", "items": _DIAGNOSTIC},
        "errors": {"type": "array", "items": _DIAGNOSTIC},
        "notes": {"type": "array", "items": _DIAGNOSTIC},
    },
}

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def schema_errors(value: Any, schema: dict[str, Any] = RUN_JSON_SCHEMA, where: str = "$") -> list[str]:
    """Every place where ``value`` breaks ``schema``, as ``'$.steps[0].key: ...'`` strings."""
    errs: list[str] = []
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_TYPES[k](value) for k in kinds):
            return [f"{where}: expected {' or '.join(kinds)}, found {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errs.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if "minimum" in schema and _TYPES["number"](value) and value < schema["minimum"]:
        errs.append(f"{where}: {value} is below the minimum {schema['minimum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        errs += [f"{where}: missing key {k!r}" for k in schema.get("required", []) if k not in value]
        extra = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                errs += schema_errors(v, props[k], f"{where}.{k}")
            elif extra is False:
                errs.append(f"{where}: unexpected key {k!r}")
            elif isinstance(extra, dict):
                errs += schema_errors(v, extra, f"{where}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            errs += schema_errors(v, schema["items"], f"{where}[{i}]")
    return errs

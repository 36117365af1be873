"""Canonical network data model, per-unit lowering and importers.

Public API (see docs/network-model.md):

* ``Network``, ``build_table``, ``SchemaError`` (gatlang.network.model);
* ``SCHEMAS`` (gatlang.network.schema): the Arrow schema of every table;
* ``IMPORTERS``, ``import_network(kind, path, options, sink, span)``, ``guess_kind(path)``
  (gatlang.network.importers);
* ``load_matpower(path, sink)``, ``load_psse(path, sink)``, ``load_tables(dir, sink)``,
  ``write_tables(net, dir)``;
* ``BalancedCase`` and ``from_network(net, sink)`` (gatlang.network.balanced).

Submodules are imported on first use (module ``__getattr__``), so that
``import gatlang.network`` stays cheap for the language server.
"""
from __future__ import annotations

import importlib
from typing import Any

from gatlang.network.model import Network, SchemaError, build_table

_LAZY = {
    "SCHEMAS": "gatlang.network.schema",
    "IMPORTERS": "gatlang.network.importers", "import_network": "gatlang.network.importers",
    "guess_kind": "gatlang.network.importers",
    "load_matpower": "gatlang.network.matpower", "load_psse": "gatlang.network.psse",
    "load_tables": "gatlang.network.tables", "write_tables": "gatlang.network.tables",
    "BalancedCase": "gatlang.network.balanced", "from_network": "gatlang.network.balanced",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gatlang.network' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = ["Network", "SchemaError", "build_table", *_LAZY]

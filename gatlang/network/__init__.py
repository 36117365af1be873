"""Canonical network data model, per-unit lowering and importers.

Public API (see docs/network-model.md):

* ``gatlang.network.model.Network`` and ``build_table`` / ``SchemaError``;
* ``gatlang.network.schema.SCHEMAS`` (Arrow schema per table);
* ``gatlang.network.importers.import_network(kind, path, options, sink, span)``;
* ``load_matpower(path, sink)``, ``load_psse(path, sink)``, ``read_tables(dir, sink)``,
  ``write_tables(net, dir)``;
* ``gatlang.network.balanced.from_network(net) -> BalancedCase``.

Submodules are imported on demand, so that importing the package stays cheap.
"""
from gatlang.network.model import Network, SchemaError, build_table

__all__ = ["Network", "SchemaError", "build_table"]

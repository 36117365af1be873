"""Point Pyomo at the project's own configuration directory (where PyNumero lives).

Why: Ipopt is reached through Pyomo's PyNumero bridge, whose compiled library
(``libpynumero_ASL.so``) the bootstrap builds into ``<venv>/pyomo/lib`` so the
install stays inside the virtual environment.  Pyomo reads
``PYOMO_CONFIG_DIR`` once, when it is first imported, and otherwise looks in
``~/.pyomo``.  This module must therefore run before the first ``import
pyomo``; if Pyomo was already imported by someone else we still correct the
value Pyomo's library search reads at call time.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

PYNUMERO_LIB = "libpynumero_ASL.so"


def project_pyomo_dir() -> Path | None:
    """The venv-local Pyomo config directory, if the bootstrap created one."""
    candidates = [Path(sys.prefix) / "pyomo", Path(__file__).resolve().parents[2] / ".venv" / "pyomo"]
    for cand in candidates:
        if cand.is_dir():
            return cand
    return None


def ensure_pyomo_config_dir() -> str | None:
    """Make sure Pyomo will search the venv-local config directory; return the one in use.

    An explicit ``PYOMO_CONFIG_DIR`` set by the user is respected.
    """
    own = project_pyomo_dir()
    if "PYOMO_CONFIG_DIR" not in os.environ and own is not None:
        os.environ["PYOMO_CONFIG_DIR"] = str(own)
    if "pyomo.common.envvar" in sys.modules:
        envvar = sys.modules["pyomo.common.envvar"]
        current = Path(str(envvar.PYOMO_CONFIG_DIR))
        if own is not None and not (current / "lib" / PYNUMERO_LIB).exists() \
                and (own / "lib" / PYNUMERO_LIB).exists():
            envvar.PYOMO_CONFIG_DIR = str(own)
        return str(envvar.PYOMO_CONFIG_DIR)
    return os.environ.get("PYOMO_CONFIG_DIR")


ensure_pyomo_config_dir()

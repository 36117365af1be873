"""Model scale: how quantities with units become plain numbers inside a model, and back.

Why per unit inside models: solvers behave far better when powers are O(1),
and the formulations of the literature are written per unit.  Units are
checked at compile time and then erased; this module is the single place that
decides the numbers.  A quantity of unit U is first converted to gatlang's
canonical units (MW, Mvar, MVA, kV, kA, h, $, rad), then divided by
``base_mva ** k`` where k is U's *power exponent*: the exponent of active,
reactive or apparent power in U (MW: 1, $/MWh: -1, $/h/MW^2: -2, MVA^2: 2).
Per-unit and dimensionless quantities pass unchanged.  Voltages and currents
in physical units have no single base in a network (each bus has its own), so
they cannot appear inside a model: :func:`power_exponent` returns None and the
caller reports it.
"""
from __future__ import annotations

import numpy as np

from gatlang.semantics import units as U


def power_exponent(unit: U.Unit | None) -> int | None:
    """Exponent of power in `unit`, or None when it holds a voltage or current not forming a power."""
    if unit is None:
        return 0
    d = unit.dims
    volt, amp = d["voltage"], d["current"]
    if volt != amp:
        return None
    return d["active"] + d["reactive"] + volt


def to_model_scale(values: np.ndarray | float, unit: U.Unit | None, base_mva: float) -> np.ndarray | float:
    """Canonical-unit values of `unit` (e.g. MW for a power) -> model-scale numbers."""
    k = power_exponent(unit)
    if k is None:
        return values  # voltages (kV) are kept as they are; they never enter a model (see checker)
    return values / base_mva ** k if k else values


def literal_to_model(value: float, unit: U.Unit, base_mva: float) -> float | None:
    """A literal such as ``5 MW`` or ``30 $/MWh`` in model scale; None if it cannot be (kV, A)."""
    k = power_exponent(unit)
    if k is None:
        return None
    return U.to_canonical(value, unit) / base_mva ** k


def from_model_scale(values: np.ndarray, unit: U.Unit | None, base_mva: float) -> np.ndarray:
    """Model-scale numbers -> values in `unit` (the inverse of the two functions above)."""
    if unit is None:
        return values
    k = power_exponent(unit) or 0
    return np.asarray(U.from_canonical(np.asarray(values) * base_mva ** k, unit))

"""Pausing Python's cyclic garbage collector around allocation-heavy work that makes no cycles.

Why: the collector runs whenever enough objects have been allocated, and each
full collection walks the whole heap -- the networks, models and results of
earlier steps included.  Building a Pyomo model (millions of objects) or
setting up an unbalanced power flow (table rows, primitives, small arrays)
allocates a lot and creates no garbage cycles, so a collection there finds
nothing and only costs: 93 s of a 213 s 24-period study on a 10k-bus feeder
(benchmarks/opf_large.py), and a third of a cold IEEE 123 power flow on
average (benchmarks/pf_unbalanced.py).  Reference counting still frees memory.
"""
from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused(pause: bool = True) -> Iterator[None]:
    """Disable the cyclic collector inside the block (if it was enabled), and restore it after."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()

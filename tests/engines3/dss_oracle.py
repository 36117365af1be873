"""The OpenDSS engine (opendssdirect.py) as the oracle of the unbalanced power flow tests.

Why a helper: every test needs the same things from the engine -- node
voltages of a snapshot solve (with the convergence tolerance tightened so the
reference is exact to far below the 1e-4 pu the tests ask for), the taps its
regulator controls settle on, per-element terminal powers and total losses --
and must leave the process as it found it (the engine would otherwise change
the working directory on ``compile``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import opendssdirect as dss
import pyarrow as pa

from gatlang.diagnostics import DiagnosticSink
from gatlang.network.model import Network
from gatlang.network.opendss.importer import load_opendss

DATA3 = Path(__file__).resolve().parents[1] / "data" / "opendss3"
FEEDERS = {"ieee13": DATA3 / "13Bus" / "IEEE13Nodeckt.dss",
           "ieee34": DATA3 / "34Bus" / "ieee34Mod1.dss",
           "ieee123": DATA3 / "123Bus" / "IEEE123Master.dss"}


@dataclass
class EngineSolution:
    nodes: list[str]                 # "bus.k", lower case
    v: np.ndarray                    # complex volts
    vbase: np.ndarray                # volts (line-to-neutral base of the node's bus)
    taps: dict[str, list[float]]     # transformer -> taps per winding
    tap_positions: dict[str, int]    # regcontrol -> tap number
    losses_kva: complex
    load_nodes: dict[str, list[int]]  # load -> NodeOrder (the engine's conductors)
    powers: dict[tuple[str, str, int, int], complex]   # (kind, element, terminal, node) -> kVA
    cap_states: dict[str, list[int]] = field(default_factory=dict)   # capacitor -> step states (1 = on)


def solve_engine(path: Path, *, commands: tuple[str, ...] = (), tight: bool = True,
                 control: bool = True) -> EngineSolution:
    """Compile ``path`` in the engine, apply ``commands``, solve, and read the solution.

    The engine's directory switching is turned off while it compiles here and
    restored afterwards: the engine is one global per process, and other tests
    in the same worker (files with relative includes, e.g. IEEE 9500's UUID
    file) need its default behaviour.
    """
    previous = dss.Basic.AllowChangeDir()
    dss.Basic.AllowChangeDir(False)
    try:
        return _solve_engine(path, commands, tight, control)
    finally:
        dss.Basic.AllowChangeDir(previous)


def _solve_engine(path: Path, commands: tuple[str, ...], tight: bool, control: bool) -> EngineSolution:
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    for c in commands:
        dss.Text.Command(c)
    if tight:
        dss.Text.Command("set tolerance=1e-11")
        dss.Text.Command("set maxiterations=500")
    if not control:
        dss.Text.Command("set controlmode=off")
    dss.Solution.Solve()
    assert dss.Solution.Converged(), "the oracle did not converge"
    nodes = [n.lower() for n in dss.Circuit.AllNodeNames()]
    raw = np.asarray(dss.Circuit.AllBusVolts())
    v = raw[0::2] + 1j * raw[1::2]
    vbase = np.empty(len(nodes))
    for i, name in enumerate(nodes):
        dss.Circuit.SetActiveBus(name.split(".")[0])
        vbase[i] = dss.Bus.kVBase() * 1e3
    taps: dict[str, list[float]] = {}
    for name in dss.Transformers.AllNames():
        dss.Transformers.Name(name)
        t = []
        for w in range(1, dss.Transformers.NumWindings() + 1):
            dss.Transformers.Wdg(w)
            t.append(dss.Transformers.Tap())
        taps[name] = t
    positions = {}
    if dss.RegControls.Count():
        dss.RegControls.First()
        while True:
            positions[dss.RegControls.Name()] = int(dss.RegControls.TapNumber())
            if dss.RegControls.Next() <= 0:
                break
    load_nodes = {}
    if dss.Loads.Count():
        dss.Loads.First()
        while True:
            load_nodes[dss.Loads.Name()] = list(dss.CktElement.NodeOrder())
            if dss.Loads.Next() <= 0:
                break
    powers = {}
    for kind, api in (("line", dss.Lines), ("transformer", dss.Transformers)):
        if not api.Count():
            continue
        api.First()
        while True:
            name = dss.CktElement.Name().split(".", 1)[1].lower()
            p = np.asarray(dss.CktElement.Powers())
            order = list(dss.CktElement.NodeOrder())
            nc = dss.CktElement.NumConductors()
            for k, node in enumerate(order):
                powers[(kind, name, k // nc + 1, node)] = complex(p[2 * k], p[2 * k + 1])
            if api.Next() <= 0:
                break
    cap_states = {}
    if dss.Capacitors.Count():
        dss.Capacitors.First()
        while True:
            cap_states[dss.Capacitors.Name()] = list(dss.Capacitors.States())
            if dss.Capacitors.Next() <= 0:
                break
    loss = dss.Circuit.Losses()
    return EngineSolution(nodes, v, vbase, taps, positions, complex(loss[0], loss[1]) / 1e3, load_nodes, powers,
                          cap_states)


def set_column(net: Network, table: str, column: str, values: list) -> None:
    """Replace one column of a network table in place (test set-up only)."""
    t = net.tables[table]
    i = t.schema.get_field_index(column)
    net.tables[table] = t.set_column(i, t.schema.field(column), pa.array(values, type=t.schema.field(column).type))


def import_feeder(path: Path, engine: EngineSolution | None = None) -> Network:
    """Import with gatlang; with ``engine``, patch the load conductors the importer gets wrong.

    Work-around for an importer bug (see test_importer_one_node_delta_load): a
    one-phase delta load given one node (``bus1=832.1``) is connected by the
    engine between that node and ground, by the importer to node 2.
    """
    sink = DiagnosticSink()
    net = load_opendss(path, sink)
    assert net is not None, [d.message for d in sink.errors]
    if engine is not None and "loads" in net.tables:
        loads = net.tables["loads"]
        conns = [engine.load_nodes.get(n, c) for n, c in zip(loads.column("load").to_pylist(),
                                                             loads.column("conn").to_pylist())]
        set_column(net, "loads", "conn", conns)
    return net


def at_engine_taps(path: Path, commands: tuple[str, ...] = ()) -> tuple[EngineSolution, Network]:
    """(the engine's solution of ``path`` after ``commands``, the imported feeder at the engine's taps)."""
    engine = solve_engine(path, commands=commands)
    net = import_feeder(path, engine)
    fix_taps(net, engine.taps)
    return engine, net


def fix_taps(net: Network, taps: dict[str, list[float]]) -> None:
    """Give every transformer the engine's taps (for the comparison at fixed taps)."""
    if "transformers" not in net.tables:
        return
    xf = net.tables["transformers"]
    set_column(net, "transformers", "taps_pu",
               [taps.get(n, t) for n, t in zip(xf.column("transformer").to_pylist(),
                                                xf.column("taps_pu").to_pylist())])


def compare(result, engine: EngineSolution) -> tuple[float, float, str, str]:
    """(max |dV| pu, max |d angle| deg, worst node by magnitude, worst by angle) over the engine's nodes."""
    index = result.node_index
    missing = [n for n in engine.nodes if n not in index]
    assert not missing, f"nodes the engine has and gatlang does not: {missing[:5]}"
    ours = np.asarray([result.v[index[n]] for n in engine.nodes])
    dm = np.abs(np.abs(ours) - np.abs(engine.v)) / engine.vbase
    live = np.abs(engine.v) > 1e-3 * engine.vbase
    da = np.where(live, np.abs(np.degrees(np.angle(ours / np.where(live, engine.v, 1.0)))), 0.0)
    return float(dm.max()), float(da.max()), engine.nodes[int(dm.argmax())], engine.nodes[int(da.argmax())]

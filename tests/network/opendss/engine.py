"""The OpenDSS engine (opendssdirect.py) as the outside oracle for the importer tests.

Why a helper: every oracle test compiles a feeder in the engine and reads
counts, totals or matrices back; the engine is a process-wide singleton, so
each helper starts with ``clear``.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import opendssdirect as dss
import scipy.sparse as sp

IEEE = Path(__file__).resolve().parents[2] / "data" / "opendss" / "ieee"
FEEDERS = {"ieee13": IEEE / "13Bus" / "IEEE13Nodeckt.dss", "ieee34": IEEE / "34Bus" / "ieee34Mod1.dss",
           "ieee123": IEEE / "123Bus" / "IEEE123Master.dss", "ieee37": IEEE / "37Bus" / "ieee37.dss"}
_SOLVE = re.compile(r"^\s*(solve|calcv\w*)\b.*$", re.IGNORECASE | re.MULTILINE)


def fresh() -> None:
    """A cleared engine as in a new process: its default base frequency is global and survives Clear."""
    dss.Text.Command("clear")
    dss.Text.Command("set defaultbasefrequency=60")
    dss.Text.Command("clear")


def compile_dss(path: Path) -> None:
    fresh()
    dss.Text.Command(f'compile "{path}"')
    dss.Text.Command("makebuslist")


def _each(first, nxt, read) -> list:
    out = []
    ok = first()
    while ok:
        out.append(read())
        ok = nxt()
    return out


def totals(path: Path) -> dict[str, float]:
    """What the engine reports for the circuit a script builds."""
    compile_dss(path)

    def winding_kva() -> float:
        total = 0.0
        for w in range(1, dss.Transformers.NumWindings() + 1):
            dss.Transformers.Wdg(w)
            total += dss.Transformers.kVA()
        return total

    loads = _each(dss.Loads.First, dss.Loads.Next, lambda: (dss.Loads.kW(), dss.Loads.kvar()))
    return {
        "buses": len(dss.Circuit.AllBusNames()),
        "nodes": len(dss.Circuit.AllNodeNames()),
        "lines": dss.Lines.Count(),
        "loads": dss.Loads.Count(),
        "kw": sum(p for p, _ in loads),
        "kvar": sum(q for _, q in loads),
        "transformers": dss.Transformers.Count(),
        "transformer_kva": sum(_each(dss.Transformers.First, dss.Transformers.Next, winding_kva)),
        "capacitors": dss.Capacitors.Count(),
        "regcontrols": dss.RegControls.Count(),
        "generators": dss.Generators.Count(),
        "pv": dss.PVsystems.Count(),
        "storage": dss.Storages.Count(),
        "gen_kw": sum(_each(dss.Generators.First, dss.Generators.Next, dss.Generators.kW)),
        "switches": sum(_each(dss.Lines.First, dss.Lines.Next, lambda: bool(dss.Lines.IsSwitch()))),
    }


def copy_without_solve(feeder: Path, tmp: Path) -> Path:
    """A copy of the feeder's folder tree with ``Solve``/``CalcV`` lines removed.

    Why: a ``Solve`` in the script lets the regulator controls move the taps,
    so the engine's matrix would describe the solved state, not the data the
    file states.  The edit is textual and independent of gatlang's parser.
    """
    root = IEEE if IEEE in feeder.parents else feeder.parent
    shutil.copytree(root, tmp / "feeder")
    for f in (tmp / "feeder").rglob("*"):
        if f.suffix.lower() == ".dss":
            f.write_text(_SOLVE.sub("", f.read_text(errors="replace")))
    return tmp / "feeder" / feeder.relative_to(root)


def system_y(path: Path) -> tuple[sp.csc_matrix, list[str]]:
    """The engine's system Y (siemens) of the network part: loads, generators, PV, storage disabled."""
    fresh()
    dss.Text.Command(f'compile "{path}"')
    for cls in ("load", "generator", "pvsystem", "storage"):
        dss.Text.Command(f"batchedit {cls}..* enabled=no")
    dss.Text.Command("set controlmode=off")
    dss.Solution.Solve()
    data, indices, indptr = dss.YMatrix.getYsparse()
    n = len(indptr) - 1
    y = sp.csc_matrix((np.asarray(data, dtype=complex), indices, indptr), shape=(n, n))
    return y, [s.lower() for s in dss.Circuit.YNodeOrder()]


def yprim(element: str) -> np.ndarray:
    """Primitive Y of one element of the circuit compiled last (after a solve)."""
    dss.Circuit.SetActiveElement(element)
    y = np.asarray(dss.CktElement.YPrim())
    n = int(round(np.sqrt(len(y) / 2)))
    return (y[0::2] + 1j * y[1::2]).reshape(n, n)


def assert_y_matches(path: Path, rtol: float = 1e-6) -> None:
    """gatlang's ybus3 of the imported script equals the engine's system Y, entry by entry."""
    from gatlang.diagnostics import DiagnosticSink
    from gatlang.network.opendss.importer import load_opendss
    from gatlang.network.ybus3 import build_ybus3

    sink = DiagnosticSink()
    net = load_opendss(path, sink)
    assert net is not None, [d.render() for d in sink.errors]
    y, nodes = build_ybus3(net)
    e, enodes = system_y(path)
    pos = {k: i for i, k in enumerate(nodes)}
    extra = [pos[k] for k in set(nodes) - set(enodes)]
    # nodes the engine leaves out are those only disabled elements touch: empty rows here
    assert abs(y[extra]).sum() == 0, path
    assert set(enodes) <= set(nodes), path
    perm = np.asarray([pos[k] for k in enodes])
    ours = y[perm][:, perm]
    excess = abs(ours - e) - rtol * abs(e)          # elementwise |ours - engine| - rtol |engine|
    assert excess.max() <= 1e-12 * abs(e).max(), path

"""Bad OpenDSS input -> coded diagnostics at the file, line and column of the ``.dss`` input.

Each case is a small script, the code expected and where (line, column); the
importer must report it with a help hint and never raise.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from gatlang.diagnostics import DiagnosticSink, Severity, Span, code_page
from gatlang.network.opendss import codes
from gatlang.network.opendss.importer import load_opendss

HEAD = "clear\nnew circuit.c basekv=12.47\n"        # lines 1-2 of every case

CASES = [  # (id, body from line 3, code, line, column, severity)
    ("unknown-class", "new lien.l1 bus1=sourcebus bus2=b\n", codes.UNKNOWN_CLASS, 3, 5, "error"),
    ("unknown-property", "new line.l1 bus1=sourcebus bus2=b lenght=3\n", codes.UNKNOWN_PROPERTY, 3, 35,
     "error"),
    ("missing-redirect", "redirect nowhere.dss\n", codes.FILE_NOT_FOUND, 3, 10, "error"),
    ("bad-number", "new line.l1 bus1=sourcebus bus2=b length=2OO\n", codes.BAD_NUMBER, 3, 42, "error"),
    ("empty-height", "new wiredata.w rac=0.3 runits=mi gmrac=0.02 gmrunits=ft radius=0.03 radunits=ft\n"
     "new linegeometry.g nconds=1 nphases=1\n~ cond=1 wire=w x=0 h=\n"
     "new line.l1 bus1=sourcebus.1 bus2=b.1 phases=1 geometry=g\n", codes.BAD_NUMBER, 5, 23, "error"),
    ("bad-matrix", "new linecode.c nphases=3 rmatrix=(0.3 | 0.1 0.4)\n", codes.BAD_MATRIX, 3, 34, "error"),
    ("repeated-node", "new line.l1 bus1=sourcebus.1.1 bus2=b.1.2 phases=2\n", codes.INCONSISTENT_PHASES, 3,
     1, "error"),
    ("extra-nodes", "new line.l1 bus1=sourcebus bus2=b\nnew load.x bus1=b.1.2.3 phases=1\n",
     codes.INCONSISTENT_PHASES, 4, 17, "warning"),
    ("island", "new line.l1 bus1=sourcebus bus2=b\nnew line.l2 bus1=z1 bus2=z2\n",
     codes.DISCONNECTED_ISLAND, 4, 1, "warning"),
    ("unknown-command", "nwe line.l1 bus1=sourcebus bus2=b\n", codes.UNKNOWN_COMMAND, 3, 1, "error"),
    ("truncated-bracket", "new line.l1 bus1=sourcebus bus2=b\n~ rmatrix=(0.3 | 0.1", codes.UNTERMINATED_QUOTE,
     4, 3, "error"),
    ("not-modelled", "new line.l1 bus1=sourcebus bus2=b\nnew monitor.m element=line.l1\n",
     codes.NOT_MODELLED, 4, 5, "warning"),
    ("property-ignored", "new capacitor.c bus1=sourcebus cmatrix=[10 | 0 10 | 0 0 10]\n", codes.PROPERTY_IGNORED,
     3, 40,
     "warning"),
    ("unknown-linecode", "new line.l1 bus1=sourcebus bus2=b linecode=zz\n", codes.UNKNOWN_OBJECT, 3, 44,
     "error"),
    ("continue-nothing", "", codes.NO_ACTIVE_OBJECT, 1, 1, "error"),
    ("duplicate", "new line.l1 bus1=sourcebus bus2=b\nnew line.l1 bus1=sourcebus bus2=b\n",
     codes.DUPLICATE_OBJECT, 4, 5, "warning"),
    ("bad-bus", "new line.l1 bus1=sourcebus bus2=b.x\n", codes.BAD_BUS, 3, 33, "error"),
    ("bad-unit", "new line.l1 bus1=sourcebus bus2=b units=furlong\n", codes.UNKNOWN_UNIT, 3, 41, "error"),
    ("bad-rpn", "new line.l1 bus1=sourcebus bus2=b\nnew load.x bus1=b kw=(1 0 /)\n", codes.BAD_RPN, 4, 22,
     "error"),
    ("command-ignored", "new line.l1 bus1=sourcebus bus2=b\nrotate angle=10\n", codes.COMMAND_IGNORED,
     4, 1, "warning"),
    ("bad-pattern", "new line.l1 bus1=sourcebus bus2=b\nbatchedit line.l[1 r1=1\n", codes.BAD_PATTERN, 4, 11,
     "error"),
    ("bad-value", "new line.l1 bus1=sourcebus bus2=b\nnew load.x bus1=b model=12\n", codes.BAD_VALUE, 4, 25,
     "error"),
    ("bad-winding", "new transformer.t windings=2 buses=[sourcebus b]\n~ wdg=3 kv=1\n", codes.BAD_WINDING, 4,
     7, "error"),
    ("cable", "new line.l1 bus1=sourcebus bus2=b tscables=[c1 c1 c1]\n", codes.GEOMETRY_NOT_COMPUTED, 3, 5,
     "warning"),
    ("tape-shield-incomplete", "new tsdata.t1 rac=0.3 runits=km diam=12 radunits=mm epsr=2.3 inslayer=5 "
     "diains=25 diacable=30\nnew linespacing.s nconds=1 nphases=1 units=m x=[0] h=[-1]\n"
     "new line.l1 bus1=sourcebus.1 bus2=b.1 phases=1 spacing=s tscables=[t1]\n", codes.GEOMETRY_NOT_COMPUTED,
     5, 5, "warning"),
    ("unknown-geometry", "new line.l1 bus1=sourcebus bus2=b geometry=g1\n", codes.UNKNOWN_OBJECT, 3, 44,
     "error"),
    ("array-length", "new transformer.t windings=2 buses=[sourcebus b] kvs=[12.47 4.16 0.48]\n",
     codes.BAD_ARRAY_LENGTH, 3, 54, "error"),
    ("singular", "new line.l1 bus1=sourcebus bus2=b r1=0 x1=0 r0=0 x0=0\n", codes.SINGULAR_IMPEDANCE, 3, 5,
     "error"),
]


def _run(tmp: Path, text: str) -> tuple[object, DiagnosticSink, Path]:
    f = tmp / "case.dss"
    f.write_text(text)
    sink = DiagnosticSink()
    return load_opendss(f, sink), sink, f


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_located(case, tmp_path: Path) -> None:
    name, body, code, line, col, severity = case
    text = "~ kv=1\n" + HEAD + body if name == "continue-nothing" else HEAD + body
    net, sink, f = _run(tmp_path, text)
    hits = [d for d in sink if d.code == code]
    assert hits, [d.render() for d in sink]
    d = hits[0]
    assert (d.span.file, d.span.line, d.span.column) == (str(f), line, col), d.render()
    assert d.severity is Severity(severity) and d.help
    assert code_page(code) is not None
    if severity == "error":
        assert net is None
    else:
        assert net is not None and d in net.diagnostics       # kept for run.json


def test_did_you_mean_hints(tmp_path: Path) -> None:
    _, sink, _ = _run(tmp_path, HEAD + "new line.l1 bus1=sourcebus bus2=b lenght=3\nnew lod.x bus1=b\n")
    helps = {d.code: d.help for d in sink}
    assert "`Length`" in helps[codes.UNKNOWN_PROPERTY]
    assert "`load`" in helps[codes.UNKNOWN_CLASS]


def test_missing_input_points_at_the_gat_file(tmp_path: Path) -> None:
    where = Span("study.gat", 3, 19, 3, 40)
    sink = DiagnosticSink()
    assert load_opendss(tmp_path / "absent.dss", sink, span=where) is None
    assert [d.code for d in sink] == [codes.FILE_NOT_FOUND] and sink.items[0].span == where


def test_no_circuit(tmp_path: Path) -> None:
    net, sink, _ = _run(tmp_path, "new line.l1 bus1=a bus2=b\n")
    assert net is None and codes.NO_CIRCUIT in {d.code for d in sink}


def test_bad_coordinates_file(tmp_path: Path) -> None:
    (tmp_path / "xy.csv").write_text("sourcebus, 1, 2\nb, 3\n")
    _, sink, _ = _run(tmp_path, HEAD + "new line.l1 bus1=sourcebus bus2=b\nbuscoords xy.csv\n")
    d = next(d for d in sink if d.code == codes.BAD_COORDS)
    assert d.span.file.endswith("xy.csv") and d.span.line == 2


def test_every_code_has_an_explain_page() -> None:
    for code in codes.ALL.values():
        page = code_page(code)
        assert page is not None and page.name.startswith("opendss-"), code
        assert "## Example" in page.text and "## How to fix" in page.text


def test_open_command_takes_the_switch_out_of_service(tmp_path: Path) -> None:
    net, sink, _ = _run(tmp_path, HEAD + "new line.l1 bus1=sourcebus bus2=b switch=y\n"
                        "new line.l2 bus1=sourcebus bus2=b\nopen line.l1 1\n")
    assert net is not None, [d.render() for d in sink.errors]
    lines = net.table("lines")
    status = dict(zip(lines.column("line").to_pylist(), lines.column("status").to_pylist()))
    assert status == {"l1": False, "l2": True}


def test_island_buses_are_kept_isolated(tmp_path: Path) -> None:
    net, sink, _ = _run(tmp_path, HEAD + "new line.l1 bus1=sourcebus bus2=b\nnew line.l2 bus1=z1 bus2=z2\n")
    buses = net.table("buses")
    kinds = dict(zip(buses.column("bus").to_pylist(), buses.column("kind").to_pylist()))
    assert kinds["z1"] == kinds["z2"] == "isolated" and kinds["b"] == "pq"


def test_session_commands_as_engine(tmp_path: Path) -> None:
    """Select + ``~``, Disable/Enable, SetBusXY, a Redirect whose case differs (Windows scripts)."""
    (tmp_path / "Loads.DSS").write_text("new load.l1 bus1=b kw=10\nnew load.l2 bus1=b kw=20\n")
    net, sink, _ = _run(tmp_path, HEAD + "new line.l1 bus1=sourcebus bus2=b\nredirect loads.dss\n"
                        "select load.l1\n~ kw=15\ndisable load.l2\nsetbusxy bus=b x=3 y=4\n"
                        "set casename='unterminated\n")
    assert net is not None, [d.render() for d in sink.errors]
    loads = {r["load"]: r for r in net.table("loads").to_pylist()}
    assert loads["l1"]["p_mw"] == pytest.approx(0.015) and loads["l2"]["status"] is False
    buses = {r["bus"]: r for r in net.table("buses").to_pylist()}
    assert (buses["b"]["x"], buses["b"]["y"]) == (3.0, 4.0)
    # an unclosed quote outside object data (here in `Set`) is only a warning, as the engine accepts it
    assert [d.severity for d in sink if d.code == codes.UNTERMINATED_QUOTE] == [Severity.WARNING]

"""PSS/E v33 ``.raw`` reader -> canonical `Network`.

Why a reader of our own: a raw file is positional (sections in a fixed order,
each ended by a ``0`` record; fields by position with defaults for omitted
trailing fields), and every mistake in one (a short record, a stray letter in a
number, a file cut in the middle of a section) must come back as a coded
diagnostic at file:line:column, not as a wrong network.

Imported: buses, loads, fixed shunts, switched shunts (as fixed shunts at their
initial value BINIT, as PowerModels does), generators, branches, two- and
three-winding transformers.  The later sections (DC lines, FACTS, ...) are
counted and reported as not imported (GAT0526), never dropped silently.

Units kept (docs/network-model.md): branch R, X, B are per unit on the system
base and the from-bus base voltage, stored in ohm/siemens; transformer data are
converted (CW/CZ/CM codes) to the canonical winding kV, taps and % impedances
so that the balanced lowering reproduces PowerModels' branch model.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from gatlang.diagnostics import Diagnostic, DiagnosticSink, Severity, Span
from gatlang.network.model import Network, SchemaError

# ------------------------------------------------------------------ diagnostic codes
SYNTAX = "GAT0522"        # malformed record (unterminated string, too few fields)
BAD_NUMBER = "GAT0523"
VERSION = "GAT0524"
TRUNCATED = "GAT0525"
NOT_IMPORTED = "GAT0526"  # 3-winding transformers, later sections, unexpected trailing data
UNKNOWN_BUS = "GAT0527"
BAD_VALUE = "GAT0528"     # codes out of range, duplicate buses, zero impedance

MAX_ERRORS = 20

#: v33 sections after the bus data, in file order
SECTIONS = ("bus", "load", "fixed shunt", "generator", "branch", "transformer", "area",
            "two-terminal dc", "vsc dc", "impedance correction", "multi-terminal dc",
            "multi-section line", "zone", "inter-area transfer", "owner", "facts",
            "switched shunt", "gne", "induction machine")
IMPORTED = {"bus", "load", "fixed shunt", "generator", "branch", "transformer", "switched shunt"}
#: sections that carry no network elements (bookkeeping): skipped without a warning
BOOKKEEPING = {"area", "zone", "owner", "inter-area transfer"}

S, I, F = "s", "i", "f"
# (name, kind, default); None = required.  Defaults from the PSS/E v33 manual.
BUS = (("I", I, None), ("NAME", S, ""), ("BASKV", F, 0.0), ("IDE", I, 1), ("AREA", I, 1),
       ("ZONE", I, 1), ("OWNER", I, 1), ("VM", F, 1.0), ("VA", F, 0.0), ("NVHI", F, 1.1),
       ("NVLO", F, 0.9))
LOAD = (("I", I, None), ("ID", S, "1"), ("STATUS", I, 1), ("AREA", I, 1), ("ZONE", I, 1),
        ("PL", F, 0.0), ("QL", F, 0.0), ("IP", F, 0.0), ("IQ", F, 0.0), ("YP", F, 0.0), ("YQ", F, 0.0))
FSHUNT = (("I", I, None), ("ID", S, "1"), ("STATUS", I, 1), ("GL", F, 0.0), ("BL", F, 0.0))
GEN = (("I", I, None), ("ID", S, "1"), ("PG", F, 0.0), ("QG", F, 0.0), ("QT", F, 9999.0),
       ("QB", F, -9999.0), ("VS", F, 1.0), ("IREG", I, 0), ("MBASE", F, 0.0), ("ZR", F, 0.0),
       ("ZX", F, 1.0), ("RT", F, 0.0), ("XT", F, 0.0), ("GTAP", F, 1.0), ("STAT", I, 1),
       ("RMPCT", F, 100.0), ("PT", F, 9999.0), ("PB", F, -9999.0))
BRANCH = (("I", I, None), ("J", I, None), ("CKT", S, "1"), ("R", F, 0.0), ("X", F, None),
          ("B", F, 0.0), ("RATEA", F, 0.0), ("RATEB", F, 0.0), ("RATEC", F, 0.0), ("GI", F, 0.0),
          ("BI", F, 0.0), ("GJ", F, 0.0), ("BJ", F, 0.0), ("ST", I, 1))
XF1 = (("I", I, None), ("J", I, None), ("K", I, 0), ("CKT", S, "1"), ("CW", I, 1), ("CZ", I, 1),
       ("CM", I, 1), ("MAG1", F, 0.0), ("MAG2", F, 0.0), ("NMETR", I, 2), ("NAME", S, ""),
       ("STAT", I, 1))
XF2 = (("R1-2", F, 0.0), ("X1-2", F, None), ("SBASE1-2", F, 0.0))
XF3 = (("WINDV1", F, 1.0), ("NOMV1", F, 0.0), ("ANG1", F, 0.0), ("RATA1", F, 0.0),
       ("RATB1", F, 0.0), ("RATC1", F, 0.0), ("COD1", I, 0), ("CONT1", I, 0), ("RMA1", F, 1.1),
       ("RMI1", F, 0.9), ("VMA1", F, 1.1), ("VMI1", F, 0.9), ("NTP1", I, 33))
XF4 = (("WINDV2", F, 1.0), ("NOMV2", F, 0.0))
XF2_3W = (("R1-2", F, 0.0), ("X1-2", F, None), ("SBASE1-2", F, 0.0), ("R2-3", F, 0.0), ("X2-3", F, None),
          ("SBASE2-3", F, 0.0), ("R3-1", F, 0.0), ("X3-1", F, None), ("SBASE3-1", F, 0.0),
          ("VMSTAR", F, 1.0), ("ANSTAR", F, 0.0))


def _winding(w: int) -> tuple:
    """Fields of the line of winding `w` (2 and 3) of a three-winding transformer."""
    return ((f"WINDV{w}", F, 1.0), (f"NOMV{w}", F, 0.0), (f"ANG{w}", F, 0.0), (f"RATA{w}", F, 0.0),
            (f"RATB{w}", F, 0.0), (f"RATC{w}", F, 0.0))
SWSHUNT = (("I", I, None), ("MODSW", I, 1), ("ADJM", I, 0), ("STAT", I, 1), ("VSWHI", F, 1.0),
           ("VSWLO", F, 1.0), ("SWREM", I, 0), ("RMPCT", F, 100.0), ("RMIDNT", S, ""),
           ("BINIT", F, 0.0))

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*([eEdD][+-]?\d+)?|\.\d+([eEdD][+-]?\d+)?)$")


# ------------------------------------------------------------------ lexical layer

@dataclass
class Record:
    """One line's fields: values (strings unquoted) and their 1-based columns."""

    line: int
    values: list[str]
    cols: list[int]
    quoted: list[bool]


#: one comma-separated field: optional blanks, a quoted or bare value, blanks, then `,`, `/` or the end
_FIELD = re.compile(r"[ \t\r]*(?:'([^']*)'|\"([^\"]*)\"|([^,\s/'\"]*))[ \t\r]*(,|/|$)")


def split_fields(text: str) -> tuple[list[str], list[int], list[bool]] | int:
    """Fields of one raw-file line, comment (after ``/``) removed.

    Separators are commas or blanks; an empty field between two commas means
    "default" and is kept as ``""``.  Returns the 0-based column of an
    unterminated quote instead, so that the caller can report it.

    The common, comma-separated line is split by one regular expression; lines
    with blank separators or quotes inside strings take the general scanner.
    """
    values: list[str] = []
    cols: list[int] = []
    quoted: list[bool] = []
    pos, n = 0, len(text)
    while True:
        m = _FIELD.match(text, pos)
        if m is None:
            return _scan_fields(text)
        q1, q2, bare, sep = m.groups()
        value = q1 if q1 is not None else q2 if q2 is not None else bare
        is_q = q1 is not None or q2 is not None
        if value or is_q or sep == ",":
            values.append(value)
            cols.append(m.start(1 if q1 is not None else 2 if q2 is not None else 3) + 1 - is_q)
            quoted.append(is_q)
        if sep != ",":
            if sep == "" and m.end() < n:   # stopped before the end: blank-separated values
                return _scan_fields(text)
            return values, cols, quoted
        pos = m.end()


def _scan_fields(text: str) -> tuple[list[str], list[int], list[bool]] | int:
    """The general scanner behind `split_fields` (blank separators, quotes inside strings)."""
    values: list[str] = []
    cols: list[int] = []
    quoted: list[bool] = []
    i, n = 0, len(text)
    expect_value = True   # after a comma (or at the start) a field may be empty
    while i < n:
        ch = text[i]
        if ch in " \t\r":
            i += 1
        elif ch == ",":
            if expect_value:
                values.append("")
                cols.append(i + 1)
                quoted.append(False)
            expect_value = True
            i += 1
        elif ch == "/":
            break
        elif ch in "'\"":
            end = _closing_quote(text, i)
            if end < 0:
                return i
            values.append(text[i + 1:end].replace(ch + ch, ch))   # '' inside a string is '
            cols.append(i + 1)
            quoted.append(True)
            expect_value = False
            i = end + 1
        else:
            j = i
            while j < n and text[j] not in " \t\r,/'\"":
                j += 1
            values.append(text[i:j])
            cols.append(i + 1)
            quoted.append(False)
            expect_value = False
            i = j
    return values, cols, quoted


def _closing_quote(text: str, start: int) -> int:
    """Index of the quote that closes the string opened at `start`; -1 if none.

    Names in real files contain the quote character (``'26' Drop '``): the string
    ends at the first matching quote followed by a separator (comma, ``/``, end of
    line), falling back to the first matching quote.
    """
    q = text[start]
    first = end = text.find(q, start + 1)
    while end >= 0:
        rest = text[end + 1:].lstrip(" \t\r")
        if not rest or rest[0] in ",/":
            return end
        end = text.find(q, end + 1)
    return first


class Reader:
    """Walks the file line by line; converts records; reports problems to `sink`."""

    def __init__(self, path: str, text: str, sink: DiagnosticSink) -> None:
        self.path, self.sink = path, sink
        self.lines = text.splitlines()
        self.pos = 0
        self.errors = 0

    def span(self, line: int, col: int = 1, width: int = 1) -> Span:
        return Span(self.path, line, col, line, col + max(width, 1))

    def error(self, code: str, msg: str, span: Span, help: str | None = None) -> None:
        self.errors += 1
        if self.errors <= MAX_ERRORS:
            self.sink.error(code, msg, span, help=help)
        elif self.errors == MAX_ERRORS + 1:
            self.sink.add(Diagnostic(code, Severity.NOTE, "further errors in this file are not shown",
                                     span))

    def next_record(self) -> Record | None:
        """The next line as a record; None at the end of the file."""
        while self.pos < len(self.lines):
            self.pos += 1
            text = self.lines[self.pos - 1]
            got = split_fields(text)
            if isinstance(got, int):
                self.error(SYNTAX, "unterminated quoted string", self.span(self.pos, got + 1),
                           help="close the string with the same quote it opened with")
                return Record(self.pos, [], [], [])
            values, cols, quoted = got
            if not values and not text.strip():
                continue   # blank lines are tolerated between records
            return Record(self.pos, values, cols, quoted)
        return None

    def convert(self, rec: Record, spec: tuple, section: str, start: int = 0) -> dict | None:
        """Typed fields of `rec` per `spec`; None (with diagnostics) if a value is unusable."""
        out: dict = {}
        ok = True
        for k, (name, kind, default) in enumerate(spec):
            j = start + k
            raw = rec.values[j].strip() if j < len(rec.values) else ""
            if raw == "":
                if default is None:
                    col = rec.cols[-1] if rec.cols else 1
                    self.error(SYNTAX, f"{section} record has no {name} (field {j + 1})",
                               self.span(rec.line, col), help=_help(section))
                    ok = False
                out[name] = default
                continue
            if kind == S:
                out[name] = raw
                continue
            val = _number(raw) if not (j < len(rec.quoted) and rec.quoted[j]) else None
            if val is None:
                self.error(BAD_NUMBER, f"{section} field {name} is `{raw}`, not a number",
                           self.span(rec.line, rec.cols[j], len(raw) + 2 * rec.quoted[j]),
                           help=_help(section))
                ok = False
                continue
            if kind == I:
                if not math.isfinite(val) or val != int(val):
                    self.error(BAD_NUMBER, f"{section} field {name} is `{raw}`, not an integer",
                               self.span(rec.line, rec.cols[j], len(raw)), help=_help(section))
                    ok = False
                    continue
                out[name] = int(val)
            else:
                if not math.isfinite(val):
                    self.error(BAD_NUMBER, f"{section} field {name} `{raw}` is not finite",
                               self.span(rec.line, rec.cols[j], len(raw)))
                    ok = False
                    continue
                out[name] = val
        if ok:
            out["_line"] = rec.line
            out["_cols"] = rec.cols
        return out if ok else None


def _number(raw: str) -> float | None:
    """`raw` as a number (Fortran `D` exponents allowed), or None; float() first, as it is fast."""
    try:
        val = float(raw)
    except ValueError:
        if not _NUMBER.match(raw):
            return None
        return float(raw.replace("D", "E").replace("d", "e"))
    # float() also takes `inf`, `nan` and `1_000`, which a raw file does not write
    if "_" in raw:
        return None
    return val if raw[-1].isdigit() or raw[-1] == "." or _NUMBER.match(raw) else None


def _help(section: str) -> str:
    return f"see the PSS/E v33 {section} data record format: fields are separated by commas"


def _is_end(rec: Record) -> bool:
    return bool(rec.values) and rec.values[0].strip() in ("0", "Q", "q") and not rec.quoted[0]


# ------------------------------------------------------------------ sections

@dataclass
class Raw:
    """The records of a raw file, by section (lists of typed dicts)."""

    sbase: float
    frequency: float
    data: dict[str, list[dict]]
    skipped: dict[str, tuple[int, int]]   # section -> (records, first line)


def read_raw(path: str, text: str, sink: DiagnosticSink) -> Raw | None:
    """Read the sections of a raw file; None when it cannot be used (errors in `sink`)."""
    rd = Reader(path, text, sink)
    head = rd.next_record()
    if head is None:
        rd.error(TRUNCATED, "the file is empty", rd.span(1),
                 help="a PSS/E raw file starts with `IC, SBASE, REV, XFRRAT, NXFRAT, BASFRQ`")
        return None
    hdr = rd.convert(head, (("IC", I, 0), ("SBASE", F, 100.0), ("REV", I, 33), ("XFRRAT", I, 0),
                            ("NXFRAT", I, 0), ("BASFRQ", F, 60.0)), "case identification")
    if hdr is None:
        return None
    if hdr["IC"] != 0:
        sink.warning(VERSION, f"IC = {hdr['IC']}: a change case; it is read as a base case",
                     rd.span(head.line, head.cols[0]))
    if hdr["REV"] != 33:
        col = head.cols[2] if len(head.cols) > 2 else 1
        sink.warning(VERSION, f"PSS/E revision {hdr['REV']}: the file is read as version 33",
                     rd.span(head.line, col), help="fields differ between revisions; save the case "
                                                    "as revision 33 (PSS/E `rawd_2` with version 33)")
    if hdr["SBASE"] <= 0:
        rd.error(BAD_VALUE, f"SBASE must be positive, not {hdr['SBASE']}", rd.span(head.line, head.cols[1]))
        return None
    rd.pos = min(3, len(rd.lines))   # two title lines follow the header, whatever they hold
    data: dict[str, list[dict]] = {s: [] for s in SECTIONS}
    skipped: dict[str, tuple[int, int]] = {}
    readers: dict[str, Callable[[Record], dict | None]] = {
        "bus": lambda r: rd.convert(r, BUS, "bus"),
        "load": lambda r: rd.convert(r, LOAD, "load"),
        "fixed shunt": lambda r: rd.convert(r, FSHUNT, "fixed shunt"),
        "generator": lambda r: rd.convert(r, GEN, "generator"),
        "branch": lambda r: rd.convert(r, BRANCH, "branch"),
        "switched shunt": lambda r: rd.convert(r, SWSHUNT, "switched shunt"),
    }
    finished = False
    for section in SECTIONS:
        start = rd.pos + 1
        count = 0
        while True:
            rec = rd.next_record()
            if rec is None:
                last = rd.span(max(len(rd.lines), 1))
                if count or section == "bus":
                    rd.error(TRUNCATED, f"the file ends inside the {section} data (no `0 / END OF "
                             f"{section.upper()} DATA` record)", last, help="the file may be truncated")
                elif section in IMPORTED:
                    sink.warning(TRUNCATED, f"the file ends before the {section} data; it and the "
                                 "later sections are taken as empty", last,
                                 help="a complete v33 file ends with a `Q` record")
                finished = True
                break
            if not rec.values:
                continue   # already reported (unterminated string)
            if rec.values[0].strip() in ("Q", "q") and not rec.quoted[0]:
                finished = True
                break
            if _is_end(rec):
                break
            count += 1
            if section == "transformer":
                got = _transformer(rd, rec)
                if got is not None:
                    data[section].append(got)
            elif section in readers:
                got = readers[section](rec)
                if got is not None:
                    data[section].append(got)
        if count and section not in IMPORTED and section not in BOOKKEEPING:
            skipped[section] = (count, start)
        if finished:
            break
    if not finished:
        rec = rd.next_record()
        if rec is not None and not (rec.values and rec.values[0].strip() in ("Q", "q")):
            sink.warning(NOT_IMPORTED, "unexpected data after the last PSS/E v33 section; ignored",
                         rd.span(rec.line, rec.cols[0] if rec.cols else 1),
                         help="a v33 file ends with a `Q` record; a later revision has more sections")
    if rd.errors:
        return None
    return Raw(hdr["SBASE"], hdr["BASFRQ"] or 60.0, data, skipped)


def _transformer(rd: Reader, rec: Record) -> dict | None:
    """A transformer: 4 lines (two-winding) or 5 lines (three-winding, K != 0)."""
    first = rd.convert(rec, XF1, "transformer")
    three = first is not None and first["K"] != 0
    more = [rd.next_record() for _ in range(4 if three else 3)]
    if any(m is None for m in more):
        rd.error(TRUNCATED, "the file ends inside a transformer record (it has 4 lines, "
                 "5 for a three-winding transformer)", rd.span(rec.line),
                 help="the file may be truncated")
        return None
    if first is None:
        return None
    specs = (XF2_3W, XF3, _winding(2), _winding(3)) if three else (XF2, XF3, XF4)
    parts = [rd.convert(m, spec, "transformer") for m, spec in zip(more, specs)]
    if any(p is None for p in parts):
        return None
    for p in parts:
        p.pop("_line")
        p.pop("_cols")
        first.update(p)
    return first


# ------------------------------------------------------------------ records -> tables

def _col(records: list[dict], name: str, dtype=np.float64) -> np.ndarray:
    return np.array([r[name] for r in records], dtype=dtype)


def _unique(ids: list[str]) -> tuple[list[str], list[int]]:
    """Ids made unique by a ``#n`` suffix on repeats (PSS/E forbids them, files have them)."""
    seen: dict[str, int] = {}
    out, repeats = [], []
    for k, i in enumerate(ids):
        n = seen.get(i, 0) + 1
        seen[i] = n
        out.append(i if n == 1 else f"{i}#{n}")
        if n > 1:
            repeats.append(k)
    return out, repeats


class _Build:
    def ids(self, ids: list[str], recs: list[dict], what: str) -> list[str]:
        """Unique element ids; repeats are renamed ``id#2`` ... and reported (GAT0528 warning)."""
        out, repeats = _unique(ids)
        if repeats:
            r = recs[repeats[0]]
            self.sink.warning(BAD_VALUE, f"{len(repeats)} {what} record(s) repeat an id already used "
                              f"(first: `{ids[repeats[0]]}`); renamed `{out[repeats[0]]}`, ...",
                              self.span(r), help="give parallel elements different circuit/ID fields")
        return out

    def __init__(self, path: str, raw: Raw, sink: DiagnosticSink) -> None:
        self.path, self.raw, self.sink = path, raw, sink
        self.ok = True

    def span(self, rec: dict, field: int = 0) -> Span:
        cols = rec["_cols"]
        return Span.point(self.path, rec["_line"], cols[field] if field < len(cols) else 1)

    def err(self, code: str, msg: str, span: Span, help: str | None = None) -> None:
        self.ok = False
        self.sink.error(code, msg, span, help=help)

    def buses(self, net: Network) -> dict[int, float]:
        recs = self.raw.data["bus"]
        if not recs:
            self.err(BAD_VALUE, "the file has no bus data", Span.point(self.path, 4),
                     help="bus records follow the three header lines")
            return {}
        kv: dict[int, float] = {}
        for r in recs:
            if r["I"] in kv:
                self.err(BAD_VALUE, f"bus {r['I']} is defined twice", self.span(r))
            if not 1 <= r["IDE"] <= 4:
                self.err(BAD_VALUE, f"bus {r['I']} has type IDE = {r['IDE']}, not 1-4", self.span(r, 3),
                         help="IDE: 1 load bus, 2 generator bus, 3 swing bus, 4 isolated")
            if r["I"] <= 0:
                self.err(BAD_VALUE, f"bus number {r['I']} is not positive", self.span(r))
            kv[r["I"]] = r["BASKV"]
        kinds = np.array(["", "pq", "pv", "ref", "isolated"], dtype=object)
        ide = np.clip(_col(recs, "IDE", np.int64), 1, 4)
        net.set_table("buses", {
            "bus": [str(r["I"]) for r in recs], "name": [r["NAME"].strip() for r in recs],
            "vn_kv": _col(recs, "BASKV"), "phases": np.ones((len(recs), 1), dtype=np.int8),
            "kind": kinds[ide], "vm_pu": _col(recs, "VM"), "va_deg": _col(recs, "VA"),
            "vmax_pu": _col(recs, "NVHI"), "vmin_pu": _col(recs, "NVLO"),
            "area": _col(recs, "AREA", np.int64), "zone": _col(recs, "ZONE", np.int64),
            **self.provenance(recs),
        })
        return kv

    def provenance(self, recs: list[dict]) -> dict:
        return {"source_file": [self.path] * len(recs), "source_line": _col(recs, "_line", np.int64)}

    def known(self, recs: list[dict], kv: dict[int, float], what: str,
              fields: tuple[str, ...] = ("I",)) -> list[dict]:
        """Records whose buses exist; the others are reported (GAT0527).

        A branch or transformer end may be negative (PSS/E's mark of the metered end), so with
        several bus fields the number is read without its sign; a one-bus element (load, shunt,
        generator) has no metered end, and a negative number there is not a bus.
        """
        good = []
        signed = len(fields) > 1
        for r in recs:
            missing = [(k, r[f]) for k, f in enumerate(fields) if (abs(r[f]) if signed else r[f]) not in kv]
            if missing:
                k, b = missing[0]
                self.err(UNKNOWN_BUS, f"{what} refers to bus {b}, which is not in the bus data",
                         self.span(r, k), help="check the bus number against the bus records (only branch "
                         "and transformer ends may be negative, to mark the metered end)")
            else:
                good.append(r)
        return good

    def loads(self, net: Network, kv: dict[int, float]) -> None:
        recs = self.known(self.raw.data["load"], kv, "load")
        # at 1 pu voltage the constant-current and constant-admittance parts add to the
        # constant-power part (PowerModels reads PL, QL only; IP/IQ/YP/YQ are reported)
        p = _col(recs, "PL") + _col(recs, "IP") + _col(recs, "YP") if recs else np.zeros(0)
        q = _col(recs, "QL") + _col(recs, "IQ") + _col(recs, "YQ") if recs else np.zeros(0)
        zip_ = [r for r in recs if r["IP"] or r["IQ"] or r["YP"] or r["YQ"]]
        if zip_:
            self.sink.warning(NOT_IMPORTED, f"{len(zip_)} load(s) have constant-current or "
                              "constant-admittance parts; they are added to the constant-power "
                              "load at nominal voltage", self.span(zip_[0], 7))
        net.set_table("loads", {
            "load": self.ids([f"{r['I']}-{r['ID'].strip()}" for r in recs], recs, "load"), "bus": [str(r["I"]) for r in recs],
            "conn": np.ones((len(recs), 1), dtype=np.int8), "phases": np.ones((len(recs), 1), dtype=np.int8),
            "p_mw": p, "q_mvar": q, "vn_kv": np.array([kv[r["I"]] for r in recs], dtype=np.float64),
            "status": _col(recs, "STATUS", np.int64) != 0 if recs else np.zeros(0, bool),
            **self.provenance(recs),
        })

    def shunts(self, net: Network, kv: dict[int, float]) -> None:
        fixed = self.known(self.raw.data["fixed shunt"], kv, "fixed shunt")
        switched = self.known(self.raw.data["switched shunt"], kv, "switched shunt")
        if switched:
            self.sink.add(Diagnostic(NOT_IMPORTED, Severity.NOTE,
                                     f"{len(switched)} switched shunt(s) are imported as fixed shunts "
                                     "at their initial susceptance BINIT; their steps are not modelled",
                                     self.span(switched[0])))
        ids = [f"{r['I']}-{r['ID'].strip()}" for r in fixed] + \
              [f"{r['I']}-sw{k + 1}" for k, r in enumerate(switched)]
        recs = fixed + switched
        net.set_table("shunts", {
            "shunt": self.ids(ids, recs, "shunt"), "bus": [str(r["I"]) for r in recs],
            "conn": np.ones((len(recs), 1), dtype=np.int8), "phases": np.ones((len(recs), 1), dtype=np.int8),
            "vn_kv": np.array([kv[r["I"]] for r in recs], dtype=np.float64),
            "g_mw": np.array([r.get("GL", 0.0) for r in recs], dtype=np.float64),
            "b_mvar": np.array([r["BL"] if "BL" in r else r["BINIT"] for r in recs], dtype=np.float64),
            "status": np.array([(r["STATUS"] if "STATUS" in r else r["STAT"]) != 0 for r in recs], bool),
            **self.provenance(recs),
        })

    def generators(self, net: Network, kv: dict[int, float]) -> None:
        recs = self.known(self.raw.data["generator"], kv, "generator")
        remote = [r for r in recs if r["IREG"] not in (0, r["I"])]
        if remote:
            self.sink.warning(NOT_IMPORTED, f"{len(remote)} generator(s) regulate a remote bus (IREG); "
                              "the set point VS is applied at the generator's own bus",
                              self.span(remote[0], 7))
        mbase = _col(recs, "MBASE") if recs else np.zeros(0)
        net.set_table("generators", {
            "gen": self.ids([f"{r['I']}-{r['ID'].strip()}" for r in recs], recs, "generator"), "bus": [str(r["I"]) for r in recs],
            "conn": np.ones((len(recs), 1), dtype=np.int8), "phases": np.ones((len(recs), 1), dtype=np.int8),
            "p_mw": _col(recs, "PG"), "q_mvar": _col(recs, "QG"), "qmax_mvar": _col(recs, "QT"),
            "qmin_mvar": _col(recs, "QB"), "vg_pu": _col(recs, "VS"),
            "mbase_mva": np.where(mbase > 0, mbase, self.raw.sbase),
            "pmax_mw": _col(recs, "PT"), "pmin_mw": _col(recs, "PB"),
            "status": _col(recs, "STAT", np.int64) > 0 if recs else np.zeros(0, bool),
            **self.provenance(recs),
        })

    def lines(self, net: Network, kv: dict[int, float]) -> None:
        recs = self.known(self.raw.data["branch"], kv, "branch", ("I", "J"))
        base = self.raw.sbase
        vb = np.array([kv[abs(r["I"])] for r in recs], dtype=np.float64)
        vb = np.where(vb > 0, vb, 1.0)
        zb = vb * vb / base
        col = lambda n: _col(recs, n) if recs else np.zeros(0)  # noqa: E731
        b = col("B")
        # PowerModels' rule: an end with BI = 0 gets half of the line charging B
        bi = np.where((col("BI") == 0) & (b != 0), b / 2, col("BI"))
        bj = np.where((col("BJ") == 0) & (b != 0), b / 2, col("BJ"))
        one = lambda v: v.reshape(-1, 1)  # noqa: E731
        rate = lambda n: [v if v > 0 else None for v in col(n).tolist()]  # noqa: E731
        net.set_table("lines", {
            "line": self.ids([f"{abs(r['I'])}-{abs(r['J'])}-{r['CKT'].strip()}" for r in recs],
                             recs, "branch"),
            "from_bus": [str(abs(r["I"])) for r in recs], "to_bus": [str(abs(r["J"])) for r in recs],
            "f_conn": np.ones((len(recs), 1), dtype=np.int8), "t_conn": np.ones((len(recs), 1), dtype=np.int8),
            "r_ohm": one(col("R") * zb), "x_ohm": one(col("X") * zb),
            "g_from_s": one(col("GI") / zb), "b_from_s": one(bi / zb),
            "g_to_s": one(col("GJ") / zb), "b_to_s": one(bj / zb),
            "rate_a_mva": rate("RATEA"), "rate_b_mva": rate("RATEB"), "rate_c_mva": rate("RATEC"),
            "status": col("ST") != 0,
            **self.provenance(recs),
        })

    def transformers(self, net: Network, kv: dict[int, float]) -> None:
        recs = self.raw.data["transformer"]
        two = self.known([r for r in recs if r["K"] == 0], kv, "transformer", ("I", "J"))
        three = self.known([r for r in recs if r["K"] != 0], kv, "transformer", ("I", "J", "K"))
        rows = []
        base = self.raw.sbase
        # a few fields per transformer; the CW/CZ/CM codes make each record its own case
        for r in sorted(two + three, key=lambda r: r["_line"]):
            got = self._transformer_row(r, kv, base)
            if got is not None:
                rows.append(got)
        k = len(rows)
        g = lambda n, dt=np.float64: np.array([x[n] for x in rows], dtype=dt)  # noqa: E731
        net.set_table("transformers", {
            "transformer": self.ids([x["id"] for x in rows], [x["rec"] for x in rows], "transformer"),
            "phases": np.ones(k, dtype=np.int64), "windings": [len(x["buses"]) for x in rows],
            "buses": [x["buses"] for x in rows], "conns": [[[1]] * len(x["buses"]) for x in rows],
            "connections": [["wye"] * len(x["buses"]) for x in rows],
            "kv": [x["kv"] for x in rows], "kva": [[base * 1000.0] * len(x["buses"]) for x in rows],
            "taps_pu": [x["taps"] for x in rows], "r_pct": [x["r_pct"] for x in rows],
            "xhl_pct": g("x12"), "xht_pct": [x.get("x13") for x in rows], "xlt_pct": [x.get("x23") for x in rows],
            "noloadloss_pct": g("nll_pct"), "imag_pct": g("imag_pct"),
            "shift_deg": g("shift"), "rate_a_mva": [x["rate"][0] for x in rows],
            "rate_b_mva": [x["rate"][1] for x in rows], "rate_c_mva": [x["rate"][2] for x in rows],
            "tap_max_pu": g("rma"), "tap_min_pu": g("rmi"), "num_taps": g("ntp", np.int64),
            "status": g("status", bool),
            "source_file": [self.path] * k, "source_line": g("line", np.int64),
        })

    def _pair(self, r: dict, a: int, b: int, nom: list[float], vb: list[float], base: float,
              ) -> tuple[float, float]:
        """Impedance between windings a and b (1-based) in pu on the system base (PowerModels' CZ rules)."""
        key = f"{a}-{b}"
        sb = r[f"SBASE{key}"] if r[f"SBASE{key}"] > 0 else base
        rr, xx = r[f"R{key}"], r[f"X{key}"]
        if r["CZ"] == 3:   # load loss in W, |Z| in pu
            rr = 1e-6 * rr / sb
            xx = float(np.sqrt(max(xx * xx - rr * rr, 0.0)))
        if r["CZ"] in (2, 3):   # pu on SBASEa-b and NOMVa -> system base
            scale = (nom[a - 1] / vb[a - 1]) ** 2 * base / sb
            rr, xx = rr * scale, xx * scale
        return rr, xx

    def _transformer_row(self, r: dict, kv: dict[int, float], base: float) -> dict | None:
        """Convert one transformer record (CW/CZ/CM codes) to canonical units (PowerModels' rules).

        Canonical: % on kva = system base and the winding kV (NOMV, or the bus base).
        Two windings: the lowering puts the series impedance on the winding-2 side,
        z_sys = z%/100 * (nom2/vb2)^2.  Three windings: star impedances per winding
        (r_pct) and pairwise reactances (xhl, xht, xlt) on the star (rated) side.
        """
        for name in ("CW", "CZ", "CM"):
            if r[name] not in (1, 2, 3) and not (name == "CM" and r[name] == 2):
                self.sink.warning(BAD_VALUE, f"transformer {name} = {r[name]} is not 1, 2 or 3; read as 1",
                                  self.span(r, {"CW": 4, "CZ": 5, "CM": 6}[name]),
                                  help="CW: winding voltage units, CZ: impedance units, "
                                       "CM: magnetising admittance units")
                r[name] = 1
        three = r["K"] != 0
        buses = [abs(r["I"]), abs(r["J"])] + ([abs(r["K"])] if three else [])
        vb = [kv[b] if kv[b] > 0 else 1.0 for b in buses]
        nom = [r[f"NOMV{w}"] if r[f"NOMV{w}"] > 0 else vb[w - 1] for w in range(1, len(buses) + 1)]
        windv = [r[f"WINDV{w}"] for w in range(1, len(buses) + 1)]
        wkv = ([v * b for v, b in zip(windv, vb)] if r["CW"] == 1 else windv if r["CW"] == 2
               else [v * n for v, n in zip(windv, nom)])
        ident = "-".join(map(str, buses)) + f"-{r['CKT'].strip()}"
        if min(wkv) <= 0:
            self.err(BAD_VALUE, f"transformer {ident} has a winding voltage <= 0", self.span(r),
                     help="WINDV1, WINDV2 (, WINDV3) are positive (pu or kV per CW)")
            return None
        g_m, b_m = r["MAG1"], r["MAG2"]
        if r["CM"] == 2:   # no-load loss (W) and excitation current (pu on SBASE1-2, NOMV1)
            sb = r["SBASE1-2"] if r["SBASE1-2"] > 0 else base
            g_m = 1e-6 * r["MAG1"] / base
            b_m = -float(np.sqrt(max(r["MAG2"] ** 2 - (1e-6 * r["MAG1"] / sb) ** 2, 0.0))) * sb / base
        out = {
            "id": ident, "buses": [str(b) for b in buses], "kv": nom,
            "taps": [w / n for w, n in zip(wkv, nom)], "nll_pct": g_m * 100.0, "imag_pct": -b_m * 100.0,
            "shift": r["ANG1"], "rate": [v if v > 0 else None for v in (r["RATA1"], r["RATB1"], r["RATC1"])],
            "rma": r["RMA1"], "rmi": r["RMI1"], "ntp": r["NTP1"], "line": r["_line"], "rec": r,
        }
        if not three:
            rr, xx = self._pair(r, 1, 2, nom, vb, base)
            zconv = 100.0 * (vb[1] / nom[1]) ** 2
            out.update(r_pct=[rr * zconv, 0.0], x12=xx * zconv, status=r["STAT"] == 1)
            return out
        (r12, x12), (r23, x23), (r31, x31) = (self._pair(r, 1, 2, nom, vb, base),
                                              self._pair(r, 2, 3, nom, vb, base),
                                              self._pair(r, 3, 1, nom, vb, base))
        if r["ANG2"] or r["ANG3"] or r["STAT"] in (2, 3, 4):
            self.sink.warning(NOT_IMPORTED, f"transformer {ident}: phase shifts of windings 2 and 3 "
                              "and per-winding status (STAT 2-4) are not kept; the transformer is "
                              "imported with all windings in service and winding 1's shift",
                              self.span(r), help="the canonical transformer has one shift and one status")
        out.update(r_pct=[50.0 * (r12 + r31 - r23), 50.0 * (r12 + r23 - r31), 50.0 * (r23 + r31 - r12)],
                   x12=100.0 * x12, x13=100.0 * x31, x23=100.0 * x23, status=r["STAT"] != 0)
        return out


def parse_psse_text(text: str, path: str, sink: DiagnosticSink, name: str | None = None) -> Network | None:
    """Parse raw-file text; None if it cannot be used (every reason is in `sink`)."""
    local = DiagnosticSink()
    raw = read_raw(path, text, local)
    net = None
    if raw is not None:
        net = Network(name or Path(path).stem, base_mva=raw.sbase, frequency_hz=raw.frequency, balanced=True)
        b = _Build(path, raw, local)
        try:
            kv = b.buses(net)
            if b.ok:
                b.loads(net, kv)
                b.shunts(net, kv)
                b.generators(net, kv)
                b.lines(net, kv)
                b.transformers(net, kv)
        except SchemaError as exc:   # a bug guard: the checks above should make this unreachable
            local.error(BAD_VALUE, f"PSS/E data do not fit the network model: {exc}", Span.point(path, 1),
                        help="please report this file: the importer should have said what is wrong")
        for section, (count, line) in raw.skipped.items():
            local.warning(NOT_IMPORTED, f"{section} data ({count} line(s)) are not imported",
                          Span.point(path, line),
                          help="only buses, loads, shunts, generators, branches and "
                               "transformers are read")
    sink.extend(local.items)
    if net is None or local.has_errors:
        return None
    net.diagnostics.extend(d for d in local.items if not d.is_error)
    return net


def load_psse(path: str | Path, sink: DiagnosticSink, *, span: Span | None = None) -> Network | None:
    """Read a PSS/E v33 raw file; None if it cannot be used (diagnostics GAT0522-GAT0528 in `sink`)."""
    from gatlang.network.importers import read_input_text, record_source

    text = read_input_text(path, sink, span)
    if text is None:
        return None
    net = parse_psse_text(text, str(path), sink)
    if net is not None:
        record_source(net, path)
    return net


CODES = (SYNTAX, BAD_NUMBER, VERSION, TRUNCATED, NOT_IMPORTED, UNKNOWN_BUS, BAD_VALUE)

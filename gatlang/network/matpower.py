"""MATPOWER case reader (``.m`` files as found in the wild) -> canonical `Network`.

Why a hand-written reader rather than evaluating the file: a case file is a
MATLAB function, but in practice only a tiny subset is used (``mpc.x = [...];``
numeric blocks, cell arrays of strings, scalars).  Reading exactly that subset
lets every problem be reported as a coded diagnostic at file:line:column,
instead of "invalid case" or a Python traceback.

Speed: a case is line-oriented, so the reader walks lines once, collects the
tokens of each matrix block and converts a whole block in one numpy call
(case13659pegase, 2.2 MB, imports in a fraction of a second).  Per-token work
happens only on the error path, to say *where* the bad token is.

MATPOWER semantics kept (docs/network-model.md): buses -> ``buses`` (Pd/Qd ->
``loads``, Gs/Bs -> ``shunts``, one per bus where non-zero); branches with
tap != 0 or shift != 0 -> ``transformers``, the others -> ``lines`` (ohmic
values on the from-bus base voltage, 1 kV where baseKV is 0); element ids are
the 1-based row numbers (bus numbers for buses, loads and shunts).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa

from gatlang.diagnostics import Diagnostic, DiagnosticSink, Severity, Span
from gatlang.network.model import Network, SchemaError

# ------------------------------------------------------------------ diagnostic codes
SYNTAX = "GAT0510"          # unterminated block, stray text
BAD_NUMBER = "GAT0511"
ROW_LENGTH = "GAT0512"
MISSING = "GAT0513"         # baseMVA / bus / gen / branch missing
EXTRA_COLUMNS = "GAT0514"   # note: columns beyond those used
UNKNOWN_BUS = "GAT0515"
BAD_VALUE = "GAT0516"
DCLINE = "GAT0517"
GENCOST_ROWS = "GAT0518"
IGNORED = "GAT0519"         # statement or field not used
DUPLICATE_BUS = "GAT0520"
COST_UNSUPPORTED = "GAT0521"

MAX_ERRORS_PER_BLOCK = 10

# Column layouts (MATPOWER idx_bus / idx_gen / idx_brch / idx_cost / idx_dcline), 0-based.
BUS_COLS = ("bus_i", "type", "pd", "qd", "gs", "bs", "area", "vm", "va", "base_kv", "zone",
            "vmax", "vmin")
BUS_RESULT_COLS = ("lam_p", "lam_q", "mu_vmax", "mu_vmin")
GEN_COLS = ("bus", "pg", "qg", "qmax", "qmin", "vg", "mbase", "status", "pmax", "pmin")
GEN_EXTRA_COLS = ("pc1", "pc2", "qc1min", "qc1max", "qc2min", "qc2max", "ramp_agc", "ramp_10",
                  "ramp_30", "ramp_q", "apf", "mu_pmax", "mu_pmin", "mu_qmax", "mu_qmin")
BRANCH_COLS = ("f_bus", "t_bus", "r", "x", "b", "rate_a", "rate_b", "rate_c", "tap", "shift",
               "status", "angmin", "angmax")
BRANCH_MIN = 11   # version 1 files have no angmin/angmax
BRANCH_RESULT_COLS = ("pf", "qf", "pt", "qt", "mu_sf", "mu_st", "mu_angmin", "mu_angmax")
DCLINE_COLS = ("f_bus", "t_bus", "status", "pf", "pt", "qf", "qt", "vf", "vt", "pmin", "pmax",
               "qminf", "qmaxf", "qmint", "qmaxt", "loss0", "loss1")
DCLINE_MIN = 17

KNOWN_FIELDS = {"version", "baseMVA", "bus", "gen", "branch", "gencost", "dcline", "bus_name",
                "areas"}
BUS_KIND = np.array(["", "pq", "pv", "ref", "isolated"], dtype=object)

_STMT = re.compile(r"\s*(?:([A-Za-z_]\w*)\.)?([A-Za-z_]\w*)\s*=\s*")
_FUNCTION = re.compile(r"\s*function\b")
_NUMBER_CHARS = re.compile(r"[^0-9.eE+\-InfNa\n]")
_NONFINITE = {"Inf", "inf", "+Inf", "+inf", "-Inf", "-inf", "NaN", "nan", "+NaN", "-NaN",
              "+nan", "-nan"}
_TOKEN = re.compile(r"[^\s,;\[\]]+")
#: a line holding exactly one matrix row: numbers (no comment, bracket, continuation or `=`), one `;`
_PLAIN_ROW = re.compile(r"[^;%\[\]=.]*(?:\.(?!\.)[^;%\[\]=.]*)*;\s*$")
_STRING = re.compile(r"'((?:[^']|'')*)'|\"((?:[^\"]|\"\")*)\"")


# ------------------------------------------------------------------ lexical layer

@dataclass
class Row:
    """One matrix row: where it starts (1-based line, column) and its tokens."""

    line: int
    col: int
    tokens: list[str]


@dataclass
class Block:
    """The value of one ``mpc.<field> = ...`` statement."""

    field: str
    kind: str                  # "matrix" | "cell" | "scalar"
    span: Span                 # the field name
    rows: list[Row] = field(default_factory=list)
    text: str = ""             # scalar text
    closed: bool = True


def _strip_comment(text: str) -> str:
    """Drop a ``%`` comment, ignoring ``%`` inside quoted strings."""
    if "%" not in text:
        return text
    if "'" not in text and '"' not in text:
        return text.split("%", 1)[0]
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            # a quote after an identifier/closing bracket is MATLAB's transpose, not a string
            prev = text[:i].rstrip()[-1:] if text[:i].strip() else ""
            if not (prev.isalnum() or prev in ")]}_."):
                quote = ch
        elif ch == "%":
            return text[:i]
    return text


class Lexer:
    """Splits a case file into blocks; reports syntax problems to `sink`."""

    def __init__(self, path: str, text: str, sink: DiagnosticSink) -> None:
        self.path, self.sink = path, sink
        self.lines = text.splitlines()
        self.blocks: dict[str, Block] = {}

    def span(self, line: int, col: int, width: int = 1) -> Span:
        return Span(self.path, line, col, line, col + max(width, 1))

    def run(self) -> dict[str, Block]:
        i, n = 0, len(self.lines)
        while i < n:
            code = _strip_comment(self.lines[i])
            if not code.strip() or _FUNCTION.match(code):
                i += 1
                continue
            m = _STMT.match(code)
            if not m:
                stripped = code.strip()
                if stripped not in ("end", "return", "end;", "return;"):
                    col = len(code) - len(code.lstrip()) + 1
                    self.sink.warning(IGNORED, "statement not understood; it is ignored",
                                      self.span(i + 1, col, len(stripped)),
                                      help="a MATPOWER case is read as `mpc.<field> = <value>;` "
                                           "statements; MATLAB code is not executed")
                i += 1
                continue
            name = m.group(2)
            name_span = self.span(i + 1, m.start(2) + 1, len(name))
            rest = code[m.end():]
            lead = rest.lstrip()
            start = m.end() + (len(rest) - len(lead))
            if lead.startswith("["):
                block, i = self._matrix(name, name_span, i, start + 1)
            elif lead.startswith("{"):
                block, i = self._cell(name, name_span, i, start + 1)
            else:
                block = Block(name, "scalar", name_span, text=lead.strip().rstrip(";").strip())
                block.rows = [Row(i + 1, start + 1, [block.text])]
                i += 1
            if name in self.blocks:
                self.sink.warning(IGNORED, f"`{name}` is assigned twice; the later value is used",
                                  name_span, notes=[f"first assigned at {self.blocks[name].span}"])
            self.blocks[name] = block
        return self.blocks

    def _starts_statement(self, code: str) -> bool:
        return "=" in code and _STMT.match(code) is not None

    def _matrix(self, name: str, name_span: Span, first: int, col0: int) -> tuple[Block, int]:
        """Collect rows until the closing ``]``.

        Rows end at ``;`` or at a newline (unless continued with ``...``), as in MATLAB.
        """
        block = Block(name, "matrix", name_span)
        rows = block.rows
        cur: list[str] = []
        cur_pos = (0, 0)
        i = first
        n = len(self.lines)
        lines = self.lines
        while i < n:
            raw = lines[i]
            if i != first and not cur and _PLAIN_ROW.match(raw):
                # fast path, the common case: one whole row on the line, ended by `;`
                toks = raw.replace(",", " ").replace(";", " ").split()
                if toks:
                    rows.append(Row(i + 1, len(raw) - len(raw.lstrip()) + 1, toks))
                i += 1
                continue
            base = col0 if i == first else 0
            code = raw[base:]
            code = code.split("%", 1)[0]
            if i != first and self._starts_statement(code) and "]" not in code:
                break
            cont = False
            k = code.find("...")
            if k >= 0:
                code, cont = code[:k], True
            close = code.find("]")
            tail = ""
            if close >= 0:
                code, tail = code[:close], code[close + 1:]
            offset = base
            parts = code.split(";")
            last = len(parts) - 1
            for j, part in enumerate(parts):
                toks = part.replace(",", " ").split()
                if toks:
                    if not cur:
                        cur_pos = (i + 1, offset + len(part) - len(part.lstrip()) + 1)
                    cur.extend(toks)
                if j < last and cur:
                    rows.append(Row(cur_pos[0], cur_pos[1], cur))
                    cur = []
                offset += len(part) + 1
            if close >= 0:
                if cur:
                    rows.append(Row(cur_pos[0], cur_pos[1], cur))
                t = tail.strip()
                if t.startswith("'"):
                    self.sink.error(SYNTAX, f"transposed matrix `{name}` is not supported",
                                    self.span(i + 1, base + close + 2),
                                    help="write the rows out as MATPOWER does, one element per row")
                    block.closed = False
                elif t not in ("", ";"):
                    self.sink.error(SYNTAX, f"unexpected text after the end of `{name}`",
                                    self.span(i + 1, base + close + 2 + (len(tail) - len(tail.lstrip())),
                                              len(t)))
                return block, i + 1
            if not cont and cur:
                rows.append(Row(cur_pos[0], cur_pos[1], cur))
                cur = []
            i += 1
        block.closed = False
        where = "the end of the file" if i >= n else f"line {i + 1}"
        self.sink.error(SYNTAX, f"matrix `{name}` is not closed: no `]` before {where}",
                        self.span(first + 1, col0, 1),
                        help="the file may be truncated; a matrix ends with `];`")
        return block, i

    def _cell(self, name: str, name_span: Span, first: int, col0: int) -> tuple[Block, int]:
        """A cell array of strings (e.g. ``mpc.bus_name``): one row per string or number list."""
        block = Block(name, "cell", name_span)
        i, n = first, len(self.lines)
        while i < n:
            base = col0 if i == first else 0
            code = _strip_comment(self.lines[i][base:])
            if i != first and self._starts_statement(code) and "}" not in code:
                break
            pos = 0
            closed_at = -1
            while pos < len(code):
                ch = code[pos]
                if ch in "'\"":
                    m = _STRING.match(code, pos)
                    if not m:
                        self.sink.error(SYNTAX, "unterminated string", self.span(i + 1, base + pos + 1))
                        block.closed = False
                        break
                    value = m.group(1).replace("''", "'") if m.group(1) is not None \
                        else m.group(2).replace('""', '"')
                    block.rows.append(Row(i + 1, base + pos + 1, [value]))
                    pos = m.end()
                elif ch == "}":
                    closed_at = pos
                    break
                else:
                    pos += 1
            if closed_at >= 0:
                return block, i + 1
            i += 1
        block.closed = False
        self.sink.error(SYNTAX, f"cell array `{name}` is not closed: no `}}`",
                        self.span(first + 1, col0, 1), help="the file may be truncated")
        return block, i

    def token_span(self, row: Row, k: int) -> Span:
        """Span of the k-th token of `row` (error path only: re-scans the source)."""
        line, col = row.line, row.col
        seen = 0
        while line <= len(self.lines):
            text = self.lines[line - 1]
            code = text.split("%", 1)[0]
            cut = code.find("...")
            code = code[:cut] if cut >= 0 else code
            for m in _TOKEN.finditer(code, col - 1):
                if seen == k:
                    return self.span(line, m.start() + 1, m.end() - m.start())
                seen += 1
            if cut < 0:
                break
            line, col = line + 1, 1
        return self.span(row.line, row.col)


# ------------------------------------------------------------------ numeric conversion

class Blocks:
    """Converts lexed blocks to numpy arrays, reporting bad numbers and ragged rows."""

    def __init__(self, lexer: Lexer, sink: DiagnosticSink) -> None:
        self.lexer, self.sink = lexer, sink
        self.blocks = lexer.blocks

    def matrix(self, name: str, min_cols: int, known_cols: int,
               column_names: tuple[str, ...] = ()) -> tuple[np.ndarray, list[Row]] | None:
        """The block as an (n, k) float array and its rows; None if absent or unusable."""
        block = self.blocks.get(name)
        if block is None:
            return None
        if block.kind != "matrix":
            self.sink.error(SYNTAX, f"`{name}` must be a numeric matrix `[ ... ]`", block.span)
            return None
        if not block.closed:
            return None
        rows = block.rows
        if not rows:
            return np.zeros((0, max(min_cols, 0))), []
        widths = Counter(len(r.tokens) for r in rows)
        width = widths.most_common(1)[0][0]
        good = [r for r in rows if len(r.tokens) == width]
        errors = 0
        if len(good) != len(rows):
            for r in rows:
                if len(r.tokens) != width:
                    errors += 1
                    if errors <= MAX_ERRORS_PER_BLOCK:
                        self.sink.error(ROW_LENGTH,
                                        f"row of `{name}` has {len(r.tokens)} values; the other rows "
                                        f"have {width}", self.lexer.span(r.line, r.col),
                                        help="every row of a MATPOWER matrix has the same number "
                                             "of columns")
        if width < min_cols:
            cols = ", ".join(column_names[width:min_cols]) if column_names else ""
            self.sink.error(ROW_LENGTH, f"`{name}` has {width} columns; at least {min_cols} are needed"
                            + (f" (missing: {cols})" if cols else ""),
                            self.lexer.span(rows[0].line, rows[0].col),
                            help=f"MATPOWER's `{name}` matrix has the columns "
                                 f"{', '.join(column_names[:min_cols])}" if column_names else None)
            return None
        if errors:
            self._too_many(name, errors)
            return None
        flat = [t for r in good for t in r.tokens]
        values = self._numbers(name, good, flat)
        if values is None:
            return None
        arr = values.reshape(len(good), width)
        if width > known_cols:
            self.sink.add(Diagnostic(
                EXTRA_COLUMNS, Severity.NOTE,
                f"`{name}` has {width} columns; columns {known_cols + 1}-{width} are ignored",
                block.span))
        return arr, good

    def _numbers(self, name: str, rows: list[Row], flat: list[str]) -> np.ndarray | None:
        joined = "\n".join(flat)
        ok = _NUMBER_CHARS.search(joined) is None
        values = None
        if ok:
            try:
                values = np.array(flat, dtype=np.float64)
            except ValueError:
                ok = False
        if ok and values is not None:
            nonfinite = ~np.isfinite(values)
            if nonfinite.any():
                idx = np.flatnonzero(nonfinite)
                ok = all(flat[i] in _NONFINITE for i in idx)
        if ok:
            return values
        self._report_bad_numbers(name, rows)
        return None

    def _report_bad_numbers(self, name: str, rows: list[Row]) -> None:
        errors = 0
        for r in rows:
            for k, tok in enumerate(r.tokens):
                if _is_number(tok):
                    continue
                errors += 1
                if errors <= MAX_ERRORS_PER_BLOCK:
                    self.sink.error(BAD_NUMBER, f"`{tok}` is not a number (in `{name}`)",
                                    self.lexer.token_span(r, k),
                                    help="values are decimal numbers, `Inf`, `-Inf` or `NaN`; "
                                         "expressions are not evaluated")
        self._too_many(name, errors)

    def _too_many(self, name: str, errors: int) -> None:
        if errors > MAX_ERRORS_PER_BLOCK:
            self.sink.add(Diagnostic(BAD_NUMBER, Severity.NOTE,
                                     f"{errors - MAX_ERRORS_PER_BLOCK} more problems in `{name}` "
                                     "are not shown", self.blocks[name].span))


def _is_number(tok: str) -> bool:
    if tok in _NONFINITE:
        return True
    if _NUMBER_CHARS.search(tok):
        return False
    try:
        return np.isfinite(float(tok))
    except ValueError:
        return False


# ------------------------------------------------------------------ case -> tables

@dataclass
class _Case:
    """Interprets the blocks of one case file as MATPOWER data."""

    path: str
    lexer: Lexer
    sink: DiagnosticSink
    blocks: Blocks = field(init=False)

    def __post_init__(self) -> None:
        self.blocks = Blocks(self.lexer, self.sink)

    def err(self, code: str, msg: str, span: Span | None, help: str | None = None) -> None:
        self.sink.error(code, msg, span, help=help)

    def row_errors(self, code: str, name: str, rows: list[Row], mask: np.ndarray, col: int,
                   message: str, help: str | None = None) -> bool:
        """Report rows where `mask` is true, pointing at column `col`; True if any."""
        bad = np.flatnonzero(mask)
        for i in bad[:MAX_ERRORS_PER_BLOCK]:
            r = rows[i]
            tok = r.tokens[col] if col < len(r.tokens) else ""
            self.err(code, message.format(tok=tok, row=i + 1), self.lexer.token_span(r, col), help)
        if len(bad) > MAX_ERRORS_PER_BLOCK:
            self.blocks._too_many(name, len(bad))
        return len(bad) > 0

    # -------------------------------------------------------------- scalars
    def base_mva(self) -> float | None:
        block = self.lexer.blocks.get("baseMVA")
        if block is None:
            self.err(MISSING, "the case has no `mpc.baseMVA`", Span.point(self.path, 1),
                     help="add `mpc.baseMVA = 100;` (the system base in MVA)")
            return None
        row = block.rows[0]
        text = block.text
        if not _is_number(text) or not np.isfinite(float(text)) or float(text) <= 0:
            self.err(BAD_VALUE, f"`baseMVA` must be a positive number, not `{text}`",
                     self.lexer.span(row.line, row.col, len(text)))
            return None
        return float(text)

    def version(self) -> None:
        block = self.lexer.blocks.get("version")
        if block is None:
            return
        v = block.text.strip("'\"")
        if v not in ("1", "2"):
            self.sink.warning(BAD_VALUE, f"unknown MATPOWER case version `{block.text}`; "
                              "read as version 2", block.span)

    # -------------------------------------------------------------- buses
    def buses(self, net: Network) -> tuple[np.ndarray, np.ndarray] | None:
        """Buses, loads and shunts; returns (bus numbers, base kV) for the later tables."""
        got = self.blocks.matrix("bus", len(BUS_COLS), len(BUS_COLS) + len(BUS_RESULT_COLS), BUS_COLS)
        if got is None:
            if "bus" not in self.lexer.blocks:
                self.err(MISSING, "the case has no `mpc.bus` matrix", Span.point(self.path, 1))
            return None
        a, rows = got
        num = a[:, 0]
        bad = ~((num == np.round(num)) & (num > 0) & np.isfinite(num))
        ok = not self.row_errors(BAD_VALUE, "bus", rows, bad, 0,
                                 "bus number `{tok}` is not a positive integer")
        typ = a[:, 1]
        bad_t = ~np.isin(typ, (0, 1, 2, 3, 4))
        unset = np.flatnonzero(typ == 0)
        if len(unset):
            self.sink.warning(BAD_VALUE, f"{len(unset)} bus(es) have type 0 (unset); each is taken as "
                              "PV if an in-service generator is connected to it, else PQ",
                              self.lexer.token_span(rows[int(unset[0])], 1),
                              help="bus types are 1 (PQ), 2 (PV), 3 (ref), 4 (isolated); "
                                   "PowerModels corrects type 0 the same way")
        ok &= not self.row_errors(BAD_VALUE, "bus", rows, bad_t, 1,
                                  "bus type `{tok}` is not 1 (PQ), 2 (PV), 3 (ref) or 4 (isolated)")
        for col in (6, 10):
            v = a[:, col]
            ok &= not self.row_errors(BAD_VALUE, "bus", rows, ~((v == np.round(v)) & np.isfinite(v)),
                                      col, f"{BUS_COLS[col]} `{{tok}}` is not an integer")
        if not ok:
            return None
        numbers = num.astype(np.int64)
        uniq, first, counts = np.unique(numbers, return_index=True, return_counts=True)
        if (counts > 1).any():
            seen: set[int] = set()
            for i, b in enumerate(numbers):
                if b in seen:
                    self.err(DUPLICATE_BUS, f"bus {b} is defined twice", self.lexer.token_span(rows[i], 0),
                             help=f"first defined at {self.lexer.token_span(rows[int(first[np.searchsorted(uniq, b)])], 0)}")
                seen.add(int(b))
            return None
        if not (typ == 3).any():
            self.sink.warning(BAD_VALUE, "the case has no reference bus (type 3)",
                              self.lexer.blocks["bus"].span)
        ids = numbers.astype(str)
        lines = np.array([r.line for r in rows], dtype=np.int64)
        nb = len(ids)
        src = [self.path] * nb
        base_kv = a[:, 9]
        one_phase = np.ones((nb, 1), dtype=np.int8)
        names = self.bus_names(nb)
        net.set_table("buses", {
            "bus": ids, "name": names if names is not None else [None] * nb,
            "vn_kv": base_kv, "phases": one_phase, "kind": BUS_KIND[np.where(typ == 0, 1, typ).astype(np.int64)],
            "vmin_pu": a[:, 12], "vmax_pu": a[:, 11], "vm_pu": a[:, 7], "va_deg": a[:, 8],
            "area": a[:, 6].astype(np.int64), "zone": a[:, 10].astype(np.int64),
            "source_file": src, "source_line": lines,
        })
        for table, key, pcol, qcol, pname, qname in (
                ("loads", "load", 2, 3, "p_mw", "q_mvar"), ("shunts", "shunt", 4, 5, "g_mw", "b_mvar")):
            sel = (a[:, pcol] != 0) | (a[:, qcol] != 0)
            k = int(sel.sum())
            net.set_table(table, {
                key: ids[sel], "bus": ids[sel], "conn": np.ones((k, 1), dtype=np.int8),
                "phases": np.ones((k, 1), dtype=np.int8), "connection": ["wye"] * k,
                "vn_kv": base_kv[sel], pname: a[sel, pcol], qname: a[sel, qcol],
                "source_file": [self.path] * k, "source_line": lines[sel],
            })
        return numbers, base_kv

    def bus_names(self, nb: int) -> list[str] | None:
        block = self.lexer.blocks.get("bus_name")
        if block is None or not block.closed:
            return None
        if block.kind != "cell":
            self.sink.warning(BAD_VALUE, "`bus_name` is not a cell array of strings; ignored", block.span)
            return None
        names = [r.tokens[0] for r in block.rows]
        if len(names) != nb:
            self.sink.warning(BAD_VALUE, f"`bus_name` has {len(names)} names for {nb} buses; ignored",
                              block.span)
            return None
        return names

    def _bus_index(self, name: str, rows: list[Row], numbers: np.ndarray, values: np.ndarray,
                   col: int) -> bool:
        """True if every bus reference in column `col` names a bus; reports the others."""
        known = np.isin(values, numbers)
        return not self.row_errors(UNKNOWN_BUS, name, rows, ~known, col,
                                   f"`{name}` row {{row}} refers to bus `{{tok}}`, which is not in `bus`",
                                   help="check the bus number against the first column of mpc.bus")

    # -------------------------------------------------------------- generators
    def generators(self, net: Network, numbers: np.ndarray) -> bool:
        got = self.blocks.matrix("gen", len(GEN_COLS), len(GEN_COLS) + len(GEN_EXTRA_COLS), GEN_COLS)
        if got is None:
            if "gen" not in self.lexer.blocks:
                self.err(MISSING, "the case has no `mpc.gen` matrix", Span.point(self.path, 1))
            return False
        a, rows = got
        if not self._bus_index("gen", rows, numbers, a[:, 0], 0):
            return False
        ng = len(a)
        cost = self.gencost(ng)
        if cost is None:
            return False
        ids = np.arange(1, ng + 1).astype(str)
        net.set_table("generators", {
            "gen": ids, "bus": a[:, 0].astype(np.int64).astype(str),
            "conn": np.ones((ng, 1), dtype=np.int8), "phases": np.ones((ng, 1), dtype=np.int8),
            "p_mw": a[:, 1], "q_mvar": a[:, 2], "qmax_mvar": a[:, 3], "qmin_mvar": a[:, 4],
            "vg_pu": a[:, 5], "mbase_mva": a[:, 6], "status": a[:, 7] > 0,
            "pmax_mw": a[:, 8], "pmin_mw": a[:, 9],
            **cost,
            "source_file": [self.path] * ng,
            "source_line": np.array([r.line for r in rows], dtype=np.int64),
        })
        return True

    def gencost(self, ng: int) -> dict | None:
        """Cost columns for `ng` generators; {} without costs; None on error."""
        got = self.blocks.matrix("gencost", 4, 10 ** 9)
        block = self.lexer.blocks.get("gencost")
        if got is None:
            return None if block is not None else {}
        a, rows = got
        nc = len(a)
        if nc > ng:
            if nc == 2 * ng:
                self.sink.warning(GENCOST_ROWS, f"`gencost` has {nc} rows for {ng} generators: the "
                                  "reactive power costs (second half) are ignored", block.span)
            else:
                self.sink.warning(GENCOST_ROWS, f"`gencost` has {nc} rows for {ng} generators: rows "
                                  f"{ng + 1}-{nc} are ignored", block.span)
            a, rows = a[:ng], rows[:ng]
        elif nc < ng:
            self.sink.warning(GENCOST_ROWS, f"`gencost` has {nc} rows for {ng} generators: "
                              f"generators {nc + 1}-{ng} have no cost", block.span,
                              help="add one gencost row per generator, in the order of mpc.gen")
        model, ncost = a[:, 0], a[:, 3]
        ok = not self.row_errors(BAD_VALUE, "gencost", rows, ~np.isin(model, (1, 2)), 0,
                                 "cost model `{tok}` is not 1 (piecewise linear) or 2 (polynomial)")
        ok &= not self.row_errors(BAD_VALUE, "gencost", rows,
                                  ~((ncost == np.round(ncost)) & (ncost >= 0) & np.isfinite(ncost)), 3,
                                  "number of cost coefficients/points `{tok}` is not an integer >= 0")
        if not ok:
            return None
        width = a.shape[1]
        coeffs: list[list[float] | None] = []
        models: list[int | None] = []
        for i in range(len(a)):
            m, n = int(model[i]), int(ncost[i])
            need = 4 + (2 * n if m == 1 else n)
            if need > width:
                self.err(ROW_LENGTH, f"gencost row {i + 1} needs {need} columns for n = {n}, "
                         f"the matrix has {width}", self.lexer.token_span(rows[i], 3))
                ok = False
                continue
            c = a[i, 4:need]
            if m == 2 and n > 3 and np.any(c[: n - 3] != 0):
                self.sink.warning(COST_UNSUPPORTED, f"gencost row {i + 1}: polynomial of degree {n - 1}; "
                                  "OPF formulations use at most quadratic costs",
                                  self.lexer.token_span(rows[i], 3))
            if m == 1:
                if n < 2:
                    self.sink.warning(COST_UNSUPPORTED, f"gencost row {i + 1}: a piecewise-linear cost "
                                      "needs at least 2 points", self.lexer.token_span(rows[i], 3))
                elif np.any(np.diff(c[0::2]) < 0):
                    self.sink.warning(COST_UNSUPPORTED, f"gencost row {i + 1}: piecewise-linear cost "
                                      "points are not in increasing MW order",
                                      self.lexer.token_span(rows[i], 4))
            coeffs.append(c.tolist())
            models.append(m)
        if not ok:
            return None
        pad = ng - len(coeffs)   # generators without a gencost row: no cost (null)
        return {
            "cost_model": models + [None] * pad,
            "cost_startup": _nan_to_null(np.concatenate([a[:, 1], np.full(pad, np.nan)])),
            "cost_shutdown": _nan_to_null(np.concatenate([a[:, 2], np.full(pad, np.nan)])),
            "cost_coeffs": coeffs + [None] * pad,
        }

    # -------------------------------------------------------------- branches
    def branches(self, net: Network, numbers: np.ndarray, base_kv: np.ndarray, base_mva: float) -> bool:
        got = self.blocks.matrix("branch", BRANCH_MIN, len(BRANCH_COLS) + len(BRANCH_RESULT_COLS),
                                 BRANCH_COLS)
        if got is None:
            if "branch" not in self.lexer.blocks:
                self.err(MISSING, "the case has no `mpc.branch` matrix", Span.point(self.path, 1))
            return False
        a, rows = got
        if a.shape[1] < len(BRANCH_COLS):   # version 1: no angle limits
            pad = np.tile([-360.0, 360.0], (len(a), 1))
            a = np.hstack([a[:, :BRANCH_MIN], pad[:, : len(BRANCH_COLS) - BRANCH_MIN]])
        ok = self._bus_index("branch", rows, numbers, a[:, 0], 0)
        ok &= self._bus_index("branch", rows, numbers, a[:, 1], 1)
        if not ok:
            return False
        order = np.argsort(numbers)
        kv_of = lambda col: base_kv[order[np.searchsorted(numbers[order], a[:, col])]]  # noqa: E731
        kv_f, kv_t = kv_of(0), kv_of(1)
        fb = a[:, 0].astype(np.int64).astype(str)
        tb = a[:, 1].astype(np.int64).astype(str)
        ids = np.arange(1, len(a) + 1).astype(str)
        lines_no = np.array([r.line for r in rows], dtype=np.int64)
        status = a[:, 10] != 0
        rate = {f"rate_{c}_mva": np.where(a[:, k] == 0, np.nan, a[:, k]) for c, k in
                (("a", 5), ("b", 6), ("c", 7))}
        xf = (a[:, 8] != 0) | (a[:, 9] != 0)
        ln = ~xf
        k = int(ln.sum())
        vb = np.where(kv_f > 0, kv_f, 1.0)[ln]
        zb = vb * vb / base_mva
        one = lambda v: v.reshape(-1, 1)  # noqa: E731
        net.set_table("lines", {
            "line": ids[ln], "from_bus": fb[ln], "to_bus": tb[ln],
            "f_conn": np.ones((k, 1), dtype=np.int8), "t_conn": np.ones((k, 1), dtype=np.int8),
            "r_ohm": one(a[ln, 2] * zb), "x_ohm": one(a[ln, 3] * zb),
            "g_from_s": np.zeros((k, 1)), "b_from_s": one(a[ln, 4] / 2 / zb),
            "g_to_s": np.zeros((k, 1)), "b_to_s": one(a[ln, 4] / 2 / zb),
            **{c: _nan_to_null(v[ln]) for c, v in rate.items()},
            "angmin_deg": a[ln, 11], "angmax_deg": a[ln, 12], "status": status[ln],
            "source_file": [self.path] * k, "source_line": lines_no[ln],
        })
        k = int(xf.sum())
        tap = np.where(a[xf, 8] == 0, 1.0, a[xf, 8])
        kva = np.full((k, 2), base_mva * 1000.0)
        net.set_table("transformers", {
            "transformer": ids[xf], "phases": np.ones(k, dtype=np.int64),
            "windings": np.full(k, 2, dtype=np.int64),
            "buses": np.stack([fb[xf], tb[xf]], axis=1).tolist(),
            "conns": [[[1], [1]]] * k, "connections": [["wye", "wye"]] * k,
            "kv": np.stack([kv_f[xf], kv_t[xf]], axis=1), "kva": kva,
            "taps_pu": np.stack([tap, np.ones(k)], axis=1),
            "r_pct": np.stack([a[xf, 2] * 100.0, np.zeros(k)], axis=1),
            "xhl_pct": a[xf, 3] * 100.0, "b_charging_pu": a[xf, 4], "shift_deg": a[xf, 9],
            **{c: _nan_to_null(v[xf]) for c, v in rate.items()},
            "angmin_deg": a[xf, 11], "angmax_deg": a[xf, 12], "status": status[xf],
            "source_file": [self.path] * k, "source_line": lines_no[xf],
        })
        return True

    def dclines(self, net: Network, numbers: np.ndarray) -> bool:
        got = self.blocks.matrix("dcline", DCLINE_MIN, DCLINE_MIN + 6, DCLINE_COLS)
        block = self.lexer.blocks.get("dcline")
        if got is None:
            return block is None
        a, rows = got
        if not (self._bus_index("dcline", rows, numbers, a[:, 0], 0)
                & self._bus_index("dcline", rows, numbers, a[:, 1], 1)):
            return False
        k = len(a)
        if k:
            self.sink.warning(DCLINE, f"{k} DC line(s) in `mpc.dcline` are kept in table `dclines` "
                              "but not modelled by power flow or OPF", block.span,
                              help="model them as a pair of generators if their flows matter")
        net.set_table("dclines", {
            "dcline": np.arange(1, k + 1).astype(str),
            "from_bus": a[:, 0].astype(np.int64).astype(str), "to_bus": a[:, 1].astype(np.int64).astype(str),
            "status": a[:, 2] > 0, "pf_mw": a[:, 3], "pt_mw": a[:, 4], "qf_mvar": a[:, 5],
            "qt_mvar": a[:, 6], "vf_pu": a[:, 7], "vt_pu": a[:, 8], "pmin_mw": a[:, 9],
            "pmax_mw": a[:, 10], "loss0_mw": a[:, 15], "loss1": a[:, 16],
            "source_file": [self.path] * k,
            "source_line": np.array([r.line for r in rows], dtype=np.int64),
        })
        return True

    def areas(self, numbers: np.ndarray) -> None:
        block = self.lexer.blocks.get("areas")
        if block is None:
            return
        got = self.blocks.matrix("areas", 2, 2, ("area", "price_ref_bus"))
        if got is None:
            return
        a, rows = got
        if len(a):
            unknown = ~np.isin(a[:, 1], numbers)
            for i in np.flatnonzero(unknown)[:MAX_ERRORS_PER_BLOCK]:
                self.sink.warning(UNKNOWN_BUS, f"price reference bus `{rows[i].tokens[1]}` of area "
                                  f"`{rows[i].tokens[0]}` is not in `bus`",
                                  self.lexer.token_span(rows[i], 1))
        self.sink.add(Diagnostic(IGNORED, Severity.NOTE, "`mpc.areas` (price reference buses) is not "
                                 "used; bus areas are kept in `buses.area`", block.span))

    def ignored_fields(self) -> None:
        for name, block in self.lexer.blocks.items():
            if name not in KNOWN_FIELDS:
                self.sink.add(Diagnostic(IGNORED, Severity.NOTE,
                                         f"field `{name}` is not part of the network model; ignored",
                                         block.span))


def _correct_unset_bus_types(net: Network, lexer: Lexer) -> None:
    """Type-0 buses (read as PQ) become PV where an in-service generator is connected."""
    block = lexer.blocks.get("bus")
    if block is None or not any(r.tokens[1:2] in (["0"], ["0.0"]) for r in block.rows):
        return
    buses, gens = net.table("buses"), net.table("generators")
    typ = np.array([float(r.tokens[1]) if len(r.tokens) > 1 else 1.0 for r in block.rows])
    if len(typ) != buses.num_rows:
        return
    on = gens.column("status").to_numpy(zero_copy_only=False).astype(bool)
    gen_buses = np.asarray(gens.column("bus").to_pylist(), dtype=object)[on]
    ids = np.asarray(buses.column("bus").to_pylist(), dtype=object)
    kind = np.asarray(buses.column("kind").to_pylist(), dtype=object)
    kind[(typ == 0) & np.isin(ids, gen_buses)] = "pv"
    net.tables["buses"] = buses.set_column(buses.schema.get_field_index("kind"),
                                           buses.schema.field("kind"), pa.array(kind.tolist(), pa.string()))


def _nan_to_null(v: np.ndarray) -> pa.Array:
    """NaN -> null in one Arrow call (MATPOWER's rate 0 = unlimited is computed as NaN first)."""
    return pa.array(np.asarray(v, dtype=np.float64), from_pandas=True)


# ------------------------------------------------------------------ entry point

def parse_matpower_text(text: str, path: str, sink: DiagnosticSink, name: str | None = None,
                        frequency_hz: float = 60.0) -> Network | None:
    """Parse case text; None if it cannot be used (every reason is a diagnostic in `sink`)."""
    local = DiagnosticSink()
    lexer = Lexer(path, text, local)
    lexer.run()
    case = _Case(path, lexer, local)
    case.version()
    base = case.base_mva()
    net = Network(name or Path(path).stem, base_mva=base or 100.0, frequency_hz=frequency_hz,
                  balanced=True)
    try:
        got = case.buses(net)
        if got is not None:
            numbers, base_kv = got
            if case.generators(net, numbers):
                _correct_unset_bus_types(net, lexer)
            if base is not None:
                case.branches(net, numbers, base_kv, base)
            case.dclines(net, numbers)
            case.areas(numbers)
        else:
            for name_ in ("gen", "branch"):
                if name_ not in lexer.blocks:
                    case.err(MISSING, f"the case has no `mpc.{name_}` matrix", Span.point(path, 1))
    except SchemaError as exc:   # a bug guard: the checks above should make this unreachable
        local.error(BAD_VALUE, f"MATPOWER data do not fit the network model: {exc}", Span.point(path, 1),
                    help="please report this file: the importer should have said what is wrong")
    case.ignored_fields()
    sink.extend(local.items)
    if local.has_errors:
        return None
    net.diagnostics.extend(d for d in local.items if not d.is_error)
    return net


def load_matpower(path: str | Path, sink: DiagnosticSink, *, frequency_hz: float = 60.0,
                  span: Span | None = None) -> Network | None:
    """Read a MATPOWER case file; None if it cannot be used.

    Every problem goes to `sink` as a coded diagnostic (GAT0510-GAT0521) at
    file:line:column.  `span` (the import call in a .gat file) is used for
    problems with the file itself (missing, unreadable: GAT0501/GAT0502).
    """
    from gatlang.network.importers import read_input_text, record_source

    text = read_input_text(path, sink, span)
    if text is None:
        return None
    net = parse_matpower_text(text, str(path), sink, frequency_hz=frequency_hz)
    if net is not None:
        record_source(net, path)
    return net


def iter_codes() -> Iterator[str]:
    """The diagnostic codes this module emits (for the explain-page test)."""
    yield from (SYNTAX, BAD_NUMBER, ROW_LENGTH, MISSING, EXTRA_COLUMNS, UNKNOWN_BUS, BAD_VALUE,
                DCLINE, GENCOST_ROWS, IGNORED, DUPLICATE_BUS, COST_UNSUPPORTED)

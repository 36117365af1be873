"""Parse `.gat` text into the AST, turning every syntax problem into a diagnostic.

Why Lark LALR: a single declarative grammar (grammar/gat.lark) is the one
source of syntax for the compiler, the docs and the editor support, and LALR is
fast and gives precise 'expected one of' sets for error messages.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import lark
from lark import Token, Transformer, v_args

from gatlang.diagnostics import Diagnostic, DiagnosticSink, Span, error
from gatlang.resources import grammar_path
from gatlang.syntax import ast

# Human names for the grammar's terminals, used in "expected ..." messages.
_TOKEN_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "QUANTITY": "a number with a unit", "STRING": "a string",
    "UNIT": "a unit", "CMP_OP": "a comparison (==, <=, >=, ~=)", "LBRACE": "`{`", "RBRACE": "`}`",
    "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`", "COMMA": "`,`", "COLON": "`:`",
    "EQUAL": "`=`", "DOT": "`.`", "PLUS": "`+`", "MINUS": "`-`", "STAR": "`*`", "SLASH": "`/`",
    "CIRCUMFLEX": "`^`", "$END": "end of file",
}


@functools.lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    return lark.Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr",
                     propagate_positions=True, maybe_placeholders=True)


def _span(file: str, meta_or_token) -> Span:
    m = meta_or_token
    if getattr(m, "empty", False):
        return Span(file, 1, 1, 1, 2)
    return Span(file, m.line, m.column, m.end_line, m.end_column)


_NUMBER_PREFIX = re.compile(r"(?:[0-9]+(?:\.(?!\.)[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _number(text: str) -> float:
    return float(text)


@v_args(meta=True)
class _ToAst(Transformer):
    """Lark tree -> frozen AST nodes with spans."""

    def __init__(self, file: str) -> None:
        super().__init__(visit_tokens=False)
        self.file = file

    def _s(self, x) -> Span:
        return _span(self.file, x)

    # -- top level
    def start(self, meta, items):
        return ast.Module(self._s(meta), self.file, tuple(items))

    def study(self, meta, c):
        return ast.Study(self._s(meta), str(c[0]), _unquote(c[1]) if c[1] is not None else None)

    def use_module(self, meta, c):
        return ast.UseModule(self._s(meta), c[0])

    def dotted_name(self, meta, c):
        return tuple(str(t) for t in c)

    def use_file(self, meta, c):
        return ast.UseFile(self._s(meta), _unquote(c[0]))

    def network_decl(self, meta, c):
        return ast.NetworkDecl(self._s(meta), str(c[0]), c[1])

    def table_decl(self, meta, c):
        return ast.TableDecl(self._s(meta), str(c[0]), c[1])

    def call(self, meta, c):
        args = tuple(a for a in c[1:] if a is not None)
        return ast.CallDecl(self._s(meta), str(c[0]), args)

    def pos_arg(self, meta, c):
        return ast.Arg(self._s(meta), None, c[0])

    def kw_arg(self, meta, c):
        return ast.Arg(self._s(meta), str(c[0]), c[1])

    def scenario_decl(self, meta, c):
        items = [o for o in c[1:] if o is not None]
        return ast.ScenarioDecl(self._s(meta), str(c[0]), tuple(o for o in items if isinstance(o, ast.Option)),
                                tuple(o for o in items if isinstance(o, ast.Override)))

    def override(self, meta, c):
        return ast.Override(self._s(meta), str(c[0]), _unquote(str(c[1])),
                            tuple(o for o in c[2:] if o is not None))

    def option(self, meta, c):
        return ast.Option(self._s(meta), str(c[0]), c[1])

    def objective_option(self, meta, c):
        return ast.Option(self._s(meta), "objective", c[0])

    def formulation_option(self, meta, c):
        return ast.Option(self._s(meta), "formulation", c[0])

    def option_block(self, meta, c):
        return ast.OptionBlock(self._s(meta), str(c[0]), tuple(o for o in c[1:] if o is not None))

    def list_value(self, meta, c):
        return ast.ListExpr(self._s(meta), tuple(x for x in c if x is not None))

    def range_value(self, meta, c):
        return ast.RangeExpr(self._s(meta), c[0], c[1])

    def formulation_decl(self, meta, c):
        title = _unquote(c[1]) if c[1] is not None else None
        return ast.FormulationDecl(self._s(meta), str(c[0]), title, tuple(c[2:]))

    def problem_clause(self, meta, c):
        return ast.Clause(self._s(meta), "problem", tuple(str(t) for t in c))

    def requires_clause(self, meta, c):
        return ast.Clause(self._s(meta), "requires", tuple(str(t) for t in c))

    def supports_clause(self, meta, c):
        return ast.Clause(self._s(meta), "supports", tuple(str(t) for t in c))

    def is_clause(self, meta, c):
        return ast.Clause(self._s(meta), "is", tuple(str(x) for x in c))

    def ignores_clause(self, meta, c):
        return ast.Clause(self._s(meta), "ignores", tuple(str(t) for t in c))

    def run_decl(self, meta, c):
        kind, name, net = c[0], c[1], c[2]
        return ast.RunDecl(self._s(meta), str(kind), str(name), str(net), tuple(c[3:]),
                           kind_span=self._s(kind), network_span=self._s(net))

    def expect_stmt(self, meta, c):
        return ast.ExpectStmt(self._s(meta), str(c[0]), str(c[1]), str(c[2]), c[3], c[4])

    # -- model statements
    def param_decl(self, meta, c):
        return ast.ParamDecl(self._s(meta), str(c[0]), c[1], c[2], c[3])

    def set_decl(self, meta, c):
        return ast.SetDecl(self._s(meta), str(c[0]), c[1])

    def var_decl(self, meta, c):
        name, index, domain, unit, start = c
        lo = hi = kind = None
        if domain is not None:
            if domain[0] == "range":
                lo, hi = domain[1], domain[2]
            else:
                kind = domain[1]
        return ast.VarDecl(self._s(meta), str(name), index, lo, hi, kind, unit, start)

    def var_range(self, meta, c):
        return ("range", c[0], c[1])

    def var_kind(self, meta, c):
        return ("kind", str(c[0]))

    def var_start(self, meta, c):
        return c[0]

    def unit_annot(self, meta, c):
        return str(c[0])

    def expr_decl(self, meta, c):
        return ast.ExprDecl(self._s(meta), str(c[0]), c[1], c[2], c[3])

    def constraint_decl(self, meta, c):
        return ast.ConstraintDecl(self._s(meta), str(c[0]), c[1], c[2])

    def objective_decl(self, meta, c):
        return ast.ObjectiveDecl(self._s(meta), str(c[0]), c[1])

    def minimize(self, meta, c):
        return ast.Minimize(self._s(meta), c[0], "min")

    def maximize(self, meta, c):
        return ast.Minimize(self._s(meta), c[0], "max")

    def subject_to(self, meta, c):
        return ast.SubjectTo(self._s(meta), c[0], c[1])

    def for_clause(self, meta, c):
        return c[0]

    def index(self, meta, c):
        return c[0]

    def binders(self, meta, c):
        *items, where = c
        return ast.Binders(self._s(meta), tuple(items), where[1] if where else None)

    def filter(self, meta, c):
        return ("where", c[0])

    def binder(self, meta, c):
        return ast.Binder(self._s(meta), str(c[0]), c[1])

    def set_name(self, meta, c):
        return ast.SetName(self._s(meta), str(c[0]))

    def set_attr(self, meta, c):
        return ast.SetAttr(self._s(meta), c[0], str(c[1]))

    def set_range(self, meta, c):
        return ast.SetRange(self._s(meta), c[0], c[1])

    # -- expressions
    def compare(self, meta, c):
        return ast.Compare(self._s(meta), str(c[1]), c[0], c[2])

    def in_range(self, meta, c):
        return ast.InRange(self._s(meta), c[0], c[1], c[2])

    def or_(self, meta, c):
        return ast.BoolOp(self._s(meta), "or", c[0], c[1])

    def and_(self, meta, c):
        return ast.BoolOp(self._s(meta), "and", c[0], c[1])

    def not_(self, meta, c):
        return ast.Not(self._s(meta), c[0])

    def _bin(op):  # noqa: N805 - tiny factory for the arithmetic rules
        def rule(self, meta, c):
            return ast.BinOp(self._s(meta), op, c[0], c[1])
        return rule

    add, sub, mul, div, pow = _bin("+"), _bin("-"), _bin("*"), _bin("/"), _bin("^")

    def neg(self, meta, c):
        return ast.Neg(self._s(meta), c[0])

    def factor(self, meta, c):  # unary plus
        return c[0]

    def sum_over(self, meta, c):
        return ast.Sum(self._s(meta), c[0], c[1])

    def attr(self, meta, c):
        return ast.Attr(self._s(meta), c[0], str(c[1]))

    def index_expr(self, meta, c):
        return ast.Index(self._s(meta), c[0], tuple(c[1:]))

    def number(self, meta, c):
        return ast.Number(self._s(meta), _number(str(c[0])))

    def quantity(self, meta, c):
        text = str(c[0])
        m = _NUMBER_PREFIX.match(text)   # split "12.5e3 kW" / "5MW" into number and unit
        i = m.end() if m else 0
        return ast.Quantity(self._s(meta), _number(text[:i]), text[i:].strip())

    def string(self, meta, c):
        return ast.String(self._s(meta), _unquote(c[0]))

    def name(self, meta, c):
        return ast.Name(self._s(meta), str(c[0]))

    def func_call(self, meta, c):
        return ast.Call(self._s(meta), str(c[0]), tuple(x for x in c[1:] if x is not None))

    def if_expr(self, meta, c):
        return ast.IfExpr(self._s(meta), c[0], c[1], c[2])


def _unquote(tok) -> str:
    s = str(tok)
    if len(s) >= 2 and s[0] == s[-1] == '"':
        s = s[1:-1]
    return s.encode("utf-8").decode("unicode_escape") if "\\" in s else s


def _expected(tokens) -> str:
    names = sorted({_TOKEN_NAMES.get(t, f"`{t.lower()}`" if t.isupper() and not t.startswith("__") else t)
                    for t in tokens if not t.startswith("__")})
    if not names:
        return ""
    if len(names) > 8:
        names = names[:8] + ["..."]
    return "expected " + ", ".join(names)


def _syntax_diagnostic(exc: lark.exceptions.LarkError, file: str, text: str) -> Diagnostic:
    if isinstance(exc, lark.exceptions.UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            lines = text.splitlines() or [""]
            line = max(1, len(lines))
            col = len(lines[-1]) + 1 if lines else 1
            return error("GAT0003", "unexpected end of file", Span(file, line, max(1, col - 1), line, col),
                         help=_expected(exc.expected) or "a block or statement is not finished; check for a missing `}`")
        found = f"`{tok}`" if tok.type not in ("NAME", "NUMBER", "QUANTITY", "STRING") else f"{_TOKEN_NAMES.get(tok.type, tok.type)} `{tok}`"
        return error("GAT0001", f"unexpected {found}",
                     Span(file, tok.line, tok.column, tok.end_line, tok.end_column),
                     help=_expected(exc.expected))
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        ch = text[exc.pos_in_stream] if 0 <= exc.pos_in_stream < len(text) else "?"
        hint = "strings use double quotes" if ch == "'" else (
            "comments start with `#`" if ch in "/!%;" else "remove or quote this character")
        return error("GAT0002", f"unexpected character `{ch}`",
                     Span(file, exc.line, exc.column, exc.line, exc.column + 1), help=hint)
    return error("GAT0001", f"syntax error: {exc}", Span(file, 1, 1, 1, 2))


def parse_text(text: str, file: str, sink: DiagnosticSink) -> ast.Module | None:
    """Parse one file's text; on a syntax error, report it and return None."""
    try:
        tree = _parser().parse(text)
    except lark.exceptions.UnexpectedInput as exc:
        sink.add(_syntax_diagnostic(exc, file, text))
        return None
    except lark.exceptions.LarkError as exc:  # pragma: no cover - defensive
        sink.add(_syntax_diagnostic(exc, file, text))
        return None
    try:
        return _ToAst(file).transform(tree)
    except lark.exceptions.VisitError as exc:  # a literal the transformer could not read
        orig = exc.orig_exc
        sink.error("GAT0004", f"malformed literal: {orig}", _span(file, exc.obj.meta) if hasattr(exc.obj, "meta") else None,
                   help="numbers look like 12, 0.5 or 1e-3; units follow them, e.g. `5 MW`")
        return None


def parse_file(path: Path, sink: DiagnosticSink, span: Span | None = None) -> tuple[ast.Module | None, str]:
    """Read and parse a `.gat` file; a missing or unreadable file is GAT0501."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        sink.error("GAT0501", f"file not found: {path}", span, help="paths are relative to the study file")
        return None, ""
    except (OSError, UnicodeDecodeError) as exc:
        sink.error("GAT0501", f"cannot read {path}: {exc}", span)
        return None, ""
    return parse_text(text, str(path), sink), text

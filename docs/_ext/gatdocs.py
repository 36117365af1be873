"""Sphinx extension: the parts of the gatlang docs generated from the code at build time.

Why generate: the attribute table, the unit table, the run kinds, the
built-in functions and the diagnostics index each have one source of truth
in the code (entities.py, units.py, registry.py, check.py, explain/*.md).
Generating the pages from them keeps the documentation true as the code
changes, and a page written by another engineer (a new explain page, the
run.json notes) appears without touching the docs.

Directives (each produces reST that Sphinx then parses as usual):

``.. gat-markdown:: PATH``   Markdown file converted by :mod:`md2rst`
                             (options ``:optional:``, ``:heading-offset:``,
                             ``:drop-title:``)
``.. gat-diagnostics::``     one section per gatlang/explain/GAT*.md
``.. gat-entities::``        network sets, scalars and element attributes
``.. gat-units::``           the closed unit table and common compounds
``.. gat-run-kinds::``       run kinds and their options
``.. gat-functions::``       built-in functions and variable domains
``.. gat-scenario-options::`` options a scenario may set
``.. gat-importers::``       network importers and table readers
``.. gat-features::``        network features formulations declare
``.. gat-expect::``          results an ``expect`` can check
``.. gat-keywords::``        the reserved words of the grammar
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

import md2rst
from gatgrammar import ROOT, keywords
from gatlexer import GatLexer


# ---------------------------------------------------------------- reST builders

def _lit(text: str) -> str:
    """Inline literal that survives any content (attribute docs hold backticks)."""
    text = str(text).replace("`", "")
    return f"``{text}``" if text.strip() else "\\ "


def list_table(header: Iterable[str], rows: Iterable[Iterable[str]], widths: str | None = None) -> list[str]:
    out = [".. list-table::", "   :header-rows: 1"]
    if widths:
        out.append(f"   :widths: {widths}")
    out.append("")
    for row in [list(header)] + [list(r) for r in rows]:
        for i, cell in enumerate(row):
            out.append(("   * - " if i == 0 else "     - ") + (cell or "\\ "))
    return out + [""]


def _text(doc: str) -> str:
    """Code docstrings use `x` for code; make them reST-safe inline text."""
    return md2rst.inline(doc)


def entities_rst() -> list[str]:
    from gatlang.semantics.entities import ENTITY_ATTRS, NETWORK_SCALARS, NETWORK_SET_DOCS, NETWORK_SETS
    out = ["Network sets", md2rst.LEVELS[2] * 12, ""]
    out += list_table(["set", "elements", "meaning"],
                      [[_lit(n), kind, _text(NETWORK_SET_DOCS.get(n, ""))] for n, kind in NETWORK_SETS.items()])
    out += ["Network scalars", md2rst.LEVELS[2] * 15, ""]
    out += list_table(["name", "unit", "meaning"],
                      [[_lit(n), _lit(s.unit), _text(s.doc)] for n, s in NETWORK_SCALARS.items()])
    for kind, attrs in ENTITY_ATTRS.items():
        title = f"Attributes of a {kind}"
        out += [title, md2rst.LEVELS[2] * len(title), ""]
        rows = []
        for a in attrs.values():
            what = {"number": _lit(a.unit) if a.unit else "number",
                    "entity": f"a {a.kind}", "set": f"set of {a.kind}s"}[a.type]
            rows.append([_lit(a.name), what, _text(a.doc)])
        out += list_table(["attribute", "unit or type", "meaning"], rows, "15 20 65")
    return out


def units_rst() -> list[str]:
    from gatlang.semantics.units import COMMON_COMPOUNDS, table_rows
    rows = [[_text(dim), _text(names), _lit(value), _lit(canon)] for dim, names, value, canon in table_rows()]
    out = list_table(["dimension", "unit names", "value", "canonical unit"], rows)
    out += ["Compound units commonly written in studies: "
            + ", ".join(_lit(c) for c in COMMON_COMPOUNDS) + ".", ""]
    return out


def options_table(options: Iterable) -> list[str]:
    """Options of a run kind or a scenario (gatlang.workflows.registry.OptionSpec)."""
    rows = []
    for o in options:
        extra = []
        if o.choices:
            extra.append("one of " + ", ".join(_lit(c) for c in o.choices))
        if o.default is not None:
            extra.append(f"default {_lit(o.default)}")
        rows.append([_lit(o.name), o.type, _text(o.doc) + (" (" + "; ".join(extra) + ")" if extra else "")])
    return list_table(["option", "value", "meaning"], rows, "20 12 68")


def run_kinds_rst() -> list[str]:
    from gatlang.workflows.registry import RUN_KINDS
    out: list[str] = []
    for kind in RUN_KINDS.values():
        title = f"run {kind.name}"
        out += [title, md2rst.LEVELS[2] * len(title), ""]
        status = "implemented" if kind.implemented else "not implemented yet (GAT0405)"
        out += [f"{_text(kind.doc).capitalize()}. Status: {status}."]
        if kind.problem:
            out += ["", f"A formulation used here must declare ``problem {kind.problem}``."]
        out.append("")
        out += options_table(kind.options.values())
    return out


def scenario_options_rst() -> list[str]:
    from gatlang.semantics.resolve import SCENARIO_OPTIONS
    return options_table(SCENARIO_OPTIONS.values())


def importers_rst() -> list[str]:
    from gatlang.network.importers import IMPORTERS
    from gatlang.semantics.resolve import TABLE_READERS
    rows = []
    for spec in IMPORTERS.values():
        opts = "; ".join(f"{_lit(n)}: {_text(o.doc)} (default {_lit(o.default)})" for n, o in spec.options.items())
        rows.append([_lit(spec.name + "(...)"), _text(spec.description), opts or "none"])
    out = list_table(["network importer", "reads", "named options"], rows, "18 42 40")
    out += ["Table readers (``table NAME = READER(\"file\")``): "
            + ", ".join(_lit(r) for r in TABLE_READERS) + ".", ""]
    return out


def features_rst() -> list[str]:
    from gatlang.semantics.capabilities import FEATURES
    return list_table(["feature", "recognised when"], [[_lit(n), _text(d)] for n, d in FEATURES.items()])


def formulations_rst() -> list[str]:
    """One section per stdlib formulation: its title, clauses, named objectives and header comment.

    Read from the stdlib files themselves (parsed by gatlang), so the page is what the
    compiler sees, and each formulation's references and approximations come from the
    comment its author wrote above it.
    """
    from gatlang.diagnostics import DiagnosticSink
    from gatlang.resources import stdlib_dir
    from gatlang.semantics.capabilities import of as capabilities_of
    from gatlang.syntax import ast
    from gatlang.syntax.parser import parse_text

    out: list[str] = []
    for path in sorted(stdlib_dir().glob("*.gat")):
        text = path.read_text(encoding="utf-8")
        module = parse_text(text, str(path), DiagnosticSink())
        forms = [i for i in (module.items if module else ()) if isinstance(i, ast.FormulationDecl)]
        for form in forms:
            caps = capabilities_of(form)
            objectives = [i.name for i in form.items if isinstance(i, ast.ObjectiveDecl)]
            header = []
            for line in text.splitlines():
                if not line.startswith("#"):
                    break
                header.append(line[1:].removeprefix(" "))
            title = f"``{form.name}`` -- {form.title or ''}".rstrip(" -")
            out += [title, md2rst.LEVELS[1] * len(title), ""]
            rows = [["is", ", ".join(caps.properties) or "-"], ["problem", ", ".join(caps.problems) or "-"],
                    ["requires", ", ".join(caps.requires) or "-"], ["supports", ", ".join(caps.supports) or "-"],
                    ["ignores", ", ".join(caps.ignores) or "-"],
                    ["objectives", ", ".join(_lit(o) for o in objectives) or "-"],
                    ["file", _lit(f"stdlib/{path.name}")]]
            out += list_table(["", ""], rows, "20 80")
            if header:
                out += ["::", ""] + [f"   {h}" for h in header] + [""]
    return out


def overrides_rst() -> list[str]:
    from gatlang.semantics.overrides import OVERRIDABLE
    def unit(u: str | None) -> str:
        return "true/false" if u is None else (u or "number")
    rows = [[_lit(kind), ", ".join(f"{_lit(n)} ({unit(f.unit)}): {_text(f.doc)}" for n, f in spec.fields.items())]
            for kind, spec in OVERRIDABLE.items()]
    return list_table(["kind", "fields (unit): meaning"], rows, "15 85")


def expect_rst() -> list[str]:
    from gatlang.expect import DEFAULT_RELATIVE
    from gatlang.semantics.resolve import EXPECT_ATTRS
    return [f"Results an ``expect`` can check: {', '.join(_lit(a) for a in EXPECT_ATTRS)}. "
            f"Without ``within``, ``~=`` allows a relative difference of {DEFAULT_RELATIVE:g}.", ""]


def functions_rst() -> list[str]:
    from gatlang.semantics.check import FUNCTIONS, VAR_KINDS
    rows = [[_lit(f), "any number" if n < 0 else str(n)] for f, n in FUNCTIONS.items()]
    out = list_table(["function", "arguments"], rows)
    out += ["Variable domains (``var x in DOMAIN``): " + ", ".join(_lit(k) for k in VAR_KINDS) + ".", ""]
    return out


def keywords_rst() -> list[str]:
    return [", ".join(_lit(k) for k in keywords()), ""]


def diagnostics_rst() -> list[str]:
    """One section per explain page, in code order; the page's first heading is its title."""
    from gatlang.diagnostics import EXPLAIN_DIR, all_codes
    out: list[str] = []
    for page in all_codes():
        title = f"{page.code} {page.name}"
        out += [f".. _{page.code.lower()}:", "", title, md2rst.LEVELS[1] * len(title), ""]
        body = md2rst.convert(page.text, md2rst.Options(heading_offset=1, drop_title=True))
        out += body.splitlines() + [""]
    if not out:
        out = [f"No explain pages found in {EXPLAIN_DIR}.", ""]
    return out


# ---------------------------------------------------------------- directives

class _Generated(SphinxDirective):
    """A directive whose content is reST produced by a function of the code.

    Subclasses (made by :func:`_make`) set ``produce`` and the source files it
    reads (``watch``), which are recorded as dependencies so that editing them
    rebuilds the page.
    """

    produce: Callable[[], list[str]]
    watch: tuple[Path, ...] = ()
    has_content = False

    def run(self) -> list[nodes.Node]:
        for path in self.watch:
            for dep in (sorted(path.glob("*")) if path.is_dir() else [path]):
                self.env.note_dependency(str(dep))
        container = nodes.container()
        source = self.get_source_info()[0]
        nested_parse_with_titles(self.state, StringList(type(self).produce(), source=source), container)
        return container.children


def _make(fn: Callable[[], list[str]], watch: Iterable[str]) -> type[_Generated]:
    return type(f"Gen_{fn.__name__}", (_Generated,),
                {"produce": staticmethod(fn), "watch": tuple(ROOT / w for w in watch)})


class MarkdownInclude(SphinxDirective):
    """Include a Markdown file (converted to reST); with ``:optional:``, tolerate absence."""

    required_arguments = 1
    option_spec = {"optional": directives.flag, "heading-offset": directives.nonnegative_int,
                   "drop-title": directives.flag}

    def run(self) -> list[nodes.Node]:
        rel, path = self.env.relfn2path(self.arguments[0])
        if not Path(path).exists():
            if "optional" in self.options:
                para = nodes.paragraph(text=f"({self.arguments[0]} is not written yet.)")
                return [para]
            raise self.error(f"Markdown file not found: {path}")
        self.env.note_dependency(rel)
        text = Path(path).read_text(encoding="utf-8")
        opts = md2rst.Options(heading_offset=self.options.get("heading-offset", 0),
                              drop_title="drop-title" in self.options)
        container = nodes.container()
        lines = md2rst.convert(text, opts).splitlines()
        nested_parse_with_titles(self.state, StringList(lines, source=path), container)
        return container.children


def setup(app) -> dict:
    app.add_lexer("gat", GatLexer)
    app.add_directive("gat-markdown", MarkdownInclude)
    app.add_directive("gat-diagnostics", _make(diagnostics_rst, ["gatlang/explain"]))
    app.add_directive("gat-entities", _make(entities_rst, ["gatlang/semantics/entities.py"]))
    app.add_directive("gat-units", _make(units_rst, ["gatlang/semantics/units.py"]))
    app.add_directive("gat-run-kinds", _make(run_kinds_rst, ["gatlang/workflows/registry.py"]))
    app.add_directive("gat-functions", _make(functions_rst, ["gatlang/semantics/check.py"]))
    app.add_directive("gat-scenario-options", _make(scenario_options_rst, ["gatlang/semantics/resolve.py"]))
    app.add_directive("gat-importers", _make(importers_rst, ["gatlang/network/importers.py"]))
    app.add_directive("gat-features", _make(features_rst, ["gatlang/semantics/capabilities.py"]))
    app.add_directive("gat-expect", _make(expect_rst, ["gatlang/expect.py", "gatlang/semantics/resolve.py"]))
    app.add_directive("gat-keywords", _make(keywords_rst, ["grammar/gat.lark"]))
    app.add_directive("gat-formulations", _make(formulations_rst, ["stdlib"]))
    app.add_directive("gat-overrides", _make(overrides_rst, ["gatlang/semantics/overrides.py"]))
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

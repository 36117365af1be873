"""A small Markdown -> reStructuredText converter for the project's own Markdown.

Why not MyST: the documentation must build with Sphinx alone (the only docs
dependency), while the explain pages (gatlang/explain/*.md, printed by
`gatc explain`) and some design notes (docs/*.md, owned by other engineers) are
Markdown.  They use a small, regular subset, which this module converts:
ATX headings, paragraphs, fenced code blocks, bullet and numbered lists
(with indented continuation lines), pipe tables, inline code, bold,
emphasis and links.  Anything else passes through as text, escaped so that
it cannot be read as reST markup.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

#: Underline characters of reST section levels, shared by every page of the docs
#: (page title, section, subsection, ...), so included Markdown nests correctly.
LEVELS = "=-~^\""

_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_INLINE = re.compile(r"(?P<code>`+)(?P<codetext>.+?)(?P=code)"
                     r"|\*\*(?P<bold>[^*]+?)\*\*"
                     r"|(?<![\w*])\*(?P<em>[^*\s][^*]*?)\*(?![\w*])"
                     r"|\[(?P<ltext>[^\]]+)\]\((?P<url>[^)\s]+)\)")


@dataclass(frozen=True)
class Options:
    heading_offset: int = 0      # add to every heading level (1: `#` becomes a section)
    drop_title: bool = False     # drop the first `#` heading (the page supplies its own)
    known_lexers: frozenset[str] = frozenset({"gat", "text", "python", "bash", "console",
                                               "json", "toml", "lark"})


def _escape(text: str) -> str:
    """Plain text made inert for reST: backslashes, `*`, `|`, `` ` `` and trailing `_`."""
    text = text.replace("\\", "\\\\")
    text = re.sub(r"([*|`])", r"\\\1", text)
    return re.sub(r"(\w)_(?=\W|$)", r"\1\\_", text)


def _boundary(before: str, after: str, piece: str) -> str:
    """Inline markup must touch whitespace or punctuation: add escaped spaces if not."""
    pre = "\\ " if before and (before[-1].isalnum() or before[-1] in "`*_") else ""
    post = "\\ " if after and (after[0].isalnum() or after[0] in "`*_") else ""
    return pre + piece + post


def inline(text: str) -> str:
    """Convert the inline Markdown of one line (or table cell) to reST."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(_escape(text[pos:m.start()]))
        if m.group("code"):
            body = m.group("codetext").strip() or " "
            piece = f"``{body}``" if "``" not in body else ":literal:`" + body.replace("`", "\\`") + "`"
        elif m.group("bold"):
            piece = f"**{_escape(m.group('bold'))}**"
        elif m.group("em"):
            piece = f"*{_escape(m.group('em'))}*"
        else:
            label = m.group("ltext").replace("`", "").replace("<", "").strip()
            piece = f"`{label} <{m.group('url')}>`__"
        out.append(_boundary(text[:m.start()], text[m.end():], piece))
        pos = m.end()
    out.append(_escape(text[pos:]))
    return "".join(out)


def _cells(row: str) -> list[str]:
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)]


def _table(rows: list[str]) -> list[str]:
    header, body = _cells(rows[0]), [_cells(r) for r in rows[2:]]
    width = len(header)
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header] + body:
        row = (row + [""] * width)[:width]
        for i, cell in enumerate(row):
            out.append(("   * - " if i == 0 else "     - ") + (inline(cell) or "\\ "))
    return out + [""]


def convert(md: str, options: Options = Options()) -> str:
    """Markdown text -> reST text (see the module docstring for the subset)."""
    lines = md.splitlines()
    out: list[str] = []
    i, dropped = 0, False
    list_indent: int | None = None     # content indent of the current list item
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            indent, mark, lang = fence.groups()
            if list_indent is not None and len(indent) < list_indent:
                list_indent = None       # a fence at the margin ends the list
            lang = lang if lang in options.known_lexers else "text"
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(mark):
                body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                i += 1
            i += 1
            pad = " " * (list_indent or 0)
            out += ["", f"{pad}.. code-block:: {lang}", ""]
            out += [f"{pad}   {b}" if b.strip() else "" for b in body] or [f"{pad}   "]
            out.append("")
            continue
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if options.drop_title and level == 1 and not dropped:
                dropped = True
                i += 1
                continue
            title = inline(heading.group(2))
            char = LEVELS[min(level - 1 + options.heading_offset, len(LEVELS) - 1)]
            out += ["", title, char * max(len(title), 4), ""]
            list_indent = None
            i += 1
            continue
        if "|" in line and i + 1 < len(lines) and _TABLE_SEP.match(lines[i + 1]):
            rows = [line, lines[i + 1]]
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(lines[i])
                i += 1
            out += [""] + _table(rows)
            list_indent = None
            continue
        bullet = _BULLET.match(line)
        if bullet:
            indent, mark, text = bullet.groups()
            rst_mark = "-" if mark in "-*+" else "#."
            if list_indent is None and out and out[-1].strip():
                out.append("")           # a list must be separated from a paragraph
            pad = " " * len(indent)
            out.append(f"{pad}{rst_mark} {inline(text)}")
            list_indent = len(indent) + len(rst_mark) + 1
            i += 1
            continue
        if not line.strip():
            out.append("")
            i += 1
            continue
        if list_indent is not None and line.startswith(" "):
            out.append(" " * list_indent + inline(line.strip()))     # continuation of an item
        else:
            if list_indent is not None and out and out[-1].strip():
                out.append("")           # a paragraph after a list, without a blank line
            list_indent = None
            out.append(inline(line.strip()))
        i += 1
    return "\n".join(out).strip("\n") + "\n"


def first_heading(md: str) -> str | None:
    """The text of the first `#` heading (a page's title), or None."""
    for line in md.splitlines():
        m = _HEADING.match(line)
        if m and len(m.group(1)) == 1:
            return m.group(2)
    return None

"""The Markdown -> reST converter used to include explain pages and design notes.

Each case is checked by parsing the produced reST with docutils and looking
at the resulting document tree, so "converted correctly" means what a reader
sees, not a particular spelling of the reST.
"""
from __future__ import annotations

import sys
from pathlib import Path

import docutils.core
import docutils.utils
import pytest
from docutils import nodes

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "_ext"))
import md2rst  # noqa: E402


def _doctree(md: str) -> nodes.document:
    rst = md2rst.convert(md)
    settings = {"report_level": 2, "halt_level": 2, "warning_stream": False, "syntax_highlight": "none"}
    return docutils.core.publish_doctree(rst, settings_overrides=settings)


def _all(tree: nodes.Node, cls: type) -> list:
    return list(tree.findall(cls))


def test_inline_code_glued_to_words_stays_literal() -> None:
    tree = _doctree("Tables are `pyarrow.Table`s and `x`-values, see `gatc explain`.\n")
    assert [n.astext() for n in _all(tree, nodes.literal)] == ["pyarrow.Table", "x", "gatc explain"]
    assert "pyarrow.Tables and x-values" in tree.astext()


def test_markup_characters_in_text_are_literal() -> None:
    tree = _doctree("a | b * c and rate_ and back\\slash\n")
    assert tree.astext().strip() == "a | b * c and rate_ and back\\slash"


def test_headings_code_blocks_lists_and_tables() -> None:
    md = (
        "# Title\n\nIntro with **bold** and *em* and [a link](https://example.org).\n\n"
        "## Section\n\n- one\n  continued\n- two\n\n1. first\n2. second\n\n"
        "```gat\nparam x = 5 MW\n```\n\n"
        "| a | b |\n|---|---|\n| `x` | y |\n"
    )
    tree = _doctree(md)
    titles = [t.astext() for t in _all(tree, nodes.title)]
    assert titles[:2] == ["Title", "Section"]
    items = [i.astext() for i in _all(tree, nodes.list_item)]
    assert items[:2] == ["one\ncontinued", "two"] and items[2:4] == ["first", "second"]
    blocks = _all(tree, nodes.literal_block)
    assert blocks[0].astext() == "param x = 5 MW" and "gat" in blocks[0]["classes"] + [blocks[0].get("language")]
    assert _all(tree, nodes.strong)[0].astext() == "bold"
    assert _all(tree, nodes.emphasis)[0].astext() == "em"
    assert _all(tree, nodes.reference)[0]["refuri"] == "https://example.org"
    assert [e.astext() for e in _all(tree, nodes.entry)] == ["a", "b", "x", "y"]


def test_heading_offset_and_dropped_title() -> None:
    rst = md2rst.convert("# GAT0001 x\n\ntext\n\n## Example\n", md2rst.Options(heading_offset=1, drop_title=True))
    assert "GAT0001" not in rst
    assert "Example\n" + md2rst.LEVELS[2] * 7 in rst


def test_unknown_code_language_falls_back_to_text() -> None:
    assert ".. code-block:: text" in md2rst.convert("```cobol\nX\n```\n")


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[2] / "gatlang" / "explain").glob("GAT*.md")),
                         ids=lambda p: p.stem)
def test_every_explain_page_converts_without_warnings(path: Path) -> None:
    _doctree(path.read_text(encoding="utf-8"))

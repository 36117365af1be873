"""Sphinx configuration for the gatlang documentation.

Only Sphinx itself is needed (no MyST, no theme package): Markdown sources
are converted by the local extension in _ext/, which also generates the
reference tables from the code.  Build with

    sphinx-build -W -b html docs docs/_build/html
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))          # import gatlang from the checkout

import gatlang  # noqa: E402

project = "gatlang"
author = "the gatlang developers"
copyright = "the gatlang developers; BSD-3-Clause"
version = release = getattr(gatlang, "__version__", "0.1.0")

extensions = ["gatdocs"]
highlight_language = "gat"
pygments_style = "sphinx"
exclude_patterns = ["_build", "*.md", "_ext"]
templates_path: list[str] = []
html_theme = "alabaster"
html_static_path: list[str] = []
html_title = "gatlang documentation"
nitpicky = False

"""Progress: bars only on a terminal, notes as plain lines in logs, nothing when quiet."""
from __future__ import annotations

import io

from gatlang.runtime import Progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


NOTE = "skipped run dcp: unchanged since 2026-11-23 10:00 (use --force)"


def test_log_gets_notes_but_no_bars() -> None:
    log = io.StringIO()
    with Progress(file=log) as p:
        t = p.task("solving vvo", total=4)
        t.advance()
        t.advance(2)
        p.note(NOTE)
    assert not p.live
    assert log.getvalue() == NOTE + "\n"
    assert t.completed == 3 and t.total == 4


def test_quiet_prints_nothing_but_keeps_notes() -> None:
    term = FakeTerminal()
    with Progress(quiet=True, file=term) as p:
        p.task("solving", 2).advance()
        p.note(NOTE)
    assert term.getvalue() == ""
    assert p.notes == [NOTE]


def test_terminal_shows_bar_and_note(monkeypatch) -> None:
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    term = FakeTerminal()
    with Progress(file=term) as p:
        t = p.task("solving vvo", total=4)
        t.advance(4)
        t.update(description="solved vvo")
        p.note(NOTE)
    out = term.getvalue()
    assert p.live
    assert "solved vvo" in out and "4/4" in out
    assert NOTE in out


def test_square_brackets_in_notes_are_not_markup() -> None:
    log = io.StringIO()
    with Progress(file=log) as p:
        p.note("skipped run x [peak]: unchanged")
    assert log.getvalue() == "skipped run x [peak]: unchanged\n"

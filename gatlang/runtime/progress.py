"""Progress display for ``gatc run``: bars on a terminal, plain notes in logs, silence on request.

Why these rules: bars are for a person watching a terminal; in CI logs or when
stderr is redirected they turn into noise, so they appear only on a TTY.
Notes ("skipped run dcp: unchanged since ...") carry information a log reader
needs too, so they are printed as plain lines on any stderr unless
``quiet=True``.  Everything goes to stderr so that stdout stays parseable.
"""
from __future__ import annotations

import sys
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, SpinnerColumn, \
    TaskID, TextColumn, TimeElapsedColumn


class TaskHandle:
    """One progress bar; a no-op counter when the display is off."""

    def __init__(self, progress: RichProgress | None, task: TaskID | None, description: str,
                 total: float | None) -> None:
        self._progress, self._task = progress, task
        self.description, self.total, self.completed = description, total, 0.0

    def advance(self, n: float = 1) -> None:
        self.completed += n
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, n)

    def update(self, *, total: float | None = None, description: str | None = None) -> None:
        if total is not None:
            self.total = total
        if description is not None:
            self.description = description
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=self.total, description=self.description)


class Progress:
    """Context manager: ``with Progress() as p: t = p.task("solving", 4); t.advance()``."""

    def __init__(self, quiet: bool = False, file: IO[str] | None = None) -> None:
        stream = file if file is not None else sys.stderr
        self.quiet = quiet
        self.console = Console(file=stream, stderr=file is None, highlight=False, soft_wrap=True)
        self.live = not quiet and self.console.is_terminal
        self.notes: list[str] = []
        self.tasks: list[TaskHandle] = []
        self._rich: RichProgress | None = None

    def __enter__(self) -> "Progress":
        if self.live:
            self._rich = RichProgress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                      MofNCompleteColumn(), TimeElapsedColumn(),
                                      console=self.console, transient=False)
            self._rich.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None

    def task(self, description: str, total: float | None = None) -> TaskHandle:
        tid = self._rich.add_task(description, total=total) if self._rich is not None else None
        handle = TaskHandle(self._rich, tid, description, total)
        self.tasks.append(handle)
        return handle

    def note(self, message: str) -> None:
        """A line for the user (kept in :attr:`notes` even when quiet, for callers and tests)."""
        self.notes.append(message)
        if self.quiet:
            return
        if self._rich is not None:
            self._rich.console.print(message, markup=False, highlight=False)
        else:
            self.console.file.write(message + "\n")
            self.console.file.flush()

"""An advisory lock on a run folder, so two ``gatc run`` never interleave run.json writes.

Why ``flock``: the kernel drops the lock when the process dies, however it
dies, so a killed run never leaves a stale lock that a user must delete by hand.
On systems without ``fcntl`` the lock is a no-op (documented limitation).
"""
from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".gatc.lock"


class FolderLock:
    """Exclusive, non-blocking, per-process lock on ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> str | None:
        """Take the lock; return ``None`` on success or the holder's pid text when busy.

        Raises ``OSError`` when the lock file itself cannot be created.
        """
        if self._fd is not None:
            return None
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 64).decode("ascii", "replace").strip()
                os.close(fd)
                return holder or "unknown"
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode("ascii"))
        self._fd = fd
        return None

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

"""A run's output log on disk, capped: the head and the newest tail are kept, the middle is left out.

A run that prints without end must not fill the agent's disk. ``CappedLog`` writes the output as it
comes until the file reaches its limit (``SWEEPKIT_LOG_MAX_BYTES``, 10 MB by default); from then on it
keeps the first quarter of the limit (where start-up errors are) and the newest half (where the end
of the run is), with one line in between saying how many bytes were left out. The console still
gets every byte. A write the disk refuses (full) ends the file there, said once through ``on_error``:
the output still reaches the console and the store, and the agent goes on. ``last_lines`` reads the end of a log for failure messages.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

_MARKER = "\n[sweepkit: {:>20} bytes of output left out here (limit: SWEEPKIT_LOG_MAX_BYTES)]\n"


class CappedLog:
    """An output file of at most about ``limit`` bytes (see the module docstring)."""

    def __init__(self, path: Path, limit: int, on_error: Callable[[OSError], None] | None = None) -> None:
        self._file = open(path, "w+b")  # noqa: SIM115 - closed by close()
        self._on_error = on_error or (lambda exc: None)
        #: The write the disk refused (the file ends there), or None.
        self.error: OSError | None = None
        self._head_room = max(1, limit // 4)
        self._tail_keep = max(1, limit // 2)
        self._tail_room = max(1, limit - self._head_room - len(_MARKER.format(0)))
        self._head = 0  # bytes of head written
        self._tail_start: int | None = None  # where the tail begins, once something was left out
        self._tail = 0  # bytes after the head (or after the marker)
        #: Bytes left out so far.
        self.omitted = 0

    def write(self, chunk: bytes) -> None:
        if self.error is not None:
            return
        try:
            self._write(chunk)
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        if self.error is None:
            self.error = exc
            self._on_error(exc)

    def _write(self, chunk: bytes) -> None:
        if self._head < self._head_room:
            part = chunk[: self._head_room - self._head]
            self._file.write(part)
            self._head += len(part)
            chunk = chunk[len(part) :]
        if not chunk:
            return
        self._file.write(chunk)
        self._tail += len(chunk)
        if self._tail > self._tail_room:
            self._leave_out_the_middle()

    def _leave_out_the_middle(self) -> None:
        """Keep the newest ``tail_keep`` bytes after the head, and say how much went."""
        f = self._file
        start = self._head if self._tail_start is None else self._tail_start
        f.flush()
        f.seek(start + self._tail - self._tail_keep)
        kept = f.read(self._tail_keep)
        self.omitted += self._tail - len(kept)
        f.seek(self._head)
        f.write(_MARKER.format(self.omitted).encode())
        self._tail_start = f.tell()
        f.write(kept)
        f.truncate()
        self._tail = len(kept)

    def flush(self) -> None:
        if self.error is None:
            try:
                self._file.flush()
            except OSError as exc:
                self._failed(exc)

    def close(self) -> None:
        try:
            self._file.close()
        except OSError as exc:
            self._failed(exc)


def last_lines(path: Path, count: int = 10, *, max_bytes: int = 4096, width: int = 300) -> list[str]:
    """The last ``count`` non-blank lines of the file (each cut to ``width`` characters); [] if unreadable."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except OSError:
        return []
    lines = [line.rstrip() for line in data.decode("utf-8", errors="replace").splitlines()]
    if size > max_bytes and lines:
        lines = lines[1:]  # the first one is probably cut
    lines = [line if len(line) <= width else line[: width - 3] + "..." for line in lines if line.strip()]
    return lines[-count:]

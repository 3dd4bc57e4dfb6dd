"""The output of runs running side by side, on one console: whole lines, each prefixed with its run.

Runs print in chunks that may end mid-line; ``PrefixedLines`` keeps a run's unfinished line until
its end arrives (or the run ends, or it grows past ``MAX_PARTIAL`` bytes: a progress bar redrawn
with carriage returns never ends its line) and writes each whole line with the run's prefix, under one lock
for the whole process, so that lines of different runs never mix.
"""

from __future__ import annotations

import sys
import threading

#: Bytes of an unfinished line kept at most; beyond, it is written as a line of its own.
MAX_PARTIAL = 8192
_CONSOLE_LOCK = threading.Lock()


class PrefixedLines:
    """One run's output to the agent's standard output, line by line, each line after ``prefix``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.encode()
        self._partial = b""

    def write(self, chunk: bytes) -> None:
        data = self._partial + chunk
        cut = data.rfind(b"\n") + 1
        self._partial = data[cut:]
        if len(self._partial) > MAX_PARTIAL:
            data += b"\n"
            self._partial, cut = b"", len(data)
        if cut:
            self._emit(data[:cut])

    def close(self) -> None:
        """Write the run's last line even if it did not end with a newline."""
        if self._partial:
            self._emit(self._partial + b"\n")
            self._partial = b""

    def _emit(self, lines: bytes) -> None:
        """Write ``lines`` (ending with a newline), each after the prefix."""
        echo(b"".join(self.prefix + line + b"\n" for line in lines.split(b"\n")[:-1]))


def echo(data: bytes) -> None:
    """Write ``data`` to the agent's standard output whole, under the console's lock; a closed or
    broken standard output loses it quietly (the run's output log keeps it)."""
    with _CONSOLE_LOCK:
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except (ValueError, OSError):
            pass

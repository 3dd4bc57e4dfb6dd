"""How a program run reports to its agent: one JSON object per line, appended to a file the agent reads.

A run process holds no credentials and opens no database: ``sweepkit.init()`` inside a program run
appends events to the file named by ``SWEEPKIT_EVENTS_FILE``, and the agent tails it and reports to
the sweep service. A file, unlike a pipe or socket, keeps every value when either side stops
unexpectedly, and any language can write it. Events (key ``"k"``):

- ``{"k": "row", "row": {..., "_step": n}}``: one committed history row;
- ``{"k": "summary", "values": {...}}``: summary values the program set itself;
- ``{"k": "config", "config": {...}}``: ``run.config`` as the program now sees it;
- ``{"k": "name", "name": "..."}``: the run's new name;
- ``{"k": "finish", "exit_code": 0}``: the program called ``finish()``.

The agent asks a run to stop by writing the reason into ``stop`` beside the events file before it
sends SIGTERM; ``run.should_stop`` looks for it.

A writer that cannot append (its disk is full) keeps its events and appends them, whole lines, once
it can; if it must end first, it prints one line to its output (which reaches the agent through a
pipe, not the disk): ``sweepkit: N logged values could not be written to the events file: WHY``
(``lost_line``); the agent reads it (``lost_values``) and the run fails saying so.

Lines are strict JSON (``sweepkit.values.dumps``): NaN and the infinities are written as the texts
"NaN", "Infinity" and "-Infinity", which stand for those floats in rows and summaries (lines with
the bare tokens, from older writers or other programs, are read too).

Pure standard library: this module is imported by every program run.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sweepkit.values import dumps, logged_data, may_hold_nonfinite

STOP_FILE = "stop"


_LOST = "sweepkit: {} logged values could not be written to the events file: {}"
_LOST_RE = re.compile(r"sweepkit: (\d+) logged values could not be written to the events file: ([^\n]*)")


def lost_line(count: int, why: str) -> str:
    """The line a run prints when ``count`` logged values never reached its events file."""
    return _LOST.format(count, why)


def lost_values(text: str) -> list[tuple[int, str]]:
    """``(count, why)`` of each ``lost_line`` in a run's output."""
    return [(int(m.group(1)), m.group(2).strip()) for m in _LOST_RE.finditer(text)]


def encode(event: dict[str, Any]) -> str:
    """One event as one line of strict JSON (NaN and the infinities as the texts "NaN",
    "Infinity", "-Infinity", as everywhere in sweepkit)."""
    return dumps(event, ascii=True) + "\n"


def stop_path(events_path: str | os.PathLike[str]) -> Path:
    return Path(events_path).with_name(STOP_FILE)


class EventTail:
    """Reads the events appended to a file since the last read (complete lines only).

    A line that is not a JSON object is reported once through ``on_bad_line(number, text)`` and
    skipped; reading goes on.
    """

    def __init__(self, path: str | os.PathLike[str], on_bad_line: Callable[[int, str], None] | None = None):
        self.path = Path(path)
        self._file = None
        self._partial = b""
        self._line = 0
        self._on_bad_line = on_bad_line or (lambda number, text: None)

    def read(self) -> list[dict[str, Any]]:
        """Every complete event appended since the previous call."""
        return [event for _number, event in self.read_numbered()]

    def read_rest(self) -> list[dict[str, Any]]:
        """What ``read`` returns, plus a last line that has no newline (the writer has stopped)."""
        return [event for _number, event in self.read_numbered(rest=True)]

    def read_numbered(self, rest: bool = False) -> list[tuple[int, dict[str, Any]]]:
        """``(line number, event)`` of every complete line appended since the previous call; with
        ``rest``, also a last line that has no newline."""
        events = []
        if self._file is None:
            try:
                self._file = open(self.path, "rb")  # noqa: SIM115 - kept open across reads
            except FileNotFoundError:
                return events
        data = self._file.read()
        if data:
            lines = (self._partial + data).split(b"\n")
            self._partial = lines.pop()
            events = list(self._parse(lines))
        if rest and self._partial:
            last, self._partial = self._partial, b""
            events += list(self._parse([last]))
        return events

    def _parse(self, lines: Iterable[bytes]):
        for raw in lines:
            self._line += 1
            if not raw.strip():
                continue
            try:
                event = json.loads(raw)
            except ValueError:
                event = None
            if not isinstance(event, dict):
                self._on_bad_line(self._line, raw.decode("utf-8", "replace")[:200])
                continue
            if event.get("k") != "config" and may_hold_nonfinite(raw):
                event = logged_data(event)  # logged data: "NaN" stands for the float (a config keeps it)
            yield self._line, event

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

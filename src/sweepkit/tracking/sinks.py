"""Where a run's reports go: to its agent through the events file, or to the sweep service directly.

- ``EventFileSink``: a program run started by an agent. Events are buffered and appended to the
  file named by ``SWEEPKIT_EVENTS_FILE`` by a background thread (every 0.2 s, and at finish, exit or
  SIGTERM); the agent reads the file. No credentials, no database, nothing heavy imported.
- ``ServiceSink``: a function run inside an agent's process, or a run started outside any agent:
  a ``RunReporter`` batches to the service in the background.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from sweepkit import run_events

#: Seconds between the writes of buffered events to the events file.
WRITE_INTERVAL_S = 0.2
#: Seconds between looks for the agent's stop file.
STOP_CHECK_S = 0.1


class RunSink(ABC):
    """What a ``Run`` reports to (see the module docstring)."""

    @abstractmethod
    def rows(self, rows: list[dict[str, Any]]) -> None: ...

    @abstractmethod
    def summary(self, values: Mapping[str, Any]) -> None: ...

    @abstractmethod
    def config(self, config: Mapping[str, Any]) -> None: ...

    @abstractmethod
    def name(self, name: str) -> None: ...

    @abstractmethod
    def stop_reason(self) -> str | None:
        """Why the sweep asked this run to stop, or None."""

    @abstractmethod
    def flush(self) -> None:
        """Send everything reported so far (returns once it is written or stored)."""

    @abstractmethod
    def finish(self, exit_code: int) -> None:
        """The run is over: flush, and close."""

    def drain(self) -> None:  # noqa: B027 - most sinks have nothing more to do
        """The process is ending: what could not be written yet gets its last chance, or is said."""


class EventFileSink(RunSink):
    """Appends events to the agent's events file (see ``sweepkit.run_events``).

    A write the disk refuses (full) keeps every event: what was not written, from the first byte the
    file did not take, is written again every ``WRITE_INTERVAL_S``, so that the file only ever holds
    whole lines, in order. At the run's end it waits up to ``SWEEPKIT_STORE_RETRY`` seconds for space;
    what still could not be written is said in one line on stderr, which the agent reads.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = str(path)
        self._fd: int | None = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._stop_path = run_events.stop_path(path)
        self._lines: list[str] = []
        self._unwritten = b""  # bytes the file did not take yet (whole lines, maybe minus a head)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False
        self._stop: str | None = None
        self._next_stop_check = 0.0
        self._write_error: OSError | None = None
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sweepkit-events", daemon=True)
        self._thread.start()

    def _add(self, event: dict[str, Any]) -> None:
        line = run_events.encode(event)
        with self._lock:
            self._lines.append(line)

    def rows(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._add({"k": "row", "row": row})

    def summary(self, values: Mapping[str, Any]) -> None:
        self._add({"k": "summary", "values": dict(values)})

    def config(self, config: Mapping[str, Any]) -> None:
        self._add({"k": "config", "config": dict(config)})

    def name(self, name: str) -> None:
        self._add({"k": "name", "name": name})

    def stop_reason(self) -> str | None:
        if self._stop is None:
            now = time.monotonic()
            if now >= self._next_stop_check:
                self._next_stop_check = now + STOP_CHECK_S
                try:
                    self._stop = self._stop_path.read_text(encoding="utf-8").strip() or "stop requested"
                except OSError:
                    pass
        return self._stop

    def flush(self) -> None:
        """Write what is buffered; a disk that refuses keeps it for the next try (never raises)."""
        with self._lock:
            lines, self._lines = self._lines, []
        with self._write_lock:
            if self._closed:
                return
            if lines:
                text = "".join(lines)
                self._unwritten += text.encode("utf-8")
            while self._unwritten and self._fd is not None:
                try:
                    written = os.write(self._fd, self._unwritten)
                except OSError as exc:
                    if self._write_error is None:
                        _say(
                            f"cannot write the events file {self._path} ({exc.strerror or exc}); the logged "
                            "values wait in memory and are written once it can take them"
                        )
                    self._write_error = exc
                    return
                self._unwritten = self._unwritten[written:]
            if self._write_error is not None and not self._unwritten:
                self._write_error = None
                _say(f"the events file {self._path} takes the waiting values again")

    def finish(self, exit_code: int) -> None:
        self._add({"k": "finish", "exit_code": int(exit_code)})
        self.drain()

    def drain(self) -> None:
        from sweepkit import env, shutdown

        if self._closed:
            return
        self.flush()
        deadline = time.monotonic() + env.store_retry_s()
        while self._unwritten and time.monotonic() < deadline and not shutdown.wait(WRITE_INTERVAL_S):
            self.flush()
        with self._write_lock:
            if self._unwritten:
                reason = self._write_error.strerror if self._write_error is not None else "not written"
                lines = self._unwritten.decode("utf-8", "replace").split("\n")
                count = max(1, sum(_values_of_line(line) for line in lines))
                print(run_events.lost_line(count, str(reason)), file=sys.stderr, flush=True)
            self._closed = True
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
        self._wake.set()

    def _loop(self) -> None:
        while not self._wake.wait(WRITE_INTERVAL_S):
            self.flush()


def _values_of_line(line: str) -> int:
    """The logged values an events line carries (a row's keys but ``_step`` and the like)."""
    if not line.startswith('{"k":"row"'):
        return 0
    import json

    try:
        row = json.loads(line)["row"]
    except (ValueError, KeyError, TypeError):
        return 1
    return sum(1 for key in row if not str(key).startswith("_"))


def _say(message: str) -> None:
    print(f"sweepkit: {message}", file=sys.stderr, flush=True)


class ServiceSink(RunSink):
    """Reports through a ``RunReporter`` to the service; ``standalone`` runs also end themselves."""

    def __init__(self, reporter: Any, *, service: Any = None, standalone: bool = False) -> None:
        self._reporter = reporter
        self._service = service
        self._standalone = standalone

    def rows(self, rows: list[dict[str, Any]]) -> None:
        self._reporter.add_rows(rows)

    def summary(self, values: Mapping[str, Any]) -> None:
        self._reporter.set_summary(values)

    def config(self, config: Mapping[str, Any]) -> None:
        self._reporter.set_config(config)

    def name(self, name: str) -> None:
        self._reporter.set_name(name)

    def stop_reason(self) -> str | None:
        return self._reporter.stop_reason

    def flush(self) -> None:
        self._reporter.flush()

    def finish(self, exit_code: int) -> None:
        if not self._standalone:
            self._reporter.flush()
            return
        from sweepkit import env
        from sweepkit.runs import RunState

        stored = self._reporter.close(timeout=env.store_retry_s())
        state = RunState.FINISHED if exit_code == 0 else RunState.FAILED
        error = (
            None
            if stored or self._reporter.fatal is None
            else f"its values could not be stored: {self._reporter.fatal}"
        )
        state, error = self._reporter.ended(state, error)
        self._service.finish_run(self._reporter.run_id, state, exit_code=exit_code, error=error)
        self._service.close()

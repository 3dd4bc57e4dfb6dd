"""``RunReporter``: a run's rows, summary, config and name, batched to the sweep service in the background.

Adding costs a list append under a lock. One sender thread per process (shared by every reporter,
started on first use) sends what a run has gathered as one ``LogBatch`` as soon as there is
something (at most every ``min_interval_s`` per run), so logging never waits for the store;
``flush()`` sends what is left from the caller's own thread. Each batch carries the next sequence
number: a batch sent again after a lost answer is stored once. While the store is busy, unreachable
or full the same batch is retried, with backoff, for as long as it takes, and nothing is dropped
silently: rows waiting are held in memory up to ``SWEEPKIT_HELD_ROWS`` (100000), then appended to
the spill file (``spill_path``, beside the run's folder) and read back in order once the store
takes them again; a row that fits in neither is counted as lost. ``unstored()`` says how many
logged values were not stored, and why, so that the run never ends ``finished`` hiding them. A
store that is gone, or a run the service refuses, ends the reporter with ``fatal`` set
(``on_fatal`` is told once).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sweepkit import env, shutdown
from sweepkit.errors import StoreFull, StoreUnavailable, SweepkitError
from sweepkit.service.types import LogAck, LogBatch
from sweepkit.values import dumps, logged_data

#: Rows per batch at most (a long backlog goes out in several batches).
MAX_ROWS = 5000
#: Output characters waiting to be sent at most; beyond, the oldest waiting ones are dropped (the
#: service keeps only the head and the newest tail anyway, and output.log keeps what the cap allows).
MAX_PENDING_OUTPUT = 262_144
#: Seconds between tries while the store is unavailable (doubling up to the last).
_BACKOFF_S = (0.5, 30.0)
#: ... and while it is full (space freed is used within seconds).
_FULL_BACKOFF_S = (0.5, 5.0)


def values_in(rows: list[dict[str, Any]]) -> int:
    """The logged values in ``rows``: their keys, ``_step``, ``_timestamp`` and the like aside."""
    return sum(sum(1 for key in row if not key.startswith("_")) for row in rows)


class RunReporter:
    """Reports one run to the service (see the module docstring)."""

    def __init__(
        self,
        service: Any,
        run_id: str,
        *,
        min_interval_s: float = 0.1,
        on_fatal: Callable[[BaseException], None] | None = None,
        on_note: Callable[[str], None] | None = None,
        spill_path: str | os.PathLike[str] | None = None,
        max_held_rows: int | None = None,
    ) -> None:
        """``spill_path``: where rows beyond ``max_held_rows`` wait while the store does not take
        them (None: they are counted as lost)."""
        self.service = service
        self.run_id = run_id
        self.min_interval_s = min_interval_s
        self.on_fatal = on_fatal or (lambda exc: None)
        self.on_note = on_note or (lambda message: None)
        self.stop_reason: str | None = None
        self.fatal: BaseException | None = None
        self._rows: list[dict[str, Any]] = []
        self._summary: dict[str, Any] = {}
        self._config: dict[str, Any] | None = None
        self._name: str | None = None
        self._output: list[str] = []
        self._output_size = 0
        self._seq = 0
        self._in_flight: LogBatch | None = None
        self._lock = threading.Lock()  # guards what is gathered
        self._send_lock = threading.Lock()  # one batch on its way at a time, in order
        self._last_send = 0.0
        self._retry_at = 0.0
        self._backoff = _BACKOFF_S[0]
        self._dropped_noted = False
        self.max_held_rows = max_held_rows or int(env.number(env.HELD_ROWS, 100_000, positive=True))
        self.spill_path = None if spill_path is None else Path(spill_path)
        self._spill_rows = 0  # rows in the spill file not read back yet
        self._spill_values = 0  # the logged values in them
        self._spill_offset = 0  # where reading back goes on
        self._spilled_ever = False
        #: Logged values that could not be kept anywhere (counted, never silent), and why.
        self.lost_values = 0
        #: The store's last refusal while values wait (a StoreUnavailable), None once it takes them.
        self.waiting: StoreUnavailable | None = None
        self._full_noted = False
        _sender().add(self)

    # --- what the run reports -------------------------------------------------------------------------

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            if self._spill_rows or len(self._rows) + len(rows) > self.max_held_rows:
                self._spill(rows)
            else:
                self._rows.extend(rows)
        _sender().wake()

    def _spill(self, rows: list[dict[str, Any]]) -> None:
        """Rows beyond what memory holds, appended to the spill file (caller holds the lock); rows
        that cannot be written there are counted as lost."""
        room = max(0, self.max_held_rows - len(self._rows)) if not self._spill_rows else 0
        self._rows.extend(rows[:room])
        rest = rows[room:]
        if not rest:
            return
        try:
            if self.spill_path is None:
                raise OSError("no spill file for this run")
            self.spill_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.spill_path, "a", encoding="utf-8") as f:
                f.write("".join(dumps(row) + "\n" for row in rest))
        except OSError as exc:
            lost = values_in(rest)
            self.lost_values += lost
            self.on_note(
                f"run {self.run_id}: {lost} logged values were lost: {len(self._rows)} rows wait in memory "
                f"already and the spill file could not take more ({exc.strerror or exc})"
            )
            return
        if not self._spilled_ever:
            self._spilled_ever = True
            held = (
                f"more than {self.max_held_rows} logged rows wait for the store; the newest wait"
                if self.max_held_rows
                else "the logged rows that wait for the store are kept"  # at close: all of them
            )
            self.on_note(f"run {self.run_id}: {held} in {self.spill_path}")
        self._spill_rows += len(rest)
        self._spill_values += values_in(rest)

    def _read_spill(self) -> list[dict[str, Any]]:
        """The next rows of the spill file, oldest first (caller holds the lock)."""
        rows: list[dict[str, Any]] = []
        try:
            with open(self.spill_path, "rb") as f:
                f.seek(self._spill_offset)
                while len(rows) < MAX_ROWS and self._spill_rows:
                    line = f.readline()
                    if not line:
                        break
                    rows.append(logged_data(json.loads(line)))
                    self._spill_rows -= 1
                self._spill_offset = f.tell()
        except (OSError, ValueError) as exc:
            self.lost_values += self._spill_values - values_in(rows)
            self.on_note(f"run {self.run_id}: cannot read back {self.spill_path} ({exc}); its rows are lost")
            self._spill_rows = 0
        self._spill_values = max(0, self._spill_values - values_in(rows)) if self._spill_rows else 0
        if not self._spill_rows:
            self._spill_offset = 0
            try:
                self.spill_path.unlink()
            except OSError:
                pass
        return rows

    def set_summary(self, values: Mapping[str, Any]) -> None:
        with self._lock:
            self._summary.update(values)
        _sender().wake()

    def set_config(self, config: Mapping[str, Any]) -> None:
        with self._lock:
            self._config = dict(config)
        _sender().wake()

    def set_name(self, name: str) -> None:
        with self._lock:
            self._name = name
        _sender().wake()

    def add_output(self, text: str) -> None:
        """What the run printed (sent with the next batch)."""
        if not text:
            return
        with self._lock:
            self._output.append(text)
            self._output_size += len(text)
            if self._output_size > MAX_PENDING_OUTPUT:
                joined = "".join(self._output)
                kept = joined[-MAX_PENDING_OUTPUT // 2 :]
                self._output = [f"[... {len(joined) - len(kept)} characters of output not sent ...]\n", kept]
                self._output_size = sum(map(len, self._output))
        _sender().wake()

    def ask_stop(self, reason: str) -> None:
        """Note a stop request learnt elsewhere (a heartbeat)."""
        if self.stop_reason is None:
            self.stop_reason = reason

    # --- sending -------------------------------------------------------------------------------------

    def has_work(self) -> bool:
        return self.fatal is None and bool(
            self._in_flight
            or self._rows
            or self._spill_rows
            or self._summary
            or self._config is not None
            or self._name
            or self._output
        )

    def due_in(self, now: float) -> float | None:
        """Seconds until this reporter wants to send (0: now), None with nothing to send."""
        if not self.has_work():
            return None
        return max(0.0, self._last_send + self.min_interval_s - now, self._retry_at - now)

    def send_once(self) -> bool:
        """Send the batch in flight, or the next one; False if the store was unavailable."""
        with self._send_lock:
            with self._lock:
                if self.fatal is not None:
                    return True
                if self._in_flight is None:
                    if not (
                        self._rows
                        or self._spill_rows
                        or self._summary
                        or self._config is not None
                        or self._name
                        or self._output
                    ):
                        return True
                    self._in_flight = self._next_batch()
                batch = self._in_flight
            try:
                ack = self.service.log(self.run_id, batch)
            except StoreFull as exc:  # kept, and tried again every few seconds
                if not self._full_noted:
                    self._full_noted = True
                    self.on_note(
                        f"run {self.run_id}: {exc}; its logged values wait (in memory, then in "
                        f"{self.spill_path or 'memory only'}) and are sent once there is space"
                    )
                self.waiting = exc
                self._retry_at = time.monotonic() + self._backoff
                self._backoff = min(self._backoff * 2, _FULL_BACKOFF_S[1])
                return False
            except StoreUnavailable as exc:  # the store retried for minutes already: keep trying
                self.on_note(f"run {self.run_id}: {exc}; its values wait and are sent again")
                self.waiting = exc
                self._retry_at = time.monotonic() + self._backoff
                self._backoff = min(self._backoff * 2, _BACKOFF_S[1])
                return False
            except SweepkitError as exc:
                self._fail(exc)
                return True
            except Exception as exc:  # noqa: BLE001 - a bug must not lose the run silently
                self._fail(SweepkitError(f"run {self.run_id}: reporting failed: {type(exc).__name__}: {exc}"))
                return True
            self._backoff = _BACKOFF_S[0]
            self._last_send = time.monotonic()
            if self.waiting is not None:
                self.waiting, self._full_noted = None, False
                self.on_note(f"run {self.run_id}: the store takes its values again")
            self._acknowledged(ack)
            return True

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything added so far, from this thread; False on timeout, a fatal error, or once
        the process is stopping (``sweepkit.shutdown``) and the store does not take it at once."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.has_work():
            if not self.send_once():
                wait = self._retry_at - time.monotonic()
                if deadline is not None and time.monotonic() + max(wait, 0) > deadline:
                    return False
                if shutdown.wait(wait):
                    return False
        return self.fatal is None and not self.lost_values

    def unstored(self) -> tuple[int, str] | None:
        """The logged values not stored (waiting, or lost) and why, in words; None when all were."""
        with self._lock:
            rows = list(self._rows) + (list(self._in_flight.rows) if self._in_flight is not None else [])
            waiting = values_in(rows) + self._spill_values + len(self._summary)
            spilled = self._spill_rows
        count = waiting + self.lost_values
        if not count:
            return None
        why = (
            "disk full"
            if isinstance(self.waiting, StoreFull)
            else (str(self.waiting) if self.waiting else "")
        )
        if not why:
            why = "the spill file could not take them" if self.lost_values else "the store did not take them"
        where = f"; {spilled} rows are kept in {self.spill_path}" if spilled else ""
        return count, why + where

    def close(self, timeout: float | None = None) -> bool:
        """Send everything, then leave the sender; False if something could not be stored (rows still
        waiting are then written to the spill file, where ``unstored()`` says they are)."""
        done = self.flush(timeout)
        _sender().remove(self)
        if not done and self.fatal is None:
            with self._lock:
                waiting = (list(self._in_flight.rows) if self._in_flight is not None else []) + self._rows
                self._in_flight, self._rows = None, []
                if waiting:
                    self._spill_rows += 0  # the spill file's rows come after: ordered by _step there
                    saved, self.max_held_rows = self.max_held_rows, 0
                    self._spill(waiting)
                    self.max_held_rows = saved
        return done

    def ended(
        self, state: Any, error: str | None, lost: tuple[int, str] | None = None
    ) -> tuple[Any, str | None]:
        """How the run ends, given how it would end and values ``lost`` before they reached this
        reporter (count, why): a run whose values were not all stored is never ``finished``; it fails
        with "N logged values could not be stored: WHY" (a killed run stays killed, saying so too)."""
        from sweepkit.runs import RunState

        missing = [m for m in (lost, self.unstored()) if m is not None and m[0]]
        if not missing:
            return state, error
        count = sum(m[0] for m in missing)
        why = "; ".join(dict.fromkeys(m[1] for m in missing))
        text = f"{count} logged values could not be stored: {why}"
        if state == RunState.FINISHED:
            state = RunState.FAILED
        return state, text if not error else f"{text}\n{error}"

    def _next_batch(self) -> LogBatch:
        """Everything gathered (rows up to MAX_ROWS), as the next numbered batch (caller holds the lock)."""
        if not self._rows and self._spill_rows:
            self._rows = self._read_spill()
        rows, self._rows = self._rows[:MAX_ROWS], self._rows[MAX_ROWS:]
        if self._rows or self._spill_rows:  # more rows follow: the rest goes with the last of them
            summary, config, name = {}, None, None
        else:
            summary, config, name = self._summary, self._config, self._name
            self._summary, self._config, self._name = {}, None, None
        output = "".join(self._output) or None
        self._output, self._output_size = [], 0
        self._seq += 1
        return LogBatch(self._seq, rows, summary or None, config, name, output)

    def _acknowledged(self, ack: LogAck) -> None:
        if ack.stop_requested and self.stop_reason is None:
            self.stop_reason = ack.stop_reason or "stop requested"
        if ack.dropped and not self._dropped_noted:
            self._dropped_noted = True
            self.on_note(
                f"run {self.run_id}: {ack.dropped} logged row(s) were not after the run's newest step "
                "and were dropped (steps must increase, as in W&B)"
            )
        with self._lock:
            self._in_flight = None

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            self.fatal = exc
            self._rows.clear()
            self._in_flight = None
        self.on_fatal(exc)


class _Sender(threading.Thread):
    """The process's one thread that sends every reporter's gathered data when it is due."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="sweepkit-reporter")
        self._reporters: set[RunReporter] = set()
        self._cond = threading.Condition()

    def add(self, reporter: RunReporter) -> None:
        with self._cond:
            self._reporters.add(reporter)

    def remove(self, reporter: RunReporter) -> None:
        with self._cond:
            self._reporters.discard(reporter)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify()

    def run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                waits = [(r.due_in(now), r) for r in self._reporters]
                due = [r for w, r in waits if w == 0]
                if not due:
                    pending = [w for w, _r in waits if w is not None]
                    self._cond.wait(min(pending) if pending else None)
                    continue
            for reporter in due:
                reporter.send_once()


_SENDER: _Sender | None = None
_SENDER_LOCK = threading.Lock()


def _forget_sender_in_child() -> None:
    """A forked child has no sender thread: it starts its own on first use."""
    global _SENDER
    _SENDER = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_sender_in_child)


def _sender() -> _Sender:
    global _SENDER
    if _SENDER is None:
        with _SENDER_LOCK:
            if _SENDER is None:
                sender = _Sender()
                sender.start()
                _SENDER = sender
    return _SENDER

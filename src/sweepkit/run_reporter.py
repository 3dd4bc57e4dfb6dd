"""``RunReporter``: a run's rows, summary, config and name, batched to the sweep service in the background.

Adding costs a list append under a lock. One sender thread per process (shared by every reporter,
started on first use) sends what a run has gathered as one ``LogBatch`` as soon as there is
something (at most every ``min_interval_s`` per run), so logging never waits for the store;
``flush()`` sends what is left from the caller's own thread. Each batch carries the next sequence
number: a batch sent again after a lost answer is stored once. While the store is busy or
unreachable the same batch is retried, with backoff, for as long as it takes; nothing is dropped. A
store that is gone, or a run the service refuses, ends the reporter with ``fatal`` set (``on_fatal``
is told once).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sweepkit.errors import StoreUnavailable, SweepkitError
from sweepkit.service.types import LogAck, LogBatch

#: Rows per batch at most (a long backlog goes out in several batches).
MAX_ROWS = 5000
#: Output characters waiting to be sent at most; beyond, the oldest waiting ones are dropped (the
#: service keeps only the head and the newest tail anyway, and output.log keeps what the cap allows).
MAX_PENDING_OUTPUT = 262_144
#: Seconds between tries while the store is unavailable (doubling up to the last).
_BACKOFF_S = (0.5, 30.0)


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
    ) -> None:
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
        _sender().add(self)

    # --- what the run reports -------------------------------------------------------------------------

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._rows.extend(rows)
        _sender().wake()

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
                        self._rows or self._summary or self._config is not None or self._name or self._output
                    ):
                        return True
                    self._in_flight = self._next_batch()
                batch = self._in_flight
            try:
                ack = self.service.log(self.run_id, batch)
            except StoreUnavailable as exc:  # the store retried for minutes already: keep trying
                self.on_note(f"run {self.run_id}: {exc}; its values wait and are sent again")
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
            self._acknowledged(ack)
            return True

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything added so far, from this thread; False on timeout or a fatal error."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.has_work():
            if not self.send_once():
                wait = self._retry_at - time.monotonic()
                if deadline is not None and time.monotonic() + max(wait, 0) > deadline:
                    return False
                time.sleep(max(wait, 0.0))
        return self.fatal is None

    def close(self, timeout: float | None = None) -> bool:
        """Send everything, then leave the sender; False if something could not be stored."""
        done = self.flush(timeout)
        _sender().remove(self)
        return done

    def _next_batch(self) -> LogBatch:
        """Everything gathered (rows up to MAX_ROWS), as the next numbered batch (caller holds the lock)."""
        rows, self._rows = self._rows[:MAX_ROWS], self._rows[MAX_ROWS:]
        if self._rows:  # more rows follow: the rest goes with the last of them
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

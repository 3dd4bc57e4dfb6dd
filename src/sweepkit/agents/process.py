"""One program run as a subprocess: its own process group, output to console and a capped log file,
clean stops.

The child gets its own session (process group) so that stopping it reaches everything it started,
and, on Linux, a parent-death signal so that it does not outlive an agent killed with SIGKILL.
Stopping is SIGTERM to the group, then SIGKILL after a grace period.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sweepkit.agents import console
from sweepkit.agents.output_log import CappedLog

_PR_SET_PDEATHSIG = 1


def _load_prctl():
    """Linux's prctl, loaded here in the parent: a child of a process with threads must not load a
    library between fork and exec (another thread may have held the loader's lock)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


def own_session_dying_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """For ``preexec_fn``: the child gets a session (process group) of its own, no blocked signals (a
    Ray worker, for one, starts children with SIGINT blocked) and, on Linux, SIGTERM when the thread
    that started it ends."""
    os.setsid()
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ProcessOutcome:
    exit_code: int
    stopped: bool  # True when we stopped it (stop request, cancel, Ctrl-C)
    stop_reason: str | None
    start_error: str | None = None


def _pump(
    stream,
    log_path: Path,
    log_limit: int,
    echo: bool,
    on_output: Callable[[bytes], None] | None,
    on_log_error: Callable[[OSError], None] | None,
) -> None:
    try:
        log = CappedLog(log_path, log_limit, on_log_error)
    except OSError as exc:  # the output still reaches the console and ``on_output``
        if on_log_error is not None:
            on_log_error(exc)
        log = None
    try:
        for chunk in iter(lambda: stream.read1(65536), b""):
            if log is not None:
                log.write(chunk)
                log.flush()
            if on_output is not None:
                on_output(chunk)
            if echo:
                console.echo(chunk)
    finally:
        if log is not None:
            log.close()
        stream.close()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_process(
    argv: list[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    log_limit: int,
    echo: bool,
    should_stop: Callable[[], str | None],
    poll_s: float = 0.25,
    grace_s: float = 30.0,
    on_output: Callable[[bytes], None] | None = None,
    on_log_error: Callable[[OSError], None] | None = None,
) -> ProcessOutcome:
    """Run ``argv`` until it exits or ``should_stop()`` returns a reason; never through a shell.

    ``should_stop`` is called every ``poll_s`` seconds (it also serves as the run's heartbeat). The
    output goes to ``log_path``, capped at about ``log_limit`` bytes (``CappedLog``), to stdout with
    ``echo``, and to ``on_output`` chunk by chunk as it arrives (from another thread); a log the disk
    refuses is told to ``on_log_error`` once, and the output goes on to the others.
    """
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen(
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=own_session_dying_with_parent,
        )
    except OSError as err:
        message = f"cannot start {argv[0]!r}: {err.strerror or err}"
        try:
            log_path.write_text(message + "\n")
        except OSError:
            pass
        return ProcessOutcome(exit_code=127, stopped=False, stop_reason=None, start_error=message)

    pump = threading.Thread(
        target=_pump, args=(proc.stdout, log_path, log_limit, echo, on_output, on_log_error), daemon=True
    )
    pump.start()
    reason: str | None = None
    term_sent_at: float | None = None
    try:
        while proc.poll() is None:
            if reason is None:
                reason = should_stop()
                if reason is not None:
                    _signal_group(proc, signal.SIGTERM)
                    term_sent_at = time.monotonic()
            elif term_sent_at is not None and time.monotonic() - term_sent_at >= grace_s:
                _signal_group(proc, signal.SIGKILL)
                term_sent_at = None
            try:
                proc.wait(timeout=poll_s)
            except subprocess.TimeoutExpired:
                pass
    except BaseException:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
        raise
    finally:
        pump.join(timeout=5)
    # Leave no grandchildren behind once the run is over.
    _signal_group(proc, signal.SIGKILL)
    return ProcessOutcome(exit_code=proc.returncode, stopped=reason is not None, stop_reason=reason)

"""The agent loop: claim a run, execute it (a Python function or a program), report how it ended.

An agent talks to sweeps only through a ``SweepService``. It executes one run at a time per slot
(``slots.py``): one slot unless ``--gpus``/``--parallel`` ask for several, and then each slot runs
the same loop in a thread of its own. The slots share what the agent has once: one heartbeat
thread keeps the agent and its runs alive in the service (a run whose agent dies is marked
``crashed``) and passes on stop requests; ``--count`` is counted at each claim, so no slot starts a
run beyond it; the failure policy of W&B's agent (stop after repeated early failures) stops every
slot from starting a new run, and runs going on finish; Ctrl-C or SIGTERM stops every slot's run
cleanly within seconds in every state (every wait for a busy, unreachable or full store gives up:
``sweepkit.shutdown``), and the agent's last lines say what it leaves behind (a run whose end could
not be recorded, values kept in a spill file); a sweep that pauses or ends pauses or ends every slot. A slot whose run failed or
crashed takes the next run. If the store disappears under the agent, its runs are stopped and the
agent ends with that error. A program agent claims a run only when the run folders' disk has room
for its files (``run_room.py``): on a full disk it waits, saying so once, and uses up no point.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sweepkit import env, shutdown
from sweepkit.agents.heartbeat import Heartbeat
from sweepkit.agents.messages import end_lines, start_line
from sweepkit.agents.run_room import FIRST_PAUSE_S, MAX_PAUSE_S, RunRoom
from sweepkit.agents.slots import Slot, plan_slots
from sweepkit.errors import StoreFull, StoreUnavailable, SweepkitError
from sweepkit.printable import printable
from sweepkit.runs import RunState, SweepState
from sweepkit.service.types import Claim

#: Why a function cannot run in slots (``--gpus``, ``--parallel``), and what to do instead.
FUNCTION_RUNS_ONE_AT_A_TIME = (
    "parallel runs (--gpus, --parallel) need program mode: a function run is handed its run through "
    "module-level names (wandb.run, wandb.log) and shares its process's GPUs (one CUDA_VISIBLE_DEVICES) "
    "and state with every other call, so one process runs one function run at a time; start one agent "
    "process per GPU (each with its own CUDA_VISIBLE_DEVICES) or give the sweep a program"
)


@dataclass
class FailurePolicy:
    """When an agent gives up: many failures early on, or failures and no success at all."""

    max_initial_failures: int = 3
    initial_window_s: float = 60.0
    max_failures_without_success: int = 5

    @classmethod
    def from_env(cls) -> FailurePolicy:
        return cls(
            max_initial_failures=int(env.number(env.MAX_INITIAL_FAILURES, 3)),
            initial_window_s=env.number(env.INITIAL_WINDOW, 60.0),
            max_failures_without_success=int(env.number(env.MAX_FAILURES, 5)),
        )

    def verdict(self, started: float, failures: list[float], successes: int) -> str | None:
        """Why the agent gives up now (naming the setting that decided it), or None."""
        early = [t for t in failures if t - started <= self.initial_window_s]
        if len(early) >= self.max_initial_failures:
            return (
                f"{len(early)} runs failed within its first {self.initial_window_s:g} s "
                f"(failure policy: {env.MAX_INITIAL_FAILURES}={self.max_initial_failures}, "
                f"{env.INITIAL_WINDOW}={self.initial_window_s:g})"
            )
        if successes == 0 and len(failures) >= self.max_failures_without_success:
            return (
                f"{len(failures)} runs failed and none succeeded "
                f"(failure policy: {env.MAX_FAILURES}={self.max_failures_without_success})"
            )
        return None


def _output_metrics(enabled: bool | None, regex: str | None):
    """The pattern for metrics in program output: on when asked here or by the environment."""
    from sweepkit.metric_lines import output_pattern

    regex = regex or os.environ.get(env.METRICS_REGEX) or None
    if enabled is None:
        enabled = env.flag(env.METRICS_FROM_OUTPUT, False)
    return output_pattern(regex) if enabled or regex else None


@dataclass
class AgentReport:
    """What an agent did, and why it stopped."""

    agent_id: str
    sweep_id: str
    runs: dict[str, RunState] = field(default_factory=dict)
    reason: str = ""
    gave_up: bool = False

    @property
    def failed(self) -> bool:
        """The agent gave up, or every run it ran failed: its exit code says so."""
        states = list(self.runs.values())
        return self.gave_up or (bool(states) and all(s == RunState.FAILED for s in states))


class Agent:
    """Runs a sweep's runs, one at a time in each slot, until the sweep or ``count`` says stop."""

    def __init__(
        self,
        service: Any,
        sweep_id: str,
        *,
        project: str | None = None,
        entity: str | None = None,
        function: Callable[[], object] | None = None,
        count: int | None = None,
        gpus: str | None = None,
        gpus_per_run: int | None = None,
        parallel: int | None = None,
        echo: bool = True,
        grace_s: float | None = None,
        policy: FailurePolicy | None = None,
        workdir: str | Path | None = None,
        say: Callable[[str], None] | None = None,
        wandb_standin: bool | None = None,
        metrics_from_output: bool | None = None,
        metrics_regex: str | None = None,
    ):
        """``gpus``, ``gpus_per_run`` and ``parallel`` ask for slots as ``plan_slots`` takes them
        (program runs only); without them the agent has one slot."""
        if count is not None and count < 1:
            raise SweepkitError(f"count: expected a positive number of runs, got {count}")
        notes: list[str] = []
        #: Slots were asked for: each run's start line says where it runs.
        self.in_slots = any(value is not None for value in (gpus, gpus_per_run, parallel))
        if self.in_slots:
            if function is not None:
                raise SweepkitError(FUNCTION_RUNS_ONE_AT_A_TIME)
            self.slots = plan_slots(gpus=gpus, gpus_per_run=gpus_per_run, parallel=parallel, say=notes.append)
        else:
            self.slots = [Slot(1)]
        self.service = service
        self.sweep = service.get_sweep(sweep_id, project=project, entity=entity)
        self.function = function
        self.count = count
        self.echo = echo
        self.grace_s = grace_s if grace_s is not None else env.number(env.KILL_GRACE, 30.0)
        self.policy = policy or FailurePolicy.from_env()
        self.workdir = Path(workdir or os.getcwd())
        #: Program runs' files are made sure of room before each claim (None for function runs).
        self.room = RunRoom(self.workdir / ".sweepkit" / "runs") if function is None else None
        self._room_said = False  # the full disk was said (once, whichever slot met it)
        #: Program runs' `import wandb` gets sweepkit's stand-in (default; SWEEPKIT_WANDB_STANDIN=0 turns it off).
        self.wandb_standin = env.flag(env.WANDB_STANDIN, True) if wandb_standin is None else wandb_standin
        #: The pattern metrics are read from program runs' output with, or None (the default).
        self.output_metrics = _output_metrics(metrics_from_output, metrics_regex)
        self.say = _whole_lines(say or (lambda msg: print(f"sweepkit: {msg}", file=sys.stderr, flush=True)))
        for note in notes:
            self.say(note)
        timeout = env.heartbeat_timeout_s()
        # Frequent enough that a run condemned by another run's value hears of it within a second.
        self.heartbeat_s = env.number(env.HEARTBEAT_INTERVAL, min(1.0, timeout / 4))
        self.poll_s = env.number(env.PAUSE_POLL, 2.0)
        #: Why the agent was interrupted (Ctrl-C, SIGTERM), or None.
        self.interrupted: str | None = None
        #: A function run's call is going on in the main thread (a signal then interrupts it).
        self.in_function_call = False
        #: A fatal error (the store is gone): the runs are stopped and the agent ends with it.
        self.fatal: BaseException | None = None
        self.heartbeat: Heartbeat | None = None
        self._lock = threading.Lock()  # guards everything below
        self._claims = 0  # claims made or on their way (--count counts them)
        self._running = 0  # slots executing a run
        self._failures: list[float] = []
        self._successes = 0
        self._ended: str | None = None  # the sweep hands out nothing more: why
        self._gave_up: str | None = None  # the failure policy's verdict
        self._announced_pause = ""  # the last waiting notice said
        self._error: BaseException | None = None  # what ended a slot's thread unexpectedly
        #: What the agent leaves behind (a run whose end it could not record, values not stored).
        self.left_behind: list[str] = []

    def fatal_error(self, exc: BaseException) -> None:
        from sweepkit.errors import StoreGone

        if self.fatal is None and isinstance(exc, StoreGone):
            self.fatal = exc

    def fatal_reason(self) -> str | None:
        return None if self.fatal is None else f"the agent must stop: {self.fatal}"

    # -- the loop -----------------------------------------------------------------------------------
    def run(self) -> AgentReport:
        service = self.service
        agent_id = service.register_agent(
            self.sweep.id,
            host=socket.gethostname(),
            pid=os.getpid(),
            workdir=str(self.workdir.resolve()),
            slots=self.slot_gpus(),
        )
        report = AgentReport(agent_id=agent_id, sweep_id=self.sweep.id)
        self.heartbeat = Heartbeat(service, agent_id, self.heartbeat_s, self.fatal_error)
        self.heartbeat.start()
        restore = self._install_signal_handlers()
        try:
            self._run_slots(agent_id, report)
        finally:
            restore()
            self.heartbeat.halt.set()
            # No thread may still use the store when it is closed or the interpreter exits.
            self.heartbeat.join(timeout=env.store_retry_s() + 10)
            if self.fatal is None:
                try:
                    service.agent_finished(agent_id)
                except SweepkitError:
                    pass
            for line in self.left_behind:
                self.say(f"left behind: {line}")
            shutdown.clear()
        self.say(f"agent {'gives up' if report.gave_up else 'stops'}: {report.reason}")
        return report

    def _run_slots(self, agent_id: str, report: AgentReport) -> None:
        """Run every slot's loop until none starts another run (``report.reason`` says why).

        One slot runs in this thread (a function run is then interrupted by Ctrl-C, as any call is);
        several run in a thread each.
        """
        started = time.monotonic()
        if len(self.slots) == 1:
            self._slot_loop(self.slots[0], agent_id, report, started)
        else:
            threads = [
                threading.Thread(
                    target=self._slot_thread,
                    args=(slot, agent_id, report, started),
                    name=f"sweepkit-slot-{slot.number}",
                    daemon=True,
                )
                for slot in self.slots
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()  # the signal handlers still run meanwhile
        if self.fatal is not None:
            raise self.fatal
        if self._error is not None:
            raise self._error
        report.gave_up = self._gave_up is not None
        report.reason = self.interrupted or self._gave_up or self._ended or self._count_reason() or ""

    # -- one slot ------------------------------------------------------------------------------------
    def _slot_thread(self, slot: Slot, agent_id: str, report: AgentReport, started: float) -> None:
        """A slot's loop in a thread of its own: what ends it unexpectedly stops the other slots too
        and is raised by the agent's thread."""
        try:
            self._slot_loop(slot, agent_id, report, started)
        except BaseException as exc:  # noqa: BLE001 - handed to the agent's thread, which raises it
            with self._lock:
                if exc is not self.fatal and self._error is None:
                    self._error = exc
            if exc is not self.fatal and not self.interrupted:
                self.interrupted = f"the agent must stop: {exc}"  # the other slots stop their runs

    def _slot_loop(self, slot: Slot, agent_id: str, report: AgentReport, started: float) -> None:
        """Claim and execute runs in ``slot`` one after another until the agent starts no more."""
        while True:
            try:
                assignment = self._next_assignment(agent_id, slot.number)
            finally:
                if self.room is not None:
                    self.room.release(slot.number)  # the run's files take its room now
            if assignment is None:
                return
            self.say(start_line(assignment, where=slot.where if self.in_slots else None))
            try:
                state = self._execute(assignment, slot)
            finally:
                with self._lock:
                    self._running -= 1
            self._ended_run(assignment.run_id, state, report, started)

    def slot_gpus(self) -> list[list[str]]:
        """The GPUs of each slot, as ``register_agent`` records them; without slots asked for, the
        one slot has the GPUs the agent's environment names, if any."""
        if self.in_slots:
            return [list(slot.gpus) for slot in self.slots]
        gpus = [g.strip() for g in os.environ.get(env.CUDA_VISIBLE_DEVICES, "").split(",") if g.strip()]
        return [gpus[: gpus.index("-1")] if "-1" in gpus else gpus]  # CUDA stops at -1

    def _next_assignment(self, agent_id: str, slot: int) -> Any:
        """The next run of the agent's slot ``slot``, or None when the agent starts no more runs."""
        while True:
            if not self._wait_for_room(slot):
                return None
            with self._lock:
                if self._no_more_runs():
                    return None
                self._claims += 1
            claim = None
            try:
                claim = self.service.claim_run(self.sweep.id, agent_id, uuid.uuid4().hex, slot=slot)
            finally:
                with self._lock:
                    if claim is not None and claim.status == Claim.CLAIMED:
                        self._running += 1
                        self._announced_pause = ""
                    else:
                        self._claims -= 1
            if claim.status == Claim.CLAIMED:
                return claim.assignment
            if claim.status not in ("paused", Claim.WAITING):
                with self._lock:
                    if self._ended is None:
                        self._ended = f"sweep {self.sweep.id} is {claim.status}" + (
                            f": {claim.reason}" if claim.reason else ""
                        )
                return None
            if claim.status == Claim.WAITING:  # the user's scheduler queues the runs: said when it changes
                notice = f"sweep {self.sweep.id}: {claim.reason or 'waiting for its scheduler to queue runs'}"
            else:
                notice = f"sweep {self.sweep.id} is paused; waiting for resume"
            with self._lock:
                announce, self._announced_pause = self._announced_pause != notice, notice
            if announce:
                self.say(notice)
            self.heartbeat.beat()
            self._sleep(self.poll_s)

    def _wait_for_room(self, slot: int) -> bool:
        """Make sure the run folders' disk has room for a run's files before it is claimed: while it
        is full, wait (said once), looking again after longer and longer pauses; False when the agent
        is to start no more runs meanwhile."""
        if self.room is None:
            return True
        pause = FIRST_PAUSE_S
        while True:
            full = self.room.reserve(slot)
            with self._lock:
                said, self._room_said = self._room_said, full is not None
                stop = self._no_more_runs()
            if full is None:
                if said:
                    self.say(f"the run folders' disk has room again ({self.room.root}); claiming runs")
                return True
            if self._nothing_left_maybe():
                return True  # a claim then says why, and hands out no run whose files need room
            if not said:
                self.say(
                    f"agent waits: the run folders' disk is full ({self.room.root}: "
                    f"{full.strerror or full}); it claims no run until there is room, so no point is used up"
                )
            if stop:
                return False
            if self.heartbeat is not None:
                self.heartbeat.beat()
            self._sleep(pause)
            pause = min(2 * pause, MAX_PAUSE_S)

    def _nothing_left_maybe(self) -> bool:
        """Whether the sweep may hand out no run now (not running, or as many runs as it plans and
        none queued): the agent need not wait for room to hear that from a claim."""
        try:
            sweep = self.service.get_sweep(self.sweep.id)
        except StoreUnavailable:
            return False
        if sweep.state != SweepState.RUNNING:
            return True
        queued = sweep.runs_by_state.get(RunState.PENDING.value, 0)
        return sweep.planned_runs is not None and not queued and sweep.run_count >= sweep.planned_runs

    def _no_more_runs(self) -> bool:
        """Whether no slot may start another run (the caller holds the lock)."""
        return bool(
            self.fatal is not None
            or self._error is not None
            or self.interrupted
            or self._gave_up
            or self._ended
            or self._count_reason()
        )

    def _count_reason(self) -> str | None:
        if self.count is not None and self._claims >= self.count:
            return f"ran {self.count} run{'s' if self.count != 1 else ''} (--count)"
        return None

    def _ended_run(self, run_id: str, state: RunState, report: AgentReport, started: float) -> None:
        """Record how a slot's run ended, and apply the failure policy."""
        with self._lock:
            report.runs[run_id] = state
            if state == RunState.FINISHED:
                self._successes += 1
            if state != RunState.FAILED or self._gave_up:
                return
            self._failures.append(time.monotonic())
            self._gave_up = self.policy.verdict(started, self._failures, self._successes)
            running = self._running
        if self._gave_up and running:
            self.say(
                f"agent starts no new run and gives up once its {running} running "
                f"run{'s' if running != 1 else ''} end: {self._gave_up}"
            )

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.interrupted and self.fatal is None and time.monotonic() < end:
            time.sleep(min(0.1, end - time.monotonic()))

    def _install_signal_handlers(self) -> Callable[[], None]:
        """SIGINT/SIGTERM stop the agent after stopping its runs cleanly (main thread only).

        A program run is stopped by its slot's loop. A function run is a call in this thread: the
        first signal raises ``KeyboardInterrupt`` inside the call (only there, never in the agent's
        own bookkeeping), which ends the run ``killed``; outside a call it only asks the loop to stop.
        """
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {}

        def handler(signum, frame):
            first = self.interrupted is None
            if first:
                self.interrupted = f"interrupted ({signal.Signals(signum).name})"
            shutdown.request(self.interrupted)  # every wait for the store gives up now
            if first and self.in_function_call:
                self.in_function_call = False
                raise KeyboardInterrupt(self.interrupted)

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)

        def restore():
            for sig, old in previous.items():
                signal.signal(sig, old)

        return restore

    # -- executing one run ----------------------------------------------------------------------------
    def _execute(self, assignment, slot: Slot) -> RunState:
        """Execute one run in ``slot`` to its end and record it."""
        if self.function is not None:
            from sweepkit.agents.function_run import execute_function

            state, exit_code, error = execute_function(self, assignment, self.function)
        else:
            from sweepkit.agents.program_run import execute_program

            state, exit_code, error = execute_program(self, assignment, slot)
        run = self._finish(assignment.run_id, state, exit_code, error)
        reason = self.fatal_reason() or self.interrupted if state == RunState.KILLED else None
        # The output was echoed already unless the agent is quiet; a traceback is always shown.
        details = not self.echo or self.function is not None
        for line in end_lines(run, reason=reason, details=details):
            self.say(line)
        return run.state

    def _finish(self, run_id: str, state: RunState, exit_code: int | None, error: str | None):
        """Record the run's end (returns the run); a store busy for longer than the retry time, or
        full, is tried again until the agent is stopped (a full one for ``SWEEPKIT_STORE_RETRY``
        seconds); then the run is left behind as it is in the store, said in the agent's last lines,
        and ``StoreUnavailable`` ends the agent."""
        deadline = time.monotonic() + env.store_retry_s()
        said = False
        while True:
            try:
                return self.service.finish_run(run_id, state, exit_code=exit_code, error=error)
            except StoreUnavailable as exc:
                full = isinstance(exc, StoreFull)
                if shutdown.requested() or (full and time.monotonic() >= deadline):
                    ended = state.value + (f" ({error.splitlines()[0]})" if error else "")
                    self.left_behind.append(
                        f"run {run_id}: its end ({ended}) could not be recorded ({exc}); it stays open in "
                        "the store, which marks it crashed once its heartbeats stop"
                    )
                    if not self.interrupted:
                        self.interrupted = f"the agent must stop: {exc}"
                    raise
                if not said:
                    said = True
                    self.say(f"run {run_id}: cannot record its end yet: {exc}")
                shutdown.wait(1.0 if full else 5.0)


def _whole_lines(say: Callable[[str], None]) -> Callable[[str], None]:
    """``say`` for several slots at once: each message whole, never mixed with another, and without
    terminal control sequences (run names and config values come from users)."""
    lock = threading.Lock()

    def say_whole(message: str) -> None:
        message = printable(message, newlines=True)
        with lock:
            say(message)

    return say_whole

"""The agent loop: claim a run, execute it (a Python function or a program), report how it ended.

An agent talks to sweeps only through a ``SweepService``. One heartbeat thread keeps the agent and
its run alive in the service (a run whose agent dies is marked ``crashed``) and passes on stop
requests; the failure policy of W&B's agent applies (stop after repeated early failures). If the
store disappears under the agent, its run is stopped and the agent ends with that error. ``Agent``
runs one run at a time; ``SlotAgent`` (slots.py) runs several at once, on its GPUs or CPUs.
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

from sweepkit import env
from sweepkit.agents.heartbeat import Heartbeat
from sweepkit.agents.messages import end_lines, start_line
from sweepkit.errors import StoreUnavailable, SweepkitError
from sweepkit.runs import RunState
from sweepkit.service.types import Claim


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
    """Runs a sweep's runs one after another until the sweep or ``count`` says stop."""

    def __init__(
        self,
        service: Any,
        sweep_id: str,
        *,
        project: str | None = None,
        entity: str | None = None,
        function: Callable[[], object] | None = None,
        count: int | None = None,
        echo: bool = True,
        grace_s: float | None = None,
        policy: FailurePolicy | None = None,
        workdir: str | Path | None = None,
        say: Callable[[str], None] | None = None,
        wandb_standin: bool | None = None,
        metrics_from_output: bool | None = None,
        metrics_regex: str | None = None,
    ):
        if count is not None and count < 1:
            raise SweepkitError(f"count: expected a positive number of runs, got {count}")
        self.service = service
        self.sweep = service.get_sweep(sweep_id, project=project, entity=entity)
        self.function = function
        self.count = count
        self.echo = echo
        self.grace_s = grace_s if grace_s is not None else env.number(env.KILL_GRACE, 30.0)
        self.policy = policy or FailurePolicy.from_env()
        self.workdir = Path(workdir or os.getcwd())
        #: Program runs' `import wandb` gets sweepkit's stand-in (default; SWEEPKIT_WANDB_STANDIN=0 turns it off).
        self.wandb_standin = env.flag(env.WANDB_STANDIN, True) if wandb_standin is None else wandb_standin
        #: The pattern metrics are read from program runs' output with, or None (the default).
        self.output_metrics = _output_metrics(metrics_from_output, metrics_regex)
        self.say = say or (lambda msg: print(f"sweepkit: {msg}", file=sys.stderr, flush=True))
        timeout = env.heartbeat_timeout_s()
        # Frequent enough that a run condemned by another run's value hears of it within a second.
        self.heartbeat_s = env.number(env.HEARTBEAT_INTERVAL, min(1.0, timeout / 4))
        self.poll_s = env.number(env.PAUSE_POLL, 2.0)
        #: Why the agent was interrupted (Ctrl-C, SIGTERM), or None.
        self.interrupted: str | None = None
        #: A fatal error (the store is gone): the current run is stopped and the agent ends with it.
        self.fatal: BaseException | None = None
        self.heartbeat: Heartbeat | None = None

    def fatal_error(self, exc: BaseException) -> None:
        from sweepkit.errors import StoreGone

        if self.fatal is None and isinstance(exc, StoreGone):
            self.fatal = exc

    def fatal_reason(self) -> str | None:
        return None if self.fatal is None else f"the agent must stop: {self.fatal}"

    # -- the loop -----------------------------------------------------------------------------------
    def run(self) -> AgentReport:
        service = self.service
        agent_id = service.register_agent(self.sweep.id, host=socket.gethostname(), pid=os.getpid())
        report = AgentReport(agent_id=agent_id, sweep_id=self.sweep.id)
        self.heartbeat = Heartbeat(service, agent_id, self.heartbeat_s, self.fatal_error)
        self.heartbeat.start()
        restore = self._install_signal_handlers()
        try:
            self._run_runs(agent_id, report)
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
        self.say(f"agent {'gives up' if report.gave_up else 'stops'}: {report.reason}")
        return report

    def _run_runs(self, agent_id: str, report: AgentReport) -> None:
        """Claim and execute runs one after another until something says stop (``report.reason``)."""
        service = self.service
        started = time.monotonic()
        failures: list[float] = []
        successes = 0
        announced_pause = False
        while True:
            if self.fatal is not None:
                raise self.fatal
            if self.interrupted:
                report.reason = self.interrupted
                break
            if self.count is not None and len(report.runs) >= self.count:
                report.reason = f"ran {self.count} run{'s' if self.count != 1 else ''} (--count)"
                break
            claim = service.claim_run(self.sweep.id, agent_id, uuid.uuid4().hex)
            if claim.status == "paused":
                if not announced_pause:
                    self.say(f"sweep {self.sweep.id} is paused; waiting for resume")
                    announced_pause = True
                self.heartbeat.beat()
                self._sleep(self.poll_s)
                continue
            announced_pause = False
            if claim.status != Claim.CLAIMED:
                report.reason = f"sweep {self.sweep.id} is {claim.status}" + (
                    f": {claim.reason}" if claim.reason else ""
                )
                break
            assignment = claim.assignment
            self.say(start_line(assignment))
            state = self._execute(assignment)
            report.runs[assignment.run_id] = state
            if state == RunState.FINISHED:
                successes += 1
            elif state == RunState.FAILED:
                failures.append(time.monotonic())
                verdict = self.policy.verdict(started, failures, successes)
                if verdict:
                    report.reason = verdict
                    report.gave_up = True
                    break

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.interrupted and self.fatal is None and time.monotonic() < end:
            time.sleep(min(0.1, end - time.monotonic()))

    def _install_signal_handlers(self) -> Callable[[], None]:
        """SIGINT/SIGTERM stop the agent after stopping its run cleanly (main thread only)."""
        if self.function is not None or threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {}

        def handler(signum, frame):
            self.interrupted = f"interrupted ({signal.Signals(signum).name})"

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)

        def restore():
            for sig, old in previous.items():
                signal.signal(sig, old)

        return restore

    # -- executing one run ----------------------------------------------------------------------------
    def _execute(self, assignment, slot=None) -> RunState:
        """Execute one run to its end and record it (in ``slot``, for a ``SlotAgent``)."""
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
        """Record the run's end (returns the run); a store busy for longer than the retry time is
        tried again, forever."""
        while True:
            try:
                return self.service.finish_run(run_id, state, exit_code=exit_code, error=error)
            except StoreUnavailable as exc:
                self.say(f"run {run_id}: cannot record its end yet: {exc}")
                time.sleep(5)

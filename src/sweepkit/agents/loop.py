"""The agent loop: claim a run, execute it (a Python function or a program), record how it ended.

An agent heartbeats its run while it executes, so a run whose agent dies is marked ``crashed``
by whichever agent claims next; it watches for stop requests (early termination, cancel), and
applies the failure policy of W&B's agent (stop after repeated early failures).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sweepkit.errors import SweepkitError
from sweepkit.runs import RunState


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise SweepkitError(f"{name}: expected a number, got {raw!r}") from None


@dataclass
class FailurePolicy:
    """When an agent gives up: many failures early on, or failures and no success at all."""

    max_initial_failures: int = 3
    initial_window_s: float = 60.0
    max_failures_without_success: int = 5

    @classmethod
    def from_env(cls) -> FailurePolicy:
        return cls(
            max_initial_failures=int(_env_number("SWEEPKIT_AGENT_MAX_INITIAL_FAILURES", 3)),
            initial_window_s=_env_number("SWEEPKIT_AGENT_INITIAL_WINDOW", 60.0),
            max_failures_without_success=int(_env_number("SWEEPKIT_AGENT_MAX_FAILURES", 5)),
        )

    def verdict(self, started: float, failures: list[float], successes: int) -> str | None:
        early = [t for t in failures if t - started <= self.initial_window_s]
        if len(early) >= self.max_initial_failures:
            return f"{len(early)} runs failed within the agent's first {self.initial_window_s:g} s"
        if successes == 0 and len(failures) >= self.max_failures_without_success:
            return f"{len(failures)} runs failed and none succeeded"
        return None


@dataclass
class AgentReport:
    """What an agent did, and why it stopped."""

    agent_id: str
    sweep_id: str
    runs: dict[str, RunState] = field(default_factory=dict)
    reason: str = ""


class _Heartbeat(threading.Thread):
    """One thread per agent that keeps the heartbeat of the agent's current run fresh."""

    def __init__(self, controller, interval_s: float):
        super().__init__(daemon=True, name="sweepkit-heartbeat")
        self.controller, self.interval_s = controller, interval_s
        self.run_id: str | None = None
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.interval_s):
            run_id = self.run_id
            if run_id is None:
                continue
            try:
                self.controller.heartbeat_run(run_id)
            except Exception:  # the store may be briefly unreachable; the next beat retries
                pass


class Agent:
    """Runs a sweep's runs one after another until the sweep or ``count`` says stop."""

    def __init__(
        self,
        controller,
        sweep: str,
        *,
        function: Callable[[], object] | None = None,
        count: int | None = None,
        echo: bool = True,
        grace_s: float | None = None,
        policy: FailurePolicy | None = None,
        workdir: str | Path | None = None,
        say: Callable[[str], None] | None = None,
    ):
        from sweepkit.controller import heartbeat_timeout_s

        if count is not None and count < 1:
            raise SweepkitError(f"count: expected a positive number of runs, got {count}")
        self.controller = controller
        self.sweep = controller.get_sweep(sweep)
        self.function = function
        self.count = count
        self.echo = echo
        self.grace_s = grace_s if grace_s is not None else _env_number("SWEEPKIT_KILL_GRACE", 30.0)
        self.policy = policy or FailurePolicy.from_env()
        self.workdir = Path(workdir or os.getcwd())
        self.say = say or (lambda msg: print(f"sweepkit: {msg}", file=sys.stderr, flush=True))
        timeout = heartbeat_timeout_s()
        self.heartbeat_s = _env_number("SWEEPKIT_HEARTBEAT_INTERVAL", min(10.0, timeout / 4))
        self.poll_s = _env_number("SWEEPKIT_PAUSE_POLL", 2.0)
        self._interrupted: str | None = None
        self._beat: _Heartbeat | None = None

    # -- the loop -----------------------------------------------------------------------------------
    def run(self) -> AgentReport:
        controller = self.controller
        agent_id = controller.register_agent(self.sweep.id, host=socket.gethostname(), pid=os.getpid())
        report = AgentReport(agent_id=agent_id, sweep_id=self.sweep.id)
        started = time.monotonic()
        failures: list[float] = []
        successes = 0
        announced_pause = False
        restore = self._install_signal_handlers()
        try:
            while True:
                if self._interrupted:
                    report.reason = self._interrupted
                    break
                if self.count is not None and len(report.runs) >= self.count:
                    report.reason = f"ran {self.count} run{'s' if self.count != 1 else ''} (--count)"
                    break
                claim = controller.next_run(self.sweep.id, agent_id)
                if claim.status == "paused":
                    if not announced_pause:
                        self.say(f"sweep {self.sweep.id} is paused; waiting for resume")
                        announced_pause = True
                    controller.agent_heartbeat(agent_id)
                    self._sleep(self.poll_s)
                    continue
                announced_pause = False
                if claim.status != "claimed":
                    report.reason = f"sweep {self.sweep.id} is {claim.status}" + (
                        f": {claim.reason}" if getattr(claim, "reason", None) else ""
                    )
                    break
                run = claim.run
                self.say(f"run {run.id} ({run.name}) starts")
                state = self._execute(run)
                report.runs[run.id] = state
                self.say(f"run {run.id} {state.value}")
                if state == RunState.FINISHED:
                    successes += 1
                elif state == RunState.FAILED:
                    failures.append(time.monotonic())
                    verdict = self.policy.verdict(started, failures, successes)
                    if verdict:
                        report.reason = f"agent gives up: {verdict}"
                        break
        finally:
            restore()
            if self._beat is not None:
                self._beat.halt.set()
            try:
                controller.agent_finished(agent_id)
            except Exception:
                pass
        self.say(f"agent stops: {report.reason}")
        return report

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._interrupted and time.monotonic() < end:
            time.sleep(min(0.1, end - time.monotonic()))

    def _install_signal_handlers(self) -> Callable[[], None]:
        """SIGINT/SIGTERM stop the agent after stopping its run cleanly (main thread only)."""
        if self.function is not None or threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {}

        def handler(signum, frame):
            self._interrupted = f"interrupted ({signal.Signals(signum).name})"

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)

        def restore():
            for sig, old in previous.items():
                signal.signal(sig, old)

        return restore

    # -- executing one run ----------------------------------------------------------------------------
    def _execute(self, run) -> RunState:
        if self.function is not None:
            return self._execute_function(run)
        return self._execute_program(run)

    def _execute_function(self, run) -> RunState:
        from sweepkit import tracking as run_module

        if self._beat is None:
            self._beat = _Heartbeat(self.controller, self.heartbeat_s)
            self._beat.start()
        self._beat.run_id = run.id
        run_module._set_handover(self.controller, run)
        state, error = RunState.FINISHED, None
        try:
            self.function()
        except run_module.RunStopped as stop:
            state, error = RunState.KILLED, None
            self.say(f"run {run.id} stopped: {stop}")
        except KeyboardInterrupt:
            state, error = RunState.KILLED, "interrupted (Ctrl-C)"
            self._interrupted = "interrupted (Ctrl-C)"
        except Exception:
            state, error = RunState.FAILED, traceback.format_exc()
            self.say(f"run {run.id} failed:\n{error.rstrip()}")
        finally:
            self._beat.run_id = None
            user_run = run_module._clear_handover()
            if user_run is not None and not user_run._finished:
                try:
                    user_run.finish()
                except Exception:
                    pass
        self.controller.finish_run(run.id, state, error=error)
        return state

    def _execute_program(self, run) -> RunState:
        from sweepkit import tracking as run_module
        from sweepkit.agents.process import run_process
        from sweepkit.command_template import (
            param_file_text,
            render_command,
            uses_args_json_file,
            write_args_json_file,
        )

        sweep = self.controller.store.get_sweep(run.sweep_id)
        cfg = self.controller.plan(sweep).config
        values = self.controller.sweep_values(run)
        run_dir = self.workdir / ".sweepkit" / "runs" / run.id
        run_dir.mkdir(parents=True, exist_ok=True)
        param_path = run_dir / "params.yaml"
        param_path.write_text(param_file_text(values))
        values_path = run_dir / "params.json"
        values_path.write_text(json.dumps(values))
        args_json_path = run_dir / "args.json"
        if uses_args_json_file(cfg.command):
            write_args_json_file(args_json_path, values)
        env = dict(os.environ)
        env.update(
            {
                run_module.ENV_STORE: self.controller.store.connect_url,
                run_module.ENV_SWEEP_ID: run.sweep_id,
                run_module.ENV_RUN_ID: run.id,
                run_module.ENV_PARAM_PATH: str(param_path),
                run_module.ENV_VALUES_JSON: str(values_path),
                "WANDB_SWEEP_ID": run.sweep_id,
                "WANDB_RUN_ID": run.id,
                "WANDB_SWEEP_PARAM_PATH": str(param_path),
            }
        )
        try:
            argv = render_command(
                cfg.command,
                values,
                program=cfg.program,
                interpreter=os.environ.get("SWEEPKIT_INTERPRETER", "python"),
                args_json_file=str(args_json_path),
                environ=env,
            )
        except SweepkitError as err:
            self.say(f"run {run.id} failed: {err}")
            self.controller.finish_run(run.id, RunState.FAILED, error=str(err))
            return RunState.FAILED

        last_beat = [time.monotonic()]

        def should_stop() -> str | None:
            if self._interrupted:
                return self._interrupted
            control = self.controller.heartbeat_run(run.id)
            last_beat[0] = time.monotonic()
            return control.stop_reason or "stop requested" if control.stop_requested else None

        outcome = run_process(
            argv,
            env=env,
            log_path=run_dir / "output.log",
            echo=self.echo,
            should_stop=should_stop,
            poll_s=min(0.5, self.heartbeat_s),
            grace_s=self.grace_s,
        )
        if outcome.start_error:
            self.say(f"run {run.id} failed: {outcome.start_error}")
            state, error = RunState.FAILED, outcome.start_error
        elif outcome.stopped or self.controller.heartbeat_run(run.id).stop_requested:  # asked, then exited
            state, error = RunState.KILLED, None
            self.say(f"run {run.id} stopped: {outcome.stop_reason or 'it was asked to stop'}")
        elif outcome.exit_code == 0:
            state, error = RunState.FINISHED, None
        else:
            state, error = (
                RunState.FAILED,
                f"exit code {outcome.exit_code}; output in {run_dir / 'output.log'}",
            )
        self.controller.finish_run(run.id, state, exit_code=outcome.exit_code, error=error)
        return state

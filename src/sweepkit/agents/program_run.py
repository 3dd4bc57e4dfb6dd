"""Executing one claimed run as a program: files, environment, the subprocess, its reports, its end.

The run gets a folder (``.sweepkit/runs/<run id>/`` under the agent's working directory) holding its
assignment (``run.json``), W&B's parameter file (``params.yaml``), the parameters' JSON file when the
command asks for it, the events file the run reports through, and its output log. Its environment
is the agent's minus every credential (``env.NOT_FOR_RUNS``), plus the sweep's variables and the
paths above. While it runs, the agent forwards the events it appends to a ``RunReporter`` and stops
it (stop file, SIGTERM, SIGKILL after the grace period) when the sweep asks.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

from sweepkit import env, run_events
from sweepkit.agents.output_log import last_lines
from sweepkit.agents.process import run_process
from sweepkit.agents.reporter import RunReporter
from sweepkit.errors import StoreGone
from sweepkit.runs import RunState

#: Seconds between looks at the run: events forwarded, stop requests and the process checked.
POLL_S = 0.1


def run_environment(assignment: Any, paths: dict[str, str]) -> dict[str, str]:
    """The run's environment: the agent's without credentials, the sweep's variables, the run's paths."""
    out = {k: v for k, v in os.environ.items() if k not in env.NOT_FOR_RUNS}
    out.update(assignment.env)
    out.update(paths)
    return out


def write_run_files(run_dir: Path, assignment: Any) -> dict[str, str]:
    """The run's files; returns the environment variables naming them."""
    from sweepkit.command_template import param_file_text, write_args_json_file

    run_dir.mkdir(parents=True, exist_ok=True)
    run_file = run_dir / "run.json"
    run_file.write_text(
        json.dumps(
            {
                "run_id": assignment.run_id,
                "run_name": assignment.run_name,
                "sweep_id": assignment.sweep_id,
                "project": assignment.project,
                "entity": assignment.entity,
                "config": assignment.config,
            }
        ),
        encoding="utf-8",
    )
    param_path = run_dir / "params.yaml"
    param_path.write_text(param_file_text(assignment.config), encoding="utf-8")
    if assignment.needs_args_json_file:
        write_args_json_file(run_dir / "args.json", assignment.config)
    events = run_dir / "events.jsonl"
    events.touch()
    return {
        env.RUN_FILE: str(run_file),
        env.EVENTS_FILE: str(events),
        env.PARAM_PATH: str(param_path),
        env.WANDB_PARAM_PATH: str(param_path),
    }


def execute_program(agent: Any, assignment: Any) -> tuple[RunState, int | None, str | None]:
    """Run the assignment's program to its end; returns (state, exit code, error).

    Raises StoreGone once the run is stopped if the store disappeared meanwhile.
    """
    from sweepkit.command_template import CommandError, localize

    run_dir = agent.workdir / ".sweepkit" / "runs" / assignment.run_id
    paths = write_run_files(run_dir, assignment)
    environ = run_environment(assignment, paths)
    if assignment.command is None:
        return RunState.FAILED, None, assignment.command_error
    try:
        argv = localize(
            assignment.command,
            interpreter=os.environ.get(env.INTERPRETER, "python"),
            args_json_file=str(run_dir / "args.json"),
            environ=environ,
        )
    except CommandError as err:
        return RunState.FAILED, None, str(err)

    reporter = RunReporter(agent.service, assignment.run_id, on_fatal=agent.fatal_error, on_note=agent.say)
    tail = run_events.EventTail(
        paths[env.EVENTS_FILE],
        on_bad_line=lambda n, text: agent.say(
            f"run {assignment.run_id}: events line {n} is not JSON; skipped"
        ),
    )
    stop_file = run_events.stop_path(paths[env.EVENTS_FILE])
    agent.heartbeat.watch(assignment.run_id, reporter)

    def should_stop() -> str | None:
        forward_events(reporter, tail.read())
        reason = agent.fatal_reason() or agent.interrupted or reporter.stop_reason
        if reason is not None:
            try:
                stop_file.write_text(reason, encoding="utf-8")
            except OSError:
                pass
        return reason

    try:
        outcome = run_process(
            argv,
            env=environ,
            log_path=run_dir / "output.log",
            log_limit=env.log_max_bytes(),
            echo=agent.echo,
            should_stop=should_stop,
            poll_s=POLL_S,
            grace_s=agent.grace_s,
        )
        forward_events(reporter, tail.read_rest())
    finally:
        agent.heartbeat.forget(assignment.run_id)
        tail.close()
        reporter.close(timeout=env.store_retry_s() + 60)
    if agent.fatal is not None:
        raise agent.fatal
    if reporter.fatal is not None and isinstance(reporter.fatal, StoreGone):
        raise reporter.fatal
    if outcome.start_error:
        return RunState.FAILED, outcome.exit_code, outcome.start_error
    if outcome.stopped or reporter.stop_reason is not None:
        return RunState.KILLED, outcome.exit_code, None
    if reporter.fatal is not None:
        return RunState.FAILED, outcome.exit_code, f"its values could not be stored: {reporter.fatal}"
    if outcome.exit_code == 0:
        return RunState.FINISHED, 0, None
    return RunState.FAILED, outcome.exit_code, failure_text(outcome.exit_code, run_dir / "output.log")


def failure_text(exit_code: int, log_path: Path) -> str:
    """A failed program's error: the exit code and its last line of output, then its last lines."""
    code = f"exit code {exit_code}"
    if exit_code < 0:
        try:
            code += f" ({signal.Signals(-exit_code).name})"
        except ValueError:
            pass
    lines = last_lines(log_path)
    if len(lines) <= 1:
        return (
            f"{code}: {lines[0]}\noutput: {log_path}" if lines else f"{code} (no output)\noutput: {log_path}"
        )
    return "\n".join([f"{code}: {lines[-1]}", f"last lines of {log_path}:", *(f"  {line}" for line in lines)])


def forward_events(reporter: RunReporter, events: list[dict[str, Any]]) -> None:
    """Hand the run's events to its reporter (rows in one go)."""
    rows = []
    for event in events:
        kind = event.get("k")
        if kind == "row" and isinstance(event.get("row"), dict):
            rows.append(event["row"])
            continue
        if rows:
            reporter.add_rows(rows)
            rows = []
        if kind == "summary" and isinstance(event.get("values"), dict):
            reporter.set_summary(event["values"])
        elif kind == "config" and isinstance(event.get("config"), dict):
            reporter.set_config(event["config"])
        elif kind == "name" and isinstance(event.get("name"), str):
            reporter.set_name(event["name"])
    if rows:
        reporter.add_rows(rows)

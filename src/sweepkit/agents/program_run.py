"""Executing one claimed run as a program: files, environment, the subprocess, its reports, its end.

The run gets a folder (``.sweepkit/runs/<run id>/`` under the agent's working directory) holding its
assignment (``run.json``), the parameter file (``params.yaml``), the parameters' JSON file when the
command asks for it, the events file a Python run reports through, the metrics file any program
may append to, and its output log; W&B's copy of the parameter file goes where a W&B agent puts it
(``$WANDB_DIR/wandb/sweep-<sweep id>/config-<run id>.yaml``). Its environment is the agent's minus
every credential (``env.NOT_FOR_RUNS``), plus the sweep's variables, the paths above, its slot's GPUs
when the agent runs several runs at once (``slots.py``) and, unless turned off, the stand-in
``wandb`` first on ``PYTHONPATH``. While it runs, the agent forwards what it reports (events, metric
lines, metrics in its output when asked) to a ``RunReporter`` and stops it (stop file, SIGTERM,
SIGKILL after the grace period) when the sweep asks. The output of runs side by side reaches the
console in whole lines, each after its run's id.
"""

from __future__ import annotations

import codecs
import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sweepkit import env, run_events
from sweepkit.agents.console import PrefixedLines
from sweepkit.agents.output_log import last_lines
from sweepkit.agents.process import run_process
from sweepkit.errors import StoreGone
from sweepkit.metric_lines import MetricLines
from sweepkit.run_reporter import RunReporter
from sweepkit.runs import RunState
from sweepkit.service.checks import row_problem
from sweepkit.values import step_of

#: Seconds between looks at the run: events forwarded, stop requests and the process checked.
POLL_S = 0.1
#: The folder holding only the stand-in ``wandb`` package (see ``sweepkit/wandb_standin/wandb``).
WANDB_STANDIN_DIR = Path(__file__).resolve().parents[1] / "wandb_standin"


def run_environment(
    assignment: Any, paths: dict[str, str], *, wandb_standin: bool = True, read_output: bool = False
) -> dict[str, str]:
    """The run's environment: the agent's without credentials, the sweep's variables, the run's paths,
    and the stand-in ``wandb`` first on ``PYTHONPATH`` (unless turned off)."""
    out = {k: v for k, v in os.environ.items() if k not in env.NOT_FOR_RUNS}
    out.update(assignment.env)
    out.update(paths)
    if wandb_standin:
        rest = out.get(env.PYTHONPATH)
        out[env.PYTHONPATH] = os.pathsep.join([str(WANDB_STANDIN_DIR)] + ([rest] if rest else []))
    if read_output:
        out.setdefault(env.PYTHONUNBUFFERED, "1")
    return out


def wandb_param_path(wandb_dir: str, sweep_id: str, run_id: str) -> Path:
    """Where a W&B agent writes a run's parameter file."""
    return Path(wandb_dir, "wandb", f"sweep-{sweep_id}", f"config-{run_id}.yaml")


def write_run_files(run_dir: Path, assignment: Any, wandb_dir: str) -> dict[str, str]:
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
    param_text = param_file_text(assignment.config)
    param_path = run_dir / "params.yaml"
    param_path.write_text(param_text, encoding="utf-8")
    wandb_params = wandb_param_path(wandb_dir, assignment.sweep_id, assignment.run_id)
    wandb_params.parent.mkdir(parents=True, exist_ok=True)
    wandb_params.write_text(param_text, encoding="utf-8")
    if assignment.needs_args_json_file:
        write_args_json_file(run_dir / "args.json", assignment.config)
    events = run_dir / "events.jsonl"
    events.touch()
    metrics = run_dir / "metrics.jsonl"
    metrics.touch()
    return {
        env.RUN_FILE: str(run_file),
        env.EVENTS_FILE: str(events),
        env.METRICS_FILE: str(metrics),
        env.PARAM_PATH: str(param_path),
        env.WANDB_DIR: wandb_dir,
        env.WANDB_PARAM_PATH: str(wandb_params),
    }


def execute_program(agent: Any, assignment: Any, slot: Any = None) -> tuple[RunState, int | None, str | None]:
    """Run the assignment's program to its end (in ``slot``, a ``Slot``, if given); returns (state,
    exit code, error).

    Raises StoreGone once the run is stopped if the store disappeared meanwhile.
    """
    from sweepkit.command_template import CommandError, localize

    run_dir = agent.workdir / ".sweepkit" / "runs" / assignment.run_id
    try:
        paths = write_run_files(run_dir, assignment, os.environ.get(env.WANDB_DIR) or str(agent.workdir))
    except OSError as exc:
        where = exc.filename or run_dir
        return RunState.FAILED, None, f"cannot write the run's files ({where}): {exc.strerror or exc}"
    output_pattern = agent.output_metrics
    environ = run_environment(
        assignment, paths, wandb_standin=agent.wandb_standin, read_output=output_pattern is not None
    )
    if slot is not None:
        environ.update(slot.env)
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

    reporter = RunReporter(
        agent.service,
        assignment.run_id,
        on_fatal=agent.fatal_error,
        on_note=agent.say,
        spill_path=run_dir.with_name(f"{assignment.run_id}.unsent.jsonl"),
    )

    def note(message: str) -> None:
        """Said by the agent and kept in the run's stored output, so that the run says so too."""
        agent.say(f"run {assignment.run_id}: {message}")
        reporter.add_output(f"[sweepkit] {message}\n")

    def refuse(number: int, why: str) -> None:
        note(f"events line {number} refused: {why}; the rows around it are kept")

    tail = run_events.EventTail(
        paths[env.EVENTS_FILE],
        on_bad_line=lambda n, text: note(f"events line {n} is not JSON; skipped: {text!r}"),
    )
    seen = _Reported(assignment.metric_name)

    def emit(rows: list[dict[str, Any]]) -> None:
        seen.rows(rows)
        reporter.add_rows(rows)

    lines = MetricLines(
        emit, lambda message: agent.say(f"run {assignment.run_id}: {message}"), output_pattern
    )
    metrics_tail = run_events.EventTail(paths[env.METRICS_FILE], on_bad_line=lines.bad_file_line)
    stop_file = run_events.stop_path(paths[env.EVENTS_FILE])
    agent.heartbeat.watch(assignment.run_id, reporter)

    def read_reports(rest: bool = False) -> None:
        seen.rows(forward_events(reporter, tail.read_numbered(rest), refuse))
        for number, values in metrics_tail.read_numbered(rest):
            lines.file_line(number, values)

    def should_stop() -> str | None:
        read_reports()
        reason = agent.fatal_reason() or agent.interrupted or reporter.stop_reason
        if reason is not None:
            try:
                stop_file.write_text(reason, encoding="utf-8")
            except OSError:
                pass
        return reason

    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    console = PrefixedLines(f"[{assignment.run_id}] ") if agent.echo and slot and slot.side_by_side else None

    lost = _LostInOutput()

    def on_output(chunk: bytes) -> None:
        text = decoder.decode(chunk)
        lost.read(text)  # values the run could not write to its events file
        reporter.add_output(text)  # the service keeps the output's head and tail
        lines.output(chunk)  # metrics in the output, when asked for
        if console is not None:
            console.write(chunk)

    try:
        outcome = run_process(
            argv,
            env=environ,
            log_path=run_dir / "output.log",
            log_limit=env.log_max_bytes(),
            echo=agent.echo and console is None,
            should_stop=should_stop,
            poll_s=POLL_S,
            grace_s=agent.grace_s,
            on_output=on_output,
            on_log_error=lambda exc: note(
                f"its output log {run_dir / 'output.log'} cannot be written ({exc.strerror or exc}); "
                "the output goes on to the store"
            ),
        )
        lines.output_ended()
        read_reports(rest=True)
    finally:
        if console is not None:
            console.close()
        agent.heartbeat.forget(assignment.run_id)
        tail.close()
        metrics_tail.close()
        reporter.close(timeout=env.store_retry_s())
    if outcome.exit_code == 0 and not outcome.stopped and not seen.metric:
        agent.say(f"run {assignment.run_id}: {seen.missing(agent.wandb_standin)}")
    if agent.fatal is not None:
        raise agent.fatal
    if reporter.fatal is not None and isinstance(reporter.fatal, StoreGone):
        raise reporter.fatal
    state, error = _outcome_state(outcome, reporter, run_dir)
    state, error = reporter.ended(state, error, lost.total())
    return state, outcome.exit_code, error


def _outcome_state(outcome: Any, reporter: RunReporter, run_dir: Path) -> tuple[RunState, str | None]:
    """How the program ended, before what was stored is looked at."""
    if outcome.start_error:
        return RunState.FAILED, outcome.start_error
    if outcome.stopped or reporter.stop_reason is not None:
        return RunState.KILLED, None
    if reporter.fatal is not None:
        return RunState.FAILED, f"its values could not be stored: {reporter.fatal}"
    if outcome.exit_code == 0:
        return RunState.FINISHED, None
    return RunState.FAILED, failure_text(outcome.exit_code, run_dir / "output.log")


class _LostInOutput:
    """The values a run said (``run_events.lost_line``) it could not write to its events file."""

    def __init__(self) -> None:
        self._carry = ""
        self.found: list[tuple[int, str]] = []

    def read(self, text: str) -> None:
        if "\n" not in text:
            self._carry = (self._carry + text)[-4096:]
            return
        head, _, rest = (self._carry + text).rpartition("\n")
        self._carry = rest[-4096:]
        if "could not be written to the events file" in head:
            self.found += run_events.lost_values(head)

    def total(self) -> tuple[int, str] | None:
        if not self.found:
            return None
        why = "; ".join(dict.fromkeys(why for _count, why in self.found))
        return sum(count for count, _why in self.found), f"the run's events file could not take them ({why})"


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


def forward_events(
    reporter: RunReporter,
    events: list[tuple[int, dict[str, Any]]],
    refuse: Callable[[int, str], None] = lambda number, why: None,
) -> list[dict[str, Any]]:
    """Hand the run's numbered events to its reporter (rows in one go); returns the rows.

    A row the service could not take (a ``_step`` that is not a whole number, say) is refused alone
    through ``refuse(line number, why)``; the rows around it go on.
    """
    rows, forwarded = [], []
    for number, event in events:
        kind = event.get("k")
        if kind == "row":
            row = _usable_row(event.get("row"))
            if isinstance(row, str):
                refuse(number, row)
            else:
                rows.append(row)
            continue
        if rows:
            reporter.add_rows(rows)
            forwarded += rows
            rows = []
        if kind == "summary" and isinstance(event.get("values"), dict):
            reporter.set_summary(event["values"])
        elif kind == "config" and isinstance(event.get("config"), dict):
            reporter.set_config(event["config"])
        elif kind == "name" and isinstance(event.get("name"), str):
            reporter.set_name(event["name"])
    if rows:
        reporter.add_rows(rows)
        forwarded += rows
    return forwarded


def _usable_row(row: Any) -> dict[str, Any] | str:
    """A row event's row as the service takes it (``_step`` 10.0 read as 10), or why it is refused."""
    if isinstance(row, dict) and type(row.get("_step")) is float:
        step = step_of(row["_step"])
        row = {**row, "_step": step} if step is not None else row
    problem = row_problem(row)
    return row if problem is None else f"the row {problem}"


class _Reported:
    """Whether a run reported a value of its sweep's metric, to say so when it ends without one."""

    def __init__(self, metric_name: str | None) -> None:
        self.metric_name = metric_name
        self.any_row = False
        self.metric = metric_name is None

    def rows(self, rows: list[dict[str, Any]]) -> None:
        self.any_row = self.any_row or bool(rows)
        if not self.metric:
            self.metric = any(self.metric_name in row for row in rows)

    def missing(self, standin: bool) -> str:
        if self.any_row:
            return f"finished without logging the sweep's metric {self.metric_name!r}"
        hint = (
            "its `import wandb` got the real package (the stand-in is off), which reports to W&B, not here"
            if not standin
            else "log it with wandb.log() / sweepkit.log(), a line in $SWEEPKIT_METRICS_FILE, or its output"
        )
        return f"finished without reporting any metric, so the sweep learns nothing from it: {hint}"

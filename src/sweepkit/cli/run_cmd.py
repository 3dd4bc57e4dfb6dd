"""``sweepkit run CONFIG``: create a sweep and run K local agents on it, showing progress and failures.

The agents are ``sweepkit agent`` processes; their own messages go to ``.sweepkit/agents/`` (or to
the console with ``--verbose``). This command follows the sweep through the service (``follow``):
the live view in a terminal, else a progress line; each run that fails or crashes with its reason
and last lines of output, and each agent that stops early with why. It exits 1 when an agent gave
up or failed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click

from sweepkit.cli.common import db_option, friendly_errors, open_service, say

#: Agent messages that say why it stopped early.
_STOP_PREFIXES = ("sweepkit: agent gives up:", "error:")


def split_count(count: int | None, agents: int) -> list[int | None]:
    """Share ``count`` runs among ``agents`` (never more agents than runs)."""
    if count is None:
        return [None] * agents
    agents = min(agents, count)
    return [count // agents + (1 if i < count % agents else 0) for i in range(agents)]


def child_env(db: str | None) -> dict[str, str]:
    """The environment of this command's agents and scheduler: they open the same store or server
    (the default store is this folder's)."""
    from sweepkit import env
    from sweepkit.connect import is_server_url

    out = dict(os.environ)
    if db:
        out[env.SERVER_URL if is_server_url(db) else env.STORE] = db
    return out


def start_scheduler(sweep_id: str, config: str, verbose: bool, db: str | None) -> subprocess.Popen:
    """``sweepkit scheduler`` for a sweep whose config names ``scheduler.source`` (read relative to the
    config's folder); its messages go to ``.sweepkit/agents/ID-scheduler.log`` unless ``verbose``."""
    from sweepkit import env

    argv = [sys.executable, "-m", "sweepkit", "scheduler", sweep_id, "--config", config]
    if verbose:
        return subprocess.Popen(argv, env=child_env(db))
    log_dir = Path(env.DEFAULT_STORE_DIR).resolve() / "agents"
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / f"{sweep_id}-scheduler.log", "wb") as out:
        return subprocess.Popen(argv, env=child_env(db), stdout=out, stderr=out)


def stop_scheduler(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def failure_lines(run) -> list[str]:
    """A failed or crashed run: its reason, then the details of its error, indented."""
    lines = (run.error or "").splitlines() or ["no reason recorded"]
    head = f"run {run.id} ({run.name}) {run.state.value}"
    if run.exit_code is not None and not lines[0].startswith("exit code"):
        head += f" with exit code {run.exit_code}"
    return [f"{head}: {lines[0]}", *(f"    {line}" for line in lines[1:])]


class Agents:
    """The local agent processes of one sweep."""

    def __init__(self, sweep_id: str, count: int | None, agents: int, verbose: bool, db: str | None):
        from sweepkit import env

        agent_env = child_env(db)
        log_dir = Path(env.DEFAULT_STORE_DIR).resolve() / "agents"
        if not verbose:
            log_dir.mkdir(parents=True, exist_ok=True)
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path | None] = []
        self._told: set[int] = set()
        for k, share in enumerate(split_count(count, agents), start=1):
            argv = [sys.executable, "-m", "sweepkit", "agent", sweep_id]
            if share is not None:
                argv += ["--count", str(share)]
            if verbose:
                self.procs.append(subprocess.Popen(argv, env=agent_env))
                self.logs.append(None)
                continue
            log = log_dir / f"{sweep_id}-{k}.log"
            with open(log, "wb") as out:
                self.procs.append(subprocess.Popen([*argv, "--quiet"], env=agent_env, stdout=out, stderr=out))
            self.logs.append(log)

    def running(self) -> bool:
        return any(p.poll() is None for p in self.procs)

    def interrupt(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in self.procs:
            p.wait()

    def newly_failed(self) -> list[str]:
        """A sentence for each agent that has exited non-zero since the last call."""
        out = []
        for k, (proc, log) in enumerate(zip(self.procs, self.logs, strict=True), start=1):
            if proc.poll() in (None, 0) or k in self._told:
                continue
            self._told.add(k)
            why = _stop_reason(log) if log else None
            where = f" (its messages: {log})" if log else ""
            out.append(
                f"agent {k} stopped with exit code {proc.returncode}" + (f": {why}" if why else "") + where
            )
        return out

    @property
    def failed(self) -> bool:
        return any(p.returncode for p in self.procs)


def _stop_reason(log: Path) -> str | None:
    from sweepkit.agents.output_log import last_lines

    for line in reversed(last_lines(log, 20)):
        if line.startswith(_STOP_PREFIXES):
            return line.removeprefix("sweepkit: ")
    return None


@click.command("run")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option(
    "--count", type=click.IntRange(min=1), help="Total number of runs (default: until the sweep ends)."
)
@click.option(
    "--agents", type=click.IntRange(min=1), default=1, show_default=True, help="Local agents at once."
)
@click.option("--project", help="Project the sweep belongs to.")
@click.option("--name", help="Sweep name.")
@click.option(
    "--verbose",
    is_flag=True,
    help="Echo every run's output and the agents' messages instead of the live view (default: kept in .sweepkit/).",
)
@click.option("--no-progress", is_flag=True, help="Plain lines instead of the live view, even in a terminal.")
@db_option
@friendly_errors
def run(config, count, agents, project, name, verbose, no_progress, db):
    """Create a sweep from CONFIG and run it here with K agents; print the best run at the end.

    Exits 1 when an agent gave up (its runs kept failing) or failed.
    """
    from sweepkit import sweep_intake
    from sweepkit.cli.follow import follow, live_wanted
    from sweepkit.cli.query_cmd import describe_best
    from sweepkit.cli.sweep_progress import SweepProgress

    source = sweep_intake.read(config)  # a file that is no config creates no store
    service = open_service(db, create=True)
    answer = sweep_intake.create_sweep(service, source, project=project, name=name)
    for warning in answer.warnings:
        say(f"warning: {warning}")
    info = answer.sweep
    say(f"Created sweep {info.id} (method {info.method}) in {service.location}")
    scheduler = None
    if info.scheduler is not None:  # the config's scheduler.source proposes the runs: run it here too
        scheduler = start_scheduler(info.id, config, verbose, db)
        say(f"Started the sweep's scheduler (sweepkit scheduler {info.id})")
    procs = Agents(info.id, count, agents, verbose, db)
    say(f"Started {len(procs.procs)} agent{'s' if len(procs.procs) != 1 else ''}; Ctrl-C stops them cleanly")
    progress = SweepProgress(service, info.id, total=count)

    def on_ended(runs) -> list[str]:
        lines = [
            line for run in runs if run.state.value in ("failed", "crashed") for line in failure_lines(run)
        ]
        return lines + procs.newly_failed()

    # The live view redraws the screen: with --verbose the runs' own output goes there instead.
    live = live_wanted(no_progress) and not verbose
    watching = {"live": live, "location": service.location, "interval_s": 1.0, "on_ended": on_ended}
    try:
        follow(progress, keep_going=procs.running, **watching)
    except KeyboardInterrupt:
        procs.interrupt()
        follow(progress, keep_going=lambda: False, **watching)
    finally:
        stop_scheduler(scheduler)
    best = service.best_run(info.id)
    if best is None:
        say(f"sweep {info.id} has no finished run with a metric value")
    else:
        click.echo(describe_best(service.get_sweep(info.id), best))
    raise SystemExit(1 if procs.failed else 0)

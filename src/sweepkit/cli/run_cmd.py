"""``sweepkit run CONFIG``: create a sweep and run K local agents on it, with a live progress line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click

from sweepkit.cli.common import db_option, friendly_errors, say


def split_count(count: int | None, agents: int) -> list[int | None]:
    """Share ``count`` runs among ``agents`` (never more agents than runs)."""
    if count is None:
        return [None] * agents
    agents = min(agents, count)
    return [count // agents + (1 if i < count % agents else 0) for i in range(agents)]


def progress_line(controller, sweep_id: str) -> str:
    from sweepkit.runs import RunState

    runs = controller.list_runs(sweep_id)
    by_state: dict[str, int] = {}
    for run in runs:
        by_state[run.state.value] = by_state.get(run.state.value, 0) + 1
    done = by_state.get(RunState.FINISHED.value, 0)
    parts = [f"{done} done", f"{by_state.get('running', 0)} running"]
    for state in ("failed", "killed", "crashed"):
        if by_state.get(state):
            parts.append(f"{by_state[state]} {state}")
    best = controller.best_run(sweep_id)
    if best is not None:
        sweep = controller.store.get_sweep(sweep_id)
        metric = controller.plan(sweep).config.metric
        from sweepkit.controller import best_metric_value
        from sweepkit.runs import MetricStats, RunView

        stats = MetricStats.from_values(best.metric_history).with_summary(best.summary.get(metric.name))
        value = best_metric_value(RunView(best.id, best.state, best.params, stats), metric.name, metric.goal)
        parts.append(f"best {metric.name}={value:.6g} ({best.id})")
    return "runs: " + ", ".join(parts)


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
@click.option("--verbose", is_flag=True, help="Echo every run's output (default: kept in .sweepkit/runs/).")
@db_option
@friendly_errors
def run(config, count, agents, project, name, verbose, db):
    """Create a sweep from CONFIG and run it here with K agents; print the best run at the end."""
    from sweepkit.cli.query_cmd import describe_best
    from sweepkit.controller import open_controller

    controller = open_controller(db)
    record, cfg = controller.create_sweep(config, project=project, name=name)
    for warning in cfg.warnings:
        say(f"warning: {warning}")
    say(f"Created sweep {record.id} (method {cfg.method}) in {controller.location}")
    env = dict(os.environ)
    env["SWEEPKIT_DB"] = controller.store.connect_url
    procs = []
    for share in split_count(count, agents):
        argv = [sys.executable, "-m", "sweepkit", "agent", record.id]
        if share is not None:
            argv += ["--count", str(share)]
        if not verbose:
            argv.append("--quiet")
        procs.append(subprocess.Popen(argv, env=env, stderr=None if verbose else subprocess.DEVNULL))
    say(f"Started {len(procs)} agent{'s' if len(procs) != 1 else ''}; Ctrl-C stops them cleanly")
    live = sys.stderr.isatty()
    last = ""
    try:
        while any(p.poll() is None for p in procs):
            line = progress_line(controller, record.id)
            if live:
                click.echo("\r" + line.ljust(len(last)), err=True, nl=False)
            elif line != last:
                say(line)
            last = line
            time.sleep(1.0)
    except KeyboardInterrupt:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            p.wait()
    line = progress_line(controller, record.id)
    if live:
        click.echo("\r" + line.ljust(len(last)), err=True)
    elif line != last:
        say(line)
    sweep = controller.store.get_sweep(record.id)
    best = controller.best_run(record.id)
    if best is None:
        say(f"sweep {record.id} has no finished run with a metric value")
        raise SystemExit(1 if any(p.returncode for p in procs) else 0)
    from sweepkit.api import Api

    api = Api(controller.store.connect_url)
    click.echo(describe_best(api.sweep(sweep.id), api.run(best.id)))

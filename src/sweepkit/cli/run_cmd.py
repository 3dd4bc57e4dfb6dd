"""``sweepkit run CONFIG``: create a sweep and run K local agents on it, with a live progress line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click

from sweepkit.cli.common import db_option, friendly_errors, open_service, say


def split_count(count: int | None, agents: int) -> list[int | None]:
    """Share ``count`` runs among ``agents`` (never more agents than runs)."""
    if count is None:
        return [None] * agents
    agents = min(agents, count)
    return [count // agents + (1 if i < count % agents else 0) for i in range(agents)]


def progress_line(service, sweep_id: str) -> str:
    from sweepkit.runs import RunState

    info = service.get_sweep(sweep_id)
    by_state = info.runs_by_state
    parts = [f"{by_state.get(RunState.FINISHED.value, 0)} done", f"{by_state.get('running', 0)} running"]
    for state in ("failed", "killed", "crashed"):
        if by_state.get(state):
            parts.append(f"{by_state[state]} {state}")
    best = service.best_run(sweep_id)
    metric = info.config.get("metric") or {}
    if best is not None:
        value = best.metric.best(metric.get("goal", "minimize"))
        parts.append(f"best {metric['name']}={value:.6g} ({best.id})")
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
    from sweepkit import env
    from sweepkit.cli.query_cmd import describe_best
    from sweepkit.sweep_config import load_config

    cfg = load_config(config)
    for warning in cfg.warnings:
        say(f"warning: {warning}")
    service = open_service(db, create=True)
    info = service.create_sweep(cfg.data, project=project, name=name)
    say(f"Created sweep {info.id} (method {info.method}) in {service.location}")
    agent_env = dict(os.environ)
    if db:
        # The agents open the same store or server (the default store is this folder's).
        from sweepkit.service import is_server_url

        agent_env[env.SERVER_URL if is_server_url(db) else env.STORE] = db
    procs = []
    for share in split_count(count, agents):
        argv = [sys.executable, "-m", "sweepkit", "agent", info.id]
        if share is not None:
            argv += ["--count", str(share)]
        if not verbose:
            argv.append("--quiet")
        procs.append(subprocess.Popen(argv, env=agent_env, stderr=None if verbose else subprocess.DEVNULL))
    say(f"Started {len(procs)} agent{'s' if len(procs) != 1 else ''}; Ctrl-C stops them cleanly")
    live = sys.stderr.isatty()
    last = ""
    try:
        while any(p.poll() is None for p in procs):
            line = progress_line(service, info.id)
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
    line = progress_line(service, info.id)
    if live:
        click.echo("\r" + line.ljust(len(last)), err=True)
    elif line != last:
        say(line)
    best = service.best_run(info.id)
    if best is None:
        say(f"sweep {info.id} has no finished run with a metric value")
        raise SystemExit(1 if any(p.returncode for p in procs) else 0)
    click.echo(describe_best(service.get_sweep(info.id), best))

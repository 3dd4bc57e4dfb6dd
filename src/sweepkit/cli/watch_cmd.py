"""``sweepkit watch ID``: follow any sweep, wherever its agents run, without touching it.

Read-only, through the sweep service alone: progress against the planned runs, time left, counts
by state, the top runs by the sweep's metric, the best so far, the newest failures and stops. A
live view in a terminal, plain lines in a pipe; it ends when the sweep is over (finished, stopped
or cancelled, with no run going), or at Ctrl-C, which leaves the sweep alone.
"""

from __future__ import annotations

import click

from sweepkit.cli.common import db_option, friendly_errors, interval_option, open_service, say


@click.command("watch")
@click.argument("sweep_id", metavar="ID")
@interval_option(0.1, "")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Top runs shown.")
@click.option("--no-progress", is_flag=True, help="Plain lines instead of the live view, even in a terminal.")
@db_option
@friendly_errors
def watch(sweep_id, interval, top, no_progress, db):
    """Follow sweep ID until it is over (Ctrl-C stops watching; the sweep goes on)."""
    from sweepkit.api import SweepRef
    from sweepkit.cli.follow import follow, live_wanted
    from sweepkit.cli.sweep_progress import SweepProgress

    service = open_service(db)
    ref = SweepRef.parse(sweep_id)
    sweep = service.get_sweep(ref.id, project=ref.project, entity=ref.entity)
    progress = SweepProgress(service, sweep.id, top=top)
    first = True

    def on_ended(runs) -> list[str]:
        nonlocal first
        if first:  # the sweep's history: only its newest failures and stops
            first = False
            runs = sorted([*progress.failures, *progress.stops], key=lambda run: run.number)
        return [problem_line(run) for run in runs if run.state.value in ("failed", "crashed", "killed")]

    live = live_wanted(no_progress)
    try:
        follow(
            progress,
            live=live,
            location=service.location,
            interval_s=interval,
            keep_going=lambda: progress.info is None or not progress.over,
            on_ended=(lambda runs: []) if live else on_ended,
        )
    except KeyboardInterrupt:
        say(f"stopped watching; sweep {sweep.id} goes on")


def problem_line(run) -> str:
    from sweepkit.printable import printable

    return f"run {run.id} ({printable(run.name)}) {run.state.value}: {run.reason or 'no reason recorded'}"

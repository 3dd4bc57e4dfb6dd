"""``sweepkit scheduler ID``: the process that runs the user's ``scheduler.source`` for a sweep (its
``optimizer`` and ``search_space`` functions), queueing the study's suggestions ahead of the agents
and telling it the results (``sweepkit.scheduler``). Locally against a store, or over a sweepkit
server with an admin token; started again, it rebuilds its study from the sweep's runs.
"""

from __future__ import annotations

import click

from sweepkit.cli.common import db_option, friendly_errors, interval_option, open_service, say


@click.command("scheduler")
@click.argument("sweep_id", metavar="ID")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="The sweep's config file: scheduler.source is read relative to its folder (default: the working directory).",
)
@click.option(
    "--source", default=None, type=click.Path(dir_okay=False), help="The user's Python file itself."
)
@click.option(
    "--ahead",
    type=click.IntRange(min=1, max=1000),
    default=2,
    show_default=True,
    help="Suggestions kept queued for the agents (at least one per live agent).",
)
@interval_option(0.05, " at the sweep's runs")
@click.option("--once", is_flag=True, help="One pass (rebuild, tell, queue), then stop.")
@db_option
@friendly_errors
def scheduler(sweep_id, config_file, source, ahead, interval, once, db):
    """Run sweep ID's scheduler.source: queue its suggestions, tell it the results, take up a changed
    config (sweepkit sweep --update) as it comes (Ctrl-C stops it; start it again to go on)."""
    import signal

    from sweepkit import shutdown
    from sweepkit.api import SweepRef
    from sweepkit.errors import SweepkitError
    from sweepkit.scheduler import SchedulerProcess, load_user_code

    service = open_service(db)
    ref = SweepRef.parse(sweep_id)
    sweep = service.get_sweep(ref.id, project=ref.project, entity=ref.entity)
    scheduler_section = sweep.config.get("scheduler") or {}
    if not scheduler_section.get("source"):
        raise SweepkitError(
            f"sweep {sweep.id} has no scheduler.source in its config: the service proposes its runs, "
            "no `sweepkit scheduler` is needed"
        )
    code = load_user_code(scheduler_section, config_file=config_file, source=source)
    process = SchedulerProcess(
        service,
        sweep.id,
        code,
        ahead=ahead,
        interval_s=interval,
        say=say,
        load_code=lambda section: load_user_code(section, config_file=config_file, source=source),
    )
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda signum, frame: shutdown.request(signal.Signals(signum).name))
    say(f"scheduler of sweep {sweep.id}: running {code.path} against {service.location}")
    process.run(once=once)
    say(
        f"scheduler of sweep {sweep.id}: queued {process.queued_total} runs, told {process.told_total} results"
    )

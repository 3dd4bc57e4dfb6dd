"""``sweepkit agent ID``: pull runs from a sweep and execute its program until the sweep is done, one
run at a time or, with ``--gpus``/``--parallel``, several at once (docs/clusters.md)."""

from __future__ import annotations

import click

from sweepkit.cli.common import db_option, friendly_errors


@click.command("agent")
@click.argument("sweep_id", metavar="ID")
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many runs.")
@click.option("--project", help="Project of the sweep (or write ID as project/id).")
@click.option("--entity", help="Entity of the sweep (or write ID as entity/project/id).")
@click.option(
    "--quiet",
    is_flag=True,
    help="Do not echo the runs' output (it is kept per run; a failed run's last lines are shown).",
)
@click.option(
    "--no-wandb-standin",
    "no_standin",
    is_flag=True,
    help="Let a run's `import wandb` find the real package, not sweepkit's stand-in ($SWEEPKIT_WANDB_STANDIN=0).",
)
@click.option(
    "--metrics-from-output",
    is_flag=True,
    default=None,
    help="Read name=value metrics from the runs' output lines ($SWEEPKIT_METRICS_FROM_OUTPUT=1).",
)
@click.option(
    "--metrics-regex",
    metavar="REGEX",
    help="Read metrics from output lines with this pattern: groups 'name' and 'value' ($SWEEPKIT_METRICS_REGEX).",
)
@click.option(
    "--gpus",
    metavar="all|0,1,...",
    help="Run one run per GPU at once, each with its own CUDA_VISIBLE_DEVICES: 'all' (the machine's, "
    "or the scheduler's CUDA_VISIBLE_DEVICES) or a list of GPU indices.",
)
@click.option(
    "--gpus-per-run",
    type=click.IntRange(min=1),
    metavar="K",
    help="GPUs each run gets with --gpus (default 1): N GPUs run N/K runs at once.",
)
@click.option(
    "--parallel",
    type=click.IntRange(min=1),
    metavar="N",
    help="Run N runs at once without GPUs (CPU runs).",
)
@db_option
@friendly_errors
def agent(
    sweep_id,
    count,
    project,
    entity,
    quiet,
    no_standin,
    metrics_from_output,
    metrics_regex,
    gpus,
    gpus_per_run,
    parallel,
    db,
):
    """Run sweep ID's runs here, one after another or several at once (--gpus, --parallel; program
    runs). ID is id, project/id or entity/project/id. Output of runs side by side is prefixed with
    the run's id; each run's is kept in .sweepkit/runs/RUN_ID/output.log.

    Exits 1 when the agent gave up under the failure policy, or when every run it ran failed.
    """
    from sweepkit.api import agent as run_agent

    report = run_agent(
        sweep_id,
        count=count,
        project=project,
        entity=entity,
        db=db,
        echo=not quiet,
        wandb_standin=False if no_standin else None,
        metrics_from_output=metrics_from_output,
        metrics_regex=metrics_regex,
        gpus=gpus,
        gpus_per_run=gpus_per_run,
        parallel=parallel,
    )
    raise SystemExit(1 if report.failed else 0)

"""``sweepkit sweeps``, ``sweepkit runs ID`` and ``sweepkit best ID``: what a store holds."""

from __future__ import annotations

import json

import click

from sweepkit.api import run_json
from sweepkit.cli.common import db_option, friendly_errors, open_service, say
from sweepkit.cli.tables import cell, csv_table, run_rows, text_table

_formats = click.Choice(["table", "json", "csv"])


def _sweep(service, sweep_id: str):
    from sweepkit.api import SweepRef

    ref = SweepRef.parse(sweep_id)
    return service.get_sweep(ref.id, project=ref.project, entity=ref.entity)


@click.command("sweeps")
@click.option("--project", help="Only this project's sweeps.")
@click.option("--format", "fmt", type=_formats, default="table", show_default=True)
@db_option
@friendly_errors
def sweeps(project, fmt, db):
    """List the sweeps in the store, newest first."""
    items = open_service(db).list_sweeps(project=project)
    records = [
        {
            "id": s.id,
            "name": s.name,
            "project": s.project,
            "method": s.method,
            "state": s.state.value,
            "runs": s.run_count,
            "created_at": s.created_at.isoformat() if s.created_at else None,
            "finished_reason": s.state_reason,
        }
        for s in items
    ]
    if fmt == "json":
        click.echo(json.dumps(records, indent=2))
        return
    header = list(records[0]) if records else ["id", "name", "project", "method", "state", "runs"]
    rows = [[cell(r[h]) for h in header] for r in records]
    click.echo(csv_table(header, rows) if fmt == "csv" else text_table(header, rows))


@click.command("runs")
@click.argument("args", nargs=-1, required=True, metavar="ID [RUN...]")
@click.option("--format", "fmt", type=_formats, default="table", show_default=True)
@click.option(
    "--delete", is_flag=True, help="Delete the runs RUN... of sweep ID and their history (asks first)."
)
@click.option("--yes", is_flag=True, help="With --delete: do not ask.")
@db_option
@friendly_errors
def runs(args, fmt, delete, yes, db):
    """List sweep ID's runs: state, config, summary, stop reason; or delete some with --delete."""
    if delete and len(args) < 2:
        raise click.UsageError("--delete expects ID and one or more RUN ids")
    if not delete and len(args) != 1:
        raise click.UsageError("expected one sweep ID (RUN ids go with --delete)")
    service = open_service(db)
    sweep = _sweep(service, args[0])
    if delete:
        delete_runs(service, sweep, list(args[1:]), yes)
        return
    items = [run_json(r) for r in service.all_runs(sweep.id)]
    if fmt == "json":
        click.echo(json.dumps(items, indent=2, default=str))
        return
    metric = (sweep.config.get("metric") or {}).get("name")
    header, rows = run_rows(items, metric)
    click.echo(csv_table(header, rows) if fmt == "csv" else text_table(header, rows))


def delete_runs(service, sweep, run_ids: list[str], yes: bool) -> None:
    """``runs --delete``: ask (unless ``yes``), then delete all the runs or none."""
    import sys

    from sweepkit.errors import SweepkitError

    if not yes:
        if not sys.stdin.isatty():
            raise SweepkitError(
                "--delete asks before it deletes and standard input is not a terminal: add --yes"
            )
        shown = ", ".join(f"{r.id} ({r.state.value})" for r in map(service.get_run, dict.fromkeys(run_ids)))
        click.confirm(
            f"Delete {shown} of sweep {sweep.id} and their history from {service.location}?",
            abort=True,
            err=True,
        )
    deleted = service.delete_runs(sweep.id, run_ids)
    say(
        f"Deleted {len(deleted)} run{'s' if len(deleted) != 1 else ''} of sweep {sweep.id} from {service.location}"
    )


@click.command("best")
@click.argument("sweep_id", metavar="ID")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@db_option
@friendly_errors
def best(sweep_id, fmt, db):
    """Show the finished run of sweep ID with the best value of its metric."""
    service = open_service(db)
    sweep = _sweep(service, sweep_id)
    run = service.best_run(sweep.id)
    if run is None:
        say(f"sweep {sweep.id} has no finished run with a value of its metric yet")
        raise SystemExit(1)
    if fmt == "json":
        click.echo(json.dumps(run_json(run), indent=2, default=str))
        return
    click.echo(describe_best(sweep, run))


def describe_best(sweep, run) -> str:
    from sweepkit.cli.tables import flatten

    metric = sweep.config.get("metric") or {}
    lines = [f"best run of sweep {sweep.id}: {run.id} ({run.name})"]
    if metric:
        goal = metric.get("goal", "minimize")
        value = run.metric.best(goal)
        lines.append(f"  {metric['name']} = {cell(value)} (its best logged value; goal {goal})")
    for key, value in flatten(run.config).items():
        lines.append(f"  {key} = {cell(value)}")
    return "\n".join(lines)

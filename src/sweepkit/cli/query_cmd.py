"""``sweepkit sweeps``, ``sweepkit runs ID`` and ``sweepkit best ID``: what a store holds."""

from __future__ import annotations

import json

import click

from sweepkit.cli.common import db_option, friendly_errors, say
from sweepkit.cli.tables import cell, csv_table, run_rows, text_table

_formats = click.Choice(["table", "json", "csv"])


@click.command("sweeps")
@click.option("--project", help="Only this project's sweeps.")
@click.option("--format", "fmt", type=_formats, default="table", show_default=True)
@db_option
@friendly_errors
def sweeps(project, fmt, db):
    """List the sweeps in the store, newest first."""
    from sweepkit.api import Api

    items = Api(db).sweeps(project=project)
    records = [
        {
            "id": s.id,
            "name": s.name,
            "project": s.project,
            "method": s.config.get("method"),
            "state": s.state,
            "runs": s.run_count,
            "created_at": s.created_at.isoformat() if s.created_at else None,
            "finished_reason": s.finished_reason,
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
@click.argument("sweep_id", metavar="ID")
@click.option("--format", "fmt", type=_formats, default="table", show_default=True)
@db_option
@friendly_errors
def runs(sweep_id, fmt, db):
    """List sweep ID's runs: state, config, summary, stop reason."""
    from sweepkit.api import Api

    api = Api(db)
    sweep = api.sweep(sweep_id)
    items = [r.to_json() for r in api.runs(sweep.id)]
    if fmt == "json":
        click.echo(json.dumps(items, indent=2, default=str))
        return
    metric = (sweep.config.get("metric") or {}).get("name")
    header, rows = run_rows(items, metric)
    click.echo(csv_table(header, rows) if fmt == "csv" else text_table(header, rows))


@click.command("best")
@click.argument("sweep_id", metavar="ID")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@db_option
@friendly_errors
def best(sweep_id, fmt, db):
    """Show the finished run of sweep ID with the best value of its metric."""
    from sweepkit.api import Api

    api = Api(db)
    sweep = api.sweep(sweep_id)
    run = api.best_run(sweep.id)
    if run is None:
        say(f"sweep {sweep.id} has no finished run with a value of its metric yet")
        raise SystemExit(1)
    if fmt == "json":
        click.echo(json.dumps(run.to_json(), indent=2, default=str))
        return
    click.echo(describe_best(sweep, run))


def describe_best(sweep, run) -> str:
    from sweepkit.cli.tables import flatten

    metric = (sweep.config.get("metric") or {}).get("name")
    goal = (sweep.config.get("metric") or {}).get("goal", "minimize")
    lines = [f"best run of sweep {sweep.id}: {run.id} ({run.name})"]
    if metric:
        lines.append(f"  {metric} = {cell(run.summary.get(metric))} (last logged; goal {goal})")
    for key, value in flatten(run.config).items():
        lines.append(f"  {key} = {cell(value)}")
    return "\n".join(lines)

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
@click.argument("sweep_id", metavar="ID")
@click.option("--format", "fmt", type=_formats, default="table", show_default=True)
@db_option
@friendly_errors
def runs(sweep_id, fmt, db):
    """List sweep ID's runs: state, config, summary, stop reason."""
    service = open_service(db)
    sweep = _sweep(service, sweep_id)
    metric = sweep.config.get("metric") or {}
    items = [run_json(r, metric) for r in service.all_runs(sweep.id)]
    if fmt == "json":
        click.echo(json.dumps(items, indent=2, default=str))
        return
    header, rows = run_rows(items, metric.get("name"))
    click.echo(csv_table(header, rows) if fmt == "csv" else text_table(header, rows))


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
        click.echo(json.dumps(run_json(run, sweep.config.get("metric")), indent=2, default=str))
        return
    click.echo(describe_best(sweep, run))


def describe_best(sweep, run) -> str:
    from sweepkit.cli.tables import flatten

    metric = sweep.config.get("metric") or {}
    lines = [f"best run of sweep {sweep.id}: {run.id} ({run.name})"]
    if metric:
        goal = metric.get("goal", "minimize")
        value = run.metric.best(goal)
        how = run.metric.describe_best(goal)
        lines.append(f"  {metric['name']} = {cell(value)} (the value it is ranked by: {how}; goal {goal})")
    for key, value in flatten(run.config).items():
        lines.append(f"  {key} = {cell(value)}")
    return "\n".join(lines)

"""``sweepkit sweeps``, ``sweepkit runs ID`` and ``sweepkit best ID``: what a store holds."""

from __future__ import annotations

import json
import sys

import click

from sweepkit.cli.common import db_option, friendly_errors, is_terminal, open_service, say
from sweepkit.cli.tables import Condition, keep, select, sort_rows, text_table
from sweepkit.errors import SweepkitError
from sweepkit.printable import printable
from sweepkit.run_export import csv_table, run_json, run_rows
from sweepkit.values import dumps

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
    service = open_service(db)
    items = service.list_sweeps(project=project)
    if not items:
        which = f" of project {project!r}" if project else ""
        say(f"no sweeps{which} in {service.location}")
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
    if any(s.scheduler is not None for s in items):  # sweeps whose runs a `sweepkit scheduler` queues
        for record, item in zip(records, items, strict=True):
            record["scheduler"] = scheduler_text(item)
    if fmt == "json":
        click.echo(json.dumps(records, indent=2))
        return
    header = list(records[0]) if records else ["id", "name", "project", "method", "state", "runs"]
    rows = [[r[h] for h in header] for r in records]
    if fmt == "csv":
        _echo_csv(csv_table(header, rows))
    elif is_terminal(sys.stdout):
        from sweepkit.cli.terminal_table import print_table

        print_table(header, rows, priority=lambda name: 1 if name in ("created_at", "project") else 0)
    else:
        click.echo(text_table(header, rows))


def scheduler_text(sweep) -> str | None:
    """A sweep's user scheduler process in a few words (None without ``scheduler.source``)."""
    scheduler = sweep.scheduler
    if scheduler is None:
        return None
    if scheduler.state == "waiting":
        return f"not started (sweepkit scheduler {sweep.id})"
    if scheduler.state == "gone":
        return f"scheduler gone ({scheduler.where}, last heard from {scheduler.last_heard})"
    return f"alive ({scheduler.where})"


@click.command("runs")
@click.argument("args", nargs=-1, required=True, metavar="ID [RUN...]")
@click.option("--format", "fmt", type=_formats, default="table", show_default=True)
@click.option(
    "--columns",
    metavar="COLS",
    help="Comma-separated columns, e.g. id,state,lr,loss (config. and summary. may be left out).",
)
@click.option(
    "--sort", "sort_by", metavar="COL", help="Sort by COL (-COL: descending); runs without it last."
)
@click.option(
    "--filter",
    "filters",
    metavar="EXPR",
    multiple=True,
    help="Keep runs where EXPR holds: state=failed,crashed or COL OP VALUE (lr>=0.01, opt=adam); repeatable.",
)
@click.option("--limit", type=click.IntRange(min=1), help="At most N runs (after --filter and --sort).")
@click.option(
    "--all", "everything", is_flag=True, help="Every column: the search method's suggestion, retry links."
)
@click.option(
    "--delete", is_flag=True, help="Delete the runs RUN... of sweep ID and their history (asks first)."
)
@click.option("--yes", is_flag=True, help="With --delete: do not ask.")
@db_option
@friendly_errors
def runs(args, fmt, columns, sort_by, filters, limit, everything, delete, yes, db):
    """List sweep ID's runs: state, duration, config, summary, why a run did not finish; or delete
    some with --delete.

    JSON holds whole runs (--filter, --sort and --limit apply); CSV and JSON keep full precision.
    """
    if delete and len(args) < 2:
        raise click.UsageError("--delete expects ID and one or more RUN ids")
    if not delete and len(args) != 1:
        raise click.UsageError("expected one sweep ID (RUN ids go with --delete)")
    service = open_service(db)
    sweep = _sweep(service, args[0])
    if delete:
        delete_runs(service, sweep, list(args[1:]), yes)
        return
    conditions = [Condition.parse(text) for text in filters]
    states = None
    for condition in [c for c in conditions if c.states() is not None]:
        states = condition.states() if states is None else [s for s in states if s in condition.states()]
        conditions.remove(condition)
    _check_states(states)
    # Without sorting or filtering here, the first pages are enough.
    enough = limit if sort_by is None and not conditions else None
    items = [run_json(r) for r in _runs(service, sweep.id, states, enough)]
    if len(sweep.plan.objectives) > 1:  # the Pareto front each finished run lies on (--sort pareto_rank)
        fronts = {ranked.run.id: ranked.rank for ranked in service.best_runs(sweep.id)}
        items = [
            item | ({"pareto_rank": fronts[item["id"]]} if item["id"] in fronts else {}) for item in items
        ]
    objective = sweep.plan.objective
    metric = objective.name if objective is not None else None
    header, rows = run_rows(items, metric, everything=everything)
    picked = keep(header, rows, conditions)
    if sort_by is not None:
        picked = sort_rows(header, rows, sort_by, picked)
    picked = picked[:limit] if limit is not None else picked
    if not picked:
        say(f"no runs of sweep {sweep.id} to show (in {service.location})")
    if fmt == "json":
        click.echo(dumps([items[i] for i in picked], indent=2, ascii=is_terminal(sys.stdout)))
        return
    rows = [rows[i] for i in picked]
    if columns:
        header, rows = select(header, rows, [c.strip() for c in columns.split(",") if c.strip()])
    if fmt == "csv":
        _echo_csv(csv_table(header, rows))
    elif is_terminal(sys.stdout):
        from sweepkit.cli.terminal_table import print_table

        metric_column = f"metric.{metric}"
        print_table(
            header,
            rows,
            priority=lambda name: _priority(name, metric_column),
            hint="--columns picks; --format csv has all",
        )
    else:
        click.echo(text_table(header, rows))


#: Which columns a terminal keeps first when not all fit.
_FIRST = ["id", "state"]
_LAST = ["name", "exit_code", "retry_of", "retried_by"]


def _priority(name: str, metric_column: str) -> int:
    if name in _FIRST:
        return 0
    if name == metric_column:
        return 1
    if name.startswith("config."):
        return 2
    if name in ("reason", "duration_s"):
        return 3
    if name.startswith("summary."):
        return 4
    return 6 if name in _LAST or name.startswith("suggestion.") else 5


def _runs(service, sweep_id: str, states, enough: int | None):
    """The sweep's runs (in ``states``), page by page; the first ``enough`` of them if given."""
    if states is not None and not states:
        return  # the state filters exclude each other
    after = None
    got = 0
    while True:
        page = service.list_runs(sweep_id, states=states, after=after, limit=1000)
        for run in page.runs:
            yield run
            got += 1
            if enough is not None and got >= enough:
                return
        if page.next_after is None:
            return
        after = page.next_after


def _check_states(states) -> None:
    from sweepkit.runs import RunState

    known = [s.value for s in RunState]
    for state in states or []:
        if state not in known:
            raise SweepkitError(f"--filter state={state}: expected one of {', '.join(known)}")


def delete_runs(service, sweep, run_ids: list[str], yes: bool) -> None:
    """``runs --delete``: ask (unless ``yes``), then delete all the runs or none."""
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
    """Show the finished run of sweep ID with the best value of its metric (with several metrics: the
    Pareto front, every run no other run beats on all of them)."""
    service = open_service(db)
    sweep = _sweep(service, sweep_id)
    objective = sweep.plan.objective
    if objective is None:
        raise SweepkitError(
            f"sweep {sweep.id} has no metric (its config sets no metric.name), so no run is best"
        )
    if len(sweep.plan.objectives) > 1:
        front = [ranked.run for ranked in service.best_runs(sweep.id) if ranked.rank == 1]
        if not front:
            names = ", ".join(repr(o.name) for o in sweep.plan.objectives)
            say(f"sweep {sweep.id} has no finished run with values of {names} yet (in {service.location})")
            raise SystemExit(1)
        if fmt == "json":
            click.echo(dumps([run_json(run) | {"pareto_rank": 1} for run in front], indent=2))
            return
        click.echo(describe_front(sweep, front))
        return
    run = service.best_run(sweep.id)
    if run is None:
        say(
            f"sweep {sweep.id} has no finished run with a value of {objective.name!r} yet (in {service.location})"
        )
        raise SystemExit(1)
    if fmt == "json":
        click.echo(dumps(run_json(run), indent=2, ascii=is_terminal(sys.stdout)))
        return
    click.echo(describe_best(sweep, run))


def _echo_csv(text: str) -> None:
    """CSV keeps each value whole in a file or a pipe; on a terminal, without control sequences."""
    click.echo(printable(text, newlines=True, tabs=True) if is_terminal(sys.stdout) else text, nl=False)


def describe_front(sweep, front) -> str:
    """The Pareto front of a sweep with several metrics, one run a line, by the first metric."""
    from sweepkit.cli.tables import cell
    from sweepkit.run_export import flatten

    objectives = sweep.plan.objectives
    goals = ", ".join(f"{o.name} ({o.goal})" for o in objectives)
    plural = "s" if len(front) != 1 else ""
    lines = [
        f"Pareto front of sweep {sweep.id}: {len(front)} run{plural} no other run beats on all of {goals}"
    ]
    for run in front:
        values = "  ".join(f"{o.name}={cell(run.value(o))}" for o in objectives)
        config = ", ".join(f"{k}={cell(v)}" for k, v in flatten(run.config).items())
        lines.append(f"  {run.id}  {values}  ({config})")
    return "\n".join(lines)


def describe_best(sweep, run) -> str:
    """The best run in a few lines for a terminal (no control sequences)."""
    from sweepkit.cli.tables import cell
    from sweepkit.run_export import flatten

    lines = [f"best run of sweep {sweep.id}: {run.id} ({run.name})"]
    for objective in sweep.plan.objectives:
        how = objective.describe(run.metric) if objective is sweep.plan.objective else "its value"
        lines.append(
            f"  {objective.name} = {cell(run.value(objective))} (the value it is ranked by: {how}; "
            f"goal {objective.goal})"
        )
    for key, value in flatten(run.config).items():
        lines.append(f"  {key} = {cell(value)}")
    return printable("\n".join(lines), newlines=True)

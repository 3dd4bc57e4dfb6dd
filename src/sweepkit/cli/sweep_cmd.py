"""``sweepkit sweep``: create a sweep from a config (optionally starting from earlier sweeps' runs), or
pause, resume, stop, cancel, update (saying first what the change does), retry one, queue points in
it, or show its config's versions."""

from __future__ import annotations

import click

from sweepkit.cli.common import db_option, friendly_errors, open_service, say


def agent_hint(sweep_id: str, db: str | None, location: str) -> str:
    """The command that starts an agent on this sweep, never showing a password.

    ``db`` is the ``--db`` given on the command line (a store named by the environment is found
    again by the agent through the same environment); ``location`` the service's, password masked.
    """
    if not db:
        return f"sweepkit agent {sweep_id}"
    if location.startswith(("http://", "https://")):
        return f"sweepkit agent --server {location} {sweep_id}"
    hint = f"sweepkit agent --db '{location}' {sweep_id}"
    if ":***@" in location:
        hint += "  (password hidden: give the full URL through SWEEPKIT_DB)"
    return hint


@click.command("sweep")
@click.argument("args", nargs=-1, metavar="CONFIG | ID [CONFIG]")
@click.option("--project", help="Project the sweep belongs to (wins over the config's).")
@click.option("--entity", help="Entity label (wins over the config's).")
@click.option("--name", help="Sweep name (wins over the config's).")
@click.option("--pause", "action", flag_value="pause", help="Start nothing new until --resume.")
@click.option("--resume", "action", flag_value="resume", help="Resume a paused or stopped sweep.")
@click.option("--stop", "action", flag_value="stop", help="Start nothing new; let running runs finish.")
@click.option("--cancel", "action", flag_value="cancel", help="Start nothing new and kill running runs.")
@click.option("--update", "action", flag_value="update", help="Replace sweep ID's config with CONFIG.")
@click.option(
    "--retry",
    "action",
    flag_value="retry",
    help="Run the parameters of sweep ID's failed, crashed and killed runs again (resumes a finished sweep).",
)
@click.option(
    "--state",
    "states",
    metavar="STATES",
    help="With --retry: the states to retry, comma-separated (default failed,crashed,killed).",
)
@click.option(
    "--add",
    "action",
    flag_value="add",
    help="Queue points in sweep ID (a YAML/JSON file of them, or --params): run before the method's, once each.",
)
@click.option(
    "--params", "params_json", metavar="JSON", help="With --add: a point (or a list of them) as JSON."
)
@click.option(
    "--history",
    "action",
    flag_value="history",
    help="Show every version of sweep ID's config and what it changed.",
)
@click.option(
    "--from",
    "from_sweeps",
    multiple=True,
    metavar="ID",
    help="With CONFIG: start from the finished runs of sweep ID (repeatable) as imported observations.",
)
@click.option(
    "--default",
    "defaults",
    multiple=True,
    metavar="NAME=VALUE",
    help="With --update: the value earlier runs are taken to have had for a parameter CONFIG adds (VALUE as JSON).",
)
@click.option("--yes", "-y", is_flag=True, help="With --update: apply without asking.")
@click.option("--dry-run", is_flag=True, help="With --update: only say what the change would do.")
@db_option
@friendly_errors
def sweep(args, project, entity, name, action, states, params_json, from_sweeps, defaults, yes, dry_run, db):
    """Create a sweep from CONFIG (prints only its id on stdout), or control sweep ID."""
    from sweepkit import sweep_intake
    from sweepkit.api import SweepRef

    if from_sweeps and action is not None:
        raise click.UsageError("--from goes with creating a sweep from CONFIG")
    if (defaults or yes or dry_run) and action != "update":
        raise click.UsageError("--default, --yes and --dry-run go with --update")
    if params_json is not None and action != "add":
        raise click.UsageError("--params goes with --add")
    if action is None:
        if len(args) != 1:
            raise click.UsageError("expected one CONFIG file")
        config = sweep_intake.read(args[0])  # a file that is no config creates no store
        service = open_service(db, create=True)
        for earlier in from_sweeps:  # a sweep to start from that does not exist creates nothing
            service.get_sweep(SweepRef.parse(earlier).id)
        answer = sweep_intake.create_sweep(service, config, project=project, entity=entity, name=name)
        info = answer.sweep
        for warning in answer.warnings:
            say(f"warning: {warning}")
        label = f" {info.name!r}" if info.name else ""
        say(f"Created sweep{label} with id {info.id} (method {info.method}) in {service.location}")
        if from_sweeps:
            warm(service, info.id, from_sweeps)
        say(f"Run agents with: {agent_hint(info.id, db, service.location)}")
        click.echo(info.id)
        return
    if action == "update":
        if len(args) != 2:
            raise click.UsageError("--update expects ID and CONFIG")
        ref = SweepRef.parse(args[0])
        config = sweep_intake.read(args[1])
        service = open_service(db)
        sweep_id = service.get_sweep(ref.id, project=ref.project, entity=ref.entity).id
        update(service, sweep_id, config, parse_defaults(defaults), yes=yes, dry_run=dry_run)
        return
    if states is not None and action != "retry":
        raise click.UsageError("--state goes with --retry")
    if action == "add":
        if len(args) != (1 if params_json is not None else 2):
            raise click.UsageError("--add expects ID and a FILE of points, or ID and --params JSON")
    elif len(args) != 1:
        raise click.UsageError(f"--{action} expects one sweep ID")
    ref = SweepRef.parse(args[0])
    service = open_service(db)
    sweep_id = service.get_sweep(ref.id, project=ref.project, entity=ref.entity).id
    if action == "retry":
        retry(service, sweep_id, states, db)
        return
    if action == "add":
        add(service, sweep_id, args[1] if params_json is None else None, params_json, db)
        return
    if action == "history":
        history(service, sweep_id)
        return
    info = service.control_sweep(sweep_id, action)
    say(f"Sweep {info.id} is now {info.state.value}")


def retry(service, sweep_id: str, states: str | None, db: str | None) -> None:
    """``--retry``: queue the runs again and say what happens next."""
    wanted = None if states is None else [s.strip() for s in states.split(",") if s.strip()]
    result = service.retry_runs(sweep_id, wanted)
    info = result.sweep
    if not result.retried:
        which = ", ".join(wanted) if wanted else "failed, crashed or killed"
        say(f"sweep {info.id} has no {which} run left to retry (in {service.location})")
        return
    runs = "run" if len(result.retried) == 1 else "runs"
    say(f"Queued {len(result.retried)} {runs} of sweep {info.id} again; the old runs stay, marked retried")
    if info.state.value == "running":
        say(f"Sweep {info.id} is running; run agents with: {agent_hint(info.id, db, service.location)}")
    else:
        say(f"Sweep {info.id} is {info.state.value}: the runs start after sweepkit sweep --resume {info.id}")


def parse_defaults(given) -> dict:
    """``--default NAME=VALUE`` options: VALUE as JSON where it is (3, 0.1, true), else as text."""
    import json

    out = {}
    for item in given:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"--default {item!r}: expected NAME=VALUE")
        try:
            out[name.strip()] = json.loads(text)
        except ValueError:
            out[name.strip()] = text
    return out


def update(service, sweep_id: str, config, defaults: dict, *, yes: bool, dry_run: bool) -> None:
    """``--update``: say what the change does; apply it (after asking, at a terminal without --yes)."""
    import sys

    from sweepkit import sweep_intake

    preview = sweep_intake.update_sweep(service, sweep_id, config, defaults=defaults, dry_run=True)
    for warning in preview.warnings:
        say(f"warning: {warning}")
    changes = preview.sweep.changes or ["no change to what the sweep does"]
    say(f"Changing the config of sweep {sweep_id}:")
    for change in changes:
        say(f"  - {change}")
    if dry_run:
        say("Nothing was changed (--dry-run).")
        return
    if not yes and sys.stdin.isatty() and not click.confirm("Apply this change?", default=False, err=True):
        say("Nothing was changed.")
        return
    answer = sweep_intake.update_sweep(service, sweep_id, config, defaults=defaults)
    versions = service.config_versions(sweep_id)
    say(f"Updated the config of sweep {answer.sweep.id} (now version {versions[-1].version})")


def add(service, sweep_id: str, path: str | None, params_json: str | None, db: str | None) -> None:
    """``--add``: queue the points of a file or of --params."""
    from sweepkit.results_file import parse_params, read_points

    points = parse_params(params_json) if params_json is not None else read_points(path)
    queued = service.queue_points(sweep_id, points)
    numbers = ", ".join(str(r.number) for r in queued)
    if len(queued) == 1:
        say(f"Queued 1 point in sweep {sweep_id} as run {numbers}: agents run it before any other")
    else:
        say(f"Queued {len(queued)} points in sweep {sweep_id} as runs {numbers}: agents run them first")
    info = service.get_sweep(sweep_id)
    if info.state.value == "running":
        say(f"Run agents with: {agent_hint(sweep_id, db, service.location)}")
    else:
        say(f"Sweep {sweep_id} is {info.state.value}: they start after sweepkit sweep --resume {sweep_id}")


def history(service, sweep_id: str) -> None:
    """``--history``: each version of the config, its time and what it changed (the config on stdout)."""
    import json

    for version in service.config_versions(sweep_id):
        when = version.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        click.echo(f"version {version.version}  {when}")
        for change in version.changes or (["created"] if version.version == 1 else []):
            click.echo(f"  - {change}")
        click.echo("  " + json.dumps(version.config, sort_keys=True))


def warm(service, sweep_id: str, from_sweeps) -> None:
    """``--from``: import the finished runs of earlier sweeps and say how many were kept."""
    from sweepkit.api import warm_start

    for earlier_id, found, result in warm_start(service, sweep_id, from_sweeps):
        if result is None:
            say(f"Sweep {earlier_id} has no finished runs to start from")
            continue
        left = len(result.refused)
        note = f"; {left} left out (outside the new space or without its metric)" if left else ""
        say(
            f"Took {len(result.imported)} of {found} finished runs of sweep {earlier_id} as observations{note}"
        )

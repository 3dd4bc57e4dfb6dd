"""``sweepkit sweep``: create a sweep from a config, or pause, resume, stop, cancel, update or retry one."""

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
@db_option
@friendly_errors
def sweep(args, project, entity, name, action, states, db):
    """Create a sweep from CONFIG (prints only its id on stdout), or control sweep ID."""
    from sweepkit import sweep_intake
    from sweepkit.api import SweepRef

    if action is None:
        if len(args) != 1:
            raise click.UsageError("expected one CONFIG file")
        config = sweep_intake.read(args[0])  # a file that is no config creates no store
        service = open_service(db, create=True)
        answer = sweep_intake.create_sweep(service, config, project=project, entity=entity, name=name)
        info = answer.sweep
        for warning in answer.warnings:
            say(f"warning: {warning}")
        label = f" {info.name!r}" if info.name else ""
        say(f"Created sweep{label} with id {info.id} (method {info.method}) in {service.location}")
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
        answer = sweep_intake.update_sweep(service, sweep_id, config)
        for warning in answer.warnings:
            say(f"warning: {warning}")
        say(f"Updated the config of sweep {answer.sweep.id}")
        return
    if states is not None and action != "retry":
        raise click.UsageError("--state goes with --retry")
    if len(args) != 1:
        raise click.UsageError(f"--{action} expects one sweep ID")
    ref = SweepRef.parse(args[0])
    service = open_service(db)
    sweep_id = service.get_sweep(ref.id, project=ref.project, entity=ref.entity).id
    if action == "retry":
        retry(service, sweep_id, states, db)
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

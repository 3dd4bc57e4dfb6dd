"""``sweepkit sweep``: create a sweep from a config, or pause, resume, stop, cancel or update one."""

from __future__ import annotations

import click

from sweepkit.cli.common import db_option, friendly_errors, say


def _agent_hint(sweep_id: str, db: str | None) -> str:
    db_part = f" --db {db}" if db else ""
    return f"sweepkit agent{db_part} {sweep_id}"


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
@db_option
@friendly_errors
def sweep(args, project, entity, name, action, db):
    """Create a sweep from CONFIG (prints only its id on stdout), or control sweep ID."""
    from sweepkit.controller import open_controller

    if action is None:
        if len(args) != 1:
            raise click.UsageError("expected one CONFIG file")
        controller = open_controller(db)
        record, cfg = controller.create_sweep(args[0], project=project, entity=entity, name=name)
        for warning in cfg.warnings:
            say(f"warning: {warning}")
        label = f" {record.name!r}" if record.name else ""
        say(f"Created sweep{label} with id {record.id} (method {cfg.method}) in {controller.location}")
        say(f"Run agents with: {_agent_hint(record.id, db)}")
        click.echo(record.id)
        return
    if action == "update":
        if len(args) != 2:
            raise click.UsageError("--update expects ID and CONFIG")
        record = open_controller(db).update_sweep(args[0], args[1])
        say(f"Updated the config of sweep {record.id}")
        return
    if len(args) != 1:
        raise click.UsageError(f"--{action} expects one sweep ID")
    record = open_controller(db).set_state(args[0], action)
    say(f"Sweep {record.id} is now {record.state}")

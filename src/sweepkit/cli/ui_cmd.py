"""``sweepkit ui``: the dashboard of a local store in the browser (loopback only)."""

from __future__ import annotations

import click

from sweepkit.cli.common import db_option, friendly_errors, say
from sweepkit.dashboard.local import DEFAULT_PORT


@click.command("ui")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
@db_option
@friendly_errors
def ui(port, db):
    """Serve the dashboard of the store on this machine (127.0.0.1) and print its address."""
    from sweepkit.dashboard.local import serve  # uvicorn and FastAPI load only here

    def announce(address: str, location: str) -> None:
        click.echo(address)
        say(f"the dashboard of {location} is at {address} (Ctrl-C stops it)")

    serve(db, port, announce=announce)

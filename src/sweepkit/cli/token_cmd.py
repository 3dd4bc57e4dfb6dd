"""``sweepkit token create|list|revoke``: the access tokens of a sweepkit server.

Tokens live in the server's store: manage them there (``--db``, on the server's machine: how the
first one is made) or through the server with an admin token (``--server`` or ``SWEEPKIT_URL``).
A new token is printed once, on stdout; only its hash is kept.
"""

from __future__ import annotations

import json

import click

from sweepkit.cli.common import db_option, friendly_errors, open_service, say
from sweepkit.cli.tables import cell, text_table


@click.group("token")
def token() -> None:
    """Create, list and revoke the access tokens of a sweepkit server."""


@token.command("create")
@click.option(
    "--scope",
    type=click.Choice(["read", "agent", "admin"]),
    required=True,
    help="read: queries; agent: also claim, log, heartbeat, finish; admin: also create and control sweeps, and tokens.",
)
@click.option("--name", help="A label for people (who or what uses it).")
@db_option
@friendly_errors
def create(scope, name, db):
    """Create a token and print it (the only time it is shown)."""
    service = open_service(db, create=True)
    made = service.create_token(scope, name=name)
    label = f" {made.token.name!r}" if made.token.name else ""
    say(
        f"Created token {made.token.id}{label} with scope {scope} in {service.location}; it is shown only "
        "now: give it to clients as SWEEPKIT_TOKEN (never on a command line)"
    )
    click.echo(made.secret)


@token.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@db_option
@friendly_errors
def list_(fmt, db):
    """List the tokens (never their secrets), revoked ones too."""
    items = open_service(db).list_tokens()
    records = [
        {
            "id": t.id,
            "name": t.name,
            "scope": t.scope,
            "created_at": t.created_at.isoformat(),
            "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        }
        for t in items
    ]
    if fmt == "json":
        click.echo(json.dumps(records, indent=2))
        return
    header = ["id", "name", "scope", "created_at", "last_used_at", "revoked_at"]
    click.echo(text_table(header, [[cell(r[h]) for h in header] for r in records]))


@token.command("revoke")
@click.argument("token_id", metavar="ID")
@db_option
@friendly_errors
def revoke(token_id, db):
    """Revoke token ID: it stops working at once."""
    info = open_service(db).revoke_token(token_id)
    say(f"Token {info.id} is revoked (since {info.revoked_at.isoformat()})")

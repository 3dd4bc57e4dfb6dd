"""What every subcommand shares: the ``--db``/``--server`` options, opening the sweep service, one-line errors."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from sweepkit import env
from sweepkit.printable import printable

_db = click.option(
    "--db",
    default=None,
    metavar="URL",
    help=(
        f"Store: a SQLite file path or a database URL (default: ${env.SERVER_URL} if set, else ${env.STORE}, "
        "else .sweepkit/sweepkit.db here)."
    ),
)


def interval_option(minimum: float, looks_at: str) -> Callable:
    """``--interval``: seconds (at least ``minimum``, 1 by default) between looks at ``looks_at``."""
    return click.option(
        "--interval",
        type=click.FloatRange(min=minimum),
        default=1.0,
        show_default=True,
        help=f"Seconds between looks{looks_at}.",
    )


_server = click.option(
    "--server",
    default=None,
    metavar="URL",
    help=f"A sweepkit server (http(s)://HOST:PORT) instead of a store; its token comes from ${env.TOKEN}.",
)


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--db`` and ``--server`` options; the command receives the one given as ``db``."""

    @functools.wraps(func)
    def wrapper(*args: Any, server: str | None = None, **kwargs: Any) -> Any:
        if server is not None:
            from sweepkit.connect import is_server_url

            if kwargs.get("db"):
                raise click.UsageError("give --db or --server, not both")
            if not is_server_url(server):
                raise click.BadParameter(
                    f"expected http://HOST:PORT or https://HOST, got {server!r}", param_hint="--server"
                )
            kwargs["db"] = server
        return func(*args, **kwargs)

    return _db(_server(wrapper))


def open_service(db: str | None, *, create: bool = False):
    """The sweep service for ``--db``/``--server`` (or the environment); only commands that create a
    sweep create a store."""
    from sweepkit.connect import connect

    return connect(db, create=create)


def is_terminal(stream) -> bool:
    """Whether ``stream`` is a terminal that can show tables and live views (not ``TERM=dumb``)."""
    import os

    return stream.isatty() and os.environ.get("TERM") != "dumb"


def say(message: str) -> None:
    """A message for people: on stderr, so stdout stays data; never a terminal control sequence."""
    click.echo(printable(message, newlines=True), err=True)


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Show sweepkit's own errors as one sentence and exit 1, never as a traceback; a sweep or run
    not found also says how to look in another store."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sweepkit.errors import NotFoundError, SweepkitError

        try:
            return func(*args, **kwargs)
        except NotFoundError as err:
            message = str(err)
            if "point at another" not in message:
                message += f" (point at another store with --db, {env.STORE} or SWEEPKIT_URL)"
            say(f"error: {message}")
            sys.exit(1)
        except SweepkitError as err:
            say(f"error: {err}")
            sys.exit(1)

    return wrapper

"""``sweepkit server``: serve a store's sweeps over HTTP to agents, the CLI and the API elsewhere."""

from __future__ import annotations

import click

from sweepkit import env
from sweepkit.cli.common import friendly_errors


@click.command("server")
@click.option(
    "--db",
    default=None,
    metavar="URL",
    help=f"Store to serve: a SQLite file path or a database URL (default: ${env.STORE}, else .sweepkit/sweepkit.db here).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (other than loopback only once a token exists).",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port (0: any free port)."
)
@click.option("--ssl-certfile", metavar="FILE", help="TLS certificate (PEM), to serve https.")
@click.option("--ssl-keyfile", metavar="FILE", help="TLS private key (PEM).")
@click.option(
    "--max-request-mb", type=float, default=64, show_default=True, help="Largest request body accepted."
)
@click.option(
    "--forwarded-allow-ips",
    metavar="IPS",
    help="Behind a reverse proxy: the proxy's addresses (comma-separated, or *) whose X-Forwarded-* headers are believed.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help=f"Another name clients reach the server by (repeatable; .example.com: every name under it; *: any), "
    f"e.g. a reverse proxy's; also ${env.ALLOWED_HOSTS}, comma-separated. Loopback names, addresses and "
    "this machine's name are always allowed.",
)
@click.option(
    "--access-log", is_flag=True, help="Log every request on stderr: client, method, path, status, time."
)
@friendly_errors
def server(
    db, host, port, ssl_certfile, ssl_keyfile, max_request_mb, forwarded_allow_ips, allowed_hosts, access_log
):
    """Serve the sweeps of a store over HTTP (JSON API under /api/v1).

    Agents elsewhere then need only the server's URL and a token: SWEEPKIT_URL=http://HOST:PORT and
    SWEEPKIT_TOKEN (see `sweepkit token create`). Without any token the server listens on loopback only.
    """
    try:
        from sweepkit.server.serve import serve
    except ImportError as exc:
        raise click.ClickException(
            f"the server needs its web stack ({exc.name} is missing): pip install 'sweepkit[server]'"
        ) from None
    serve(
        db,
        host=host,
        port=port,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        max_request_mb=max_request_mb,
        forwarded_allow_ips=forwarded_allow_ips,
        access_log=access_log,
        allowed_hosts=allowed_hosts,
    )

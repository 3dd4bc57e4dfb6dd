"""Start a sweepkit server: open the store, bind, refuse an open door, serve with uvicorn.

While the store holds no token, the server answers everyone; it therefore listens only on a loopback
address then, and refuses any other (or a reverse proxy in front) with one sentence saying how to
create a token. TLS comes from
``ssl_certfile``/``ssl_keyfile`` (or a reverse proxy in front: ``forwarded_allow_ips`` then names
the proxy, whose X-Forwarded-For/-Proto headers are believed). The socket is bound here, before
uvicorn starts, so that port 0 gives a free port that the announcement can name.

Within one request the server waits for a busy or unreachable store for
``SWEEPKIT_SERVER_STORE_RETRY`` seconds (20), then answers 503; its clients retry for
``SWEEPKIT_STORE_RETRY`` seconds, so that no request holds a server thread for minutes.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sweepkit import env
from sweepkit.errors import SweepkitError


def serve(
    db: str | None,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
    max_request_mb: float = 64,
    forwarded_allow_ips: str | None = None,
    access_log: bool = False,
    allowed_hosts: Sequence[str] = (),
    say: Callable[[str], None] | None = None,
) -> None:
    """Serve the store at ``db`` until interrupted (SIGINT/SIGTERM stop it gracefully); the server
    answers to loopback names, addresses, this machine's name, ``host`` and ``allowed_hosts`` (and
    ``SWEEPKIT_ALLOWED_HOSTS``, comma-separated) only."""
    import uvicorn

    from sweepkit.allowed_hosts import HostPolicy
    from sweepkit.connect import open_local
    from sweepkit.server.app import create_app

    say = say or _say
    _configure_logging()
    if bool(ssl_certfile) != bool(ssl_keyfile):
        raise SweepkitError("TLS needs both --ssl-certfile and --ssl-keyfile")
    for option, path in (("--ssl-certfile", ssl_certfile), ("--ssl-keyfile", ssl_keyfile)):
        if path and not Path(path).is_file():
            raise SweepkitError(f"{option}: no file at {path}")
    if not max_request_mb > 0:
        raise SweepkitError(f"--max-request-mb: expected a positive number, got {max_request_mb:g}")
    os.environ[env.STORE_RETRY] = f"{env.number(env.SERVER_STORE_RETRY, 20.0):g}"

    service = open_local(db, create=True)
    try:
        addresses = _addresses(host, port)
        if not service.tokens_required():
            if forwarded_allow_ips is not None:
                raise SweepkitError(
                    "refusing to serve behind a reverse proxy (--forwarded-allow-ips) while the store holds no "
                    "token: the proxy would let anyone create, run and read your sweeps; create one first with "
                    "`sweepkit token create --scope admin --db ...`"
                )
            open_to = [a for a in addresses if not ipaddress.ip_address(a[4][0].split("%")[0]).is_loopback]
            if open_to:
                raise SweepkitError(
                    f"refusing to listen on {host}: the store holds no token yet, so anyone who can reach "
                    f"{open_to[0][4][0]} could create, run and read your sweeps; create one first with "
                    f"`sweepkit token create --scope admin --db ...` (then every request needs a token), "
                    "or listen on 127.0.0.1"
                )
        sock = _bind(addresses[0], host, port)
        app = create_app(
            service,
            max_body_bytes=int(max_request_mb * 2**20),
            hosts=HostPolicy([*allowed_hosts, *env.allowed_hosts()], own=[host]),
            access_log=access_log,
        )
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,  # sweepkit.server.middleware logs requests (uvicorn's log is below "warning")
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            proxy_headers=forwarded_allow_ips is not None,
            forwarded_allow_ips=forwarded_allow_ips,
            server_header=False,
            timeout_graceful_shutdown=10,
        )
        server = uvicorn.Server(config)
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        scheme = "https" if ssl_certfile else "http"
        guard = (
            "every request needs a token" if service.tokens_required() else "no token needed (loopback only)"
        )
        say(
            f"sweepkit server {_version()} listening on {scheme}://{shown}:{bound_port} "
            f"(store {service.location}; {guard})"
        )
        server.run(sockets=[sock])
    finally:
        service.close()


def _addresses(host: str, port: int) -> list[tuple]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise SweepkitError(f"cannot listen on {host}: {exc.strerror or exc}") from None
    if not found:
        raise SweepkitError(f"cannot listen on {host}: it names no address")
    return found


def _bind(address: tuple, host: str, port: int) -> socket.socket:
    family, kind, proto, _name, sockaddr = address
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(sockaddr)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise SweepkitError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def _configure_logging() -> None:
    logger = logging.getLogger("sweepkit.server")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("sweepkit server: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _version() -> str:
    from sweepkit import __version__

    return __version__


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

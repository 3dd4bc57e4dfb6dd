"""``sweepkit ui``: the dashboard of a local store, served on this machine's loopback only.

The socket is bound here, on 127.0.0.1, before uvicorn starts, so that the address printed is the
one served (``--port 0`` picks a free port) and a port in use is one clear sentence. There are no
tokens: :func:`sweepkit.dashboard.auth.loopback_only` lets this machine's browsers read and control.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable

from sweepkit.errors import SweepkitError

HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def bind(port: int) -> socket.socket:
    """A listening socket on the loopback address (``port`` 0: any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise SweepkitError(
            f"cannot listen on {HOST}:{port} ({exc.strerror or exc}); choose another port with --port"
        ) from None
    sock.listen(128)
    return sock


def serve(db: str | None, port: int, *, announce: Callable[[str, str], None]) -> None:
    """Serve the dashboard of the store ``db`` until interrupted; ``announce(address, location)``
    is called once it listens."""
    try:
        import uvicorn

        from sweepkit.dashboard import create_app, loopback_only
    except ImportError as exc:
        raise SweepkitError(
            f"the dashboard needs {exc.name or 'its web packages'}: pip install 'sweepkit[server]'"
        ) from None
    from sweepkit.connect import connect

    service = connect(db)
    service.list_sweeps()  # a store that cannot be read says so now, in one sentence
    app = create_app(lambda: service, loopback_only)
    sock = bind(port)
    address = f"http://{HOST}:{sock.getsockname()[1]}/"
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    announce(address, service.location)
    sys.stdout.flush()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn has shut down cleanly and re-raised Ctrl-C: an ordinary end
        pass
    finally:
        sock.close()
        service.close()

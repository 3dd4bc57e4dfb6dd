"""Opening the sweep service: ``connect(db)`` returns a ``SweepService`` for a store or a server.

``connect(db)`` returns the HTTP client of a sweepkit server when ``db`` is an ``http(s)://`` URL
(or, with no ``db``, when ``$SWEEPKIT_URL`` is set), else the local service over the store named by
``db`` (a SQLite path, a database URL or ``memory://``; default ``$SWEEPKIT_DB``, else
``.sweepkit/sweepkit.db`` here). This module sits above both implementations, so that the seam
(``sweepkit.service``) imports neither; importing it is light: the store and its SQL stack, or the
HTTP client, load only when a service is opened.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from sweepkit import env

if TYPE_CHECKING:  # pragma: no cover
    from sweepkit.service import SweepService
    from sweepkit.service.http import HttpSweepService
    from sweepkit.service.local import LocalSweepService


def connect(db: str | None = None, *, create: bool = False) -> SweepService:
    """The sweep service for ``db``: a sweepkit server's URL, or a store (see the module docstring).

    ``create=True`` (creating a sweep, a run outside any agent) makes a local store if it does not
    exist; every other use needs an existing store and says where it looked when there is none. A
    server keeps its own store: ``create`` changes nothing there.
    """
    if db is None:
        url = (os.environ.get(env.SERVER_URL) or "").strip()
        if url:
            return open_http(url)
    elif is_server_url(db):
        return open_http(db)
    return open_local(db, create=create)


def is_server_url(text: str | None) -> bool:
    """Whether ``text`` names a sweepkit server (an http:// or https:// URL) rather than a store."""
    return bool(text) and str(text).strip().lower().startswith(("http://", "https://"))


def open_http(url: str, *, token: str | None = None) -> HttpSweepService:
    """The HTTP client of the sweepkit server at ``url`` (token: ``$SWEEPKIT_TOKEN`` unless given)."""
    from sweepkit.service.http import HttpSweepService

    return HttpSweepService(url, token=token)


def open_local(db: str | None = None, *, create: bool = False) -> LocalSweepService:
    """The local sweep service over the store ``db`` (see ``sweepkit.store.open_store``)."""
    from sweepkit.service.local import LocalSweepService
    from sweepkit.store import open_store

    return LocalSweepService(open_store(db, create=create))

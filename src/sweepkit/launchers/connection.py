"""Where launched agents find the sweep: the store or server this command used, passed through the
environment.

Whichever the user gave is what the agents use: ``--db`` (or ``--server``), else ``SWEEPKIT_URL``,
else ``SWEEPKIT_DB``, else the default store in this folder, in the order the CLI itself looks. It
travels as environment variables, never as arguments: a database URL may hold a password and a
server needs its token, and a command line is readable by every user of a node, a script file by
whoever finds it. A SQLite path is made absolute (the agents start elsewhere).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sweepkit import env

#: Every variable that says where the sweeps are: launched agents get the launcher's choice only.
CONNECTION_VARIABLES = (env.STORE, env.SERVER_URL, env.TOKEN)
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


@dataclass(frozen=True)
class AgentConnection:
    """The variables that point an agent at the sweep (see the module docstring)."""

    variables: dict[str, str]

    @property
    def server(self) -> str | None:
        return self.variables.get(env.SERVER_URL)

    @property
    def store(self) -> str | None:
        return self.variables.get(env.STORE)

    @property
    def sqlite(self) -> bool:
        """A SQLite file: only agents that see this machine's files (or a shared folder) can use it."""
        return self.store is not None and (self.store.startswith("sqlite:") or "://" not in self.store)

    @property
    def local_only(self) -> bool:
        """The server or database is at a loopback address: agents on other machines cannot reach it."""
        url = self.server or (self.store if not self.sqlite else None)
        if url is None:
            return False
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            return False
        return host in _LOOPBACK_HOSTS or host.startswith("127.")

    def names(self) -> str:
        """The variables' names, for messages (never their values)."""
        return " and ".join(sorted(self.variables))

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` with this connection instead of any other."""
        out = {k: v for k, v in base.items() if k not in CONNECTION_VARIABLES}
        out.update(self.variables)
        return out


def agent_connection(db: str | None) -> AgentConnection:
    """The connection for ``--db``/``--server`` (``db``), else the environment, else the default store."""
    given = db or os.environ.get(env.SERVER_URL) or os.environ.get(env.STORE)
    if not given:
        given = str(Path.cwd() / env.DEFAULT_STORE_DIR / env.DEFAULT_STORE_FILE)
    from sweepkit.connect import is_server_url

    given = given.strip()
    if is_server_url(given):
        token = os.environ.get(env.TOKEN)
        return AgentConnection({env.SERVER_URL: given, **({env.TOKEN: token} if token else {})})
    return AgentConnection({env.STORE: _absolute_store(given)})


def _absolute_store(store: str) -> str:
    """A SQLite path or ``sqlite:///`` URL made absolute; any other URL as it is."""
    if "://" not in store:
        return str(Path(store).expanduser().absolute())
    scheme, rest = store.split("://", 1)
    if scheme == "sqlite" and rest.startswith("/") and not rest.startswith("//"):
        path, mark, query = rest[1:].partition("?")
        if path and path != ":memory:":
            return f"sqlite:///{Path(path).expanduser().absolute()}{mark}{query}"
    return store

"""A PostgreSQL server of a test's own, for tests that stop and start one: the shared test server
(``SWEEPKIT_TEST_POSTGRES_URL``) serves other tests at the same time (pytest-xdist workers) and must
never go down under them.

``initdb`` into a temporary folder of its own (pytest's are closed to other users), trust auth, its own port on 127.0.0.1 and its own socket
folder, run as the ``postgres`` user (PostgreSQL refuses to run as root), so it needs root and the
server binaries (``/usr/lib/postgresql/<version>/bin``); ``PrivatePostgres.unavailable()`` says why
it cannot run here, or None.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _server_bin() -> Path | None:
    """The newest installed PostgreSQL server's binaries folder, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostgres:
    """A started PostgreSQL server (``stop()``, ``start()``; ``close()`` stops it and removes its folder)."""

    USER = "postgres"

    @staticmethod
    def unavailable() -> str | None:
        if _server_bin() is None:
            return "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
        if os.geteuid() != 0:
            return "a private PostgreSQL is started as the postgres user: needs root"
        try:
            pwd.getpwnam(PrivatePostgres.USER)
        except KeyError:
            return "no postgres user to run a private PostgreSQL as"
        return None

    def __init__(self) -> None:
        self.bin = _server_bin()
        self.base = base = Path(tempfile.mkdtemp(prefix="sweepkit-test-pg-"))
        self.data = base / "data"
        self.log = base / "postgres.log"
        entry = pwd.getpwnam(self.USER)
        os.chown(base, entry.pw_uid, entry.pw_gid)
        try:
            self._as_user([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.USER])
            for _attempt in range(5):  # a port taken between choosing and binding: choose again
                self.port = _free_port()
                with open(self.data / "postgresql.conf", "a") as f:
                    f.write(
                        f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                        f"unix_socket_directories = '{base}'\nfsync = off\nshared_buffers = 16MB\n"
                    )
                if self.start(check=False).returncode == 0:
                    break
            else:
                raise RuntimeError(
                    f"a private PostgreSQL did not start:\n{self.log.read_text(errors='replace')}"
                )
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise
        self.url = f"postgresql://{self.USER}@127.0.0.1:{self.port}/postgres"

    def _as_user(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["runuser", "-u", self.USER, "--", *argv],
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def start(self, check: bool = True) -> subprocess.CompletedProcess:
        return self._as_user(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"],
            check=check,
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_user([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"], check=False)

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)

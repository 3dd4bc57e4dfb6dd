"""Shared fixtures: a store on each backend (a SQLite file, and PostgreSQL when configured), and the
sweep service over each store and transport (``service``: the one suite every transport must pass).

``store_url`` is parametrized over ``sqlite`` (a file in ``tmp_path``) and ``postgres`` (a fresh
schema on the server named by ``SWEEPKIT_TEST_POSTGRES_URL``, dropped afterwards). Without that
variable the PostgreSQL cases are skipped; with it set and the server unreachable they FAIL.
``empty_store_url`` is the same with no schema at all (tests of migrations and of fresh stores).

``service`` is parametrized over transports and backends: ``local-memory`` (the local service over
an in-memory store: the fast tier), ``local-sqlite``, ``local-postgres`` (the local service over a
fresh store) and ``http-sqlite``, ``http-postgres`` (the HTTP client of a real ``sweepkit server``
process on an ephemeral port). One server per backend serves the whole session;
its store is emptied after each test. A test marked ``service_env(NAME=value)`` runs with those
environment variables on the service's side: set in this process for a local service, or given to a
server of its own for HTTP. ``server_factory`` starts further servers (``ServerProcess``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

POSTGRES_ENV = "SWEEPKIT_TEST_POSTGRES_URL"

# One OpenMP (and OpenBLAS) thread per test process, and so per agent, server and run it starts: the
# suite runs one pytest-xdist worker per core, and threads that spin waiting for a core the other
# worker holds made an Ax engine test (torch under BoTorch) take 133 s of CPU instead of 19 s. Set
# before anything imports torch or numpy; a value set by the caller is kept.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def _libpq_url(url: str) -> str:
    """The server URL in the form libpq (psycopg.connect) accepts."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


def _with_search_path(url: str, schema: str) -> str:
    """``url`` whose connections use only ``schema`` (so each test sees only its own tables)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(_libpq_url(url))
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def _postgres_admin(base: str, sql: str) -> None:
    import psycopg

    # A connection per statement: a test may restart the server in between.
    with psycopg.connect(_libpq_url(base), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


def _fresh_postgres_schema():
    """A generator: a PostgreSQL URL with a fresh, empty schema of its own, dropped afterwards."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL cases skipped")
    import psycopg

    schema = f"sweepkit_test_{uuid.uuid4().hex[:12]}"
    try:
        _postgres_admin(base, f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"{POSTGRES_ENV} is set but the server cannot be reached: {exc}")
    try:
        yield _with_search_path(base, schema)
    finally:
        _postgres_admin(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def postgres_url():
    """A PostgreSQL URL with a fresh, empty schema of its own; skipped when not configured."""
    yield from _fresh_postgres_schema()


@pytest.fixture(scope="session")
def session_postgres_url():
    """A PostgreSQL URL with an empty schema shared by the whole session (the HTTP servers' store)."""
    yield from _fresh_postgres_schema()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite store created once per session through the real migrations; tests get copies."""
    from sweepkit.store import open_store

    path = tmp_path_factory.mktemp("store-template") / "store.db"
    open_store(str(path)).close()
    return path


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    """A URL of a store holding no data, once per backend (its schema may already be in place)."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(params=BACKENDS)
def empty_store_url(request, tmp_path):
    """A URL of an empty database (no schema yet), once per backend: for migration tests."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("postgres_url")


# --- sweepkit servers as real processes --------------------------------------------------------

_LISTENING = re.compile(r"listening on (https?://\S+?):(\d+) ")


class ServerProcess:
    """A ``sweepkit server`` process on a loopback port; its stderr goes to ``log_path``."""

    def __init__(self, db: str, log_path: Path, *, env: dict[str, str] | None = None, args=()) -> None:
        self.db, self.log_path, self.args = db, log_path, list(args)
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("SWEEPKIT_URL", "SWEEPKIT_TOKEN", "SWEEPKIT_DB")
        }
        self.env.update(env or {})
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.url = ""

    def start(self, timeout: float = 60.0) -> ServerProcess:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sweepkit",
                    "server",
                    "--db",
                    self.db,
                    "--port",
                    str(self.port),
                    *self.args,
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
                env=self.env,
            )
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_path.read_bytes()[offset:].decode("utf-8", "replace")
            found = _LISTENING.search(text)
            if found:
                self.url, self.port = f"{found.group(1)}:{found.group(2)}", int(found.group(2))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"sweepkit server exited with {self.proc.returncode}:\n{text}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"sweepkit server did not start within {timeout:g} s:\n{text}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no goodbye, connections cut."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> ServerProcess:
        """Start again on the same port (clients keep their URL)."""
        self.kill()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def server_factory(tmp_path):
    """``start(db, env=None, args=())``: a started ``ServerProcess``, stopped after the test."""
    started: list[ServerProcess] = []

    def start(db: str, *, env: dict[str, str] | None = None, args=()) -> ServerProcess:
        server = ServerProcess(db, tmp_path / f"server-{len(started)}.log", env=env, args=args)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def _empty_store(url: str) -> None:
    """Delete every row of a store that a server keeps open (tables stay; ids are never reused)."""
    from sweepkit.store.schema import metadata

    tables = [table.name for table in reversed(metadata.sorted_tables)]  # children before parents
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///") :], timeout=30) as conn:
            for table in tables:
                conn.execute(f"DELETE FROM {table}")
        return
    import psycopg

    with psycopg.connect(_libpq_url(url), autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"TRUNCATE {', '.join(tables)}")


class _SessionServers:
    """One server per backend for the session, started on first use."""

    def __init__(self, request, folder: Path) -> None:
        self.request, self.folder = request, folder
        self.servers: dict[str, tuple[ServerProcess, str]] = {}

    def get(self, backend: str) -> tuple[ServerProcess, str]:
        if backend not in self.servers:
            if backend == "sqlite":
                path = self.folder / "server-store.db"
                shutil.copyfile(self.request.getfixturevalue("sqlite_template"), path)
                db = f"sqlite:///{path}"
            else:
                db = self.request.getfixturevalue("session_postgres_url")
            server = ServerProcess(db, self.folder / f"server-{backend}.log").start()
            self.servers[backend] = (server, db)
        return self.servers[backend]


@pytest.fixture(scope="session")
def session_servers(request, tmp_path_factory):
    servers = _SessionServers(request, tmp_path_factory.mktemp("servers"))
    yield servers
    for server, _db in servers.servers.values():
        server.stop()


TRANSPORTS = [
    "local-memory",
    "local-sqlite",
    pytest.param("local-postgres", marks=pytest.mark.postgres),
    "http-sqlite",
    pytest.param("http-postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=TRANSPORTS)
def service(request, tmp_path, monkeypatch):
    """The sweep service over a fresh store, once per transport and backend (see the module docstring)."""
    from sweepkit.connect import open_http, open_local

    transport, backend = request.param.split("-")
    marker = request.node.get_closest_marker("service_env")
    service_env = {k: str(v) for k, v in (marker.kwargs if marker else {}).items()}
    if transport == "local" or service_env:  # a fresh store of its own
        if backend == "memory":
            url = "memory://test"
        elif backend == "sqlite":
            shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "store.db")
            url = f"sqlite:///{tmp_path / 'store.db'}"
        else:
            url = request.getfixturevalue("postgres_url")
    if transport == "local":
        for name, value in service_env.items():
            monkeypatch.setenv(name, value)
        opened = open_local(url, create=True)
        yield opened
        opened.close()
        return
    if service_env:  # a server of its own, started with these settings
        server = request.getfixturevalue("server_factory")(url, env=service_env)
        client = open_http(server.url)
        yield client
        client.close()
        return
    server, url = request.getfixturevalue("session_servers").get(backend)
    client = open_http(server.url)
    try:
        yield client
    finally:
        client.close()
        _empty_store(url)


@pytest.fixture
def store(store_url):
    """The store at ``store_url``, opened (schema created) and closed after the test."""
    from sweepkit.store import open_store

    opened = open_store(store_url)
    yield opened
    opened.close()


def pytest_configure(config):
    """In CI (SWEEPKIT_REQUIRE_CORPUS=1) a missing corpus of real configs is an error, not a skip."""
    config.addinivalue_line(
        "markers", "service_env(**variables): environment variables on the service's side (see conftest)"
    )
    if not os.environ.get("SWEEPKIT_REQUIRE_CORPUS"):
        return
    from corpus_dir import CORPUS_DIR

    if not (CORPUS_DIR / "INDEX.md").is_file():
        raise pytest.UsageError(f"SWEEPKIT_REQUIRE_CORPUS is set but no corpus is at {CORPUS_DIR}")

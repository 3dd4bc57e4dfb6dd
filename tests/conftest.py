"""Shared fixtures: a store on each backend (a SQLite file, and PostgreSQL when configured), and the
sweep service over each (``service``: the one suite every transport must pass).

``store_url`` is parametrized over ``sqlite`` (a file in ``tmp_path``) and ``postgres`` (a fresh
schema on the server named by ``SWEEPKIT_TEST_POSTGRES_URL``, dropped afterwards). Without that
variable the PostgreSQL cases are skipped; with it set and the server unreachable they FAIL.
``empty_store_url`` is the same with no schema at all (tests of migrations and of fresh stores).
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest

POSTGRES_ENV = "SWEEPKIT_TEST_POSTGRES_URL"


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


@pytest.fixture
def postgres_url():
    """A PostgreSQL URL with a fresh, empty schema of its own; skipped when not configured."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL cases skipped")
    import psycopg

    schema = f"sweepkit_test_{uuid.uuid4().hex[:12]}"

    def admin(sql: str) -> None:
        # A connection per statement: a test may restart the server in between.
        with psycopg.connect(_libpq_url(base), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)

    try:
        admin(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"{POSTGRES_ENV} is set but the server cannot be reached: {exc}")
    try:
        yield _with_search_path(base, schema)
    finally:
        admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


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


@pytest.fixture
def service(store_url):
    """The sweep service over a fresh store, once per backend."""
    from sweepkit.service import open_local

    opened = open_local(store_url, create=True)
    yield opened
    opened.close()


@pytest.fixture
def store(store_url):
    """The store at ``store_url``, opened (schema created) and closed after the test."""
    from sweepkit.store import open_store

    opened = open_store(store_url)
    yield opened
    opened.close()


def pytest_configure(config):
    """In CI (SWEEPKIT_REQUIRE_CORPUS=1) a missing corpus of real configs is an error, not a skip."""
    from pathlib import Path

    if not os.environ.get("SWEEPKIT_REQUIRE_CORPUS"):
        return
    default = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "wandb-configs"
    corpus = Path(os.environ.get("SWEEPKIT_CORPUS_DIR", default))
    if not (corpus / "INDEX.md").is_file():
        raise pytest.UsageError(f"SWEEPKIT_REQUIRE_CORPUS is set but no corpus is at {corpus}")

"""Bring a store's schema to the newest migration, safely when many processes open it at once.

The usual case (schema already current) costs one small query and imports no Alembic. Otherwise the
upgrade runs under a lock: a transaction-scoped advisory lock on PostgreSQL, the database write lock
(``BEGIN IMMEDIATE``) on SQLite. Whoever gets the lock second finds the work done.

For developers, a new revision after changing ``schema.py`` (then bump ``SCHEMA_REVISION``)::

    from alembic import command
    from sweepkit.store.migrate import alembic_config
    cfg = alembic_config()
    cfg.set_main_option("sqlalchemy.url", "sqlite:////tmp/dev.db")  # a store at the current head
    command.revision(cfg, "what changes", autogenerate=True)

``command.upgrade(cfg, "head", sql=True)`` prints the SQL instead, for a DBA to run by hand.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from sweepkit.store.schema import SCHEMA_REVISION

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
#: Key of the PostgreSQL advisory lock held while migrating ("sweepkit" in ASCII, as a bigint).
ADVISORY_LOCK_KEY = 0x73776565706B6974


class NewerStoreError(Exception):
    """The store was written by a newer sweepkit (its schema revision is unknown here)."""

    def __init__(self, revision: str) -> None:
        super().__init__(revision)
        self.revision = revision


def current_revision(conn: sa.Connection) -> str | None:
    """The revision stamped in the database, or None for an empty (new) store."""
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def has_schema(engine: sa.Engine) -> bool:
    """Whether the database holds a sweepkit store (of any revision)."""
    with engine.connect() as conn:
        return current_revision(conn) is not None


def ensure_schema(engine: sa.Engine, write_engine: sa.Engine) -> None:
    """Upgrade the store to ``SCHEMA_REVISION`` unless it is there already."""
    with engine.connect() as conn:
        if current_revision(conn) == SCHEMA_REVISION:
            return
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
            _upgrade(conn)
    else:
        with write_engine.begin() as conn:
            _upgrade(conn)


def alembic_config(connection: sa.Connection | None = None):
    """An Alembic ``Config`` for the shipped migrations, built in code (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_table", VERSION_TABLE)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(conn: sa.Connection) -> None:
    """Run inside the caller's locked transaction; re-check first (another process may have done it)."""
    revision = current_revision(conn)
    if revision == SCHEMA_REVISION:
        return
    if revision is not None and revision not in known_revisions():
        raise NewerStoreError(revision)
    from alembic import command

    command.upgrade(alembic_config(conn), "head")

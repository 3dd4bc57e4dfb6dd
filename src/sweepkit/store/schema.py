"""The store's tables as the running code sees them (the migrations in ``migrations/`` build them).

``SCHEMA_REVISION`` names the newest migration; opening a store compares it with the database's
``alembic_version`` and runs Alembic only when they differ, so the usual open imports no Alembic.
A test checks that these tables and the migrated database agree.
"""

from __future__ import annotations

import sqlalchemy as sa

from sweepkit.store.sqltypes import JSONData, JSONDoc, UTCDateTime

#: The newest migration in ``migrations/versions`` (a test keeps the two in step).
SCHEMA_REVISION = "0013"

ID_LENGTH = 16


def _id(
    name: str = "id", *, of: str | None = None, on_delete: str = "CASCADE", key: bool = False
) -> sa.Column:
    """A column holding an id: the table's own (``"id"``, its primary key), or one naming a row of
    table ``of`` (None when there is none; ``key``: part of the primary key)."""
    if of is None and name == "id":
        return sa.Column(name, sa.String(ID_LENGTH), primary_key=True)
    refers = () if of is None else (sa.ForeignKey(f"{of}.id", ondelete=on_delete),)
    return sa.Column(name, sa.String(ID_LENGTH), *refers, primary_key=key, nullable=not key)


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sweeps = sa.Table(
    "sweeps",
    metadata,
    _id(),
    sa.Column("project", sa.String(255), nullable=True),
    sa.Column("entity", sa.String(255), nullable=True),
    sa.Column("name", sa.String(255), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("config", JSONDoc(), nullable=False),
    # The config as its author wrote it (the file's text), for people to read; None when not given.
    sa.Column("source", sa.Text(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("finished_reason", sa.Text(), nullable=True),
    sa.Column("run_count", sa.Integer(), nullable=False),
    # Runs handed out again by ``retry_runs`` (numbered among run_count; not counted against run_cap).
    sa.Column("retry_count", sa.Integer(), nullable=False),
    # The sweep's change counter: a run that ends for good, or is retried, is stamped with its next
    # value (``runs.change_seq``); deleting runs sets ``reset_seq`` to it. A service that keeps what it
    # learnt of the runs reads only the runs stamped since it last looked (``StoreTx.changed_runs``).
    sa.Column("change_seq", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("reset_seq", sa.BigInteger(), nullable=False, server_default="0"),
    # The user's scheduler process (``sweepkit scheduler``): where it runs and when it was last heard
    # from (the database's clock); None until one has started.
    sa.Column("scheduler_host", sa.String(255), nullable=True),
    sa.Column("scheduler_pid", sa.Integer(), nullable=True),
    sa.Column("scheduler_seen_at", UTCDateTime(), nullable=True),
    sa.Index(None, "project", "created_at"),
    sa.Index(None, "created_at"),
)

agents = sa.Table(
    "agents",
    metadata,
    _id(),
    _id("sweep_id", of="sweeps"),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    # Where the agent runs its runs (their folders are under it), and the GPUs of each of its slots.
    sa.Column("workdir", sa.Text(), nullable=True),
    sa.Column("slots", JSONDoc(), nullable=True),
    # The token it registered with (None: registered without one); its runs are bound to it.
    _id("token_id"),
    sa.Index(None, "sweep_id"),
)

runs = sa.Table(
    "runs",
    metadata,
    _id(),
    _id("sweep_id", of="sweeps"),
    sa.Column("number", sa.Integer(), nullable=True),
    sa.Column("project", sa.String(255), nullable=True),
    sa.Column("name", sa.String(255), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("params", JSONDoc(), nullable=False),
    sa.Column("config", JSONDoc(), nullable=True),
    sa.Column("summary", JSONData(), nullable=False),
    # Aggregates of the sweep metric's values (``sweepkit.runs.MetricStats``): updated as rows arrive,
    # so that nothing rereads a history.
    sa.Column("metric", JSONDoc(), nullable=False),
    sa.Column("last_step", sa.BigInteger(), nullable=True),
    # The sequence number of the last log batch applied: a retried batch is recognised and skipped.
    sa.Column("log_seq", sa.BigInteger(), nullable=False),
    # The key an agent claimed this run with: a retried claim gets the same run back.
    sa.Column("claim_key", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=True),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
    sa.Column("exit_code", sa.Integer(), nullable=True),
    _id("agent_id", of="agents", on_delete="SET NULL"),
    sa.Column("stop_requested", sa.Boolean(), nullable=False),
    sa.Column("stop_reason", sa.Text(), nullable=True),
    sa.Column("stop_info", JSONDoc(), nullable=True),
    sa.Column("suggestion_info", JSONDoc(), nullable=False),
    sa.Column("error", sa.Text(), nullable=True),
    # A retried run: the run it re-runs (on the new run), the run that re-runs it (on the old one).
    _id("retry_of"),
    _id("retried_by"),
    # The agent's slot the run ran in (1, 2, ...; None when its agent did not say).
    sa.Column("slot", sa.Integer(), nullable=True),
    # The sweep's ``change_seq`` when the run ended for good or was retried (None before).
    sa.Column("change_seq", sa.BigInteger(), nullable=True),
    # The run number is handed out under the sweep's row lock; this makes a duplicate impossible anyway.
    sa.UniqueConstraint("sweep_id", "number"),
    sa.Index(None, "claim_key", unique=True),
    sa.Index(None, "sweep_id", "state", "number"),
    sa.Index(None, "sweep_id", "change_seq"),
    sa.Index(None, "state", "heartbeat_at"),
    sa.Index(None, "project", "created_at"),
)

#: Every version of each sweep's config: 1 when it was created, then one per change, with what it did.
sweep_configs = sa.Table(
    "sweep_configs",
    metadata,
    _id("sweep_id", of="sweeps", key=True),
    sa.Column("version", sa.Integer(), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("config", JSONDoc(), nullable=False),
    sa.Column("source", sa.Text(), nullable=True),
    sa.Column("changes", JSONDoc(), nullable=True),
)

history = sa.Table(
    "history",
    metadata,
    _id("run_id", of="runs", key=True),
    sa.Column("step", sa.BigInteger(), primary_key=True),
    sa.Column("data", JSONData(), nullable=False),
)

#: What a run printed, as the service keeps it: the first characters, the newest, and the count.
run_output = sa.Table(
    "run_output",
    metadata,
    _id("run_id", of="runs", key=True),
    sa.Column("head", sa.Text(), nullable=False),
    sa.Column("tail", sa.Text(), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
)

#: What a sweep's search method kept of its runs that ended for good, as of the sweep's
#: ``change_seq`` (``sweepkit.search.sweep_runs``: arrays, no run parameters or histories), so that
#: a new server process or agent reads one row and the runs stamped since, not every run. ``key``
#: names the config and format it was made with; it is a cache, never the truth: any service may
#: write a newer one, and a deletion of runs (``reset_seq``) or another key makes it unusable.
sweep_digests = sa.Table(
    "sweep_digests",
    metadata,
    sa.Column(
        "sweep_id", sa.String(ID_LENGTH), sa.ForeignKey("sweeps.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("change_seq", sa.BigInteger(), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary(), nullable=False),
)

# Access tokens of a sweepkit server: only a SHA-256 hash of each secret is kept. A revoked token stays
# (with ``revoked_at``), so that a server once protected by tokens never becomes open again.
tokens = sa.Table(
    "tokens",
    metadata,
    _id(),
    sa.Column("name", sa.String(255), nullable=True),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_used_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

"""What comes out of the store and what goes in: plain, frozen records of sweeps, runs and tokens
as stored (each built by ``from_columns`` from a store's columns), and the new rows to record.

The local service turns the records into the service's types (``sweepkit.service.types``) and
builds the ``New...`` ones; nothing on the client side sees these. ``RunRecord`` is the one record
of a run that every store builds; ``LogTarget`` and ``RunStatus`` are the few columns the hot paths
(logging, heartbeats) read instead, so that they decode no parameters.
"""

from __future__ import annotations

import functools
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sweepkit.runs import MetricStats, RunState, SweepState

_ID_ALPHABET = string.ascii_lowercase + string.digits
_ID_LENGTH = 8

#: A store's columns of one row, JSON columns decoded.
Columns = Mapping[Any, Any]


def new_id() -> str:
    """A fresh id: 8 random lowercase letters and digits, like W&B's."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


@functools.cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _same_names(cls: type, columns: Columns, converted: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``cls`` from the columns of the same names, ``converted`` ones as given."""
    return {**{name: columns[name] for name in _names(cls) if name not in converted}, **converted}


# --- what comes out ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepRecord:
    """One sweep as stored: its config (the normalized ``SweepConfig.data``) and its state."""

    id: str
    project: str | None
    entity: str | None
    name: str | None
    state: SweepState
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    finished_reason: str | None
    run_count: int
    #: Runs handed out again by a retry (among ``run_count``; not counted against ``run_cap``).
    retry_count: int = 0
    #: The config as its author wrote it (a file's text), or None.
    source: str | None = None
    #: The sweep's change counter, and its value when runs were last deleted (``StoreTx.changed_runs``).
    change_seq: int = 0
    reset_seq: int = 0
    #: The user's scheduler process (``sweepkit scheduler``): its host and pid, and when it was last
    #: heard from (None until one has started).
    scheduler_host: str | None = None
    scheduler_pid: int | None = None
    scheduler_seen_at: datetime | None = None

    @classmethod
    def from_columns(cls, c: Columns) -> SweepRecord:
        return cls(**_same_names(cls, c, {"state": SweepState(c["state"]), "config": c["config"] or {}}))


@dataclass(frozen=True)
class ConfigVersionRecord:
    """One version of a sweep's config as stored: 1 when the sweep was created, then one per change."""

    version: int
    created_at: datetime
    config: dict[str, Any]
    source: str | None
    changes: list[str]

    @classmethod
    def from_columns(cls, c: Columns) -> ConfigVersionRecord:
        return cls(**_same_names(cls, c, {"config": c["config"] or {}, "changes": list(c["changes"] or [])}))


@dataclass(frozen=True)
class RunRecord:
    """One run as stored.

    ``params`` holds the sweep's parameters under flat dotted names; ``config`` is ``run.config`` as
    the program last reported it (None: exactly its sweep values); ``metric`` the aggregates of the
    sweep metric's values.
    """

    id: str
    sweep_id: str | None
    number: int | None
    project: str | None
    name: str | None
    state: RunState
    params: dict[str, Any]
    config: dict[str, Any] | None
    summary: dict[str, Any]
    metric: MetricStats
    last_step: int | None
    log_seq: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    exit_code: int | None
    agent_id: str | None
    stop_requested: bool
    stop_reason: str | None
    stop_info: dict[str, Any] | None
    suggestion_info: dict[str, Any]
    error: str | None
    claim_key: str | None = None
    #: The run this one re-runs (a retry), and the run that re-runs this one (it was retried).
    retry_of: str | None = None
    retried_by: str | None = None
    #: The agent's slot it ran in (None when its agent did not say).
    slot: int | None = None

    @classmethod
    def from_columns(cls, c: Columns) -> RunRecord:
        converted = {
            **_logged(c),
            "params": c["params"] or {},
            "suggestion_info": c["suggestion_info"] or {},
        }
        return cls(**_same_names(cls, c, converted))


@dataclass(frozen=True)
class LogTarget:
    """What logging needs to know of a run, read under its row lock (and written back after a batch)."""

    id: str
    sweep_id: str | None
    state: RunState
    summary: dict[str, Any]
    metric: MetricStats
    last_step: int | None
    log_seq: int
    stop_requested: bool
    stop_reason: str | None
    #: The run that re-runs this one, if it was retried (it logs no more).
    retried_by: str | None = None

    @classmethod
    def from_columns(cls, c: Columns) -> LogTarget:
        return cls(**_same_names(cls, c, _logged(c)))


def _logged(c: Columns) -> dict[str, Any]:
    """The columns of a run that logging changes, as records hold them."""
    return {
        "state": RunState(c["state"]),
        "summary": dict(c["summary"] or {}),
        "metric": MetricStats.from_json(c["metric"]),
        "log_seq": int(c["log_seq"] or 0),
        "stop_requested": bool(c["stop_requested"]),
    }


@dataclass(frozen=True)
class RunStatus:
    """What a heartbeat answers about a run: its state and whether it was asked to stop."""

    id: str
    state: RunState
    stop_requested: bool
    stop_reason: str | None


@dataclass(frozen=True)
class TokenRecord:
    """An access token as stored: its name, scope and the hash of its secret (never the secret)."""

    id: str
    name: str | None
    scope: str
    secret_hash: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_columns(cls, c: Columns) -> TokenRecord:
        return cls(**_same_names(cls, c, {}))


# --- what goes in --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestSnapshot:
    """What a service kept of a sweep's ended runs as of its ``change_seq``, as bytes (``key``: the
    config and format it was made with); see ``StoreTx.save_digest_snapshot``."""

    change_seq: int
    key: str
    data: bytes


@dataclass(frozen=True)
class NewSweep:
    """A sweep to record, in state "running" with no runs."""

    id: str
    project: str | None
    entity: str | None
    name: str | None
    config: dict[str, Any]
    source: str | None = None


@dataclass(frozen=True)
class NewAgent:
    """An agent to record, running and heard from now: where it works and the GPUs of each of its
    slots, and the token it registered with."""

    id: str
    sweep_id: str | None
    host: str
    pid: int
    workdir: str | None = None
    slots: Sequence[Sequence[str]] | None = None
    token_id: str | None = None


@dataclass(frozen=True)
class NewRun:
    """A run to record: the store dates it and gives it empty aggregates."""

    id: str
    sweep_id: str | None
    number: int | None
    project: str | None
    name: str | None
    params: dict[str, Any]
    config: dict[str, Any] | None = None
    agent_id: str | None = None
    suggestion_info: dict[str, Any] = field(default_factory=dict)
    claim_key: str | None = None
    #: The run this one re-runs (a queued retry).
    retry_of: str | None = None
    #: The agent's slot it is for (None when its agent did not say).
    slot: int | None = None

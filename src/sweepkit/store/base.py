"""The store's interface: ``Store`` runs transactions, ``StoreTx`` is every row operation inside one.

The local sweep service (``sweepkit.service.local``) is the only user. It takes every decision (what
a claim hands out, what cancelling does to a sweep's runs, when a run has crashed, what a finished
run keeps) and records it through these operations inside one ``Store.transact`` call; the store
holds rows and takes no decision of its own. Operations that change rows only when they are in
given states (``end_run(..., from_states=...)``) let the service state its rule and the store apply
it atomically, whatever else runs at the same time.

The contract every implementation keeps (``tests/test_store.py`` checks it over each of them):

- **Transactions**: ``transact(fn)`` runs ``fn(tx)`` atomically: if ``fn`` raises, nothing it did is
  kept and the exception reaches the caller. Writers take turns; ``lock_sweep`` holds a sweep until
  the transaction ends (lock order: the sweep before its runs). ``write=False`` promises reads only;
  ``durable=False`` lets a store confirm the commit before it reaches the disk (heartbeats, logged
  rows: the client sends them again).
- **Records** are frozen and fresh: what a caller does with their dicts never reaches the store.
- **Missing rows** raise ``NotFoundError`` with one sentence naming the store: ``no sweep 'x' in
  URL`` (and ``no run``, ``no agent``, ``no token``); operations on many rows skip the missing ones.
- **The clock** is the store's (``now()``, and every "dated now" below), so that agents on machines
  with skewed clocks agree on heartbeats and timeouts.
- **Cost**: no operation reads a run's history except ``history`` and ``metric_series``; ``run_views``
  reads the sweep's runs only when first used.
- **Changes**: each sweep has a change counter (``SweepRecord.change_seq``). Every operation that
  takes a run of a sweep into a state of ``ENDED_FOR_GOOD``, or marks it retried, increments it and
  stamps the run with the new value, in the same transaction and holding the sweep's lock while it
  does (so stamps are in commit order); deleting runs, or filling in their parameters
  (``fill_params``), also sets ``reset_seq`` to it. Runs ended for good change in no other way, so
  a reader that knows them up to stamp ``n`` is up to date after ``changed_runs(sweep, n)``, unless
  ``reset_seq > n``.

Implementations: ``sql_store`` (SQLite and PostgreSQL) and ``memory`` (in this process).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sweepkit.errors import NotFoundError
from sweepkit.runs import AgentInfo, MetricStats, RunState, RunView, SweepState
from sweepkit.store.records import (
    ConfigVersionRecord,
    DigestSnapshot,
    LogTarget,
    NewAgent,
    NewRun,
    NewSweep,
    RunRecord,
    RunStatus,
    SweepRecord,
    TokenRecord,
)

T = TypeVar("T")
#: Run states an operation applies to.
States = Collection[RunState]


class LazyViews(Sequence):
    """Runs as policies see them, loaded by ``load()`` on first use (within the caller's transaction).

    Plans that do not look at the runs (a random search without ``metric.target``) then cost no
    read at all, whatever the size of the sweep.
    """

    def __init__(self, load: Callable[[], list[RunView]]) -> None:
        self._load_views = load
        self._views: list[RunView] | None = None

    def _load(self) -> list[RunView]:
        if self._views is None:
            self._views = self._load_views()
        return self._views

    def __getitem__(self, index):
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self):
        return iter(self._load())


class Store(ABC):
    """A sweepkit store: the one object that reads and writes sweeps, runs and their history."""

    #: The store's URL for people (password masked).
    url: str
    #: A URL that ``open_store`` accepts for this same store (password included: never print it).
    connect_url: str
    #: "sqlite", "postgresql" or "memory".
    backend: str
    #: Called with one sentence when an operation starts waiting for a busy or unreachable store.
    on_wait: Callable[[str], None]

    @abstractmethod
    def transact(self, fn: Callable[[StoreTx], T], *, write: bool = True, durable: bool = True) -> T:
        """Run ``fn(tx)`` in one transaction and return what it returns (see the module docstring)."""

    @abstractmethod
    def close(self) -> None:
        """Release what the store holds (it must not be used afterwards)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class StoreTx(ABC):
    """The row operations of one open transaction (see the module docstring)."""

    #: The store's URL for messages (password masked).
    store_url: str

    # --- the clock ----------------------------------------------------------------------------------

    @abstractmethod
    def now(self) -> datetime:
        """The store's current time (UTC, aware)."""

    # --- sweeps ---------------------------------------------------------------------------------

    @abstractmethod
    def insert_sweep(self, new: NewSweep) -> SweepRecord:
        """Record a new sweep, "running", with no runs, created now."""

    @abstractmethod
    def sweep(self, sweep_id: str) -> SweepRecord:
        """The sweep (NotFoundError when there is none)."""

    @abstractmethod
    def lock_sweep(self, sweep_id: str) -> SweepRecord:
        """The sweep, held until the transaction ends: other writers of it wait."""

    def lock_sweep_for_claim(
        self, sweep_id: str, claim_key: str
    ) -> tuple[SweepRecord | None, RunRecord | None]:
        """What a claim reads first: the run claimed with ``claim_key`` already (an earlier try of the
        same claim), or None; and the sweep, locked as ``lock_sweep`` does, which may be None when
        that run exists (one statement on a SQL store: a round trip less for every claim)."""
        earlier = self.run_by_claim_key(claim_key)
        return (None if earlier is not None else self.lock_sweep(sweep_id)), earlier

    @abstractmethod
    def sweeps(self, *, project: str | None = None) -> list[SweepRecord]:
        """Every sweep (of ``project`` if given), newest first."""

    @abstractmethod
    def set_sweep_state(self, sweep_id: str, state: SweepState, reason: str | None) -> SweepRecord:
        """Set the sweep's state and why it is in it; the sweep is updated now."""

    @abstractmethod
    def set_sweep_config(
        self, sweep_id: str, config: Mapping[str, Any], source: str | None, changes: Sequence[str] = ()
    ) -> SweepRecord:
        """Set the sweep's config and its text as written; the sweep is updated now. The new config is
        kept as the sweep's next version, dated now, with ``changes`` (what it did, for people);
        ``insert_sweep`` keeps version 1."""

    @abstractmethod
    def config_versions(self, sweep_id: str) -> list[ConfigVersionRecord]:
        """Every version of the sweep's config, oldest first (NotFoundError for no such sweep)."""

    @abstractmethod
    def fill_params(self, sweep_id: str, values: Mapping[str, Any]) -> int:
        """Give each of the sweep's runs that has no value for a name of ``values`` that value (a
        parameter added to a running sweep, with the value its earlier runs are taken to have had);
        how many runs changed."""

    @abstractmethod
    def set_run_counts(self, sweep_id: str, *, run_count: int, retry_count: int) -> None:
        """Set how many runs the sweep handed out and how many of them were retries (not an update of
        the sweep's definition: ``updated_at`` stays)."""

    @abstractmethod
    def run_counts(self, sweep_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """How many runs each sweep has in each state (state value -> count)."""

    # --- agents ---------------------------------------------------------------------------------

    @abstractmethod
    def insert_agent(self, new: NewAgent) -> None:
        """Record a running agent, heard from now (NotFoundError: no such sweep)."""

    @abstractmethod
    def agent_token(self, agent_id: str) -> str | None:
        """The id of the token agent ``agent_id`` registered with, None when it registered without
        one (NotFoundError: no such agent)."""

    @abstractmethod
    def agents(self, sweep_id: str, *, seen_since: datetime) -> list[AgentInfo]:
        """The sweep's agents in the order they registered; live: running and heard from at or after
        ``seen_since`` (NotFoundError: no such sweep)."""

    @abstractmethod
    def touch_scheduler(self, sweep_id: str, *, host: str, pid: int) -> SweepRecord:
        """The sweep's scheduler process (on ``host``, ``pid``) was heard from now (the database's
        clock); leaves ``updated_at`` alone (NotFoundError when there is no such sweep)."""

    @abstractmethod
    def touch_agent(self, agent_id: str) -> None:
        """The agent was heard from now (NotFoundError when there is none)."""

    @abstractmethod
    def finish_agent(self, agent_id: str) -> None:
        """The agent has finished, now (nothing happens for an unknown agent)."""

    @abstractmethod
    def live_agents(self, sweep_ids: Sequence[str], *, seen_since: datetime) -> dict[str, int]:
        """How many agents of each sweep are running and were heard from at or after ``seen_since``
        (sweeps without any are left out)."""

    # --- runs: reading -----------------------------------------------------------------------------

    @abstractmethod
    def run(self, run_id: str) -> RunRecord:
        """The run (NotFoundError when there is none)."""

    @abstractmethod
    def run_by_claim_key(self, claim_key: str) -> RunRecord | None:
        """The run claimed with ``claim_key``, or None."""

    @abstractmethod
    def runs(
        self, sweep_id: str, *, states: States = (), after: int | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """The sweep's runs in run-number order: in ``states`` if any are given, numbered after
        ``after``, at most ``limit`` (NotFoundError when there is no such sweep)."""

    @abstractmethod
    def runs_by_id(self, sweep_id: str, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        """The sweep's runs among ``run_ids``, by id (ids of other runs are left out)."""

    @abstractmethod
    def run_statuses(self, run_ids: Sequence[str]) -> list[RunStatus]:
        """The state and stop request of each run, in the order given (NotFoundError for a missing one)."""

    @abstractmethod
    def run_views(self, sweep_id: str, *, states: States = ()) -> Sequence[RunView]:
        """Every run of the sweep not retried (id, state, params, metric aggregates, number), in
        run-number order, as search methods see them, only those in ``states`` if any are given;
        read on first use, so that a method that does not look costs nothing."""

    @abstractmethod
    def changed_runs(self, sweep_id: str, after: int) -> tuple[list[RunView], list[str]]:
        """The sweep's runs stamped with a change number greater than ``after`` (see "Changes"): the
        views of those not retried, in run-number order, and the ids of those retried."""

    def changed_and_live_runs(
        self, sweep_id: str, after: int, *, states: States
    ) -> tuple[list[RunView], list[str], list[RunView]]:
        """``changed_runs(sweep_id, after)`` and ``run_views(sweep_id, states=states)`` read at once:
        what a claim reads under the sweep's lock, in one statement on a SQL store."""
        changed, retried = self.changed_runs(sweep_id, after)
        return changed, retried, list(self.run_views(sweep_id, states=states))

    @abstractmethod
    def digest_snapshot(self, sweep_id: str) -> DigestSnapshot | None:
        """What a service saved of the sweep's ended runs (``save_digest_snapshot``), or None."""

    @abstractmethod
    def save_digest_snapshot(self, sweep_id: str, snapshot: DigestSnapshot) -> None:
        """Keep ``snapshot`` for the sweep unless the one kept is as new (``change_seq``) with the same
        key: a cache that any service may bring forward, never the truth."""

    @abstractmethod
    def band_views(self, sweep_id: str, band: int, *, states: States = ()) -> list[RunView]:
        """The sweep's runs (not retried) that logged at least ``band`` metric values, each with its
        count, its value at iteration ``band`` and its least and greatest values: what hyperband needs
        to judge that band (no parameters); in run-number order, only those in ``states`` if any are
        given."""

    # --- runs: writing -----------------------------------------------------------------------------

    @abstractmethod
    def insert_run(self, new: NewRun) -> RunRecord:
        """Record a run "running" from now (NotFoundError: no such agent)."""

    def insert_counted_run(self, new: NewRun, *, run_count: int, retry_count: int) -> RunRecord:
        """``set_run_counts`` for the run's sweep, then ``insert_run(new)``: a claim's two writes, in
        one statement on PostgreSQL."""
        self.set_run_counts(new.sweep_id, run_count=run_count, retry_count=retry_count)
        return self.insert_run(new)

    @abstractmethod
    def insert_pending_runs(self, new: Sequence[NewRun]) -> None:
        """Record runs "pending" (queued for an agent), created now."""

    @abstractmethod
    def start_pending_run(
        self, sweep_id: str, *, agent_id: str, claim_key: str, slot: int | None = None
    ) -> RunRecord | None:
        """The sweep's first pending run by number, handed to ``agent_id`` (its slot ``slot``): running
        from now; None when none waits (NotFoundError: no such agent)."""

    @abstractmethod
    def mark_retried(self, retries: Mapping[str, str]) -> None:
        """Each run (key) was retried by the run given (value)."""

    @abstractmethod
    def delete_runs(self, sweep_id: str, run_ids: Sequence[str]) -> None:
        """Delete the sweep's runs ``run_ids`` with their history and output; runs they were retries
        of lose that link (like a foreign key that is set null)."""

    @abstractmethod
    def set_run_config(self, run_id: str, config: Mapping[str, Any] | None) -> None:
        """Set ``run.config`` as the program reported it (None: exactly its sweep values)."""

    @abstractmethod
    def rename_run(self, run_id: str, name: str) -> None:
        """Set the run's name."""

    @abstractmethod
    def end_run(
        self, run_id: str, state: RunState, *, exit_code: int | None, error: str | None, from_states: States
    ) -> RunRecord | None:
        """End the run in ``state``, now, if it is in ``from_states``; the run afterwards, or None
        when it was in another state (and is unchanged). NotFoundError when there is no such run."""

    @abstractmethod
    def end_runs(self, sweep_id: str, *, from_states: States, state: RunState, stop_reason: str) -> None:
        """End every run of the sweep in ``from_states`` in ``state``, now, with ``stop_reason``."""

    @abstractmethod
    def end_silent_runs(
        self, sweep_id: str, *, from_states: States, silent_before: datetime, state: RunState, error: str
    ) -> list[str]:
        """End in ``state``, now, with ``error``, the sweep's runs in ``from_states`` last heard from
        before ``silent_before`` (their heartbeat, else their start, else their creation); their ids."""

    @abstractmethod
    def reopen_runs(self, run_ids: Sequence[str], *, from_states: States) -> None:
        """Runs among ``run_ids`` in ``from_states`` and not retried are running again (their end
        and error cleared)."""

    @abstractmethod
    def touch_runs(self, run_ids: Sequence[str], *, states: States) -> None:
        """Runs among ``run_ids`` in ``states`` were heard from now."""

    @abstractmethod
    def request_stop(
        self, sweep_id: str, *, states: States, reason: str, info: dict | None, run_id: str | None = None
    ) -> int:
        """Ask the sweep's runs in ``states`` not asked yet (only ``run_id`` if given) to stop, with
        ``reason`` and ``info``; how many were asked."""

    # --- logging ------------------------------------------------------------------------------------

    @abstractmethod
    def peek_log_target(self, run_id: str) -> tuple[SweepRecord | None, MetricStats]:
        """The run's sweep (None outside a sweep) and metric aggregates, read without a lock."""

    @abstractmethod
    def log_target(self, run_id: str) -> LogTarget:
        """What logging needs to know of the run, the run held until the transaction ends."""

    @abstractmethod
    def append_history(self, run_id: str, rows: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
        """Add ``(step, data)`` rows (steps after every stored one)."""

    @abstractmethod
    def update_logged(self, logged: LogTarget) -> None:
        """Write the run's logged columns (summary, metric aggregates, last step, batch number, state)
        as ``logged`` holds them; the run was heard from now."""

    @abstractmethod
    def output(self, run_id: str, *, lock: bool = False) -> tuple[str, str, int] | None:
        """What the run printed, as kept: (head, tail, size of everything), or None when nothing was
        kept (the run may not exist either); ``lock`` holds it until the transaction ends."""

    @abstractmethod
    def set_output(self, run_id: str, head: str, tail: str, size: int) -> None:
        """Keep this of what the run printed."""

    @abstractmethod
    def history(self, run_id: str, *, after: int | None = None, limit: int = 1000) -> list[tuple[int, dict]]:
        """``(step, row)`` of the run's rows after step ``after``, in step order, at most ``limit``
        (NotFoundError when there are none and no such run)."""

    @abstractmethod
    def metric_series(
        self, run_ids: Sequence[str], key: str, after: Mapping[str, int]
    ) -> dict[str, list[tuple[int, Any]]]:
        """``(step, value)`` of each run's rows holding ``key`` (after its step in ``after``; a run not
        in it from its first row), in step order; only that key of each row is read."""

    # --- access tokens ---------------------------------------------------------------------------

    @abstractmethod
    def insert_token(self, token_id: str, *, scope: str, name: str | None, secret_hash: str) -> TokenRecord:
        """Record a token (the hash of its secret only), created now."""

    @abstractmethod
    def tokens(self) -> list[TokenRecord]:
        """Every token, oldest first (revoked ones too)."""

    @abstractmethod
    def token(self, token_id: str) -> TokenRecord | None:
        """The token, or None."""

    @abstractmethod
    def any_token(self) -> bool:
        """Whether a token was ever recorded (revoked ones count)."""

    @abstractmethod
    def revoke_token(self, token_id: str) -> TokenRecord:
        """Revoke the token now unless it was revoked already (NotFoundError when there is none)."""

    @abstractmethod
    def touch_token(self, token_id: str) -> None:
        """The token was used now."""

    # --- messages -----------------------------------------------------------------------------------

    def no_sweep(self, sweep_id: str) -> NotFoundError:
        return NotFoundError(f"no sweep {sweep_id!r} in {self.store_url}")

    def no_run(self, run_id: str) -> NotFoundError:
        return NotFoundError(f"no run {run_id!r} in {self.store_url}")

    def no_agent(self, agent_id: str) -> NotFoundError:
        return NotFoundError(f"no agent {agent_id!r} in {self.store_url}")

    def no_token(self, token_id: str) -> NotFoundError:
        return NotFoundError(f"no token {token_id!r} in {self.store_url}")

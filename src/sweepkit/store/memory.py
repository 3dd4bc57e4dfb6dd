"""The store in this process's memory (``memory://``): every ``StoreTx`` operation over dicts, with
the transactions, errors and sentences of the SQL store.

For the fast tier of the contract suite, for trying sweepkit out, and for a server whose sweeps need
not outlive it: nothing is written anywhere, and each ``open_store("memory://...")`` is a new,
empty store that ends with the process (or ``close()``).

- Transactions run one at a time (a lock). Each keeps an undo log of what it changed, replayed
  backwards when the transaction raises: a failing transaction changes nothing.
- Values are kept as the SQL store keeps them, as JSON text (``sweepkit.values.json_safe``), and read
  back as fresh objects (logged data with its "NaN" texts turned back into floats): a caller that
  changes a record's dict changes nothing stored, and a value that SQL would turn into text is text
  here too.
- Indexes (a sweep's runs and agents, claim keys, a run's history in step order) let each query
  read only the rows it is about.
"""

from __future__ import annotations

import bisect
import itertools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

from sweepkit.errors import StoreError, StoreGone
from sweepkit.runs import ENDED_FOR_GOOD, AgentInfo, MetricStats, RunState, RunView, SweepState
from sweepkit.store import records
from sweepkit.store.base import LazyViews, States, Store, StoreTx
from sweepkit.values import json_safe, logged_data

T = TypeVar("T")

#: How ``open_store`` recognises a memory store's URL.
SCHEME = "memory://"

_MISSING = object()
Row = dict[str, Any]


def _text(value: Any) -> str | None:
    """A JSON column's value as stored (None stays NULL)."""
    return None if value is None else json.dumps(json_safe(value), allow_nan=False, separators=(",", ":"))


def _doc(text: str | None) -> Any:
    """A stored config, parameters or info, read back as stored."""
    return None if text is None else json.loads(text)


def _data(text: str | None) -> Any:
    """Stored logged data, read back with its non-finite numbers."""
    return None if text is None else logged_data(json.loads(text))


#: The JSON columns of each table: configs and the like (``_doc``), and logged data (``_data``).
_DOCS = frozenset({"config", "params", "metric", "stop_info", "suggestion_info"})
_DATA = frozenset({"summary"})


def _columns(row: Row) -> Row:
    """A row with its JSON columns decoded: fresh objects, as a SQL store reads them."""
    return {k: _doc(v) if k in _DOCS else _data(v) if k in _DATA else v for k, v in row.items()}


class _Tables:
    """The store's rows and indexes."""

    def __init__(self) -> None:
        self.sweeps: dict[str, Row] = {}
        self.agents: dict[str, Row] = {}
        self.runs: dict[str, Row] = {}
        self.tokens: dict[str, Row] = {}
        #: Each sweep's config versions, oldest first (a new list per change, so that undo puts the old back).
        self.versions: dict[str, list[Row]] = {}
        #: A sweep's runs and agents (ids, in insertion order), and runs by claim key.
        self.sweep_runs: dict[str, dict[str, None]] = {}
        self.sweep_agents: dict[str, dict[str, None]] = {}
        self.claim_keys: dict[str, str] = {}
        #: A run's history: its steps in order, and each step's row as JSON text.
        self.steps: dict[str, list[int]] = {}
        self.rows: dict[str, list[str]] = {}
        #: What a run printed, as kept: (head, tail, size).
        self.output: dict[str, tuple[str, str, int]] = {}
        #: What a service saved of each sweep's ended runs.
        self.digests: dict[str, records.DigestSnapshot] = {}
        self.order = itertools.count()


class MemoryStore(Store):
    """A store in this process's memory (see the module docstring)."""

    def __init__(self, url: str = SCHEME) -> None:
        self.url = url
        self.connect_url = url
        self.backend = "memory"
        self.on_wait: Callable[[str], None] = lambda message: None
        self._lock = threading.RLock()
        self._tables: _Tables | None = _Tables()

    def close(self) -> None:
        with self._lock:
            self._tables = None

    def transact(self, fn: Callable[[StoreTx], T], *, write: bool = True, durable: bool = True) -> T:
        """Run ``fn(tx)`` alone; if it raises, undo what it changed (see the module docstring)."""
        with self._lock:
            if self._tables is None:
                raise StoreGone(f"store {self.url} was closed; nothing more is written")
            tx = MemoryTx(self._tables, self.url)
            try:
                return fn(tx)
            except BaseException:
                tx.rollback()
                raise


class MemoryTx(StoreTx):
    """One transaction on a memory store: the row operations, each change recorded for undoing."""

    def __init__(self, tables: _Tables, store_url: str) -> None:
        self.t = tables
        self.store_url = store_url
        self._undo: list[Callable[[], None]] = []

    def rollback(self) -> None:
        while self._undo:
            self._undo.pop()()

    # --- changes, each with its undo ---------------------------------------------------------------

    def _put(self, table: dict, key: Any, value: Any) -> None:
        old = table.get(key, _MISSING)
        table[key] = value
        self._undo.append(lambda: table.pop(key) if old is _MISSING else table.__setitem__(key, old))

    def _pop(self, table: dict, key: Any) -> None:
        if key in table:
            old = table.pop(key)
            self._undo.append(lambda: table.__setitem__(key, old))

    def _set(self, table: dict[str, Row], key: str, **changes: Any) -> Row:
        """The row with ``changes``: a new dict, so that undoing puts the old one back."""
        row = {**table[key], **changes}
        self._put(table, key, row)
        return row

    def _index(self, index: dict[str, dict[str, None]], group: str | None, key: str) -> None:
        if group is None:
            return
        members = index.get(group)
        if members is None:
            self._put(index, group, {})
            members = index[group]
        members[key] = None
        self._undo.append(lambda: members.pop(key, None))

    def _unindex(self, index: dict[str, dict[str, None]], group: str | None, key: str) -> None:
        members = index.get(group) if group is not None else None
        if members is not None and key in members:
            old = dict(members)
            del members[key]

            def undo() -> None:
                members.clear()
                members.update(old)  # the key back at its place

            self._undo.append(undo)

    # --- the clock ----------------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    # --- sweeps ---------------------------------------------------------------------------------

    def insert_sweep(self, new: records.NewSweep) -> records.SweepRecord:
        if new.id in self.t.sweeps:
            raise StoreError(f"store {self.store_url}: sweep id {new.id!r} is taken")
        now = self.now()
        row = {
            "id": new.id,
            "project": new.project,
            "entity": new.entity,
            "name": new.name,
            "state": SweepState.RUNNING.value,
            "config": _text(dict(new.config)),
            "source": new.source,
            "created_at": now,
            "updated_at": now,
            "finished_reason": None,
            "run_count": 0,
            "retry_count": 0,
            "change_seq": 0,
            "reset_seq": 0,
            "scheduler_host": None,
            "scheduler_pid": None,
            "scheduler_seen_at": None,
            "order": next(self.t.order),
        }
        self._put(self.t.sweeps, new.id, row)
        self._add_version(new.id, row["config"], new.source, ())
        return _sweep(row)

    def _add_version(
        self, sweep_id: str, config: str | None, source: str | None, changes: Sequence[str]
    ) -> None:
        versions = self.t.versions.get(sweep_id, [])
        row = {
            "version": len(versions) + 1,
            "created_at": self.now(),
            "config": config,
            "source": source,
            "changes": _text(list(changes)),
        }
        self._put(self.t.versions, sweep_id, [*versions, row])

    def _sweep_row(self, sweep_id: str) -> Row:
        row = self.t.sweeps.get(sweep_id)
        if row is None:
            raise self.no_sweep(sweep_id)
        return row

    def sweep(self, sweep_id: str) -> records.SweepRecord:
        return _sweep(self._sweep_row(sweep_id))

    def lock_sweep(self, sweep_id: str) -> records.SweepRecord:
        return self.sweep(sweep_id)  # the store's lock is held for the whole transaction

    def sweeps(self, *, project: str | None = None) -> list[records.SweepRecord]:
        found = [r for r in self.t.sweeps.values() if project is None or r["project"] == project]
        found.sort(key=lambda r: (r["created_at"], r["order"]), reverse=True)
        return [_sweep(r) for r in found]

    def set_sweep_state(self, sweep_id: str, state: SweepState, reason: str | None) -> records.SweepRecord:
        self._sweep_row(sweep_id)
        changes = {"state": SweepState(state).value, "finished_reason": reason, "updated_at": self.now()}
        return _sweep(self._set(self.t.sweeps, sweep_id, **changes))

    def set_sweep_config(
        self, sweep_id: str, config: Mapping[str, Any], source: str | None, changes: Sequence[str] = ()
    ) -> records.SweepRecord:
        self._sweep_row(sweep_id)
        text = _text(dict(config))
        self._add_version(sweep_id, text, source, changes)
        return _sweep(self._set(self.t.sweeps, sweep_id, config=text, source=source, updated_at=self.now()))

    def config_versions(self, sweep_id: str) -> list[records.ConfigVersionRecord]:
        self._sweep_row(sweep_id)
        return [
            records.ConfigVersionRecord.from_columns(
                {**row, "config": _doc(row["config"]), "changes": _doc(row["changes"])}
            )
            for row in self.t.versions.get(sweep_id, [])
        ]

    def fill_params(self, sweep_id: str, values: Mapping[str, Any]) -> int:
        changed = 0
        for row in list(self._sweep_runs(sweep_id)):
            params = _doc(row["params"]) or {}
            missing = {k: v for k, v in values.items() if k not in params}
            if missing:
                self._set(self.t.runs, row["id"], params=_text({**params, **missing}))
                changed += 1
        if changed:
            self._stamp(sweep_id, reset=True)  # ended runs' parameters changed: kept digests start again
        return changed

    def set_run_counts(self, sweep_id: str, *, run_count: int, retry_count: int) -> None:
        if sweep_id in self.t.sweeps:
            self._set(self.t.sweeps, sweep_id, run_count=run_count, retry_count=retry_count)

    def run_counts(self, sweep_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for sweep_id in sweep_ids:
            counts: dict[str, int] = {}
            for row in self._sweep_runs(sweep_id):
                counts[row["state"]] = counts.get(row["state"], 0) + 1
            out[sweep_id] = counts
        return out

    # --- agents ---------------------------------------------------------------------------------

    def insert_agent(self, new: records.NewAgent) -> None:
        if new.sweep_id is not None:
            self._sweep_row(new.sweep_id)
        now = self.now()
        row = {
            "id": new.id,
            "sweep_id": new.sweep_id,
            "host": new.host[:255],
            "pid": int(new.pid),
            "state": "running",
            "created_at": now,
            "heartbeat_at": now,
            "finished_at": None,
            "workdir": new.workdir,
            "slots": None if new.slots is None else tuple(tuple(gpus) for gpus in new.slots),
            "token_id": new.token_id,
        }
        self._put(self.t.agents, new.id, row)
        self._index(self.t.sweep_agents, new.sweep_id, new.id)

    def agent_token(self, agent_id: str) -> str | None:
        if agent_id not in self.t.agents:
            raise self.no_agent(agent_id)
        return self.t.agents[agent_id]["token_id"]

    def touch_scheduler(self, sweep_id: str, *, host: str, pid: int) -> records.SweepRecord:
        self._sweep_row(sweep_id)
        self._set(
            self.t.sweeps,
            sweep_id,
            scheduler_host=host[:255],
            scheduler_pid=int(pid),
            scheduler_seen_at=self.now(),
        )
        return _sweep(self.t.sweeps[sweep_id])

    def touch_agent(self, agent_id: str) -> None:
        if agent_id not in self.t.agents:
            raise self.no_agent(agent_id)
        self._set(self.t.agents, agent_id, heartbeat_at=self.now())

    def finish_agent(self, agent_id: str) -> None:
        if agent_id in self.t.agents:
            now = self.now()
            self._set(self.t.agents, agent_id, state="finished", finished_at=now, heartbeat_at=now)

    def agents(self, sweep_id: str, *, seen_since: datetime) -> list[AgentInfo]:
        self._sweep_row(sweep_id)
        out = []
        for agent_id in self.t.sweep_agents.get(sweep_id, ()):
            r = self.t.agents[agent_id]
            live = r["state"] == "running" and r["heartbeat_at"] >= seen_since
            slots = None if r["slots"] is None else [list(gpus) for gpus in r["slots"]]
            fields = ("id", "host", "pid", "state", "created_at", "heartbeat_at", "finished_at", "workdir")
            out.append(AgentInfo(**{k: r[k] for k in fields}, live=live, slots=slots))
        return out

    def live_agents(self, sweep_ids: Sequence[str], *, seen_since: datetime) -> dict[str, int]:
        out = {}
        for sweep_id in sweep_ids:
            rows = (self.t.agents[a] for a in self.t.sweep_agents.get(sweep_id, ()))
            count = sum(1 for r in rows if r["state"] == "running" and r["heartbeat_at"] >= seen_since)
            if count:
                out[sweep_id] = count
        return out

    # --- runs: reading -----------------------------------------------------------------------------

    def _run_row(self, run_id: str) -> Row:
        row = self.t.runs.get(run_id)
        if row is None:
            raise self.no_run(run_id)
        return row

    def _sweep_runs(self, sweep_id: str) -> list[Row]:
        """The sweep's run rows in run-number order."""
        rows = [self.t.runs[r] for r in self.t.sweep_runs.get(sweep_id, ())]
        rows.sort(key=lambda r: (r["number"] is None, r["number"] or 0, r["id"]))
        return rows

    def run(self, run_id: str) -> records.RunRecord:
        return _run(self._run_row(run_id))

    def run_by_claim_key(self, claim_key: str) -> records.RunRecord | None:
        run_id = self.t.claim_keys.get(claim_key)
        return None if run_id is None else _run(self.t.runs[run_id])

    def runs(
        self, sweep_id: str, *, states: States = (), after: int | None = None, limit: int | None = None
    ) -> list[records.RunRecord]:
        self._sweep_row(sweep_id)
        wanted = {RunState(s).value for s in states}
        found = [
            row
            for row in self._sweep_runs(sweep_id)
            if (not wanted or row["state"] in wanted) and (after is None or (row["number"] or 0) > after)
        ]
        return [_run(row) for row in found[:limit]]

    def runs_by_id(self, sweep_id: str, run_ids: Sequence[str]) -> dict[str, records.RunRecord]:
        rows = (self.t.runs.get(run_id) for run_id in run_ids)
        return {r["id"]: _run(r) for r in rows if r is not None and r["sweep_id"] == sweep_id}

    def run_statuses(self, run_ids: Sequence[str]) -> list[records.RunStatus]:
        out = []
        for run_id in run_ids:
            row = self._run_row(run_id)
            out.append(
                records.RunStatus(run_id, RunState(row["state"]), row["stop_requested"], row["stop_reason"])
            )
        return out

    def run_views(self, sweep_id: str, *, states: States = ()) -> LazyViews:
        wanted = {RunState(s).value for s in states}

        def load() -> list[RunView]:
            return [
                _view(r)
                for r in self._sweep_runs(sweep_id)
                if r["retried_by"] is None and (not wanted or r["state"] in wanted)
            ]

        return LazyViews(load)

    def digest_snapshot(self, sweep_id: str) -> records.DigestSnapshot | None:
        return self.t.digests.get(sweep_id)

    def save_digest_snapshot(self, sweep_id: str, snapshot: records.DigestSnapshot) -> None:
        if sweep_id not in self.t.sweeps:
            raise self.no_sweep(sweep_id)
        kept = self.t.digests.get(sweep_id)
        if kept is not None and kept.key == snapshot.key and kept.change_seq >= snapshot.change_seq:
            return
        self.t.digests[sweep_id] = snapshot

        def undo() -> None:
            if kept is None:
                self.t.digests.pop(sweep_id, None)
            else:
                self.t.digests[sweep_id] = kept

        self._undo.append(undo)

    def changed_runs(self, sweep_id: str, after: int) -> tuple[list[RunView], list[str]]:
        rows = (self.t.runs[r] for r in self.t.sweep_runs.get(sweep_id, ()))
        found = [r for r in rows if r["change_seq"] is not None and r["change_seq"] > after]
        found.sort(key=lambda r: (r["number"] is None, r["number"] or 0, r["id"]))
        return [_view(r) for r in found if r["retried_by"] is None], [
            r["id"] for r in found if r["retried_by"] is not None
        ]

    def _stamp(self, sweep_id: str | None, *, reset: bool = False) -> int | None:
        """The sweep's next change number, counted (None outside a sweep)."""
        row = self.t.sweeps.get(sweep_id) if sweep_id is not None else None
        if row is None:
            return None
        change = row["change_seq"] + 1
        self._set(self.t.sweeps, sweep_id, change_seq=change, **({"reset_seq": change} if reset else {}))
        return change

    def band_views(self, sweep_id: str, band: int, *, states: States = ()) -> list[RunView]:
        wanted = {RunState(s).value for s in states}
        views = []
        for row in self._sweep_runs(sweep_id):
            if row["retried_by"] is not None or (wanted and row["state"] not in wanted):
                continue
            stats = _metric(row)
            if stats.count < band:
                continue
            value = stats.bands.get(int(band))
            bands = {int(band): float(value)} if value is not None else {}
            views.append(
                RunView(
                    row["id"],
                    RunState(row["state"]),
                    {},
                    MetricStats(stats.count, None, stats.min, stats.max, bands),
                )
            )
        return views

    # --- runs: writing -----------------------------------------------------------------------------

    def _new_run_row(self, new: records.NewRun, state: RunState, now: datetime) -> Row:
        if new.id in self.t.runs:
            raise StoreError(f"store {self.store_url}: run id {new.id!r} is taken")
        if new.agent_id is not None and new.agent_id not in self.t.agents:
            raise self.no_agent(new.agent_id)
        if new.sweep_id is not None:
            self._sweep_row(new.sweep_id)
        running = state == RunState.RUNNING
        return {
            "id": new.id,
            "sweep_id": new.sweep_id,
            "number": new.number,
            "project": new.project,
            "name": new.name,
            "state": state.value,
            "params": _text(dict(new.params)),
            "config": _text(None if new.config is None else dict(new.config)),
            "summary": "{}",
            "metric": "{}",
            "last_step": None,
            "log_seq": 0,
            "claim_key": new.claim_key,
            "created_at": now,
            "started_at": now if running else None,
            "finished_at": None,
            "heartbeat_at": now if running else None,
            "exit_code": None,
            "agent_id": new.agent_id,
            "stop_requested": False,
            "stop_reason": None,
            "stop_info": None,
            "suggestion_info": _text(dict(new.suggestion_info)),
            "error": None,
            "retry_of": new.retry_of,
            "retried_by": None,
            "slot": new.slot,
            "change_seq": None,
        }

    def _add_run(self, row: Row) -> None:
        if row["claim_key"] is not None:
            if row["claim_key"] in self.t.claim_keys:
                raise StoreError(f"store {self.store_url}: claim key {row['claim_key']!r} is taken")
            self._put(self.t.claim_keys, row["claim_key"], row["id"])
        self._put(self.t.runs, row["id"], row)
        self._index(self.t.sweep_runs, row["sweep_id"], row["id"])

    def insert_run(self, new: records.NewRun) -> records.RunRecord:
        row = self._new_run_row(new, RunState.RUNNING, self.now())
        self._add_run(row)
        return _run(row)

    def insert_pending_runs(self, new: Sequence[records.NewRun]) -> None:
        now = self.now()
        for run in new:
            self._add_run(self._new_run_row(run, RunState.PENDING, now))

    def start_pending_run(
        self, sweep_id: str, *, agent_id: str, claim_key: str, slot: int | None = None
    ) -> records.RunRecord | None:
        pending = [r for r in self._sweep_runs(sweep_id) if r["state"] == RunState.PENDING.value]
        if not pending:
            return None
        if agent_id not in self.t.agents:
            raise self.no_agent(agent_id)
        if claim_key in self.t.claim_keys:
            raise StoreError(f"store {self.store_url}: claim key {claim_key!r} is taken")
        now = self.now()
        run_id = pending[0]["id"]
        self._put(self.t.claim_keys, claim_key, run_id)
        row = self._set(
            self.t.runs,
            run_id,
            state=RunState.RUNNING.value,
            agent_id=agent_id,
            claim_key=claim_key,
            slot=slot,
            started_at=now,
            heartbeat_at=now,
        )
        return _run(row)

    def mark_retried(self, retries: Mapping[str, str]) -> None:
        for old, new in retries.items():
            if old in self.t.runs:
                change = self._stamp(self.t.runs[old]["sweep_id"])
                self._set(self.t.runs, old, retried_by=new, change_seq=change)

    def delete_runs(self, sweep_id: str, run_ids: Sequence[str]) -> None:
        self._stamp(sweep_id, reset=True)
        ids = set(run_ids)
        for row in self._sweep_runs(sweep_id):
            if row["retried_by"] in ids:
                self._set(self.t.runs, row["id"], retried_by=None)
        for run_id in run_ids:
            found = self.t.runs.get(run_id)
            if found is None or found["sweep_id"] != sweep_id:
                continue
            self._pop(self.t.runs, run_id)
            self._unindex(self.t.sweep_runs, sweep_id, run_id)
            if found["claim_key"] is not None:
                self._pop(self.t.claim_keys, found["claim_key"])
            for table in (self.t.steps, self.t.rows, self.t.output):
                self._pop(table, run_id)

    def set_run_config(self, run_id: str, config: Mapping[str, Any] | None) -> None:
        if run_id in self.t.runs:
            self._set(self.t.runs, run_id, config=_text(None if config is None else dict(config)))

    def rename_run(self, run_id: str, name: str) -> None:
        if run_id in self.t.runs:
            self._set(self.t.runs, run_id, name=name)

    def end_run(
        self, run_id: str, state: RunState, *, exit_code: int | None, error: str | None, from_states: States
    ) -> records.RunRecord | None:
        row = self._run_row(run_id)
        if row["state"] not in {RunState(s).value for s in from_states}:
            return None
        changes = {
            "state": RunState(state).value,
            "finished_at": self.now(),
            "exit_code": exit_code,
            "error": error,
        }
        if RunState(state) in ENDED_FOR_GOOD:
            changes["change_seq"] = self._stamp(row["sweep_id"])
        return _run(self._set(self.t.runs, run_id, **changes))

    def end_runs(self, sweep_id: str, *, from_states: States, state: RunState, stop_reason: str) -> None:
        wanted = {RunState(s).value for s in from_states}
        now = self.now()
        changes = {"state": RunState(state).value, "finished_at": now, "stop_reason": stop_reason}
        for row in self._sweep_runs(sweep_id):
            if row["state"] in wanted:
                if RunState(state) in ENDED_FOR_GOOD:
                    changes["change_seq"] = self._stamp(sweep_id)
                self._set(self.t.runs, row["id"], **changes)

    def end_silent_runs(
        self, sweep_id: str, *, from_states: States, silent_before: datetime, state: RunState, error: str
    ) -> list[str]:
        wanted = {RunState(s).value for s in from_states}
        now = self.now()
        ended = []
        for row in self._sweep_runs(sweep_id):
            last_seen = row["heartbeat_at"] or row["started_at"] or row["created_at"]
            if row["state"] in wanted and last_seen < silent_before:
                changes = {"state": RunState(state).value, "finished_at": now, "error": error}
                if RunState(state) in ENDED_FOR_GOOD:
                    changes["change_seq"] = self._stamp(sweep_id)
                self._set(self.t.runs, row["id"], **changes)
                ended.append(row["id"])
        return ended

    def reopen_runs(self, run_ids: Sequence[str], *, from_states: States) -> None:
        wanted = {RunState(s).value for s in from_states}
        for run_id in run_ids:
            row = self.t.runs.get(run_id)
            if row is not None and row["state"] in wanted and row["retried_by"] is None:
                self._set(self.t.runs, run_id, state=RunState.RUNNING.value, finished_at=None, error=None)

    def touch_runs(self, run_ids: Sequence[str], *, states: States) -> None:
        wanted = {RunState(s).value for s in states}
        now = self.now()
        for run_id in run_ids:
            row = self.t.runs.get(run_id)
            if row is not None and row["state"] in wanted:
                self._set(self.t.runs, run_id, heartbeat_at=now)

    def request_stop(
        self, sweep_id: str, *, states: States, reason: str, info: dict | None, run_id: str | None = None
    ) -> int:
        wanted = {RunState(s).value for s in states}
        if run_id is not None:
            rows = [self.t.runs[run_id]] if run_id in self.t.runs else []
        else:
            rows = self._sweep_runs(sweep_id)
        asked = 0
        for row in rows:
            if row["sweep_id"] == sweep_id and row["state"] in wanted and not row["stop_requested"]:
                stop_info = _text(None if info is None else dict(info))
                self._set(
                    self.t.runs, row["id"], stop_requested=True, stop_reason=reason, stop_info=stop_info
                )
                asked += 1
        return asked

    # --- logging ------------------------------------------------------------------------------------

    def peek_log_target(self, run_id: str) -> tuple[records.SweepRecord | None, MetricStats]:
        row = self._run_row(run_id)
        sweep = self.t.sweeps.get(row["sweep_id"]) if row["sweep_id"] is not None else None
        return (_sweep(sweep) if sweep is not None else None), _metric(row)

    def log_target(self, run_id: str) -> records.LogTarget:
        return records.LogTarget.from_columns(_columns(self._run_row(run_id)))

    def append_history(self, run_id: str, rows: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
        if not rows:
            return
        self._run_row(run_id)
        if run_id not in self.t.steps:
            self._put(self.t.steps, run_id, [])
            self._put(self.t.rows, run_id, [])
        steps, texts = self.t.steps[run_id], self.t.rows[run_id]
        count = len(steps)
        for step, data in rows:
            if steps and step <= steps[-1]:
                raise StoreError(f"store {self.store_url}: run {run_id!r} has a row at step {step} already")
            steps.append(int(step))
            texts.append(_text(data))

        def undo() -> None:
            del steps[count:], texts[count:]

        self._undo.append(undo)

    def update_logged(self, logged: records.LogTarget) -> None:
        if logged.id in self.t.runs:
            self._set(
                self.t.runs,
                logged.id,
                summary=_text(logged.summary),
                metric=_text(logged.metric.to_json()),
                last_step=logged.last_step,
                log_seq=logged.log_seq,
                state=RunState(logged.state).value,
                heartbeat_at=self.now(),
            )

    def output(self, run_id: str, *, lock: bool = False) -> tuple[str, str, int] | None:
        return self.t.output.get(run_id)

    def set_output(self, run_id: str, head: str, tail: str, size: int) -> None:
        self._run_row(run_id)
        self._put(self.t.output, run_id, (head, tail, int(size)))

    def history(self, run_id: str, *, after: int | None = None, limit: int = 1000) -> list[tuple[int, dict]]:
        steps, texts = self.t.steps.get(run_id, []), self.t.rows.get(run_id, [])
        start = 0 if after is None else bisect.bisect_right(steps, after)
        found = [(steps[i], _data(texts[i])) for i in range(start, min(len(steps), start + max(0, limit)))]
        if not found and run_id not in self.t.runs:
            raise self.no_run(run_id)
        return found

    def metric_series(
        self, run_ids: Sequence[str], key: str, after: Mapping[str, int]
    ) -> dict[str, list[tuple[int, Any]]]:
        out: dict[str, list[tuple[int, Any]]] = {}
        for run_id in run_ids:
            steps, texts = self.t.steps.get(run_id, []), self.t.rows.get(run_id, [])
            series = out[run_id] = []
            for i in range(bisect.bisect_right(steps, after.get(run_id, -1)), len(steps)):
                value = _data(texts[i]).get(key)
                if value is not None:
                    series.append((steps[i], value))
        return out

    # --- access tokens ---------------------------------------------------------------------------

    def insert_token(
        self, token_id: str, *, scope: str, name: str | None, secret_hash: str
    ) -> records.TokenRecord:
        if token_id in self.t.tokens:
            raise StoreError(f"store {self.store_url}: token id {token_id!r} is taken")
        row = {
            "id": token_id,
            "name": name,
            "scope": scope,
            "secret_hash": secret_hash,
            "created_at": self.now(),
            "last_used_at": None,
            "revoked_at": None,
        }
        self._put(self.t.tokens, token_id, row)
        return records.TokenRecord.from_columns(row)

    def tokens(self) -> list[records.TokenRecord]:
        return [
            records.TokenRecord.from_columns(r)
            for r in sorted(self.t.tokens.values(), key=lambda r: (r["created_at"], r["id"]))
        ]

    def token(self, token_id: str) -> records.TokenRecord | None:
        row = self.t.tokens.get(token_id)
        return None if row is None else records.TokenRecord.from_columns(row)

    def any_token(self) -> bool:
        return bool(self.t.tokens)

    def revoke_token(self, token_id: str) -> records.TokenRecord:
        row = self.t.tokens.get(token_id)
        if row is None:
            raise self.no_token(token_id)
        if row["revoked_at"] is None:
            row = self._set(self.t.tokens, token_id, revoked_at=self.now())
        return records.TokenRecord.from_columns(row)

    def touch_token(self, token_id: str) -> None:
        if token_id in self.t.tokens:
            self._set(self.t.tokens, token_id, last_used_at=self.now())


def _metric(row: Row) -> MetricStats:
    return MetricStats.from_json(_doc(row["metric"]))


def _view(row: Row) -> RunView:
    return RunView(row["id"], RunState(row["state"]), _doc(row["params"]) or {}, _metric(row), row["number"])


def _sweep(row: Row) -> records.SweepRecord:
    return records.SweepRecord.from_columns(_columns(row))


def _run(row: Row) -> records.RunRecord:
    return records.RunRecord.from_columns(_columns(row))

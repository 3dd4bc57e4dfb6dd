"""The local sweep service: ``SweepService`` over a store, in this process.

Every decision is taken here, inside the store transaction that records it: the next run's
parameters under the sweep's row lock (so many agents never get the same grid point), hyperband's
stops in the transaction that logs the value reaching a band. The lifecycle of runs is decided here
too, and the store only applies it (``sweepkit.store.base``): what cancelling a sweep does to its
queued and active runs, that an ended run keeps its end (a crashed one takes its agent's report),
that a crashed run heard from again is running again, when a silent run has crashed, how a retry is
queued. Logging appends history rows and updates the run's small aggregates; nothing reads or
rewrites a history.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields, replace
from datetime import timedelta
from typing import Any, TypeVar

from sweepkit import env
from sweepkit.errors import AccessDenied, ConflictError, NotFoundError, SweepkitError
from sweepkit.runs import (
    ACTIVE_STATES,
    ENDED_FOR_GOOD,
    FINAL_SWEEP_STATES,
    TERMINAL_STATES,
    RunState,
    SweepAction,
    SweepState,
    allowed_actions,
    rank,
)
from sweepkit.search.base import Finished
from sweepkit.search.sweep_runs import SweepRuns
from sweepkit.service import caller, checks, types
from sweepkit.service import tokens as token_forms
from sweepkit.service.calls import SweepService
from sweepkit.service.config_change import describe_change
from sweepkit.service.sweep_policy import SweepPolicy, run_env
from sweepkit.space.membership import check_point
from sweepkit.stopping import StopDecision
from sweepkit.stopping.band_values import BAND_VALUES
from sweepkit.store import (
    NewAgent,
    NewRun,
    NewSweep,
    RunRecord,
    Store,
    StoreTx,
    SweepRecord,
    TokenRecord,
    new_id,
)
from sweepkit.store.records import DigestSnapshot
from sweepkit.values import dumps as json_text
from sweepkit.values import is_metric_value, is_new_step, json_safe

T = TypeVar("T")

#: What the service keeps of a run's output: its first and its newest characters.
OUTPUT_HEAD_CHARS = 16_384
OUTPUT_TAIL_CHARS = 65_536
#: The longest project, entity or name the store keeps.
LABEL_LENGTH = 255
#: A token's ``last_used_at`` is written at most this often (a write per request would cost more).
TOKEN_TOUCH_EVERY = timedelta(seconds=60)
#: A sweep's config (with its source text) larger than this is left out of ``list_sweeps``.
LIST_CONFIG_BYTES = 65_536
#: Runs that have ended for good: they take no more logged values.
_CLOSED = ENDED_FOR_GOOD
#: Runs that may still change: a claim reads them every time (the others are kept: ``_kept_runs``).
_LIVE = frozenset(set(RunState) - ENDED_FOR_GOOD)
#: Runs that may still end: every state but the terminal ones, and "crashed" (a run reaped while its
#: agent was cut off from the store takes the state its agent reports).
_OPEN = frozenset(set(RunState) - TERMINAL_STATES) | {RunState.CRASHED}
#: Runs that cannot be deleted: a process is working on them.
_BUSY = frozenset({RunState.RUNNING, RunState.PREEMPTING})


class LocalSweepService(SweepService):
    """The sweep service over ``store`` (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.location = store.url
        self._policies: dict[str, tuple[Any, SweepPolicy]] = {}
        #: Which agent claimed each run, and which token each agent registered with: neither changes
        #: once known (``bound``).
        self._run_agents: dict[str, str] = {}
        self._agent_tokens: dict[str, str | None] = {}
        self._outside_runs: set[str] = set()  # runs outside any sweep among those remembered above
        self._last_reap: dict[str, float] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.store.close()

    def _read(self, fn: Callable[[StoreTx], T]) -> T:
        """``fn(tx)`` in a read-only transaction."""
        return self.store.transact(fn, write=False)

    # --- policies -------------------------------------------------------------------------------------

    def _policy(self, sweep) -> SweepPolicy:
        """The sweep's policy, built again only when the sweep changed."""
        with self._lock:
            cached = self._policies.get(sweep.id)
        if cached is not None and cached[0] == sweep.updated_at:
            return cached[1]
        policy = SweepPolicy(sweep.config, source=f"sweep {sweep.id}")
        with self._lock:
            self._policies[sweep.id] = (sweep.updated_at, policy)
        return policy

    def _prepare(self, sweep_id: str, asked_at: float) -> tuple[SweepPolicy, Any] | None:
        """Before a claim takes the sweep's lock: bring what the policy keeps of the sweep's runs up
        to date (the store's snapshot of them or every ended run when nothing is kept: a new process,
        a changed config; else the runs stamped since) and compute the suggestion ahead
        (``SweepPolicy.prepare_next``), so that other agents do not wait for this read nor for a
        model fit. The claim checks the suggestion under the lock against the runs it finds there.
        (policy, prepared suggestion), or None when there is nothing to do ahead."""
        with self._lock:
            cached = self._policies.get(sweep_id)
        if cached is not None and not cached[1].reads_runs:
            return None  # no read at all: a random search
        if cached is not None and cached[1].kept_runs is not None and not cached[1].prepares:
            return None  # nothing to compute ahead (grid): the runs stamped since are read under the lock

        def tx(t: StoreTx) -> tuple[SweepPolicy, Any] | None:
            try:
                sweep = t.sweep(sweep_id)
            except NotFoundError:
                return None  # the claim says so
            policy = self._policy(sweep)
            if not policy.reads_runs or sweep.state != SweepState.RUNNING:
                return None
            runs = self._kept_ahead(t, sweep, policy)
            if runs is None:  # kept by a later read than this one: newer than needed, still right
                runs = policy.kept_runs
            with runs.lock:
                _bring_up_to_date(t, sweep, policy, runs, live=True)
                return policy, policy.prepare_next(sweep.run_count - sweep.retry_count, runs, asked_at)

        try:
            return self._read(tx)
        except Exception:  # noqa: BLE001 - only ahead of time: the claim under the lock says what is wrong
            return None

    def _kept_ahead(self, t: StoreTx, sweep: SweepRecord, policy: SweepPolicy) -> SweepRuns | None:
        """What the policy keeps of the sweep's ended runs, for a read without the sweep's lock: built
        again (and kept) when stale; None when it was kept by a later read than ``sweep``'s."""
        runs = policy.kept_runs
        if _stale(runs, sweep):
            if runs is not None and sweep.change_seq < runs.change_seq:
                return None
            runs = _all_ended_runs(t, sweep, policy)
            with self._lock:
                if _stale(policy.kept_runs, sweep):
                    policy.kept_runs = runs
        return runs

    def _reap(self, sweep_id: str) -> None:
        """Mark the sweep's silent runs crashed, at most every quarter of the heartbeat timeout."""
        if self._reap_due(sweep_id):
            timeout = env.heartbeat_timeout_s()

            def tx(t: StoreTx) -> None:
                t.lock_sweep(sweep_id)
                _reap_crashed(t, sweep_id, timeout)

            self.store.transact(tx)

    def _reap_due(self, sweep_id: str) -> bool:
        """Whether this service should look for silent runs of the sweep now (then noted as done)."""
        timeout = env.heartbeat_timeout_s()
        now = time.monotonic()
        if now - self._last_reap.get(sweep_id, -1e18) < timeout / 4:
            return False
        self._last_reap[sweep_id] = now
        return True

    # --- sweeps ---------------------------------------------------------------------------------------

    def create_sweep(self, config, *, project=None, entity=None, name=None, source=None) -> types.SweepInfo:
        cfg = _loaded(config)
        labels = {
            "project": _label("project", project or cfg.project),
            "entity": _label("entity", entity or cfg.entity),
            "name": _label("name", name or cfg.name),
        }

        def tx(t: StoreTx) -> SweepRecord:
            return t.insert_sweep(NewSweep(new_id(), config=cfg.data, source=_source(source), **labels))

        return replace(self._sweep_info(self.store.transact(tx)), warnings=_warnings(cfg))

    def update_sweep(
        self, sweep_id: str, config, *, source=None, defaults=None, dry_run=False
    ) -> types.SweepInfo:
        cfg = _loaded(config)
        defaults = dict(defaults or {})

        def tx(t: StoreTx) -> tuple[SweepRecord, list[str]]:
            sweep = t.lock_sweep(sweep_id)
            old = self._policy(sweep)
            new = SweepPolicy(cfg.data, source=cfg.source)
            views = list(t.run_views(sweep.id))
            changes = describe_change(old, new, views, defaults, where=f"sweep {sweep.id}")
            if sweep.state == SweepState.FINISHED:
                changes.append("the sweep was finished: it runs again, from the new config")
            if dry_run:
                return sweep, changes
            if defaults:
                t.fill_params(sweep.id, defaults)
            record = t.set_sweep_config(sweep.id, cfg.data, _source(source), changes)
            if record.state == SweepState.FINISHED:
                record = t.set_sweep_state(sweep.id, SweepState.RUNNING, None)
            return record, changes

        record, changes = self.store.transact(tx)
        return replace(self._sweep_info(record), warnings=_warnings(cfg), changes=changes)

    def config_versions(self, sweep_id: str) -> list[types.ConfigVersion]:
        return [
            _shown(types.ConfigVersion, record)
            for record in self._read(lambda t: t.config_versions(sweep_id))
        ]

    def control_sweep(self, sweep_id: str, action: SweepAction) -> types.SweepInfo:
        action = SweepAction(action)
        sweep = self._read(lambda t: t.sweep(sweep_id))
        state = sweep.state
        if action not in allowed_actions(state):
            # Stopping or cancelling again, or resuming a running sweep, changes nothing (safe to
            # repeat); anything else is not possible in this state.
            if action == SweepAction.PAUSE:
                raise ConflictError(f"sweep {sweep.id} is {state}; only a running sweep can be paused")
            if action == SweepAction.RESUME and state in FINAL_SWEEP_STATES:
                raise ConflictError(f"sweep {sweep.id} is {state} and cannot be resumed")
            return self._sweep_info(sweep)
        if action == SweepAction.PAUSE:
            sweep = self._set_state(sweep.id, SweepState.PAUSED, sweep.finished_reason)
        elif action == SweepAction.RESUME:
            sweep = self._set_state(sweep.id, SweepState.RUNNING, None)
        elif action == SweepAction.STOP:
            sweep = self._set_state(sweep.id, SweepState.STOPPED, "stopped by user")
        else:
            sweep = self.store.transact(lambda t: _cancel(t, sweep.id, "cancelled by user"))
        return self._sweep_info(sweep)

    def _set_state(self, sweep_id: str, state: SweepState, reason: str | None) -> SweepRecord:
        return self.store.transact(lambda t: t.set_sweep_state(sweep_id, state, reason))

    def get_sweep(self, sweep_id: str, *, project=None, entity=None) -> types.SweepInfo:
        record = self._read(lambda t: t.sweep(sweep_id))
        if project is not None and record.project is not None and record.project != project:
            raise NotFoundError(f"no sweep {sweep_id!r} in project {project!r} in {self.location}")
        if entity is not None and record.entity is not None and record.entity != entity:
            raise NotFoundError(f"no sweep {sweep_id!r} in entity {entity!r} in {self.location}")
        self._reap(record.id)
        return self._sweep_info(record)

    def list_sweeps(self, *, project=None) -> list[types.SweepInfo]:
        records = self._read(lambda t: t.sweeps(project=project))
        ids = [r.id for r in records]
        counts = self._read(lambda t: t.run_counts(ids))
        agents = self._read(lambda t: _live_agents(t, ids))
        return [_listed(self._sweep_info(r, counts.get(r.id, {}), agents.get(r.id, 0))) for r in records]

    def retry_runs(self, sweep_id: str, states=None) -> types.RetryResult:
        wanted = checks.check_retry_states(states)
        timeout = env.heartbeat_timeout_s()

        def tx(t: StoreTx) -> tuple[dict[str, str], SweepRecord]:
            sweep = t.lock_sweep(sweep_id)
            if sweep.state == SweepState.CANCELLED:
                raise SweepkitError(
                    f"sweep {sweep.id} is cancelled: its runs cannot be retried (create a new sweep instead)"
                )
            _reap_crashed(t, sweep.id, timeout)  # runs of agents that died are crashed by now
            # Runs the early-termination rule stopped were stopped on purpose: not retried.
            old = [r for r in t.runs(sweep.id, states=wanted) if r.retried_by is None and r.stop_info is None]
            if not old:
                return {}, sweep
            # Each retry is a pending run with the old run's parameters; a claim hands pending runs out
            # first. Retries are not counted against run_cap.
            new = _queue(t, sweep, [(dict(r.params), dict(r.suggestion_info), r.id) for r in old])
            retried = {o.id: n.id for o, n in zip(old, new, strict=True)}
            t.mark_retried(retried)
            return retried, _running_again(t, sweep)

        retried, record = self.store.transact(tx)
        return types.RetryResult(retried, self._sweep_info(record))

    def queue_points(self, sweep_id: str, points) -> list[types.RunInfo]:
        points = checks.check_points(points)

        def tx(t: StoreTx) -> tuple[list[RunRecord], SweepPolicy]:
            sweep = t.lock_sweep(sweep_id)
            if sweep.state == SweepState.CANCELLED:
                raise ConflictError(
                    f"sweep {sweep.id} is cancelled: no points can be queued (create a new sweep)"
                )
            policy = self._policy(sweep)
            checked, problems, bad_points = [], [], 0
            for i, point in enumerate(points, 1):
                flat, bad = _fitted(policy, point)
                problems += [f"point {i}: {problem}" for problem in bad]
                bad_points += bool(bad)
                checked.append(flat)
            if problems:
                raise SweepkitError(
                    f"{bad_points} of {len(points)} points do not fit the space of sweep {sweep.id}; nothing "
                    "was queued:\n" + "\n".join(problems)
                )
            new = _queue(t, sweep, [(flat, {"queued": True}, None) for flat in checked])
            _running_again(t, sweep)
            return list(t.runs_by_id(sweep.id, [n.id for n in new]).values()), policy

        queued, policy = self.store.transact(tx)
        return [self._run_info(r, policy) for r in sorted(queued, key=lambda r: r.number)]

    def scheduler_heartbeat(self, sweep_id: str, *, host: str, pid: int) -> types.SweepInfo:
        record = self._read(lambda t: t.sweep(sweep_id))
        if self._policy(record).config.engine != "user":
            raise SweepkitError(
                f"sweep {sweep_id} has no scheduler.source in its config: its runs are proposed by the "
                "service, not by a `sweepkit scheduler` process"
            )
        if not isinstance(pid, int) or isinstance(pid, bool) or not 0 <= pid <= 2**31 - 1:
            raise SweepkitError(f"pid: expected a process id, got {pid!r}")
        host = _text(_label("host", str(host)[:LABEL_LENGTH]) or "")
        record = self.store.transact(lambda t: t.touch_scheduler(sweep_id, host=host, pid=pid))
        return self._sweep_info(record)

    def import_runs(self, sweep_id: str, rows, *, source: str) -> types.ImportResult:
        rows = list(rows)
        source = _label("source", source) or "import"

        def tx(t: StoreTx) -> tuple[list[str], list[str], SweepRecord]:
            sweep = t.lock_sweep(sweep_id)
            if sweep.state == SweepState.CANCELLED:
                raise ConflictError(
                    f"sweep {sweep.id} is cancelled: no runs can be imported (create a new sweep)"
                )
            policy = self._policy(sweep)
            imported, refused = [], []
            number = sweep.run_count
            for i, row in enumerate(rows, 1):
                label = row.get("label") if isinstance(row, Mapping) else None
                label = label if isinstance(label, str) and label else f"row {i}"
                params, metrics, problem = _import_row(policy, row)
                if problem is not None:
                    refused.append(f"{label}: {problem}")
                    continue
                number += 1
                name = row.get("name")
                run = t.insert_run(
                    NewRun(
                        new_id(),
                        sweep_id=sweep.id,
                        number=number,
                        project=sweep.project,
                        name=(
                            _text(name)
                            if isinstance(name, str) and name
                            else f"{sweep.name or sweep.id}-{number}"
                        )[:LABEL_LENGTH],
                        params=params,
                        suggestion_info={"imported": source},
                    )
                )
                stats = t.log_target(run.id)
                metric = stats.metric
                if policy.metric_name is not None:
                    metric = metric.with_summary(metrics[policy.metric_name])
                t.update_logged(replace(stats, summary=metrics, metric=metric))
                t.end_run(
                    run.id, RunState.FINISHED, exit_code=None, error=None, from_states=[RunState.RUNNING]
                )
                imported.append(run.id)
            if imported:  # not the method's runs: counted apart, like retries (not against run_cap)
                t.set_run_counts(sweep.id, run_count=number, retry_count=sweep.retry_count + len(imported))
            return imported, refused, t.sweep(sweep.id)

        imported, refused, record = self.store.transact(tx)
        return types.ImportResult(imported, refused, self._sweep_info(record))

    def delete_runs(self, sweep_id: str, run_ids) -> list[str]:
        ids = list(dict.fromkeys(str(run_id) for run_id in run_ids))

        def tx(t: StoreTx) -> list[str]:
            t.lock_sweep(sweep_id)
            found = t.runs_by_id(sweep_id, ids)
            for run_id in ids:
                if run_id not in found:
                    raise NotFoundError(f"no run {run_id!r} in sweep {sweep_id} in {self.location}")
                if found[run_id].state in _BUSY:
                    raise SweepkitError(
                        f"run {run_id} is {found[run_id].state.value}: stop it (or let it end) before "
                        "deleting it; nothing was deleted"
                    )
            t.delete_runs(sweep_id, ids)
            return ids

        return self.store.transact(tx) if ids else []

    def _sweep_info(self, record, counts=None, agents=None) -> types.SweepInfo:
        if counts is None:
            counts = self._read(lambda t: t.run_counts([record.id])).get(record.id, {})
        if agents is None:
            agents = self._read(lambda t: _live_agents(t, [record.id])).get(record.id, 0)
        running = record.state in (SweepState.RUNNING, SweepState.PAUSED)
        policy = self._policy(record)
        planned = policy.planned_runs(
            record.run_count, record.retry_count, lambda: self._read(lambda t: list(t.run_views(record.id)))
        )
        return types.SweepInfo(
            id=record.id,
            name=record.name,
            project=record.project,
            entity=record.entity,
            state=record.state,
            state_reason=None if running else record.finished_reason,
            method=policy.config.method,
            config=record.config,
            source=record.source,
            created_at=record.created_at,
            updated_at=record.updated_at,
            run_count=record.run_count,
            runs_by_state=dict(counts),
            planned_runs=planned,
            live_agents=agents,
            plan=policy.plan,
            actions=allowed_actions(record.state),
            scheduler=_scheduler_info(record) if policy.config.engine == "user" else None,
        )

    # --- agents and runs ------------------------------------------------------------------------------

    def register_agent(self, sweep_id: str, *, host: str, pid: int, workdir=None, slots=None) -> str:
        workdir, slots = checks.check_workdir(workdir), checks.check_slots(slots)
        token = caller.current()
        token_id = token.id if token is not None else None

        def tx(t: StoreTx) -> str:
            agent_id = new_id()
            t.insert_agent(NewAgent(agent_id, sweep_id, _text(host), pid, workdir, slots, token_id))
            return agent_id

        return self.store.transact(tx)

    def bound(self, *, agent_id: str | None = None, run_ids: Sequence[str] = ()) -> None:
        """Credentials bound to work: a server's caller acting for an agent, or writing to a run,
        must hold the token that agent registered with (the run's: the agent that claimed it);
        AccessDenied (403) otherwise. Admin tokens may act for any; in-process callers have no token
        and are not asked (``caller``). The server asks before each call declared ``bound``
        (``sweepkit.service.calls``)."""
        token = caller.current()
        if token is None or token.scope == "admin":
            return
        unknown = [run_id for run_id in run_ids if run_id not in self._run_agents]
        if unknown:

            def claimers(t: StoreTx) -> dict[str, tuple[str | None, bool]]:
                found = {}
                for run_id in unknown:
                    try:
                        run = t.run(run_id)
                    except NotFoundError:
                        continue  # the call itself says so
                    found[run_id] = (run.agent_id, run.sweep_id is None)
                return found

            for run_id, (claimer, outside) in self._read(claimers).items():
                if claimer is not None:  # a queued retry is claimed later: not remembered yet
                    if len(self._run_agents) >= 100_000:
                        self._outside_runs.clear()
                    self._remember(self._run_agents, run_id, claimer)
                    if outside:
                        self._outside_runs.add(run_id)
        acting = [(agent_id, None)] if agent_id is not None else []
        acting += [(self._run_agents[r], r) for r in run_ids if r in self._run_agents]
        for agent, run_id in acting:
            if agent not in self._agent_tokens:
                try:
                    self._remember(self._agent_tokens, agent, self._read(lambda t, a=agent: t.agent_token(a)))
                except NotFoundError:
                    continue  # the call itself says so
            owner = self._agent_tokens[agent]
            if owner is None or owner == token.id:
                continue
            if run_id is not None and run_id in self._outside_runs:
                raise AccessDenied(
                    f"run {run_id} was started by another token: only that token (or an admin token) may "
                    f"write to it, not token {token.id}"
                )
            if run_id is not None:
                raise AccessDenied(
                    f"run {run_id} was claimed by agent {agent}, which registered with another token: only "
                    f"that token (or an admin token) may write to it, not token {token.id}"
                )
            raise AccessDenied(
                f"agent {agent} registered with another token: only that token (or an admin token) may act "
                f"for it, not token {token.id}"
            )

    @staticmethod
    def _remember(cache: dict, key: str, value: Any) -> None:
        if len(cache) >= 100_000:  # a bound on memory: forget everything, read again when asked
            cache.clear()
        cache[key] = value

    def list_agents(self, sweep_id: str) -> list[types.AgentInfo]:
        def tx(t: StoreTx) -> list[types.AgentInfo]:
            seen_since = t.now() - timedelta(seconds=env.heartbeat_timeout_s())
            return t.agents(sweep_id, seen_since=seen_since)

        return self.store.transact(tx, write=False)

    def agent_finished(self, agent_id: str) -> None:
        self.store.transact(lambda t: t.finish_agent(agent_id))

    def claim_run(self, sweep_id: str, agent_id: str, claim_key: str, *, slot=None) -> types.Claim:
        checks.check_claim_key(claim_key)
        slot = checks.check_slot(slot)
        # Silent runs are marked crashed in the claim's own transaction (it holds the sweep's lock
        # anyway): one write transaction less for a new agent, whose first claim always looks.
        asked_at = time.monotonic()
        reap = self._reap_due(sweep_id)
        ahead = self._prepare(sweep_id, asked_at)

        def tx(t: StoreTx) -> types.Claim:
            sweep, earlier = t.lock_sweep_for_claim(sweep_id, claim_key)
            if earlier is not None:  # a retried claim: the same run again
                sweep = t.sweep(earlier.sweep_id)
                return types.Claim(types.Claim.CLAIMED, assignment=self._assignment(sweep, earlier))
            if reap:
                _reap_crashed(t, sweep_id, env.heartbeat_timeout_s())
            if sweep.state != SweepState.RUNNING:
                return types.Claim(sweep.state.value, sweep.finished_reason)
            queued = t.start_pending_run(sweep.id, agent_id=agent_id, claim_key=claim_key, slot=slot)
            if queued is not None:  # retries first, whatever the cap or the method says
                return types.Claim(types.Claim.CLAIMED, assignment=self._assignment(sweep, queued))
            policy = self._policy(sweep)
            # Retries are not the method's runs: the cap and a seeded draw count only the method's
            # (a user scheduler's runs are all queued: each counts).
            user = policy.config.engine == "user"
            count = sweep.run_count if user else sweep.run_count - sweep.retry_count
            if policy.reads_runs:
                runs = policy.kept_runs
                if _stale(runs, sweep):
                    runs = _all_ended_runs(t, sweep, policy)
                prepared = ahead[1] if ahead is not None and ahead[0] is policy else None
                with runs.lock:
                    _bring_up_to_date(t, sweep, policy, runs, live=True)
                    policy.kept_runs = runs
                    outcome = policy.next_run(count, runs, prepared=prepared)
            else:
                outcome = policy.next_run(count, ())
            if isinstance(outcome, Finished):
                t.set_sweep_state(sweep.id, SweepState.FINISHED, outcome.reason)
                return types.Claim(SweepState.FINISHED.value, outcome.reason)
            if outcome is None:  # the user's scheduler proposes the runs: none is queued now
                return types.Claim(types.Claim.WAITING, _waiting_reason(sweep, _scheduler_info(sweep)))
            number = sweep.run_count + 1
            new = NewRun(
                new_id(),
                sweep_id=sweep.id,
                number=number,
                project=sweep.project,
                name=f"{sweep.name or sweep.id}-{number}"[-LABEL_LENGTH:],
                params=dict(outcome.params),
                agent_id=agent_id,
                suggestion_info=dict(outcome.info or {}),
                claim_key=claim_key,
                slot=slot,
            )
            run = t.insert_counted_run(new, run_count=number, retry_count=sweep.retry_count)
            return types.Claim(types.Claim.CLAIMED, assignment=self._assignment(sweep, run))

        claim = self.store.transact(tx)
        self._save_runs(sweep_id)
        return claim

    def _save_runs(self, sweep_id: str) -> None:
        """Save what the sweep's policy keeps of its ended runs in the store when it changed enough
        since the last snapshot (``_save_due``), in a transaction of its own, after the claim: a new
        process then reads that one row and the runs stamped since, not every run of the sweep."""
        with self._lock:
            cached = self._policies.get(sweep_id)
        if cached is None or not _save_due(cached[1]):
            return
        policy = cached[1]
        runs = policy.kept_runs
        with runs.lock:
            data, seq = runs.dump(), runs.change_seq
        if data is None:  # a method whose digests cannot be saved: never try again
            policy.saved_seq = 1 << 62
            return
        snapshot = DigestSnapshot(seq, policy.digest_key, data)
        try:
            self.store.transact(lambda t: t.save_digest_snapshot(sweep_id, snapshot), durable=False)
        except Exception:  # noqa: BLE001 - a cache: the next claim tries again
            return
        policy.saved_seq = seq

    def _assignment(self, sweep: SweepRecord, run: RunRecord) -> types.Assignment:
        policy = self._policy(sweep)
        return types.Assignment(
            run_id=run.id,
            run_name=run.name or run.id,
            run_number=run.number,
            sweep_id=sweep.id,
            project=sweep.project,
            entity=sweep.entity,
            params=dict(run.params),
            env=run_env(sweep.id, run.id, sweep.project, sweep.entity),
            **policy.assignment_fields(run.params),
        )

    def heartbeat(self, agent_id: str, run_ids: Sequence[str]) -> list[types.RunControl]:
        ids = list(run_ids)

        def tx(t: StoreTx) -> list[types.RunControl]:
            t.touch_agent(agent_id)  # on the store's clock, so that agents with skewed clocks agree
            if not ids:
                return []
            # A run reaped as crashed while its agent was cut off from the store is running again
            # (unless it was retried meanwhile: its retry stands for it).
            t.reopen_runs(ids, from_states=[RunState.CRASHED])
            t.touch_runs(ids, states=ACTIVE_STATES)
            out = []
            for status in t.run_statuses(ids):
                stop_requested, reason = status.stop_requested, status.stop_reason
                if status.state in TERMINAL_STATES:
                    stop_requested, reason = True, reason or f"run is {status.state.value}"
                out.append(types.RunControl(status.id, status.state, stop_requested, reason))
            return out

        return self.store.transact(tx, durable=False)

    def log(self, run_id: str, batch: types.LogBatch) -> types.LogAck:
        rows = checks.checked_batch(run_id, batch)

        def tx(t: StoreTx) -> types.LogAck:
            sweep, stats = t.peek_log_target(run_id)
            policy = None
            values: list[Any] = []
            locked = False
            if sweep is not None:
                policy = self._policy(sweep)
                values = policy.metric_values(rows)
                if policy.stops_runs and policy.crosses_band(stats, len(values)):
                    sweep = t.lock_sweep(sweep.id)  # lock order: the sweep before its run
                    policy = self._policy(sweep)
                    locked = True
            target = t.log_target(run_id)
            if batch.seq <= target.log_seq:  # a retry of a batch already applied
                return types.LogAck(False, target.stop_requested, target.stop_reason, target.state)
            if target.state in _CLOSED:
                raise ConflictError(
                    f"run {run_id!r} is {target.state.value}, not running: it cannot log any more"
                )
            if target.retried_by is not None:
                raise SweepkitError(
                    f"run {run_id!r} is {target.state.value} and was retried as run "
                    f"{target.retried_by}: it cannot log any more"
                )
            kept = [(row["_step"], row) for row in rows if is_new_step(row["_step"], target.last_step)]
            summary = dict(target.summary)
            metric = target.metric
            for _step, row in kept:
                summary.update(row)
            if policy is not None:
                if len(kept) < len(rows):
                    values = policy.metric_values([row for _, row in kept])
                metric = metric.add(values, policy.bands)
            if batch.summary:
                summary.update(batch.summary)
                if policy is not None and policy.metric_name in batch.summary:
                    metric = metric.with_summary(batch.summary[policy.metric_name])
            if policy is not None:
                metric = policy.with_other_objectives(metric, [row for _, row in kept], batch.summary or {})
            last_step = kept[-1][0] if kept else target.last_step
            state = RunState.RUNNING if target.state == RunState.CRASHED else target.state
            t.append_history(run_id, kept)
            t.update_logged(
                replace(
                    target,
                    summary=summary,
                    metric=metric,
                    last_step=last_step,
                    log_seq=batch.seq,
                    state=state,
                )
            )
            if batch.config is not None:
                t.set_run_config(run_id, dict(batch.config))
            if batch.name:
                t.rename_run(run_id, _text(str(batch.name))[:LABEL_LENGTH])
            if batch.output:
                _keep_output(t, run_id, str(batch.output))
            stop_requested, stop_reason = target.stop_requested, target.stop_reason
            crossed = (
                policy.crossed_bands(target.metric, metric.count - target.metric.count) if policy else []
            )
            for band in crossed:
                # Only this band's threshold moved: judge the runs that reached it (not the whole sweep).
                for decision in _band_decisions(t, sweep, policy, band, locked):
                    info = {
                        "rule": "hyperband",
                        "band": decision.band,
                        "value": decision.value,
                        "threshold": decision.threshold,
                    }
                    asked = t.request_stop(
                        sweep.id,
                        run_id=decision.run_id,
                        states=ACTIVE_STATES,
                        reason=decision.reason,
                        info=info,
                    )
                    if asked and decision.run_id == run_id and not stop_requested:
                        stop_requested, stop_reason = True, decision.reason
            return types.LogAck(True, stop_requested, stop_reason, state, dropped=len(rows) - len(kept))

        return self.store.transact(tx, durable=False)

    def finish_run(self, run_id: str, state: RunState, *, exit_code=None, error=None) -> types.RunInfo:
        state = RunState(state)
        if state not in TERMINAL_STATES:
            raise ValueError(f"finish_run needs a terminal state, not {state.value!r}")
        error = _text(error)

        def tx(t: StoreTx) -> tuple[RunRecord, SweepRecord | None]:
            # Idempotent: a run that has ended keeps its end; one reaped as crashed while its agent was
            # cut off from the store takes the state its agent reports, unless it was retried
            # meanwhile: its retry stands for it (else both would finish: a grid point run twice).
            current = t.run(run_id)
            from_states = _OPEN
            if current.state == RunState.CRASHED and current.sweep_id is not None:
                t.lock_sweep(current.sweep_id)  # retry_runs marks retries under this lock
                current = t.run(run_id)
            if current.retried_by is not None:
                from_states = _OPEN - {RunState.CRASHED}
            why = error
            if state == RunState.FINISHED and why is None:
                why = self._no_value_reason(t, current)  # said on the run, for all to see
            ended = t.end_run(run_id, state, exit_code=exit_code, error=why, from_states=from_states)
            run = ended if ended is not None else t.run(run_id)
            return run, (t.sweep(run.sweep_id) if run.sweep_id is not None else None)

        run, sweep = self.store.transact(tx)
        return self._run_info(run, self._policy(sweep) if sweep is not None else None)

    def _no_value_reason(self, t: StoreTx, run: RunRecord) -> str | None:
        """Why a finishing run has no value of its sweep's metric, or None."""
        if run.sweep_id is None or run.state not in _OPEN:
            return None
        return self._policy(t.sweep(run.sweep_id)).no_value_reason(run.metric, run.summary)

    def start_run(self, *, project=None, name=None, config=None) -> types.RunInfo:
        project, name = _label("project", project), _label("name", name)
        token = caller.current()

        def tx(t: StoreTx) -> RunRecord:
            run_id = new_id()
            label = name if name is not None else f"run-{run_id}"
            data = None if config is None else dict(config)
            owner = None
            if token is not None:
                # Bound to the token that started it, as a claimed run is to its agent's: an agent of
                # no sweep, registered with that token and ended at once, stands for its caller.
                owner = new_id()
                t.insert_agent(NewAgent(owner, None, "(run outside any sweep)", 0, token_id=token.id))
                t.finish_agent(owner)
            return t.insert_run(
                NewRun(run_id, None, None, project, label, params={}, config=data, agent_id=owner)
            )

        return self._run_info(self.store.transact(tx))

    # --- queries ----------------------------------------------------------------------------------------

    def get_run(self, run_id: str) -> types.RunInfo:
        return self._run_info(self._read(lambda t: t.run(run_id)))

    def list_runs(self, sweep_id: str, *, states=None, after=None, limit=None) -> types.RunPage:
        self._reap(sweep_id)
        records = self._read(lambda t: t.runs(sweep_id, states=states or (), after=after, limit=limit))
        policy = self._policy(self._read(lambda t: t.sweep(sweep_id))) if records else None
        runs = [self._run_info(r, policy) for r in records]
        full = limit is not None and len(records) == limit
        return types.RunPage(runs, records[-1].number if full else None)

    def history(self, run_id: str, *, after=None, limit: int = 1000) -> types.HistoryPage:
        limit = checks.check_history_limit(limit)
        found = self._read(lambda t: t.history(run_id, after=after, limit=limit))
        rows = [{**data, "_step": step} for step, data in found]
        return types.HistoryPage(rows, found[-1][0] if len(found) == limit else None)

    def metric_series(self, run_ids, key, *, after=None):
        if not isinstance(key, str) or not key:
            raise SweepkitError("key: expected the name of a logged value")
        ids = list(run_ids)
        return self._read(lambda t: t.metric_series(ids, key, after or {}))

    def run_output(self, run_id: str) -> types.RunOutput:
        def tx(t: StoreTx) -> tuple[str, str, int]:
            kept = t.output(run_id)
            if kept is None:
                t.run(run_id)  # NotFoundError for a run that does not exist
                return "", "", 0
            return kept

        return types.RunOutput(*self._read(tx))

    def best_runs(self, sweep_id: str, *, limit: int | None = None) -> list[types.RankedRun]:
        sweep = self._read(lambda t: t.sweep(sweep_id))
        policy = self._policy(sweep)
        objectives = policy.objectives
        if not objectives:
            return []
        finished = [
            view
            for view in self._read(lambda t: list(t.run_views(sweep.id)))
            if view.state == RunState.FINISHED
        ]
        ranked = rank(finished, objectives, lambda view: list(policy.objective_values(view.metric).values()))
        if limit is not None:
            ranked = ranked[: max(0, int(limit))]
        if not ranked:
            return []
        records = self._read(lambda t: t.runs_by_id(sweep.id, [v.id for v, _ in ranked]))
        return [types.RankedRun(self._run_info(records[view.id], policy), place) for view, place in ranked]

    def band_thresholds(self, sweep_id: str) -> list[types.BandThreshold]:
        """From the values the policy keeps of the runs that ended for good (brought up to date with
        the runs stamped since) and the live runs read now, not every run of the sweep; all in one
        read that no run ended during (its ``change_seq`` the same after it), else every run."""

        def tx(t: StoreTx) -> list[types.BandThreshold] | None:
            sweep = t.sweep(sweep_id)
            policy = self._policy(sweep)
            if policy.plan.stopping is None:
                return []
            runs = self._kept_ahead(t, sweep, policy)
            if runs is None:
                return None  # kept by a later read than this one: read again
            with runs.lock:
                _bring_up_to_date(t, sweep, policy, runs)
                live = list(t.run_views(sweep.id, states=_LIVE))
                if runs.change_seq != t.sweep(sweep.id).change_seq:
                    return None  # a run ended or was retried meanwhile: read again
                return policy.thresholds(live, ended=runs.digests.get(BAND_VALUES))

        for _attempt in range(3):
            found = self._read(tx)
            if found is not None:
                return found
        sweep = self._read(lambda t: t.sweep(sweep_id))
        return self._policy(sweep).thresholds(self._read(lambda t: list(t.run_views(sweep.id))))

    def run_command(self, run_id: str) -> str | None:
        run = self._read(lambda t: t.run(run_id))
        if run.sweep_id is None:
            return None
        return self._policy(self._read(lambda t: t.sweep(run.sweep_id))).command_line(run.params)

    def _run_info(self, record: RunRecord, policy: SweepPolicy | None = None) -> types.RunInfo:
        if record.sweep_id is not None and policy is None:
            policy = self._policy(self._read(lambda t: t.sweep(record.sweep_id)))
        if record.config is not None:
            config = dict(record.config)
        elif policy is not None:
            config = policy.values(record.params)
        else:
            config = {}
        return _shown(
            types.RunInfo,
            record,
            config=config,
            suggestion=record.suggestion_info,
            objective_values=policy.objective_values(record.metric) if policy is not None else {},
        )

    # --- tokens (a sweepkit server's access tokens) ---------------------------------------------------

    def create_token(self, scope: str, *, name: str | None = None) -> types.NewToken:
        token_forms.check_scope(scope)
        name = _label("name", name)

        def tx(t: StoreTx) -> tuple[TokenRecord, str]:
            token_id = new_id()
            secret = token_forms.new_secret(token_id)
            record = t.insert_token(
                token_id, scope=scope, name=name, secret_hash=token_forms.token_hash(secret)
            )
            return record, secret

        record, secret = self.store.transact(tx)
        return types.NewToken(_token_info(record), secret)

    def list_tokens(self) -> list[types.TokenInfo]:
        return [_token_info(r) for r in self._read(lambda t: t.tokens())]

    def revoke_token(self, token_id: str) -> types.TokenInfo:
        return _token_info(self.store.transact(lambda t: t.revoke_token(token_id)))

    # Service side only (the server's checks; no client calls these):

    def tokens_required(self) -> bool:
        """Whether every request needs a token: once one was created (revoked ones count)."""
        return self._read(lambda t: t.any_token())

    def authenticate(self, secret: str) -> types.TokenInfo | None:
        """The live token ``secret`` is, or None (unknown, malformed or revoked); hashes are compared
        in constant time."""
        token_id = token_forms.token_id(secret)
        record = self._read(lambda t: t.token(token_id)) if token_id is not None else None
        if not token_forms.matches(secret, record.secret_hash if record is not None else None):
            return None
        if record.revoked_at is not None:
            return None
        if record.last_used_at is None or _db_age(record.last_used_at) > TOKEN_TOUCH_EVERY:
            self.store.transact(lambda t: t.touch_token(record.id), durable=False)
        return _token_info(record)


# --- lifecycle rules applied inside a transaction ---------------------------------------------------


def _kept_runs(t: StoreTx, sweep: SweepRecord, policy: SweepPolicy) -> SweepRuns:
    """The sweep's runs for a claim, read under the sweep's lock: what the policy kept of them brought
    up to date with the runs stamped since (``StoreTx.changed_runs``), or built again from every run
    when nothing usable is kept (see ``_stale``); the caller reads the live runs."""
    runs = policy.kept_runs
    if _stale(runs, sweep):
        runs = _all_ended_runs(t, sweep, policy)
    with runs.lock:
        _bring_up_to_date(t, sweep, policy, runs)
    policy.kept_runs = runs
    return runs


def _bring_up_to_date(
    t: StoreTx, sweep: SweepRecord, policy: SweepPolicy, runs: SweepRuns, *, live: bool = False
) -> None:
    """Add to ``runs`` (its lock held) the runs stamped since it was read, up to ``sweep.change_seq``;
    a failure halfway drops what the policy keeps, so that it is built again next time. ``live``:
    read the live runs into ``runs.live`` too, with the runs stamped since in one read of the store."""
    live_views = None
    if sweep.change_seq > runs.change_seq:
        try:
            if live:
                changed, retried, live_views = t.changed_and_live_runs(
                    sweep.id, runs.change_seq, states=_LIVE
                )
            else:
                changed, retried = t.changed_runs(sweep.id, runs.change_seq)
            runs.update(changed, retried)
            runs.change_seq = sweep.change_seq
        except BaseException:
            policy.kept_runs = None
            raise
    if live:
        runs.live = list(t.run_views(sweep.id, states=_LIVE)) if live_views is None else live_views


def _band_decisions(
    t: StoreTx, sweep: SweepRecord, policy: SweepPolicy, band: int, locked: bool
) -> list[StopDecision]:
    """Hyperband's decisions for the runs whose latest band is ``band``, which a log has just reached.

    Under the sweep's lock (``locked``), the values at the band of the runs that ended for good come
    from what the policy keeps (``BandValues``, brought up to date with the runs stamped since: no
    run can end while the lock is held), and only the live runs are read; without it (a log that
    raced another into a band), every run that reached the band is read, as the rule is defined."""
    if not locked:
        return policy.stop_runs(t.band_views(sweep.id, band))
    runs = _kept_runs(t, t.sweep(sweep.id), policy)
    with runs.lock:
        live = t.band_views(sweep.id, band, states=_LIVE)
        return policy.stop_runs(live, ended=runs.digests.get(BAND_VALUES))


def _stale(runs: SweepRuns | None, sweep: SweepRecord) -> bool:
    """Whether kept runs cannot be brought up to date: none kept (a new process, a changed config),
    runs deleted since, or a store that counts differently (replaced)."""
    return runs is None or sweep.reset_seq > runs.change_seq or sweep.change_seq < runs.change_seq


def _all_ended_runs(t: StoreTx, sweep: SweepRecord, policy: SweepPolicy) -> SweepRuns:
    """A ``SweepRuns`` of every run of the sweep that ended for good, up to ``sweep.change_seq`` (read
    after ``sweep``: a run stamped later is read again as a change): the store's snapshot of them
    and the runs stamped since when it has a usable one, else every ended run."""
    runs = _saved_runs(t, sweep, policy)
    if runs is not None:
        return runs
    runs = policy.new_runs()
    runs.update(list(t.run_views(sweep.id, states=ENDED_FOR_GOOD)), ())
    runs.change_seq = sweep.change_seq
    return runs


def _saved_runs(t: StoreTx, sweep: SweepRecord, policy: SweepPolicy) -> SweepRuns | None:
    """The store's snapshot of the sweep's ended runs (``StoreTx.digest_snapshot``) brought up to
    ``sweep.change_seq``; None when there is none usable: made for another config or version, or
    before runs were deleted."""
    snapshot = t.digest_snapshot(sweep.id)
    if snapshot is None or snapshot.key != policy.digest_key:
        return None
    if not sweep.reset_seq <= snapshot.change_seq <= sweep.change_seq:
        return None
    runs = policy.new_runs()
    try:
        runs.load(snapshot.data)
    except Exception:  # noqa: BLE001 - a cache: an unreadable one is read from the runs instead
        return None
    if sweep.change_seq > runs.change_seq:
        runs.update(*t.changed_runs(sweep.id, runs.change_seq))
        runs.change_seq = sweep.change_seq
    policy.saved_seq = max(policy.saved_seq or 0, snapshot.change_seq)
    return runs


#: A snapshot of a sweep's ended runs is saved once it has this many ended runs, and again when it
#: has changed by as many or by a tenth of them (whichever is more).
SAVE_RUNS_AFTER = 200


def _save_due(policy: SweepPolicy) -> bool:
    """Whether the kept runs have changed enough since the store's snapshot to save them again."""
    runs = policy.kept_runs
    if runs is None:
        return False
    ended = len(runs) - len(runs.live)
    if ended < SAVE_RUNS_AFTER:
        return False
    saved = policy.saved_seq
    return saved is None or runs.change_seq - saved >= max(SAVE_RUNS_AFTER, ended // 10)


def _cancel(t: StoreTx, sweep_id: str, reason: str) -> SweepRecord:
    """Cancel the sweep: its queued runs are killed and its active runs asked to stop, at once."""
    sweep = t.lock_sweep(sweep_id)
    if sweep.state != SweepState.CANCELLED:
        sweep = t.set_sweep_state(sweep_id, SweepState.CANCELLED, reason)
    t.end_runs(sweep_id, from_states=[RunState.PENDING], state=RunState.KILLED, stop_reason="sweep cancelled")
    t.request_stop(sweep_id, states=ACTIVE_STATES, reason="sweep cancelled", info=None)
    return sweep


def _import_row(policy: SweepPolicy, row: Any) -> tuple[dict, dict, str | None]:
    """An imported row's parameters (in the space; other keys ignored) and metrics (the sweep's
    metric a finite number), or why it is refused."""
    if not isinstance(row, Mapping) or not isinstance(row.get("params"), Mapping):
        return {}, {}, "expected a row with 'params' (a mapping of parameter to value)"
    metrics = row.get("metrics") or {}
    if not isinstance(metrics, Mapping):
        return {}, {}, "metrics: expected a mapping of names to values"
    params, problems = check_point(policy.space, row["params"], extra="ignore")
    if problems:
        return {}, {}, "; ".join(problems)
    name = policy.metric_name
    if name is not None and not is_metric_value(metrics.get(name)):
        got = f"got {metrics[name]!r}" if name in metrics else "it has none"
        return {}, {}, f"{name}: expected a number for the sweep's metric, {got}"
    kept = {
        _text(str(k)): _text(v)
        for k, v in metrics.items()
        if v is None or isinstance(v, (str, int, float, bool))
    }
    return params, json_safe(kept, nonfinite="keep"), None


def _queue(t: StoreTx, sweep: SweepRecord, points: Sequence[tuple[dict, dict, str | None]]) -> list[NewRun]:
    """Queue runs of these ``(params, suggestion_info, retry_of)``, numbered after the sweep's runs:
    a claim hands them out first, each once. Like retries, they are not the method's runs: counted
    apart (``retry_count``), not against ``run_cap``. The caller holds the sweep's lock."""
    first = sweep.run_count + 1
    new = [
        NewRun(
            new_id(),
            sweep_id=sweep.id,
            number=first + i,
            project=sweep.project,
            name=f"{sweep.name or sweep.id}-{first + i}"[-LABEL_LENGTH:],
            params=params,
            suggestion_info=info,
            retry_of=retry_of,
        )
        for i, (params, info, retry_of) in enumerate(points)
    ]
    t.insert_pending_runs(new)
    t.set_run_counts(sweep.id, run_count=sweep.run_count + len(new), retry_count=sweep.retry_count + len(new))
    return new


def _running_again(t: StoreTx, sweep: SweepRecord) -> SweepRecord:
    """A finished sweep that was given more to hand out runs again; any other keeps its state."""
    if sweep.state == SweepState.FINISHED:
        return t.set_sweep_state(sweep.id, SweepState.RUNNING, None)
    return t.set_sweep_state(sweep.id, sweep.state, sweep.finished_reason)


def _reap_crashed(t: StoreTx, sweep_id: str, timeout_s: float) -> list[str]:
    """Mark "crashed" the sweep's running runs silent for more than ``timeout_s`` on the store's clock
    (so agents on machines with skewed clocks agree); their ids. The caller holds the sweep's lock."""
    return t.end_silent_runs(
        sweep_id,
        from_states=[RunState.RUNNING],
        silent_before=t.now() - timedelta(seconds=float(timeout_s)),
        state=RunState.CRASHED,
        error=f"no heartbeat for more than {timeout_s:g} s: its agent or process stopped",
    )


def _listed(info: types.SweepInfo) -> types.SweepInfo:
    """``info`` as ``list_sweeps`` answers it: without a config larger than ``LIST_CONFIG_BYTES``."""
    size = len(info.source or "")
    if size <= LIST_CONFIG_BYTES:
        size += len(json_text(info.config))
    if size <= LIST_CONFIG_BYTES:
        return info
    return replace(info, config={}, source=None, plan=replace(info.plan, parameters=[]), config_omitted=True)


def _live_agents(t: StoreTx, sweep_ids: Sequence[str]) -> dict[str, int]:
    """How many agents of each sweep are running and heard from within the heartbeat timeout."""
    if not sweep_ids:
        return {}
    return t.live_agents(sweep_ids, seen_since=t.now() - timedelta(seconds=env.heartbeat_timeout_s()))


def _keep_output(t: StoreTx, run_id: str, text: str) -> None:
    """Add what the run printed: kept are its first ``OUTPUT_HEAD_CHARS`` and newest ``OUTPUT_TAIL_CHARS``."""
    head, tail, size = t.output(run_id, lock=True) or ("", "", 0)
    room = OUTPUT_HEAD_CHARS - len(head)
    total = size + len(text)
    if room > 0:
        head, text = head + text[:room], text[room:]
    t.set_output(run_id, head, (tail + text)[-OUTPUT_TAIL_CHARS:], total)


def _label(field: str, value: Any) -> str | None:
    """A project, entity or name as the store keeps it: text of at most LABEL_LENGTH, without NUL."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise SweepkitError(f"{field}: expected text, got {type(value).__name__}")
    if "\x00" in value:
        raise SweepkitError(f"{field}: text may not hold a NUL character")
    if len(value) > LABEL_LENGTH:
        raise SweepkitError(f"{field}: at most {LABEL_LENGTH} characters, got {len(value)}")
    return value


def _text(value: Any) -> Any:
    """Free text a program produced (an error, a host name): NUL characters, which no store keeps, dropped."""
    return value.replace("\x00", "") if isinstance(value, str) else value


#: A config's text longer than this is not kept (only shown to people; the config itself is).
SOURCE_CHARS = 1_000_000


def _source(text: Any) -> str | None:
    """The config's text as written, kept when it is text of a sensible size (NUL characters dropped)."""
    if not isinstance(text, str) or len(text) > SOURCE_CHARS:
        return None
    return text.replace("\x00", "")


def _loaded(config: Any):
    """A sweep config given as data, validated: the one validation of a sweep's config (the client
    read its file, if it had one, and places the problems at their lines)."""
    from sweepkit.sweep_config import load_config

    if not isinstance(config, Mapping):
        raise SweepkitError(f"config: expected a sweep config as a mapping, got {type(config).__name__}")
    cfg = load_config(dict(config))
    engine = (cfg.scheduler or {}).get("engine")
    if cfg.engine == "user" and engine != "optuna":
        # A valid config (W&B's rules) that this sweepkit cannot run: said before any run is made.
        raise SweepkitError(
            f"{cfg.source}: scheduler.engine: the user's scheduler process (`sweepkit scheduler`) runs "
            f"Optuna only: set engine: optuna with scheduler.source, got {engine!r}"
        )
    return cfg


def _fitted(policy: SweepPolicy, point: Any) -> tuple[dict[str, Any], list[str]]:
    """A queued point with flat names and its problems: checked against the sweep's space, or, when
    the user's ``scheduler.search_space`` defines the space run by run, taken as it is (JSON data)."""
    if not (policy.config.scheduler or {}).get("search_space"):
        return check_point(policy.space, point)
    if not isinstance(point, Mapping):
        return {}, [f"expected a mapping of parameter names to values, got {type(point).__name__}"]
    bad = [f"{key!r}: a parameter's name is text" for key in point if not isinstance(key, str) or not key]
    return ({} if bad else {key: json_safe(value) for key, value in point.items()}), bad


def _scheduler_info(record: SweepRecord) -> types.SchedulerInfo:
    """The sweep's user scheduler process: waiting (none started), alive or gone (silent for longer
    than the heartbeat timeout)."""
    seen, timeout = record.scheduler_seen_at, env.heartbeat_timeout_s()
    if seen is None:
        return types.SchedulerInfo("waiting", timeout_s=timeout)
    state = "alive" if _db_age(seen).total_seconds() <= timeout else "gone"
    return types.SchedulerInfo(state, record.scheduler_host, record.scheduler_pid, seen, timeout)


def _waiting_reason(sweep: SweepRecord, scheduler: types.SchedulerInfo) -> str:
    """What an agent waiting for a user scheduler's runs is told, in one sentence."""
    start = f"start `sweepkit scheduler {sweep.id}`"
    if scheduler.state == "waiting":
        return f"no scheduler has started for this sweep yet: {start} (its config names scheduler.source)"
    if scheduler.state == "gone":
        return (
            f"scheduler gone: its process ({scheduler.where}) was last heard from at {scheduler.last_heard}; "
            f"{start} again"
        )
    return f"waiting for the scheduler ({scheduler.where}) to queue runs"


def _warnings(cfg) -> list[types.ConfigWarning]:
    return [types.ConfigWarning(problem.path, problem.message) for problem in cfg.warnings]


def _db_age(moment):
    from datetime import datetime, timezone

    return datetime.now(timezone.utc) - moment


def _token_info(record: TokenRecord) -> types.TokenInfo:
    return _shown(types.TokenInfo, record)


@functools.cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _shown(cls: type[T], record: Any, **given: Any) -> T:
    """A service type showing a store record: its fields of the same names (records are fresh, so
    nothing is shared with the store), the others ``given``."""
    held = vars(record)
    return cls(**{name: held[name] for name in _names(cls) if name not in given}, **given)

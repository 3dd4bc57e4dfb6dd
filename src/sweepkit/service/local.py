"""The local sweep service: ``SweepService`` over a store, in this process.

Every decision is taken inside the store transaction that records it: the next run's parameters
under the sweep's row lock (so many agents never get the same grid point), hyperband's stops in the
transaction that logs the value reaching a band. Logging appends history rows and updates the run's
small aggregates; nothing reads or rewrites a history.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sweepkit import env
from sweepkit.errors import ConflictError, NotFoundError, SweepkitError
from sweepkit.runs import (
    FINAL_SWEEP_STATES,
    TERMINAL_STATES,
    RunState,
    SweepAction,
    SweepState,
    allowed_actions,
    rank,
)
from sweepkit.search.base import Finished
from sweepkit.service import tokens as token_forms
from sweepkit.service.checks import check_claim_key, check_retry_states, checked_batch
from sweepkit.service.interface import SweepService
from sweepkit.service.sweep_policy import SweepPolicy, run_env
from sweepkit.service.types import (
    Assignment,
    BandThreshold,
    Claim,
    ConfigWarning,
    HistoryPage,
    LogAck,
    LogBatch,
    NewToken,
    RankedRun,
    RetryResult,
    RunControl,
    RunInfo,
    RunOutput,
    RunPage,
    SweepInfo,
    TokenInfo,
)

#: What the service keeps of a run's output: its first and its newest characters.
OUTPUT_HEAD_CHARS = 16_384
OUTPUT_TAIL_CHARS = 65_536
#: The longest project, entity or name the store keeps.
LABEL_LENGTH = 255
#: Runs that have ended for good: they take no more logged values.
_CLOSED = TERMINAL_STATES - {RunState.CRASHED}
#: What ``retry_runs`` retries unless told otherwise.
#: Runs that cannot be deleted: a process is working on them.
_BUSY = frozenset({RunState.RUNNING, RunState.PREEMPTING})


class LocalSweepService(SweepService):
    """The sweep service over ``store`` (see the module docstring)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.location = store.url
        self._policies: dict[str, tuple[Any, SweepPolicy]] = {}
        self._last_reap: dict[str, float] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.store.close()

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

    def _reap(self, sweep_id: str) -> None:
        """Mark the sweep's silent runs crashed, at most every quarter of the heartbeat timeout."""
        timeout = env.heartbeat_timeout_s()
        now = time.monotonic()
        if now - self._last_reap.get(sweep_id, -1e18) < timeout / 4:
            return
        self._last_reap[sweep_id] = now
        self.store.reap_crashed(sweep_id, timeout_s=timeout)

    # --- sweeps ---------------------------------------------------------------------------------------

    def create_sweep(self, config, *, project=None, entity=None, name=None, source=None) -> SweepInfo:
        cfg = _loaded(config)
        record = self.store.create_sweep(
            cfg.data,
            project=_label("project", project or cfg.project),
            entity=_label("entity", entity or cfg.entity),
            name=_label("name", name or cfg.name),
            source=_source(source),
        )
        return replace(self._sweep_info(record), warnings=_warnings(cfg))

    def update_sweep(self, sweep_id: str, config, *, source=None) -> SweepInfo:
        cfg = _loaded(config)
        sweep = self.store.get_sweep(sweep_id)
        old = self._policy(sweep)
        if cfg.method != old.config.method:
            raise ConflictError(
                f"{cfg.source}: method: cannot change a running sweep's method from "
                f"{old.config.method!r} to {cfg.method!r}; create a new sweep instead"
            )
        old_metric = old.metric_name
        new_metric = cfg.metric.name if cfg.metric is not None else None
        if old_metric is not None and new_metric != old_metric:
            raise ConflictError(
                f"{cfg.source}: metric.name: cannot change a sweep's metric from {old_metric!r} to "
                f"{new_metric!r} (its runs' values are kept for {old_metric!r}); create a new sweep instead"
            )
        record = self.store.update_sweep(sweep.id, config=cfg.data, source=_source(source))
        return replace(self._sweep_info(record), warnings=_warnings(cfg))

    def control_sweep(self, sweep_id: str, action: SweepAction) -> SweepInfo:
        action = SweepAction(action)
        sweep = self.store.get_sweep(sweep_id)
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
            sweep = self.store.update_sweep(sweep.id, state=SweepState.PAUSED.value)
        elif action == SweepAction.RESUME:
            sweep = self.store.update_sweep(sweep.id, state=SweepState.RUNNING.value, finished_reason=None)
        elif action == SweepAction.STOP:
            sweep = self.store.update_sweep(
                sweep.id, state=SweepState.STOPPED.value, finished_reason="stopped by user"
            )
        else:
            sweep = self.store.cancel_sweep(sweep.id, "cancelled by user")
        return self._sweep_info(sweep)

    def get_sweep(self, sweep_id: str, *, project=None, entity=None) -> SweepInfo:
        record = self.store.get_sweep(sweep_id)
        if project is not None and record.project is not None and record.project != project:
            raise NotFoundError(f"no sweep {sweep_id!r} in project {project!r} in {self.location}")
        if entity is not None and record.entity is not None and record.entity != entity:
            raise NotFoundError(f"no sweep {sweep_id!r} in entity {entity!r} in {self.location}")
        self._reap(record.id)
        return self._sweep_info(record)

    def list_sweeps(self, *, project=None) -> list[SweepInfo]:
        records = self.store.list_sweeps(project=project)
        ids = [r.id for r in records]
        counts = self.store.run_counts(ids)
        agents = self.store.live_agents(ids, timeout_s=env.heartbeat_timeout_s())
        return [self._sweep_info(r, counts.get(r.id, {}), agents.get(r.id, 0)) for r in records]

    def retry_runs(self, sweep_id: str, states=None) -> RetryResult:
        wanted = check_retry_states(states)
        timeout = env.heartbeat_timeout_s()

        def tx(t) -> tuple[dict[str, str], Any]:
            sweep = t.lock_sweep(sweep_id)
            if sweep.state == SweepState.CANCELLED:
                raise SweepkitError(
                    f"sweep {sweep.id} is cancelled: its runs cannot be retried (create a new sweep instead)"
                )
            t.reap_crashed(sweep.id, timeout)  # runs of agents that died are crashed by now
            # Runs the early-termination rule stopped were stopped on purpose: not retried.
            old = [run for run in t.retry_candidates(sweep.id, wanted) if run.stop_info is None]
            new = t.queue_retries(sweep, old)
            if new and sweep.state == SweepState.FINISHED:
                t.update_sweep(sweep.id, state=SweepState.RUNNING.value, finished_reason=None)
            return {o.id: n.id for o, n in zip(old, new, strict=True)}, t.sweep(sweep.id)

        retried, record = self.store.transact(tx)
        return RetryResult(retried, self._sweep_info(record))

    def delete_runs(self, sweep_id: str, run_ids) -> list[str]:
        ids = list(dict.fromkeys(str(run_id) for run_id in run_ids))

        def tx(t) -> list[str]:
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

    def _sweep_info(self, record, counts=None, agents=None) -> SweepInfo:
        if counts is None:
            counts = self.store.run_counts([record.id]).get(record.id, {})
        if agents is None:
            agents = self.store.live_agents([record.id], timeout_s=env.heartbeat_timeout_s()).get(
                record.id, 0
            )
        running = record.state in (SweepState.RUNNING, SweepState.PAUSED)
        policy = self._policy(record)
        planned = policy.planned_runs
        return SweepInfo(
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
            planned_runs=None if planned is None else planned + record.retry_count,
            live_agents=agents,
            plan=policy.plan,
            actions=allowed_actions(record.state),
        )

    # --- agents and runs ------------------------------------------------------------------------------

    def register_agent(self, sweep_id: str, *, host: str, pid: int) -> str:
        return self.store.register_agent(sweep_id, host=_text(host), pid=pid)

    def agent_finished(self, agent_id: str) -> None:
        self.store.agent_finished(agent_id)

    def claim_run(self, sweep_id: str, agent_id: str, claim_key: str) -> Claim:
        from sweepkit.store import new_id

        check_claim_key(claim_key)
        self._reap(sweep_id)

        def tx(t) -> Claim:
            earlier = t.run_by_claim_key(claim_key)
            if earlier is not None:  # a retried claim: the same run again
                sweep = t.sweep(earlier.sweep_id)
                return Claim(Claim.CLAIMED, assignment=self._assignment(sweep, earlier))
            sweep = t.lock_sweep(sweep_id)
            if sweep.state != SweepState.RUNNING:
                return Claim(sweep.state.value, sweep.finished_reason)
            queued = t.start_queued_run(sweep.id, agent_id=agent_id, claim_key=claim_key)
            if queued is not None:  # retries first, whatever the cap or the method says
                return Claim(Claim.CLAIMED, assignment=self._assignment(sweep, queued))
            policy = self._policy(sweep)
            # Retries are not the method's runs: the cap and a seeded draw count only the method's.
            outcome = policy.next_run(sweep.run_count - sweep.retry_count, t.run_views(sweep.id))
            if isinstance(outcome, Finished):
                t.finish_sweep(sweep.id, outcome.reason)
                return Claim(SweepState.FINISHED.value, outcome.reason)
            number = t.claim_next_number(sweep)
            run = t.insert_run(
                run_id=new_id(),
                sweep_id=sweep.id,
                number=number,
                project=sweep.project,
                name=f"{sweep.name or sweep.id}-{number}"[-LABEL_LENGTH:],
                params=dict(outcome.params),
                config=None,
                agent_id=agent_id,
                suggestion_info=dict(outcome.info or {}),
                claim_key=claim_key,
            )
            return Claim(Claim.CLAIMED, assignment=self._assignment(sweep, run))

        import sqlalchemy as sa

        try:
            return self.store.transact(tx)
        except sa.exc.IntegrityError:
            raise NotFoundError(f"no agent {agent_id!r} in {self.location}") from None

    def _assignment(self, sweep, run) -> Assignment:
        policy = self._policy(sweep)
        return Assignment(
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

    def heartbeat(self, agent_id: str, run_ids: Sequence[str]) -> list[RunControl]:
        controls = self.store.heartbeat(agent_id, list(run_ids))
        out = []
        for run_id, state, stop_requested, reason in controls:
            if state in TERMINAL_STATES:
                stop_requested, reason = True, reason or f"run is {state.value}"
            out.append(RunControl(run_id, state, stop_requested, reason))
        return out

    def log(self, run_id: str, batch: LogBatch) -> LogAck:
        rows = checked_batch(run_id, batch)

        def tx(t) -> LogAck:
            sweep, stats = t.peek_log_target(run_id)
            policy = None
            values: list[Any] = []
            if sweep is not None:
                policy = self._policy(sweep)
                values = policy.metric_values(rows)
                if policy.stops_runs and policy.crosses_band(stats, len(values)):
                    sweep = t.lock_sweep(sweep.id)  # lock order: the sweep before its run
                    policy = self._policy(sweep)
            target = t.log_target(run_id)
            if batch.seq <= target.log_seq:  # a retry of a batch already applied
                return LogAck(False, target.stop_requested, target.stop_reason, target.state)
            if target.state in _CLOSED:
                raise ConflictError(
                    f"run {run_id!r} is {target.state.value}, not running: it cannot log any more"
                )
            if target.retried_by is not None:
                raise SweepkitError(
                    f"run {run_id!r} is {target.state.value} and was retried as run "
                    f"{target.retried_by}: it cannot log any more"
                )
            kept = [
                (row["_step"], row)
                for row in rows
                if target.last_step is None or row["_step"] > target.last_step
            ]
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
            last_step = kept[-1][0] if kept else target.last_step
            state = RunState.RUNNING if target.state == RunState.CRASHED else target.state
            t.append_history(run_id, kept)
            t.update_logged(
                target, summary=summary, metric=metric, last_step=last_step, log_seq=batch.seq, state=state
            )
            changes: dict[str, Any] = {}
            if batch.config is not None:
                changes["config"] = dict(batch.config)
            if batch.name:
                changes["name"] = _text(str(batch.name))[:LABEL_LENGTH]
            if changes:
                t.update_run(run_id, **changes)
            if batch.output:
                t.append_output(
                    run_id, str(batch.output), head_chars=OUTPUT_HEAD_CHARS, tail_chars=OUTPUT_TAIL_CHARS
                )
            stop_requested, stop_reason = target.stop_requested, target.stop_reason
            crossed = (
                policy.crossed_bands(target.metric, metric.count - target.metric.count) if policy else []
            )
            for band in crossed:
                # Only this band's threshold moved: judge the runs that reached it (not the whole sweep).
                for decision in policy.stop_runs(t.band_views(sweep.id, band)):
                    info = {
                        "rule": "hyperband",
                        "band": decision.band,
                        "value": decision.value,
                        "threshold": decision.threshold,
                    }
                    asked = t.request_stop(decision.run_id, decision.reason, info, sweep_id=sweep.id)
                    if asked and decision.run_id == run_id and not stop_requested:
                        stop_requested, stop_reason = True, decision.reason
            return LogAck(True, stop_requested, stop_reason, state, dropped=len(rows) - len(kept))

        return self.store.transact(tx, durable=False)

    def finish_run(self, run_id: str, state: RunState, *, exit_code=None, error=None) -> RunInfo:
        run, sweep = self.store.finish_run(run_id, RunState(state), exit_code=exit_code, error=_text(error))
        return self._run_info(run, self._policy(sweep) if sweep is not None else None)

    def start_run(self, *, project=None, name=None, config=None) -> RunInfo:
        return self._run_info(
            self.store.create_run(
                project=_label("project", project), name=_label("name", name), config=config
            )
        )

    # --- queries ----------------------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunInfo:
        return self._run_info(self.store.get_run(run_id))

    def list_runs(self, sweep_id: str, *, states=None, after=None, limit=None) -> RunPage:
        self._reap(sweep_id)
        records = self.store.list_runs(sweep_id, states=states, after=after, limit=limit)
        policy = self._policy(self.store.get_sweep(sweep_id)) if records else None
        runs = [self._run_info(r, policy) for r in records]
        full = limit is not None and len(records) == limit
        return RunPage(runs, records[-1].number if full else None)

    def history(self, run_id: str, *, after=None, limit: int = 1000) -> HistoryPage:
        limit = max(1, min(int(limit), 100_000))
        found = self.store.history(run_id, after=after, limit=limit)
        rows = [{**data, "_step": step} for step, data in found]
        return HistoryPage(rows, found[-1][0] if len(found) == limit else None)

    def metric_series(self, run_ids, key, *, after=None):
        if not isinstance(key, str) or not key:
            raise SweepkitError("key: expected the name of a logged value")
        return self.store.metric_series(list(run_ids), key, after)

    def run_output(self, run_id: str) -> RunOutput:
        head, tail, size = self.store.run_output(run_id)
        return RunOutput(head, tail, size)

    def best_runs(self, sweep_id: str, *, limit: int | None = None) -> list[RankedRun]:
        sweep = self.store.get_sweep(sweep_id)
        policy = self._policy(sweep)
        objectives = policy.objectives
        if not objectives:
            return []
        finished = [
            view
            for view in self.store.transact(lambda t: list(t.run_views(sweep.id)), write=False)
            if view.state == RunState.FINISHED
        ]
        ranked = rank(finished, objectives, lambda view: list(policy.objective_values(view.metric).values()))
        if limit is not None:
            ranked = ranked[: max(0, int(limit))]
        if not ranked:
            return []
        records = self.store.transact(
            lambda t: t.runs_by_id(sweep.id, [v.id for v, _ in ranked]), write=False
        )
        return [RankedRun(self._run_info(records[view.id], policy), place) for view, place in ranked]

    def band_thresholds(self, sweep_id: str) -> list[BandThreshold]:
        sweep = self.store.get_sweep(sweep_id)
        policy = self._policy(sweep)
        if policy.plan.stopping is None:
            return []
        return policy.thresholds(self.store.transact(lambda t: list(t.run_views(sweep.id)), write=False))

    def run_command(self, run_id: str) -> str | None:
        run = self.store.get_run(run_id)
        if run.sweep_id is None:
            return None
        return self._policy(self.store.get_sweep(run.sweep_id)).command_line(run.params)

    def _run_info(self, record, policy: SweepPolicy | None = None) -> RunInfo:
        if record.sweep_id is not None and policy is None:
            policy = self._policy(self.store.get_sweep(record.sweep_id))
        if record.config is not None:
            config = dict(record.config)
        elif policy is not None:
            config = policy.values(record.params)
        else:
            config = {}
        return RunInfo(
            id=record.id,
            sweep_id=record.sweep_id,
            number=record.number,
            name=record.name,
            project=record.project,
            state=record.state,
            params=dict(record.params),
            config=config,
            summary=dict(record.summary),
            metric=record.metric,
            last_step=record.last_step,
            created_at=record.created_at,
            started_at=record.started_at,
            finished_at=record.finished_at,
            heartbeat_at=record.heartbeat_at,
            exit_code=record.exit_code,
            agent_id=record.agent_id,
            stop_requested=record.stop_requested,
            stop_reason=record.stop_reason,
            stop_info=record.stop_info,
            suggestion=dict(record.suggestion_info),
            error=record.error,
            retry_of=record.retry_of,
            retried_by=record.retried_by,
            objective_values=policy.objective_values(record.metric) if policy is not None else {},
        )

    # --- tokens (a sweepkit server's access tokens) ---------------------------------------------------

    def create_token(self, scope: str, *, name: str | None = None) -> NewToken:
        from sweepkit.store import tokens

        token_forms.check_scope(scope)
        name = _label("name", name)
        token_id = tokens.new_token_id()
        secret = token_forms.new_secret(token_id)
        record = tokens.create_token(
            self.store, token_id, scope=scope, name=name, secret_hash=token_forms.token_hash(secret)
        )
        return NewToken(_token_info(record), secret)

    def list_tokens(self) -> list[TokenInfo]:
        from sweepkit.store import tokens

        return [_token_info(r) for r in tokens.list_tokens(self.store)]

    def revoke_token(self, token_id: str) -> TokenInfo:
        from sweepkit.store import tokens

        return _token_info(tokens.revoke_token(self.store, token_id))

    # Service side only (the server's checks; no client calls these):

    def tokens_required(self) -> bool:
        """Whether every request needs a token: once one was created (revoked ones count)."""
        from sweepkit.store import tokens

        return tokens.any_token(self.store)

    def authenticate(self, secret: str) -> TokenInfo | None:
        """The live token ``secret`` is, or None (unknown, malformed or revoked); hashes are compared
        in constant time."""
        from sweepkit.store import tokens

        token_id = token_forms.token_id(secret)
        record = tokens.get_token(self.store, token_id) if token_id is not None else None
        if not token_forms.matches(secret, record.secret_hash if record is not None else None):
            return None
        if record.revoked_at is not None:
            return None
        if record.last_used_at is None or _db_age(record.last_used_at) > tokens.TOUCH_EVERY:
            tokens.touch_token(self.store, record.id)
        return _token_info(record)


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
    return load_config(dict(config))


def _warnings(cfg) -> list[ConfigWarning]:
    return [ConfigWarning(problem.path, problem.message) for problem in cfg.warnings]


def _db_age(moment):
    from datetime import datetime, timezone

    return datetime.now(timezone.utc) - moment


def _token_info(record) -> TokenInfo:
    return TokenInfo(
        id=record.id,
        name=record.name,
        scope=record.scope,
        created_at=record.created_at,
        last_used_at=record.last_used_at,
        revoked_at=record.revoked_at,
    )

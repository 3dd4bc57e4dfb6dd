"""``SweepService``: the one way the client side (CLI, Python API, agents, runs) talks to sweeps.

Plain data in and out (``sweepkit.service.types``), nothing that could not travel as JSON, so that
a local implementation (over a store, in this process) and an HTTP client serve the same calls. Each
call is designed for a network: claims carry a key and log batches a sequence number, so a call
retried after a lost answer changes nothing twice; frequent calls are batched (heartbeats of all an
agent's runs at once, many logged rows at once); large answers are paged (runs, history).

Errors are ``SweepkitError`` subclasses with one clear sentence: ``NotFoundError`` (no such sweep or
run), ``ConflictError`` (not in the sweep's or run's current state), ``StoreUnavailable`` (busy or
unreachable for longer than the retry time), ``StoreGone`` (the store was deleted or replaced: stop),
``AccessDenied`` (a server refused the caller's token).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.runs import RunState, SweepAction
from sweepkit.service.types import (
    AgentInfo,
    BandThreshold,
    Claim,
    ConfigVersion,
    HistoryPage,
    ImportResult,
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


class SweepService(ABC):
    """The sweep service (see the module docstring)."""

    #: Where the sweeps are, for messages (a password is never shown).
    location: str

    # --- sweeps -----------------------------------------------------------------------------------

    @abstractmethod
    def create_sweep(
        self,
        config: dict[str, Any],
        *,
        project: str | None = None,
        entity: str | None = None,
        name: str | None = None,
        source: str | None = None,
    ) -> SweepInfo:
        """Validate ``config`` (a sweep config as a dict) and start a sweep; project, entity and name
        given here win over the config's. ``source`` is the config as its author wrote it (a file's
        text), kept for people to read. ``ConfigError`` lists every problem."""

    @abstractmethod
    def update_sweep(
        self,
        sweep_id: str,
        config: dict[str, Any],
        *,
        source: str | None = None,
        defaults: Mapping[str, Any] | None = None,
        dry_run: bool = False,
    ) -> SweepInfo:
        """Replace a sweep's config (and its text as written), keeping the old one as an earlier
        version; the answer's ``changes`` say what the change does to the sweep (how a grid grows,
        how many earlier runs the new space can express). ``defaults``: for a parameter the new
        config adds, the value its earlier runs are taken to have had (written into their
        parameters). ``dry_run``: only say what the change would do. A change that cannot be honoured
        (the metric's name) is a ConflictError in one sentence."""

    @abstractmethod
    def config_versions(self, sweep_id: str) -> list[ConfigVersion]:
        """Every version of the sweep's config, oldest first, each with its time and what it changed."""

    @abstractmethod
    def control_sweep(self, sweep_id: str, action: SweepAction) -> SweepInfo:
        """Pause, resume, stop or cancel a sweep (cancel also asks its active runs to stop)."""

    @abstractmethod
    def get_sweep(self, sweep_id: str, *, project: str | None = None, entity: str | None = None) -> SweepInfo:
        """One sweep; with ``project``/``entity``, NotFoundError when it belongs to another."""

    @abstractmethod
    def list_sweeps(self, *, project: str | None = None) -> list[SweepInfo]:
        """Every sweep (of ``project``), newest first. A config larger than ``LIST_CONFIG_BYTES`` is
        left out (``config_omitted``; ``get_sweep`` has it), so that one huge grid does not make
        every list large."""

    @abstractmethod
    def retry_runs(self, sweep_id: str, states: Sequence[RunState] | None = None) -> RetryResult:
        """Run again the parameters of the sweep's runs that ended in ``states`` (default failed,
        crashed, killed; only unsuccessful states): each becomes a new queued run, handed out before
        any new point and exactly once; the old runs stay, marked retried. Runs stopped by the
        sweep's early-termination rule and runs retried already are left alone. A finished sweep
        runs again; a paused or stopped one keeps its state; a cancelled one is refused."""

    @abstractmethod
    def queue_points(self, sweep_id: str, points: Sequence[Mapping[str, Any]]) -> list[RunInfo]:
        """Queue these points (each a mapping of parameter to value, nested or with flat dotted names)
        as runs handed out before the method suggests more, in this order, each exactly once; returns
        the queued runs. Every point is checked against the sweep's space first: one bad point queues
        nothing, and the error names each problem (point number, parameter, what was expected).
        Like retries, queued runs do not count against ``run_cap``; a finished sweep runs again."""

    @abstractmethod
    def scheduler_heartbeat(self, sweep_id: str, *, host: str, pid: int) -> SweepInfo:
        """The sweep's user scheduler process (``sweepkit scheduler``, on ``host`` as ``pid``) is alive
        (the database's clock); returns the sweep (its ``scheduler`` says so). Only for a sweep whose
        config names ``scheduler.source``; the sweep's config and ``updated_at`` are left alone."""

    @abstractmethod
    def import_runs(self, sweep_id: str, rows: Sequence[Mapping[str, Any]], *, source: str) -> ImportResult:
        """Add finished results made elsewhere (another sweep, a file, another tool) as finished runs
        marked imported (``suggestion["imported"] = source``), never run: search methods see them as
        observations, a grid as points used. Each row is ``{"params": {...}, "metrics": {...}}``
        (optional ``name``, and ``label`` to name it in messages); its parameters are checked against
        the sweep's space (keys the space does not have are ignored) and it needs a number for the
        sweep's metric. Rows that do not fit are refused, one sentence each; the others are kept."""

    @abstractmethod
    def delete_runs(self, sweep_id: str, run_ids: Sequence[str]) -> list[str]:
        """Delete these runs of the sweep and their history, all or none; returns their ids.

        A running run cannot be deleted (stop it first); a deleted queued retry un-queues it, and
        the run it re-ran can be retried again. NotFoundError names a run the sweep does not have.
        """

    # --- agents and runs --------------------------------------------------------------------------

    @abstractmethod
    def register_agent(
        self,
        sweep_id: str,
        *,
        host: str,
        pid: int,
        workdir: str | None = None,
        slots: Sequence[Sequence[str]] | None = None,
    ) -> str:
        """Record an agent working on the sweep; returns its id. ``workdir``: the directory it runs
        its runs in; ``slots``: for each run it runs at once, the GPUs it gives that run."""

    @abstractmethod
    def list_agents(self, sweep_id: str) -> list[AgentInfo]:
        """The sweep's agents, running and finished, in the order they registered: host, pid, state,
        when each was last heard from, where it works and the GPUs of its slots."""

    @abstractmethod
    def claim_run(self, sweep_id: str, agent_id: str, claim_key: str, *, slot: int | None = None) -> Claim:
        """Hand out the sweep's next run to the agent (for its slot ``slot``), exactly once across all agents.

        ``claim_key`` is the agent's name for this claim (unique, e.g. a UUID): claiming again with
        the same key returns the same run, so a claim whose answer was lost can be retried.
        """

    @abstractmethod
    def heartbeat(self, agent_id: str, run_ids: Sequence[str]) -> list[RunControl]:
        """The agent and these runs of it are alive; says for each run whether it should stop."""

    @abstractmethod
    def log(self, run_id: str, batch: LogBatch) -> LogAck:
        """Record a batch of the run's rows, summary, config or name (idempotent by ``batch.seq``).

        Stopping rules are applied here, as values arrive; the answer says whether this run should
        stop now.
        """

    @abstractmethod
    def finish_run(
        self, run_id: str, state: RunState, *, exit_code: int | None = None, error: str | None = None
    ) -> RunInfo:
        """End a run in a terminal state (idempotent: an ended run keeps its state)."""

    @abstractmethod
    def agent_finished(self, agent_id: str) -> None:
        """The agent has stopped."""

    @abstractmethod
    def start_run(
        self, *, project: str | None = None, name: str | None = None, config: dict[str, Any] | None = None
    ) -> RunInfo:
        """Record a run outside any sweep (``sweepkit.init()`` with no agent)."""

    # --- queries ----------------------------------------------------------------------------------

    @abstractmethod
    def get_run(self, run_id: str) -> RunInfo:
        """One run."""

    @abstractmethod
    def list_runs(
        self,
        sweep_id: str,
        *,
        states: Sequence[RunState] | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> RunPage:
        """The sweep's runs in run-number order: those after run number ``after``, at most ``limit``."""

    @abstractmethod
    def history(self, run_id: str, *, after: int | None = None, limit: int = 1000) -> HistoryPage:
        """The run's logged rows after step ``after``, in step order, at most ``limit``."""

    @abstractmethod
    def run_output(self, run_id: str) -> RunOutput:
        """What a program run printed: its first and newest characters (its agent sends them)."""

    @abstractmethod
    def best_runs(self, sweep_id: str, *, limit: int | None = None) -> list[RankedRun]:
        """The sweep's finished runs with a value for every objective, best first, each with its rank
        (its place by the objective; with several objectives, its Pareto front); at most ``limit``.
        Empty for a sweep without a metric."""

    @abstractmethod
    def band_thresholds(self, sweep_id: str) -> list[BandThreshold]:
        """The stopping rule's bands that runs have reached, each with its threshold now (empty
        without a rule)."""

    @abstractmethod
    def run_command(self, run_id: str) -> str | None:
        """The command the run's agent was told to run, as one line for people (the agent's own
        macros left as written); None for a run outside a sweep or a command that cannot be rendered."""

    # --- tokens of a sweepkit server (admin) -------------------------------------------------------
    # Not abstract: a service that keeps no tokens says so.

    def create_token(self, scope: str, *, name: str | None = None) -> NewToken:
        """A new token of ``scope`` ("read", "agent" or "admin"); its secret is returned this once."""
        raise SweepkitError(f"{self.location} keeps no access tokens")

    def list_tokens(self) -> list[TokenInfo]:
        """Every token, revoked ones too, oldest first (never a secret)."""
        raise SweepkitError(f"{self.location} keeps no access tokens")

    def revoke_token(self, token_id: str) -> TokenInfo:
        """Revoke a token: it stops working at once (idempotent)."""
        raise SweepkitError(f"{self.location} keeps no access tokens")

    def metric_series(
        self, run_ids: Sequence[str], key: str, *, after: Mapping[str, int] | None = None
    ) -> dict[str, list[tuple[int, Any]]]:
        """For each run, ``(step, value)`` of its rows that logged ``key`` (after its step in ``after``),
        in step order: one key of many runs at once (the dashboard's curves). Runs that logged none
        map to an empty list. This default reads each run's history; implementations do it in one go.
        """
        out: dict[str, list[tuple[int, Any]]] = {}
        for run_id in run_ids:
            start = (after or {}).get(run_id)
            series: list[tuple[int, Any]] = []
            while True:
                page = self.history(run_id, after=start, limit=10_000)
                series += [(row["_step"], row[key]) for row in page.rows if key in row]
                if page.next_after is None:
                    break
                start = page.next_after
            out[run_id] = series
        return out

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    # --- conveniences built on the calls above ------------------------------------------------------

    def best_run(self, sweep_id: str) -> RunInfo | None:
        """The best finished run of the sweep (the first of ``best_runs``), or None."""
        found = self.best_runs(sweep_id, limit=1)
        return found[0].run if found else None

    def all_runs(self, sweep_id: str, *, states: Sequence[RunState] | None = None) -> list[RunInfo]:
        """Every run of the sweep, page by page."""
        out: list[RunInfo] = []
        after = None
        while True:
            page = self.list_runs(sweep_id, states=states, after=after, limit=1000)
            out += page.runs
            if page.next_after is None:
                return out
            after = page.next_after

    def full_history(self, run_id: str) -> list[dict[str, Any]]:
        """Every logged row of the run, page by page."""
        rows: list[dict[str, Any]] = []
        after = None
        while True:
            page = self.history(run_id, after=after, limit=10_000)
            rows += page.rows
            if page.next_after is None:
                return rows
            after = page.next_after

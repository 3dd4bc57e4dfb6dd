"""``SweepService``: the one way the client side (CLI, Python API, agents, runs) talks to sweeps, each
of its calls declared once, with how it crosses the wire (``CALLS``).

Plain data in and out (``sweepkit.service.types``), nothing that could not travel as JSON, so that
a local implementation (over a store, in this process) and an HTTP client serve the same calls. Each
call is designed for a network: claims carry a key and log batches a sequence number, so a call
retried after a lost answer changes nothing twice; frequent calls are batched (heartbeats of all an
agent's runs at once, many logged rows at once); large answers are paged (runs, history).

Errors are ``SweepkitError`` subclasses with one clear sentence: ``NotFoundError`` (no such sweep or
run), ``ConflictError`` (not in the sweep's or run's current state), ``StoreUnavailable`` (busy or
unreachable for longer than the retry time), ``StoreGone`` (the store was deleted or replaced: stop),
``AccessDenied`` (a server refused the caller's token).

Each method of the interface is declared by ``@call(...)`` above it: its HTTP method and path under
``/api/v1`` (``{name}`` marks an argument in the path), the other arguments with their wire types and
limits (in the query of a GET, else in the JSON body), the answer's type (and the key of the answer
object that holds it), the status of a success, whether a request may be sent again after its
answer was lost (``retry``), the token scope it needs, and the arguments that bind it to work
(``bound``: the agent or runs it acts for, which only their agent's token may act for). The method's
signature and documentation are its Python side. From these declarations the HTTP client's methods
(``sweepkit.service.http``), the server's routes and its OpenAPI document (``sweepkit.server.routes``)
are built when they are imported or built; ``LocalSweepService`` implements the methods. Adding a
call is its declared method here, its implementation in ``LocalSweepService`` and what the store
needs: nothing else.

Limits are ``Rule``s inside ``typing.Annotated``: the server checks them (422 naming the field) and
the OpenAPI document shows them; they follow the store (labels fit 255-character columns, integers
32- and 64-bit columns, text holds no NUL). ``check``s are those of ``sweepkit.service.checks``,
which the client applies before sending, so that a bad call fails with the same sentence as locally.

Light on purpose (the standard library and the service's own types): the client imports it.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Annotated, Any, Literal, TypeVar

from sweepkit.errors import SweepkitError
from sweepkit.runs import RunState, SweepAction
from sweepkit.service import types as t
from sweepkit.service.checks import (
    as_dicts,
    check_batch,
    check_claim_key,
    check_config,
    check_history_limit,
    check_points,
    check_retry_states,
    check_slot,
    check_slots,
    check_workdir,
)

INT32 = 2**31 - 1
INT64 = 2**63 - 1
NO_NUL = r"^[^\x00]*$"

#: ``retry``: repeating the call changes nothing twice (reads, heartbeats, finishing a run)...
SAFE = "safe"
#: ...the request carries a key or a sequence number that makes a repeat harmless (claims, log batches)...
KEYED = "keyed"
#: ...or it would act twice: sent again only when it surely never reached the server.
NEVER = "never"

#: Token scopes, ordered (``sweepkit.service.tokens``), and what a refusal says each one is for.
READ, AGENT, ADMIN = "read", "agent", "admin"
WHAT = {
    READ: "reading sweeps and runs",
    AGENT: "running agents and runs",
    ADMIN: "creating or controlling sweeps",
}


@dataclass(frozen=True)
class Rule:
    """Limits and a description of a value on the wire (in ``Annotated[type, Rule(...)]``)."""

    min_length: int | None = None
    max_length: int | None = None
    ge: int | None = None
    le: int | None = None
    pattern: str | None = None
    description: str | None = None

    def options(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


#: A sweep, run, agent or token id: any text but NUL (an unknown one is "not found").
Id = Annotated[str, Rule(min_length=1, max_length=200, pattern=NO_NUL)]
#: A project, entity or name (the service judges it, with the same sentence as locally).
Label = Annotated[str, Rule(description="At most 255 characters, no NUL.")]
QueryLabel = Annotated[str, Rule(max_length=1000, pattern=NO_NUL)]
Step = Annotated[int, Rule(ge=-(2**63), le=INT64)]
Config = dict[str, Any]

F = TypeVar("F", bound=Callable[..., Any])

#: An ``Arg`` without a default must be given.
REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()


@dataclass(frozen=True)
class Arg:
    """One argument of a call on the wire."""

    #: Its name on the wire (a path placeholder, a query parameter, a key of the body).
    name: str
    #: Its wire type: plain data, the service's types, ``Annotated[..., Rule(...)]`` for limits.
    type: Any
    #: What the server assumes when a request leaves it out.
    default: Any = REQUIRED
    #: The service method's parameter, when it is named otherwise than on the wire.
    param: str | None = None
    #: Applied by the client before sending (to None only when the argument is required); returns the
    #: value to send.
    check: Callable[[Any], Any] | None = None
    #: Logged data: its texts "NaN", "Infinity" and "-Infinity" stand for those floats.
    logged: bool = False
    #: For a dataclass sent as the whole body: its fields, each an ``Arg`` of the body.
    spread: tuple[Arg, ...] = ()
    #: "path", "query" or "body" (set by ``call`` from the path and the HTTP method).
    where: str = ""

    @property
    def parameter(self) -> str:
        return self.param or self.name


@dataclass(frozen=True)
class Call:
    """One call of the sweep service on the wire (see the module docstring)."""

    name: str
    method: str
    path: str
    args: tuple[Arg, ...]
    #: The method's answer type; None for a call that answers nothing (``{"ok": true}`` on the wire).
    answer: Any
    #: The key of the answer object that holds the answer; None when the answer is the object.
    key: str | None
    status: int
    retry: str
    scope: str
    what: str
    tag: str
    doc: str
    #: Where the answer holds logged data: dotted paths into its JSON, ``*`` for each item of a list.
    logged: tuple[str, ...] = ()
    #: A check of the whole call by the client before sending (given the arguments by parameter name).
    check: Callable[[Mapping[str, Any]], None] | None = None
    #: For a call that is not ``SAFE``: whether these arguments make it safe to repeat after all.
    safe_if: Callable[[Mapping[str, Any]], bool] | None = None
    #: The arguments naming the agent (``agent_id``) or runs (``run_id``, ``run_ids``) the call acts
    #: for: an agent token may make it only for an agent it registered and the runs that agent
    #: claimed (``LocalSweepService.bound``); admin tokens for any.
    bound: tuple[str, ...] = ()

    def safe(self, given: Mapping[str, Any]) -> bool:
        """Whether sending this request twice does no harm."""
        return self.retry != NEVER or (self.safe_if is not None and self.safe_if(given))


def call(
    route: str,
    answer: Any,
    *args: Arg,
    key: str | None = None,
    status: int = 200,
    retry: str = SAFE,
    scope: str = READ,
    what: str | None = None,
    tag: str,
    doc: str,
    logged: tuple[str, ...] = (),
    check: Callable[[Mapping[str, Any]], None] | None = None,
    safe_if: Callable[[Mapping[str, Any]], bool] | None = None,
    bound: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Declare the ``SweepService`` method below as a call on the wire, at ``route`` ("POST
    /sweeps/{sweep_id}/agents"): each placeholder in the path is an ``Id`` argument of that name, the
    others go in the query of a GET and in the body otherwise."""
    method, path = route.split(" ", 1)
    placed = [Arg(p, Id, where="path") for p in re.findall(r"{(\w+)}", path)]
    where = "query" if method == "GET" else "body"
    placed += [
        replace(a, where=where, spread=tuple(replace(inner, where=where) for inner in a.spread)) for a in args
    ]

    def declare(fn: F) -> F:
        fn.call = Call(  # type: ignore[attr-defined]
            fn.__name__, method, path, tuple(placed), answer, key, status, retry, scope, what or WHAT[scope],
            tag, doc, logged, check, safe_if, bound,
        )  # fmt: skip
        return fn

    return declare


def _batch_checked(given: Mapping[str, Any]) -> None:
    check_batch(given["run_id"], given["batch"])


def _stop_or_cancel(given: Mapping[str, Any]) -> bool:
    # Stopping or cancelling twice changes nothing; pausing or resuming twice would say "conflict".
    return SweepAction(given["action"]) in (SweepAction.STOP, SweepAction.CANCEL)


# fmt: off
class SweepService(ABC):
    """The sweep service: every call declared with its place on the wire (see the module docstring)."""

    #: Where the sweeps are, for messages (a password is never shown).
    location: str

    # --- sweeps -----------------------------------------------------------------------------------

    @call("POST /sweeps", t.SweepInfo,
         Arg("config", Annotated[Config, Rule(description="A W&B sweep config, as data.")], check=check_config),
         Arg("project", Label, None), Arg("entity", Label, None), Arg("name", Label, None),
         Arg("source", Annotated[str, Rule(description="The config as its author wrote it (a file's text).")], None),
         status=201, retry=NEVER, scope=ADMIN, tag="sweeps",
         doc="Validate a sweep config and start a sweep (project, entity and name win over the config's).")
    @abstractmethod
    def create_sweep(
        self,
        config: dict[str, Any],
        *,
        project: str | None = None,
        entity: str | None = None,
        name: str | None = None,
        source: str | None = None,
    ) -> t.SweepInfo:
        """Validate ``config`` (a sweep config as a dict) and start a sweep; project, entity and name
        given here win over the config's. ``source`` is the config as its author wrote it (a file's
        text), kept for people to read. ``ConfigError`` lists every problem."""

    @call("GET /sweeps", list[t.SweepInfo], Arg("project", QueryLabel, None),
         key="sweeps", tag="sweeps", doc="Every sweep (of a project), newest first.")
    @abstractmethod
    def list_sweeps(self, *, project: str | None = None) -> list[t.SweepInfo]:
        """Every sweep (of ``project``), newest first. A config larger than ``LIST_CONFIG_BYTES`` is
        left out (``config_omitted``; ``get_sweep`` has it), so that one huge grid does not make
        every list large."""

    @call("GET /sweeps/{sweep_id}", t.SweepInfo,
         Arg("project", QueryLabel, None), Arg("entity", QueryLabel, None), tag="sweeps",
         doc="One sweep, with its runs' counts by state; 404 when it belongs to another project or entity.")
    @abstractmethod
    def get_sweep(self, sweep_id: str, *, project: str | None = None, entity: str | None = None) -> t.SweepInfo:
        """One sweep; with ``project``/``entity``, NotFoundError when it belongs to another."""

    @call("PUT /sweeps/{sweep_id}/config", t.SweepInfo,
         Arg("config", Config), Arg("source", str, None),
         Arg("defaults", Annotated[Config, Rule(
             description="For each parameter the change adds, the value earlier runs had.")], None),
         Arg("dry_run", Annotated[bool, Rule(description="Only say what the change would do.")], False),
         scope=ADMIN, tag="sweeps",
         doc="Replace a sweep's config, keeping the old as an earlier version (the metric's name cannot "
             "change); `changes` says what it does, `dry_run` only says it.")
    @abstractmethod
    def update_sweep(
        self,
        sweep_id: str,
        config: dict[str, Any],
        *,
        source: str | None = None,
        defaults: Mapping[str, Any] | None = None,
        dry_run: bool = False,
    ) -> t.SweepInfo:
        """Replace a sweep's config (and its text as written), keeping the old one as an earlier
        version; the answer's ``changes`` say what the change does to the sweep (how a grid grows,
        how many earlier runs the new space can express). ``defaults``: for a parameter the new
        config adds, the value its earlier runs are taken to have had (written into their
        parameters). ``dry_run``: only say what the change would do. A change that cannot be honoured
        (the metric's name) is a ConflictError in one sentence."""

    @call("GET /sweeps/{sweep_id}/versions", list[t.ConfigVersion], key="versions",
         tag="sweeps", doc="Every version of the sweep's config, oldest first, with its time and what it changed.")
    @abstractmethod
    def config_versions(self, sweep_id: str) -> list[t.ConfigVersion]:
        """Every version of the sweep's config, oldest first, each with its time and what it changed."""

    @call("POST /sweeps/{sweep_id}/import", t.ImportResult,
         Arg("rows", Annotated[list[dict[str, Any]], Rule(max_length=100_000,
             description='Each {"params": {...}, "metrics": {...}, "name"?, "label"?}.')], check=as_dicts),
         Arg("source", Annotated[str, Rule(min_length=1, max_length=255, pattern=NO_NUL)]),
         retry=NEVER, scope=ADMIN, tag="sweeps",  # a second call would import the rows twice
         doc="Add finished results made elsewhere as imported runs; rows that do not fit are refused.")
    @abstractmethod
    def import_runs(self, sweep_id: str, rows: Sequence[Mapping[str, Any]], *, source: str) -> t.ImportResult:
        """Add finished results made elsewhere (another sweep, a file, another tool) as finished runs
        marked imported (``suggestion["imported"] = source``), never run: search methods see them as
        observations, a grid as points used. Each row is ``{"params": {...}, "metrics": {...}}``
        (optional ``name``, and ``label`` to name it in messages); its parameters are checked against
        the sweep's space (keys the space does not have are ignored) and it needs a number for the
        sweep's metric. Rows that do not fit are refused, one sentence each; the others are kept."""

    @call("POST /sweeps/{sweep_id}/control", t.SweepInfo, Arg("action", SweepAction),
         retry=NEVER, safe_if=_stop_or_cancel, scope=ADMIN, tag="sweeps",
         doc="Pause, resume, stop or cancel a sweep.")
    @abstractmethod
    def control_sweep(self, sweep_id: str, action: SweepAction) -> t.SweepInfo:
        """Pause, resume, stop or cancel a sweep (cancel also asks its active runs to stop)."""

    @call("POST /sweeps/{sweep_id}/retry", t.RetryResult,
         Arg("states", Annotated[list[RunState], Rule(
             description="Which unsuccessful states to retry (default failed, crashed, killed).")],
             None, check=check_retry_states),
         retry=NEVER, scope=ADMIN, tag="sweeps",  # a second call would find the first one's runs retried
         doc="Queue the parameters of the sweep's unsuccessful runs again, as new runs handed out first.")
    @abstractmethod
    def retry_runs(self, sweep_id: str, states: Sequence[RunState] | None = None) -> t.RetryResult:
        """Run again the parameters of the sweep's runs that ended in ``states`` (default failed,
        crashed, killed; only unsuccessful states): each becomes a new queued run, handed out before
        any new point and exactly once; the old runs stay, marked retried. Runs stopped by the
        sweep's early-termination rule and runs retried already are left alone. A finished sweep
        runs again; a paused or stopped one keeps its state; a cancelled one is refused."""

    @call("POST /sweeps/{sweep_id}/queue", list[t.RunInfo],
         Arg("points", Annotated[list[dict[str, Any]], Rule(min_length=1, max_length=10_000,
             description="Each a parameter -> value mapping.")], check=check_points),
         key="runs", retry=NEVER, scope=ADMIN, tag="sweeps", logged=("runs.*.summary",),
         doc="Queue points (checked against the sweep's space) as runs handed out before the method's.")
    @abstractmethod
    def queue_points(self, sweep_id: str, points: Sequence[Mapping[str, Any]]) -> list[t.RunInfo]:
        """Queue these points (each a mapping of parameter to value, nested or with flat dotted names)
        as runs handed out before the method suggests more, in this order, each exactly once; returns
        the queued runs. Every point is checked against the sweep's space first: one bad point queues
        nothing, and the error names each problem (point number, parameter, what was expected).
        Like retries, queued runs do not count against ``run_cap``; a finished sweep runs again."""

    @call("POST /sweeps/{sweep_id}/scheduler", t.SweepInfo,
         Arg("host", Annotated[str, Rule(max_length=1000)]),
         Arg("pid", Annotated[int, Rule(ge=0, le=INT32)]),
         scope=ADMIN, tag="sweeps",  # safe to repeat: it only dates the scheduler's last word
         doc="The sweep's user scheduler process (`sweepkit scheduler`) is alive; the sweep says so.")
    @abstractmethod
    def scheduler_heartbeat(self, sweep_id: str, *, host: str, pid: int) -> t.SweepInfo:
        """The sweep's user scheduler process (``sweepkit scheduler``, on ``host`` as ``pid``) is alive
        (the database's clock); returns the sweep (its ``scheduler`` says so). Only for a sweep whose
        config names ``scheduler.source``; the sweep's config and ``updated_at`` are left alone."""

    @call("POST /sweeps/{sweep_id}/runs/delete", list[str],
         Arg("run_ids", Annotated[list[Id], Rule(max_length=10_000)]),
         key="deleted", retry=NEVER, scope=ADMIN, tag="sweeps",
         doc="Delete these runs of the sweep and their history, all or none.")
    @abstractmethod
    def delete_runs(self, sweep_id: str, run_ids: Sequence[str]) -> list[str]:
        """Delete these runs of the sweep and their history, all or none; returns their ids.

        A running run cannot be deleted (stop it first); a deleted queued retry un-queues it, and
        the run it re-ran can be retried again. NotFoundError names a run the sweep does not have.
        """

    # --- agents -----------------------------------------------------------------------------------

    @call("POST /sweeps/{sweep_id}/agents", str,
         Arg("host", Annotated[str, Rule(max_length=1000)]),
         Arg("pid", Annotated[int, Rule(ge=0, le=INT32)]),
         Arg("workdir", Annotated[str, Rule(max_length=4096, description="Where the agent runs its runs.")],
             None, check=check_workdir),
         Arg("slots", Annotated[
             list[Annotated[list[Annotated[str, Rule(min_length=1, max_length=64)]], Rule(max_length=64)]],
             Rule(max_length=1024, description="For each run the agent runs at once, the GPUs it gives it.")],
             None, check=check_slots),
         # safe to repeat: a second registration leaves only an idle agent record behind
         key="agent_id", status=201, scope=AGENT, tag="agents", doc="Record an agent working on the sweep.")
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

    @call("GET /sweeps/{sweep_id}/agents", list[t.AgentInfo], key="agents", tag="agents",
         doc="The sweep's agents: host, pid, state, last heartbeat, working directory, GPUs per slot.")
    @abstractmethod
    def list_agents(self, sweep_id: str) -> list[t.AgentInfo]:
        """The sweep's agents, running and finished, in the order they registered: host, pid, state,
        when each was last heard from, where it works and the GPUs of its slots."""

    @call("POST /sweeps/{sweep_id}/claims", t.Claim,
         Arg("agent_id", Id),
         Arg("claim_key", Annotated[str, Rule(min_length=1, max_length=64,
             description="The agent's name for this claim: the same key returns the same run.")],
             check=check_claim_key),
         Arg("slot", Annotated[int, Rule(ge=1, le=1024, description="The agent's slot the run is for.")],
             None, check=check_slot),
         retry=KEYED, scope=AGENT, tag="agents", bound=("agent_id",),
         doc="The sweep's next run for the agent, exactly once across agents; the same key returns the same run.")
    @abstractmethod
    def claim_run(self, sweep_id: str, agent_id: str, claim_key: str, *, slot: int | None = None) -> t.Claim:
        """Hand out the sweep's next run to the agent (for its slot ``slot``), exactly once across all agents.

        ``claim_key`` is the agent's name for this claim (unique, e.g. a UUID): claiming again with
        the same key returns the same run, so a claim whose answer was lost can be retried.
        """

    @call("POST /agents/{agent_id}/heartbeat", list[t.RunControl],
         Arg("run_ids", Annotated[list[Id], Rule(max_length=10_000)], []),
         key="runs", scope=AGENT, tag="agents", bound=("agent_id", "run_ids"),
         doc="The agent and these runs are alive (database clock); whether each run should stop.")
    @abstractmethod
    def heartbeat(self, agent_id: str, run_ids: Sequence[str]) -> list[t.RunControl]:
        """The agent and these runs of it are alive; says for each run whether it should stop."""

    @call("POST /agents/{agent_id}/finished", None, scope=AGENT, tag="agents",
         bound=("agent_id",), doc="The agent has stopped.")
    @abstractmethod
    def agent_finished(self, agent_id: str) -> None:
        """The agent has stopped."""

    # --- runs -------------------------------------------------------------------------------------

    @call("POST /runs", t.RunInfo,
         Arg("project", Label, None), Arg("name", Label, None), Arg("config", Config, None),
         status=201, retry=NEVER, scope=AGENT, tag="runs", logged=("summary",),
         doc="Record a run outside any sweep.")
    @abstractmethod
    def start_run(
        self, *, project: str | None = None, name: str | None = None, config: dict[str, Any] | None = None
    ) -> t.RunInfo:
        """Record a run outside any sweep (``sweepkit.init()`` with no agent)."""

    @call("POST /runs/{run_id}/logs", t.LogAck,
         Arg("batch", t.LogBatch, spread=(
             Arg("seq", Annotated[int, Rule(ge=1, le=INT64,
                 description="1, 2, 3... per run: a batch already applied is skipped.")]),
             Arg("rows", Annotated[list[dict[str, Any]], Rule(
                 description='Rows with an integer "_step"; "NaN", "Infinity" and "-Infinity" stand for those floats.'
             )], [], logged=True),
             Arg("summary", dict[str, Any], None, logged=True),
             Arg("config", Config, None),
             Arg("name", Annotated[str, Rule(max_length=10_000)], None),
             Arg("output", Annotated[str, Rule(description="What the run printed since its last batch.")], None),
         )),
         check=_batch_checked,  # the same checks and sentences as locally, before anything is sent
         retry=KEYED, scope=AGENT, tag="runs", bound=("run_id",),
         doc="A batch of the run's rows, summary, config or name; a batch whose `seq` was applied is skipped.")
    @abstractmethod
    def log(self, run_id: str, batch: t.LogBatch) -> t.LogAck:
        """Record a batch of the run's rows, summary, config or name (idempotent by ``batch.seq``).

        Stopping rules are applied here, as values arrive; the answer says whether this run should
        stop now.
        """

    @call("POST /runs/{run_id}/finish", t.RunInfo,
         Arg("state", Annotated[RunState, Rule(
             description="A terminal state (finished, failed, crashed, killed, preempted).")]),
         Arg("exit_code", Annotated[int, Rule(ge=-INT32 - 1, le=INT32)], None),
         Arg("error", str, None),
         scope=AGENT, tag="runs", logged=("summary",), bound=("run_id",),
         doc="End a run in a terminal state (idempotent: an ended run keeps its state).")
    @abstractmethod
    def finish_run(
        self, run_id: str, state: RunState, *, exit_code: int | None = None, error: str | None = None
    ) -> t.RunInfo:
        """End a run in a terminal state (idempotent: an ended run keeps its state)."""

    # --- queries ----------------------------------------------------------------------------------

    @call("GET /runs/{run_id}", t.RunInfo, tag="runs", logged=("summary",), doc="One run.")
    @abstractmethod
    def get_run(self, run_id: str) -> t.RunInfo:
        """One run."""

    @call("GET /sweeps/{sweep_id}/runs", t.RunPage,
         Arg("state", list[RunState], None, param="states"),
         Arg("after", Annotated[int, Rule(ge=-INT32 - 1, le=INT32)], None),
         Arg("limit", Annotated[int, Rule(ge=1, le=100_000)], None),
         tag="runs", logged=("runs.*.summary",),
         doc="The sweep's runs in run-number order, after run number `after`; `next_after` continues.")
    @abstractmethod
    def list_runs(
        self,
        sweep_id: str,
        *,
        states: Sequence[RunState] | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> t.RunPage:
        """The sweep's runs in run-number order: those after run number ``after``, at most ``limit``."""

    @call("GET /runs/{run_id}/history", t.HistoryPage,
         Arg("after", Step, None), Arg("limit", Annotated[int, Rule(ge=1, le=100_000)], 1000,
                                       check=check_history_limit),
         tag="runs", logged=("rows",),
         doc="The run's logged rows after step `after`, in step order; `next_after` continues.")
    @abstractmethod
    def history(self, run_id: str, *, after: int | None = None, limit: int = 1000) -> t.HistoryPage:
        """The run's logged rows after step ``after``, in step order, at most ``limit``."""

    @call("POST /series", dict[str, list[tuple[int, Any]]],
         Arg("run_ids", Annotated[list[Id], Rule(max_length=10_000)]),
         Arg("key", Annotated[str, Rule(min_length=1, max_length=10_000, pattern=NO_NUL)]),
         Arg("after", dict[str, Step], None),
         key="series", tag="runs", logged=("series",),
         doc="For each run, `[step, value]` of its rows that logged `key` (after its step in `after`).")
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

    @call("GET /runs/{run_id}/output", t.RunOutput, tag="runs",
         doc="What a program run printed: its first and newest characters, and how many there were.")
    @abstractmethod
    def run_output(self, run_id: str) -> t.RunOutput:
        """What a program run printed: its first and newest characters (its agent sends them)."""

    @call("GET /runs/{run_id}/command", str | None, key="command", tag="runs",
         doc="The command the run's agent was told to run, as one line (null outside a sweep).")
    @abstractmethod
    def run_command(self, run_id: str) -> str | None:
        """The command the run's agent was told to run, as one line for people (the agent's own
        macros left as written); None for a run outside a sweep or a command that cannot be rendered."""

    @call("GET /sweeps/{sweep_id}/best", list[t.RankedRun],
         Arg("limit", Annotated[int, Rule(ge=0, le=INT32)], None),
         key="runs", tag="runs", logged=("runs.*.run.summary",),
         doc="The sweep's finished runs best first, each with its rank (empty without a metric).")
    @abstractmethod
    def best_runs(self, sweep_id: str, *, limit: int | None = None) -> list[t.RankedRun]:
        """The sweep's finished runs with a value for every objective, best first, each with its rank
        (its place by the objective; with several objectives, its Pareto front); at most ``limit``.
        Empty for a sweep without a metric."""

    @call("GET /sweeps/{sweep_id}/thresholds", list[t.BandThreshold], key="thresholds",
         tag="runs", doc="The stopping rule's bands that runs reached, each with its threshold now.")
    @abstractmethod
    def band_thresholds(self, sweep_id: str) -> list[t.BandThreshold]:
        """The stopping rule's bands that runs have reached, each with its threshold now (empty
        without a rule)."""

    # --- tokens (not abstract: a service that keeps no tokens says so) -----------------------------

    @call("POST /tokens", t.NewToken,
         Arg("scope", Literal["read", "agent", "admin"]), Arg("name", Label, None),
         status=201, retry=NEVER, scope=ADMIN, what="managing tokens", tag="tokens",
         doc="A new token; its secret is in this answer only.")
    def create_token(self, scope: str, *, name: str | None = None) -> t.NewToken:
        """A new token of ``scope`` ("read", "agent" or "admin"); its secret is returned this once."""
        raise SweepkitError(f"{self.location} keeps no access tokens")

    @call("GET /tokens", list[t.TokenInfo], key="tokens", scope=ADMIN, what="managing tokens",
         tag="tokens", doc="Every token (never a secret), revoked ones too.")
    def list_tokens(self) -> list[t.TokenInfo]:
        """Every token, revoked ones too, oldest first (never a secret)."""
        raise SweepkitError(f"{self.location} keeps no access tokens")

    @call("DELETE /tokens/{token_id}", t.TokenInfo, scope=ADMIN, what="managing tokens",
         tag="tokens", doc="Revoke a token: it stops working at once.")
    def revoke_token(self, token_id: str) -> t.TokenInfo:
        """Revoke a token: it stops working at once (idempotent)."""
        raise SweepkitError(f"{self.location} keeps no access tokens")

    # --- not on the wire ----------------------------------------------------------------------------

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def best_run(self, sweep_id: str) -> t.RunInfo | None:
        """The best finished run of the sweep (the first of ``best_runs``), or None."""
        found = self.best_runs(sweep_id, limit=1)
        return found[0].run if found else None

    def all_runs(self, sweep_id: str, *, states: Sequence[RunState] | None = None) -> list[t.RunInfo]:
        """Every run of the sweep, page by page."""
        out: list[t.RunInfo] = []
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
# fmt: on


#: Every call, in the order the interface declares them.
CALLS: tuple[Call, ...] = tuple(
    m.call for m in vars(SweepService).values() if isinstance(getattr(m, "call", None), Call)
)

#: Each call by its name.
BY_NAME: dict[str, Call] = {c.name: c for c in CALLS}

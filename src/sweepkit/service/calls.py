"""The sweep service's calls as they travel over HTTP, declared once: ``CALLS``.

Each ``Call`` names a ``SweepService`` method and says how it crosses the wire: its HTTP method and
path under ``/api/v1`` (``{name}`` marks an argument in the path), the other arguments with their
wire types and limits (in the query of a GET, else in the JSON body), the answer's type (and the key
of the answer object that holds it), the status of a success, whether a request may be sent again
after its answer was lost (``retry``), the token scope it needs, and the arguments that bind it to
work (``bound``: the agent or runs it acts for, which only their agent's token may act for). From this list the HTTP client's
methods (``sweepkit.service.http``), the server's routes and its OpenAPI document
(``sweepkit.server.routes``) are built when they are imported or built; ``LocalSweepService``
implements the interface itself.

Limits are ``Rule``s inside ``typing.Annotated``: the server checks them (422 naming the field) and
the OpenAPI document shows them; they follow the store (labels fit 255-character columns, integers
32- and 64-bit columns, text holds no NUL). ``check``s are those of ``sweepkit.service.checks``,
which the client applies before sending, so that a bad call fails with the same sentence as locally.

Light on purpose (the standard library and the service's own types): the client imports it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Annotated, Any, Literal

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
    name: str,
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
) -> Call:
    """A ``Call`` from ``route`` ("POST /sweeps/{sweep_id}/agents"): each placeholder in the path is an
    ``Id`` argument of that name, the others go in the query of a GET and in the body otherwise."""
    method, path = route.split(" ", 1)
    placed = [Arg(p, Id, where="path") for p in re.findall(r"{(\w+)}", path)]
    where = "query" if method == "GET" else "body"
    placed += [
        replace(a, where=where, spread=tuple(replace(inner, where=where) for inner in a.spread)) for a in args
    ]
    return Call(
        name, method, path, tuple(placed), answer, key, status, retry, scope, what or WHAT[scope], tag, doc,
        logged, check, safe_if, bound,
    )  # fmt: skip


def _batch_checked(given: Mapping[str, Any]) -> None:
    check_batch(given["run_id"], given["batch"])


def _stop_or_cancel(given: Mapping[str, Any]) -> bool:
    # Stopping or cancelling twice changes nothing; pausing or resuming twice would say "conflict".
    return SweepAction(given["action"]) in (SweepAction.STOP, SweepAction.CANCEL)


# fmt: off
CALLS: tuple[Call, ...] = (
    # --- sweeps -----------------------------------------------------------------------------------
    call("create_sweep", "POST /sweeps", t.SweepInfo,
         Arg("config", Annotated[Config, Rule(description="A W&B sweep config, as data.")], check=check_config),
         Arg("project", Label, None), Arg("entity", Label, None), Arg("name", Label, None),
         Arg("source", Annotated[str, Rule(description="The config as its author wrote it (a file's text).")], None),
         status=201, retry=NEVER, scope=ADMIN, tag="sweeps",
         doc="Validate a sweep config and start a sweep (project, entity and name win over the config's)."),
    call("list_sweeps", "GET /sweeps", list[t.SweepInfo], Arg("project", QueryLabel, None),
         key="sweeps", tag="sweeps", doc="Every sweep (of a project), newest first."),
    call("get_sweep", "GET /sweeps/{sweep_id}", t.SweepInfo,
         Arg("project", QueryLabel, None), Arg("entity", QueryLabel, None), tag="sweeps",
         doc="One sweep, with its runs' counts by state; 404 when it belongs to another project or entity."),
    call("update_sweep", "PUT /sweeps/{sweep_id}/config", t.SweepInfo,
         Arg("config", Config), Arg("source", str, None),
         Arg("defaults", Annotated[Config, Rule(
             description="For each parameter the change adds, the value earlier runs had.")], None),
         Arg("dry_run", Annotated[bool, Rule(description="Only say what the change would do.")], False),
         scope=ADMIN, tag="sweeps",
         doc="Replace a sweep's config, keeping the old as an earlier version (the metric's name cannot "
             "change); `changes` says what it does, `dry_run` only says it."),
    call("config_versions", "GET /sweeps/{sweep_id}/versions", list[t.ConfigVersion], key="versions",
         tag="sweeps", doc="Every version of the sweep's config, oldest first, with its time and what it changed."),
    call("import_runs", "POST /sweeps/{sweep_id}/import", t.ImportResult,
         Arg("rows", Annotated[list[dict[str, Any]], Rule(max_length=100_000,
             description='Each {"params": {...}, "metrics": {...}, "name"?, "label"?}.')], check=as_dicts),
         Arg("source", Annotated[str, Rule(min_length=1, max_length=255, pattern=NO_NUL)]),
         retry=NEVER, scope=ADMIN, tag="sweeps",  # a second call would import the rows twice
         doc="Add finished results made elsewhere as imported runs; rows that do not fit are refused."),
    call("control_sweep", "POST /sweeps/{sweep_id}/control", t.SweepInfo, Arg("action", SweepAction),
         retry=NEVER, safe_if=_stop_or_cancel, scope=ADMIN, tag="sweeps",
         doc="Pause, resume, stop or cancel a sweep."),
    call("retry_runs", "POST /sweeps/{sweep_id}/retry", t.RetryResult,
         Arg("states", Annotated[list[RunState], Rule(
             description="Which unsuccessful states to retry (default failed, crashed, killed).")],
             None, check=check_retry_states),
         retry=NEVER, scope=ADMIN, tag="sweeps",  # a second call would find the first one's runs retried
         doc="Queue the parameters of the sweep's unsuccessful runs again, as new runs handed out first."),
    call("queue_points", "POST /sweeps/{sweep_id}/queue", list[t.RunInfo],
         Arg("points", Annotated[list[dict[str, Any]], Rule(min_length=1, max_length=10_000,
             description="Each a parameter -> value mapping.")], check=check_points),
         key="runs", retry=NEVER, scope=ADMIN, tag="sweeps", logged=("runs.*.summary",),
         doc="Queue points (checked against the sweep's space) as runs handed out before the method's."),
    call("scheduler_heartbeat", "POST /sweeps/{sweep_id}/scheduler", t.SweepInfo,
         Arg("host", Annotated[str, Rule(max_length=1000)]),
         Arg("pid", Annotated[int, Rule(ge=0, le=INT32)]),
         scope=ADMIN, tag="sweeps",  # safe to repeat: it only dates the scheduler's last word
         doc="The sweep's user scheduler process (`sweepkit scheduler`) is alive; the sweep says so."),
    call("delete_runs", "POST /sweeps/{sweep_id}/runs/delete", list[str],
         Arg("run_ids", Annotated[list[Id], Rule(max_length=10_000)]),
         key="deleted", retry=NEVER, scope=ADMIN, tag="sweeps",
         doc="Delete these runs of the sweep and their history, all or none."),
    # --- agents -----------------------------------------------------------------------------------
    call("register_agent", "POST /sweeps/{sweep_id}/agents", str,
         Arg("host", Annotated[str, Rule(max_length=1000)]),
         Arg("pid", Annotated[int, Rule(ge=0, le=INT32)]),
         Arg("workdir", Annotated[str, Rule(max_length=4096, description="Where the agent runs its runs.")],
             None, check=check_workdir),
         Arg("slots", Annotated[
             list[Annotated[list[Annotated[str, Rule(min_length=1, max_length=64)]], Rule(max_length=64)]],
             Rule(max_length=1024, description="For each run the agent runs at once, the GPUs it gives it.")],
             None, check=check_slots),
         # safe to repeat: a second registration leaves only an idle agent record behind
         key="agent_id", status=201, scope=AGENT, tag="agents", doc="Record an agent working on the sweep."),
    call("list_agents", "GET /sweeps/{sweep_id}/agents", list[t.AgentInfo], key="agents", tag="agents",
         doc="The sweep's agents: host, pid, state, last heartbeat, working directory, GPUs per slot."),
    call("claim_run", "POST /sweeps/{sweep_id}/claims", t.Claim,
         Arg("agent_id", Id),
         Arg("claim_key", Annotated[str, Rule(min_length=1, max_length=64,
             description="The agent's name for this claim: the same key returns the same run.")],
             check=check_claim_key),
         Arg("slot", Annotated[int, Rule(ge=1, le=1024, description="The agent's slot the run is for.")],
             None, check=check_slot),
         retry=KEYED, scope=AGENT, tag="agents", bound=("agent_id",),
         doc="The sweep's next run for the agent, exactly once across agents; the same key returns the same run."),
    call("heartbeat", "POST /agents/{agent_id}/heartbeat", list[t.RunControl],
         Arg("run_ids", Annotated[list[Id], Rule(max_length=10_000)], []),
         key="runs", scope=AGENT, tag="agents", bound=("agent_id", "run_ids"),
         doc="The agent and these runs are alive (database clock); whether each run should stop."),
    call("agent_finished", "POST /agents/{agent_id}/finished", None, scope=AGENT, tag="agents",
         bound=("agent_id",), doc="The agent has stopped."),
    # --- runs -------------------------------------------------------------------------------------
    call("start_run", "POST /runs", t.RunInfo,
         Arg("project", Label, None), Arg("name", Label, None), Arg("config", Config, None),
         status=201, retry=NEVER, scope=AGENT, tag="runs", logged=("summary",),
         doc="Record a run outside any sweep."),
    call("log", "POST /runs/{run_id}/logs", t.LogAck,
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
         doc="A batch of the run's rows, summary, config or name; a batch whose `seq` was applied is skipped."),
    call("finish_run", "POST /runs/{run_id}/finish", t.RunInfo,
         Arg("state", Annotated[RunState, Rule(
             description="A terminal state (finished, failed, crashed, killed, preempted).")]),
         Arg("exit_code", Annotated[int, Rule(ge=-INT32 - 1, le=INT32)], None),
         Arg("error", str, None),
         scope=AGENT, tag="runs", logged=("summary",), bound=("run_id",),
         doc="End a run in a terminal state (idempotent: an ended run keeps its state)."),
    # --- queries ----------------------------------------------------------------------------------
    call("get_run", "GET /runs/{run_id}", t.RunInfo, tag="runs", logged=("summary",), doc="One run."),
    call("list_runs", "GET /sweeps/{sweep_id}/runs", t.RunPage,
         Arg("state", list[RunState], None, param="states"),
         Arg("after", Annotated[int, Rule(ge=-INT32 - 1, le=INT32)], None),
         Arg("limit", Annotated[int, Rule(ge=1, le=100_000)], None),
         tag="runs", logged=("runs.*.summary",),
         doc="The sweep's runs in run-number order, after run number `after`; `next_after` continues."),
    call("history", "GET /runs/{run_id}/history", t.HistoryPage,
         Arg("after", Step, None), Arg("limit", Annotated[int, Rule(ge=1, le=100_000)], 1000,
                                       check=check_history_limit),
         tag="runs", logged=("rows",),
         doc="The run's logged rows after step `after`, in step order; `next_after` continues."),
    call("metric_series", "POST /series", dict[str, list[tuple[int, Any]]],
         Arg("run_ids", Annotated[list[Id], Rule(max_length=10_000)]),
         Arg("key", Annotated[str, Rule(min_length=1, max_length=10_000, pattern=NO_NUL)]),
         Arg("after", dict[str, Step], None),
         key="series", tag="runs", logged=("series",),
         doc="For each run, `[step, value]` of its rows that logged `key` (after its step in `after`)."),
    call("run_output", "GET /runs/{run_id}/output", t.RunOutput, tag="runs",
         doc="What a program run printed: its first and newest characters, and how many there were."),
    call("run_command", "GET /runs/{run_id}/command", str | None, key="command", tag="runs",
         doc="The command the run's agent was told to run, as one line (null outside a sweep)."),
    call("best_runs", "GET /sweeps/{sweep_id}/best", list[t.RankedRun],
         Arg("limit", Annotated[int, Rule(ge=0, le=INT32)], None),
         key="runs", tag="runs", logged=("runs.*.run.summary",),
         doc="The sweep's finished runs best first, each with its rank (empty without a metric)."),
    call("band_thresholds", "GET /sweeps/{sweep_id}/thresholds", list[t.BandThreshold], key="thresholds",
         tag="runs", doc="The stopping rule's bands that runs reached, each with its threshold now."),
    # --- tokens -----------------------------------------------------------------------------------
    call("create_token", "POST /tokens", t.NewToken,
         Arg("scope", Literal["read", "agent", "admin"]), Arg("name", Label, None),
         status=201, retry=NEVER, scope=ADMIN, what="managing tokens", tag="tokens",
         doc="A new token; its secret is in this answer only."),
    call("list_tokens", "GET /tokens", list[t.TokenInfo], key="tokens", scope=ADMIN, what="managing tokens",
         tag="tokens", doc="Every token (never a secret), revoked ones too."),
    call("revoke_token", "DELETE /tokens/{token_id}", t.TokenInfo, scope=ADMIN, what="managing tokens",
         tag="tokens", doc="Revoke a token: it stops working at once."),
)
# fmt: on

#: Each call by its name.
BY_NAME: dict[str, Call] = {c.name: c for c in CALLS}

"""The data that crosses the sweep service's seam: plain dataclasses that serialise to JSON.

Every call of ``SweepService`` takes and returns these (or str, int, None and lists of them); none
holds a callable or a database object, so an HTTP transport carries them as they are
(``to_json`` / ``from_json``).
"""

from __future__ import annotations

import dataclasses
import enum
import sys
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sweepkit.runs import MetricStats, Objective, RunState, SweepAction, SweepState
from sweepkit.runs.agent import AgentInfo as AgentInfo  # crosses the seam as the store keeps it
from sweepkit.values import BAD_KEY, json_safe


@dataclass(frozen=True)
class StoppingRule:
    """A sweep's early-termination rule as the service applies it (W&B's hyperband)."""

    #: "hyperband".
    kind: str
    #: The objective whose values it compares (the sweep's first).
    objective: str
    #: The iterations at which runs are compared, ascending (those up to 10,000).
    bands: list[int]
    eta: float
    #: Compare a run's value at its latest band (true), or its best value so far (false).
    strict: bool


@dataclass(frozen=True)
class Condition:
    """One key of a conditional parameter's ``when``: its parent (a flat name) holds one of
    ``values``, or lies in ``low..high`` (a range condition; either end may be None)."""

    parent: str
    values: list[Any] | None = None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Parameter:
    """One swept parameter as the service's search space knows it."""

    #: The flat dotted name (``optimizer.lr``), as ``RunInfo.params`` names it.
    name: str
    #: "number" (drawn from a range), "category" (one of ``values``) or "constant".
    kind: str
    #: Drawn on a log scale; only whole numbers.
    log: bool = False
    integer: bool = False
    #: A category's values in the config's order, or the constant's value alone; None for numbers.
    values: list[Any] | None = None
    #: A number's range, when the distribution has one.
    low: float | None = None
    high: float | None = None
    #: It exists only when every condition holds (``when``: its own and its nested groups');
    #: empty for a parameter every run has.
    when: list[Condition] = field(default_factory=list)


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep's config means, as the service decided it once: clients read this and never
    parse the config for meaning."""

    method: str
    #: What the sweep optimises (W&B's ``metric``: one), in order; empty without a metric.
    objectives: list[Objective] = field(default_factory=list)
    stopping: StoppingRule | None = None
    parameters: list[Parameter] = field(default_factory=list)
    run_cap: int | None = None

    @property
    def objective(self) -> Objective | None:
        """The first objective (the one hyperband judges), or None without a metric."""
        return self.objectives[0] if self.objectives else None


@dataclass(frozen=True)
class ConfigWarning:
    """Something in a sweep's config that runs, but perhaps not as meant, at its key path
    (``parameters.x.values[1]``): the client places it at its file's line."""

    path: str
    message: str


@dataclass(frozen=True)
class SchedulerInfo:
    """The user's scheduler process of a sweep whose config names ``scheduler.source`` (``sweepkit
    scheduler``): it queues the runs the agents claim."""

    #: "waiting" (none has started yet), "alive" (heard from within the heartbeat timeout) or "gone".
    state: str
    host: str | None = None
    pid: int | None = None
    #: When it was last heard from (the database's clock); None before one started.
    seen_at: datetime | None = None
    #: Seconds of silence after which the service calls it gone (its heartbeat timeout): the
    #: process beats well within it.
    timeout_s: float | None = None

    @property
    def where(self) -> str:
        return f"{self.host}, pid {self.pid}"

    @property
    def last_heard(self) -> str:
        return f"{self.seen_at:%Y-%m-%d %H:%M:%S} UTC" if self.seen_at else "long ago"


@dataclass(frozen=True)
class SweepInfo:
    """A sweep: its config (validated and filled in), what it means (``plan``), state and counts."""

    id: str
    name: str | None
    project: str | None
    entity: str | None
    state: SweepState
    #: Why the sweep is finished, stopped or cancelled (None while running or paused).
    state_reason: str | None
    method: str
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    #: Runs handed out so far (the numbers 1..run_count).
    run_count: int
    #: Runs by state, e.g. {"finished": 10, "running": 2}.
    runs_by_state: dict[str, int] = field(default_factory=dict)
    #: How many runs the sweep will hand out at most: its ``run_cap``, else its grid's size; None when
    #: open-ended.
    planned_runs: int | None = None
    #: Agents working on it now (registered, not finished, heard from recently).
    live_agents: int = 0
    #: The config as its author wrote it (the file's text), when the client gave it; ``config`` is the
    #: same config validated and filled in.
    source: str | None = None
    #: The config's meaning: objectives, stopping rule, parameters.
    plan: SweepPlan = field(default_factory=lambda: SweepPlan(method=""))
    #: What can be done to the sweep in its state now (``control_sweep``).
    actions: list[SweepAction] = field(default_factory=list)
    #: The warnings about the config as given, on the answer of ``create_sweep`` and ``update_sweep``
    #: (the service validates a config once, when it is given; empty elsewhere).
    warnings: list[ConfigWarning] = field(default_factory=list)
    #: True in ``list_sweeps`` answers for a config too large to list (``LIST_CONFIG_BYTES``):
    #: ``config`` and ``source`` are then empty and ``plan`` has no parameters (``get_sweep`` has them).
    config_omitted: bool = False
    #: On the answer of ``update_sweep``: what the new config does to the sweep, one sentence each
    #: (also when it was only previewed, ``dry_run``).
    changes: list[str] = field(default_factory=list)
    #: The user's scheduler process, for a sweep whose config names ``scheduler.source``; else None.
    scheduler: SchedulerInfo | None = None


@dataclass(frozen=True)
class RunInfo:
    """A run, as every query shows it."""

    id: str
    sweep_id: str | None
    #: 1, 2, ... within its sweep; None for a run outside a sweep.
    number: int | None
    name: str | None
    project: str | None
    state: RunState
    #: The sweep's parameters under flat dotted names (``optimizer.lr``).
    params: dict[str, Any]
    #: ``run.config`` as the program saw it (nested groups as dicts).
    config: dict[str, Any]
    #: The last logged value of each key, and what the program set itself.
    summary: dict[str, Any]
    #: Aggregates of the sweep metric's values (count, last, min, max, band values).
    metric: MetricStats
    last_step: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    exit_code: int | None
    agent_id: str | None
    stop_requested: bool
    stop_reason: str | None
    stop_info: dict[str, Any] | None
    #: Why the search method chose these parameters (grid index, bayes prediction, ...).
    suggestion: dict[str, Any]
    #: How the run failed: its first line says why in one line (exit code and last output line, or
    #: the exception); the rest holds the details (the last lines of its output, a traceback).
    error: str | None
    #: The run this one re-runs (``retry_runs``), and the run that re-runs this one.
    retry_of: str | None = None
    retried_by: str | None = None
    #: The run's value for each objective of its sweep, as the service judges it (None: no value
    #: yet); what runs are ranked by (``SweepService.best_runs``).
    objective_values: dict[str, float | None] = field(default_factory=dict)
    #: The slot of its agent it ran in (1, 2, ...; None when the agent did not say).
    slot: int | None = None

    def value(self, objective: Objective | str | None) -> float | None:
        """The run's value for ``objective`` (or its name), None without one."""
        if objective is None:
            return None
        return self.objective_values.get(objective if isinstance(objective, str) else objective.name)

    @property
    def reason(self) -> str | None:
        """Why the run did not finish (or finished with no value of its sweep's metric), in one line: its
        error's first line, else its stop reason; for a run the method did not suggest, where it came
        from (queued, imported)."""
        if self.error and self.error.strip():
            return self.error.strip().splitlines()[0]
        if self.stop_reason:
            return self.stop_reason
        if self.origin == "queued":
            return "queued point (sweep --add)" if self.state == RunState.PENDING else "a queued point"
        if self.origin == "imported":
            return f"imported from {self.suggestion['imported']}"
        return None

    @property
    def origin(self) -> str | None:
        """Where the run came from when the search method did not suggest it: "queued" (a point given
        with ``queue_points``), "imported" (``import_runs``) or "retry"; None otherwise."""
        if self.suggestion.get("imported"):
            return "imported"
        if self.suggestion.get("queued"):
            return "queued"
        return "retry" if self.retry_of else None

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to finish; to the last heartbeat for a crashed run; to now while running."""
        start = self.started_at or self.created_at
        if start is None:
            return None
        if self.state == RunState.CRASHED and self.heartbeat_at is not None:
            end = self.heartbeat_at
        else:
            end = self.finished_at or datetime.now(timezone.utc)
        return max(0.0, (end - start).total_seconds())


@dataclass(frozen=True)
class RankedRun:
    """A run and its rank among its sweep's finished runs: its place by the objective (1 = best), or
    with several objectives the Pareto front it lies on (1 = not dominated)."""

    run: RunInfo
    rank: int


@dataclass(frozen=True)
class BandThreshold:
    """A stopping band now: its iteration, the threshold a run's value there must not be worse than,
    and how many runs reached it."""

    band: int
    threshold: float
    runs: int


@dataclass(frozen=True)
class RetryResult:
    """The answer to ``retry_runs``: the new runs queued, and the sweep afterwards."""

    #: The id of each retried run -> the id of the new run that re-runs its parameters.
    retried: dict[str, str]
    sweep: SweepInfo


@dataclass(frozen=True)
class ImportResult:
    """The answer to ``import_runs``: the runs kept (finished, marked imported) and the rows refused."""

    #: The ids of the new runs, in the order of the rows kept.
    imported: list[str]
    #: One sentence per refused row: its label (``line 12``, ``row 3``), the parameter and what was expected.
    refused: list[str]
    sweep: SweepInfo


@dataclass(frozen=True)
class ConfigVersion:
    """One version of a sweep's config: what it was from ``created_at`` on, and what the change did."""

    #: 1 for the config the sweep was created with, then 2, 3, ...
    version: int
    created_at: datetime
    config: dict[str, Any]
    #: The config as its author wrote it (a file's text), when the client gave it.
    source: str | None = None
    #: What changing to this version did to the sweep, one sentence each (empty for version 1).
    changes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Assignment:
    """A claimed run, ready to run: what the agent needs and nothing it must look up."""

    run_id: str
    run_name: str
    run_number: int
    sweep_id: str
    project: str | None
    entity: str | None
    #: Flat dotted names, as stored.
    params: dict[str, Any]
    #: The sweep's values as ``run.config`` shows them (nested groups as dicts).
    config: dict[str, Any]
    #: The rendered command as parts (``sweepkit.command_template.render_parts``): the agent fills
    #: in its own macros with ``localize``. None when it cannot be rendered (see ``command_error``).
    command: list[list[Any]] | None
    command_error: str | None
    #: Whether the command needs the parameters' JSON file (``${args_json_file}``).
    needs_args_json_file: bool
    #: Environment variables for the run (W&B's and sweepkit's names; never a secret).
    env: dict[str, str]
    #: The sweep's metric (None without one) and the iterations hyperband compares at.
    metric_name: str | None


@dataclass(frozen=True)
class Claim:
    """The answer to a claim: a run (``status == "claimed"``) or why there is none."""

    #: "claimed", or the sweep's state when it hands out nothing ("paused", "finished", ...), or
    #: "waiting": the sweep's user scheduler has queued nothing yet (``reason`` says whether it is
    #: alive); the agent asks again, as while paused.
    status: str
    reason: str | None = None
    assignment: Assignment | None = None

    CLAIMED: typing.ClassVar[str] = "claimed"
    WAITING: typing.ClassVar[str] = "waiting"


@dataclass(frozen=True)
class LogBatch:
    """What a run reported since its last batch.

    ``seq`` numbers a run's batches 1, 2, 3...: a batch whose number was applied already is a retry
    and changes nothing. ``rows`` hold ``_step`` (rows at or before the run's newest stored step are
    dropped, as W&B does); ``summary`` holds values the program set itself; ``config`` replaces
    ``run.config``; ``name`` renames the run.
    """

    seq: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    name: str | None = None
    #: What the run printed since its last batch (the service keeps its head and newest tail).
    output: str | None = None


@dataclass(frozen=True)
class LogAck:
    """The answer to a log batch, and whether the run should stop."""

    applied: bool
    stop_requested: bool
    stop_reason: str | None
    state: RunState
    #: Rows dropped because their step was not after the run's newest stored step.
    dropped: int = 0


@dataclass(frozen=True)
class RunControl:
    """A heartbeat's answer for one run: its state and whether it should stop."""

    run_id: str
    state: RunState
    stop_requested: bool
    stop_reason: str | None


@dataclass(frozen=True)
class RunOutput:
    """What a run printed: its first and its newest characters, and how many there were in all."""

    head: str
    tail: str
    size: int

    @property
    def truncated(self) -> bool:
        return self.size > len(self.head) + len(self.tail)

    @property
    def text(self) -> str:
        """The head and the tail, with a line saying how much lies between them."""
        if not self.truncated:
            return self.head + self.tail
        skipped = self.size - len(self.head) - len(self.tail)
        return f"{self.head}\n[... {skipped} characters not kept ...]\n{self.tail}"


@dataclass(frozen=True)
class RunPage:
    """A page of a sweep's runs in run-number order; ``next_after`` continues it (None: the end)."""

    runs: list[RunInfo]
    next_after: int | None


@dataclass(frozen=True)
class HistoryPage:
    """A page of a run's logged rows in step order (``_step`` in each); ``next_after`` continues it."""

    rows: list[dict[str, Any]]
    next_after: int | None


@dataclass(frozen=True)
class TokenInfo:
    """An access token of a sweepkit server, as listed (its secret is never stored, only a hash).

    ``scope`` is "read" (queries), "agent" (also claim, log, heartbeat, finish) or "admin" (also
    create and control sweeps, and manage tokens).
    """

    id: str
    name: str | None
    scope: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``secret`` is shown this once (give it to clients as SWEEPKIT_TOKEN)."""

    token: TokenInfo
    secret: str


# --- JSON --------------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """A service value as JSON data (dataclasses as objects, datetimes as ISO text; floats kept)."""
    return json_safe(value, nonfinite="keep", on_bad=_not_a_service_value)


def _not_a_service_value(path: tuple[Any, ...], problem: str, value: Any) -> Any:
    if problem == BAD_KEY:
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"not a service value: {type(value).__name__}")


def from_json(kind: Any, data: Any) -> Any:
    """Rebuild a value of type ``kind`` (a service type, or a typing form of them) from ``to_json``."""
    if data is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return from_json(options[0], data) if len(options) == 1 else data
    if origin is tuple and Ellipsis not in typing.get_args(kind):
        return tuple(from_json(item, v) for item, v in zip(typing.get_args(kind), data, strict=True))
    if origin in (list, tuple):
        (item,) = typing.get_args(kind)[:1] or (Any,)
        return [from_json(item, v) for v in data]
    if origin is dict and typing.get_args(kind)[-1] not in _AS_IS:  # values to rebuild, not plain data
        return {k: from_json(typing.get_args(kind)[-1], v) for k, v in data.items()}
    if origin is dict or kind in _AS_IS:
        return data
    if kind is datetime:
        return datetime.fromisoformat(data)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(data)
    if hasattr(kind, "from_json"):
        return kind.from_json(data)
    if dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        for name in _REQUIRED[kind]:  # an answer of another version: say which field it lacks
            if name not in data:
                raise KeyError(name)
        return kind(
            **{
                f.name: from_json(hints[f.name], data[f.name])
                for f in dataclasses.fields(kind)
                if f.init and f.name in data
            }
        )
    raise TypeError(f"not a service type: {kind!r}")


#: Types whose JSON data is their value.
_AS_IS = (Any, str, int, float, bool, dict, list)
_HINTS: dict[type, dict[str, Any]] = {}


_REQUIRED: dict[type, tuple[str, ...]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
        _REQUIRED[cls] = tuple(
            f.name
            for f in dataclasses.fields(cls)
            if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        )
    return _HINTS[cls]

"""The bodies the HTTP API accepts and answers, as pydantic models (for checking and for the OpenAPI
document).

Answers are the service's own dataclasses (``sweepkit.service.types``), or small objects wrapping
them, documented from them and written by ``sweepkit.service.wire.dumps``. Limits follow the store: labels fit its 255-character
columns, integers its 32- and 64-bit columns; text never holds NUL (PostgreSQL cannot store it).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sweepkit.runs import RunState, SweepAction
from sweepkit.service.types import AgentInfo, BandThreshold, RankedRun, RunControl, SweepInfo, TokenInfo

INT32 = 2**31 - 1
INT64 = 2**63 - 1
NO_NUL = r"^[^\x00]*$"

#: A sweep, run, agent or token id (any text but NUL: an unknown one is "not found").
Id = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
#: A project, entity or name: text of at most 255 characters without NUL (the service judges it, with
#: the same sentence as locally).
Label = Annotated[str, Field(description="At most 255 characters, no NUL.")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateSweep(_Body):
    config: dict[str, Any] = Field(description="A W&B sweep config, as data.")
    project: Label | None = None
    entity: Label | None = None
    name: Label | None = None
    source: str | None = Field(default=None, description="The config as its author wrote it (a file's text).")


class UpdateSweep(_Body):
    config: dict[str, Any]
    source: str | None = None


class ControlSweep(_Body):
    action: SweepAction


class RegisterAgent(_Body):
    host: Annotated[str, Field(max_length=1000)]
    pid: Annotated[int, Field(ge=0, le=INT32)]
    workdir: Annotated[str | None, Field(max_length=4096, description="Where the agent runs its runs.")] = (
        None
    )
    slots: Annotated[
        list[Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=64)]]
        | None,
        Field(max_length=1024, description="For each run the agent runs at once, the GPUs it gives it."),
    ] = None


class ClaimRun(_Body):
    agent_id: Id
    slot: Annotated[int | None, Field(ge=1, le=1024, description="The agent's slot the run is for.")] = None
    claim_key: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            description="The agent's name for this claim: the same key returns the same run.",
        ),
    ]


class Heartbeat(_Body):
    run_ids: Annotated[list[Id], Field(max_length=10_000)] = []


class LogBatchBody(_Body):
    seq: Annotated[
        int, Field(ge=1, le=INT64, description="1, 2, 3... per run: a batch already applied is skipped.")
    ]
    rows: list[dict[str, Any]] = Field(
        default_factory=list,
        description='Rows with an integer "_step"; "NaN", "Infinity" and "-Infinity" stand for those floats.',
    )
    summary: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    name: Annotated[str, Field(max_length=10_000)] | None = None
    output: str | None = Field(default=None, description="What the run printed since its last batch.")


class FinishRun(_Body):
    state: RunState = Field(description="A terminal state (finished, failed, crashed, killed, preempted).")
    exit_code: Annotated[int, Field(ge=-INT32 - 1, le=INT32)] | None = None
    error: str | None = None


class StartRun(_Body):
    project: Label | None = None
    name: Label | None = None
    config: dict[str, Any] | None = None


class RetryRuns(_Body):
    states: list[RunState] | None = Field(
        default=None, description="Which unsuccessful states to retry (default failed, crashed, killed)."
    )


class DeleteRuns(_Body):
    run_ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]], Field(max_length=10_000)
    ]


class DeletedRuns(BaseModel):
    deleted: list[str]


class MetricSeries(_Body):
    run_ids: Annotated[list[Id], Field(max_length=10_000)]
    key: Annotated[str, Field(min_length=1, max_length=10_000, pattern=NO_NUL)]
    after: dict[str, Annotated[int, Field(ge=-(2**63), le=INT64)]] | None = None


class SeriesAnswer(BaseModel):
    series: dict[str, list[list[Any]]] = Field(description="Each run: [step, value] pairs in step order.")


class CreateToken(_Body):
    scope: Literal["read", "agent", "admin"]
    name: Label | None = None


# --- answers that wrap the service's types -------------------------------------------------------


class AgentId(BaseModel):
    agent_id: str


class SweepList(BaseModel):
    sweeps: list[SweepInfo]


class RunControls(BaseModel):
    runs: list[RunControl]


class Agents(BaseModel):
    agents: list[AgentInfo]


class BestRuns(BaseModel):
    runs: list[RankedRun]


class Thresholds(BaseModel):
    thresholds: list[BandThreshold]


class RunCommand(BaseModel):
    command: str | None


class TokenList(BaseModel):
    tokens: list[TokenInfo]


class Health(BaseModel):
    status: str
    version: str


class Ok(BaseModel):
    ok: bool = True


class ErrorDetail(BaseModel):
    type: str = Field(
        description="The sweepkit error class (NotFoundError, ConflictError, ConfigError, ...)."
    )
    message: str = Field(description="One sentence for people.")
    status: int
    problems: list[dict[str, Any]] | None = Field(None, description="A ConfigError's problems.")
    warnings: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """The one shape of every error answer."""

    error: ErrorDetail

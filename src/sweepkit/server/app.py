"""The HTTP API: one route under ``/api/v1`` per call of the sweep service, and one error shape.

Routes call the local service (``LocalSweepService``) and answer with its dataclasses as strict JSON
(``sweepkit.service.wire``). Every error is ``{"error": {"type", "message", "status"}}``: a
sweepkit error keeps its class name and sentence (with the server's address where the store's
location would be), a malformed request is a 422 naming the field, and an unexpected failure is a
500 that says little and is logged in full. The OpenAPI document is at ``/api/v1/openapi.json``.

Handlers are plain functions: Starlette runs them on a bounded thread pool (``threads``), fewer
threads than the store has pooled connections, so that no request waits for a connection.
"""

from __future__ import annotations

import logging
import re
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from sweepkit import __version__
from sweepkit.errors import SweepkitError
from sweepkit.runs import RunState
from sweepkit.server import models as m
from sweepkit.server.auth import Guard, Refused
from sweepkit.server.body import DEFAULT_MAX_BYTES, limited_route
from sweepkit.service.types import (
    Claim,
    HistoryPage,
    LogAck,
    LogBatch,
    NewToken,
    RetryResult,
    RunInfo,
    RunOutput,
    RunPage,
    SweepInfo,
    TokenInfo,
)
from sweepkit.service.wire import API_PREFIX, dumps, error_body, exception_body
from sweepkit.values import logged_data

log = logging.getLogger("sweepkit.server")

#: Handler threads at once (the store's pool holds 15 connections: 5, and 10 more on demand).
DEFAULT_THREADS = 12


_ERRORS = {
    status: {"model": m.ErrorBody, "description": description}
    for status, description in {
        400: "Not possible as asked (SweepkitError), or a body that is not JSON",
        401: "No token, or an unknown or revoked one (AccessDenied)",
        403: "The token's scope does not allow this (AccessDenied)",
        404: "No such sweep, run, agent or token (NotFoundError)",
        409: "Not in the sweep's or run's current state (ConflictError)",
        410: "The server's store was deleted or replaced (StoreGone)",
        413: "The body is larger than the server's limit",
        422: "A malformed request, or an invalid sweep config (ConfigError)",
        429: "Too many failed attempts from this address",
        500: "An unexpected failure (logged on the server)",
        503: "The server's store is busy or unreachable (StoreUnavailable): try again",
        507: "The server's store is full (StoreFull): writes fail until space is freed; try again later",
    }.items()
}

_PATH_ID = {"min_length": 1, "max_length": 200, "pattern": m.NO_NUL}
SweepId = Annotated[str, Path(**_PATH_ID)]
RunId = Annotated[str, Path(**_PATH_ID)]
AgentPathId = Annotated[str, Path(**_PATH_ID)]
TokenId = Annotated[str, Path(**_PATH_ID)]
QueryLabel = Annotated[str | None, Query(max_length=1000, pattern=m.NO_NUL)]


def create_app(
    service: Any,
    *,
    max_body_bytes: int = DEFAULT_MAX_BYTES,
    threads: int = DEFAULT_THREADS,
    guard: Guard | None = None,
) -> FastAPI:
    """The API over ``service`` (a ``LocalSweepService``)."""
    guard = guard or Guard(service)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        try:
            await anyio.to_thread.run_sync(guard.required)  # learn once whether tokens are needed
        except SweepkitError:
            pass  # the store is not answering yet: each request's own check finds out
        yield

    app = FastAPI(
        title="sweepkit",
        version=__version__,
        summary="Self-hosted hyperparameter sweeps: the sweep service over HTTP.",
        description=(
            "Every call of sweepkit's sweep service. Send a token as `Authorization: Bearer TOKEN` "
            "(scopes: read < agent < admin). Logged data (summaries, history rows) writes non-finite "
            'floats as the texts "NaN", "Infinity" and "-Infinity". Every error answer is '
            '`{"error": {"type", "message", "status"}}`.'
        ),
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
        lifespan=lifespan,
    )

    # A request without a token is refused before anything else (``present``, on the event loop); the
    # token itself is looked up inside each handler, on the handler's own thread (a dependency would
    # cost a second hop to the thread pool). HTTPBearer only documents the scheme.
    async def present(request: Request) -> None:
        if "authorization" not in request.headers and guard.known_required():  # no store access here
            guard.check("", None, "read", "")

    bearer = [
        Depends(HTTPBearer(auto_error=False, description="A token from `sweepkit token create`.")),
        Depends(present),
    ]

    def allow(request: Request, scope: str, what: str) -> None:
        client = request.client.host if request.client else "unknown"
        guard.check(client, request.headers.get("authorization"), scope, what)

    read = ("read", "reading sweeps and runs")
    agent = ("agent", "running agents and runs")
    admin = ("admin", "creating or controlling sweeps")
    token_admin = ("admin", "managing tokens")

    # Routes go on the application's own router: an included router is matched anew on every request.
    app.router.route_class = limited_route(max_body_bytes)

    def route(method: str, path: str, **options: Any):
        return app.api_route(API_PREFIX + path, methods=[method], responses=_ERRORS, **options)

    # --- sweeps -----------------------------------------------------------------------------------

    @route("POST", "/sweeps", status_code=201, response_model=SweepInfo, dependencies=bearer, tags=["sweeps"])
    def create_sweep(request: Request, body: m.CreateSweep) -> Response:
        """Validate a sweep config and start a sweep (project, entity and name win over the config's)."""
        allow(request, *admin)
        info = service.create_sweep(
            body.config, project=body.project, entity=body.entity, name=body.name, source=body.source
        )
        return _json(info, 201)

    @route("GET", "/sweeps", response_model=m.SweepList, dependencies=bearer, tags=["sweeps"])
    def list_sweeps(request: Request, project: QueryLabel = None) -> Response:
        """Every sweep (of a project), newest first."""
        allow(request, *read)
        return _json({"sweeps": service.list_sweeps(project=project)})

    @route("GET", "/sweeps/{sweep_id}", response_model=SweepInfo, dependencies=bearer, tags=["sweeps"])
    def get_sweep(
        request: Request, sweep_id: SweepId, project: QueryLabel = None, entity: QueryLabel = None
    ) -> Response:
        """One sweep, with its runs' counts by state; 404 when it belongs to another project or entity."""
        allow(request, *read)
        return _json(service.get_sweep(sweep_id, project=project, entity=entity))

    @route("PUT", "/sweeps/{sweep_id}/config", response_model=SweepInfo, dependencies=bearer, tags=["sweeps"])
    def update_sweep(request: Request, sweep_id: SweepId, body: m.UpdateSweep) -> Response:
        """Replace a sweep's config (its method and metric name cannot change)."""
        allow(request, *admin)
        return _json(service.update_sweep(sweep_id, body.config, source=body.source))

    @route(
        "POST", "/sweeps/{sweep_id}/control", response_model=SweepInfo, dependencies=bearer, tags=["sweeps"]
    )
    def control_sweep(request: Request, sweep_id: SweepId, body: m.ControlSweep) -> Response:
        """Pause, resume, stop or cancel a sweep."""
        allow(request, *admin)
        return _json(service.control_sweep(sweep_id, body.action))

    @route("GET", "/sweeps/{sweep_id}/runs", response_model=RunPage, dependencies=bearer, tags=["runs"])
    def list_runs(
        request: Request,
        sweep_id: SweepId,
        state: Annotated[list[RunState] | None, Query()] = None,
        after: Annotated[int | None, Query(ge=-m.INT32 - 1, le=m.INT32)] = None,
        limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    ) -> Response:
        """The sweep's runs in run-number order, after run number ``after``; ``next_after`` continues."""
        allow(request, *read)
        return _json(service.list_runs(sweep_id, states=state, after=after, limit=limit))

    @route("GET", "/sweeps/{sweep_id}/best", response_model=m.BestRuns, dependencies=bearer, tags=["runs"])
    def best_runs(
        request: Request, sweep_id: SweepId, limit: Annotated[int | None, Query(ge=0, le=m.INT32)] = None
    ) -> Response:
        """The sweep's finished runs best first, each with its rank (empty without a metric)."""
        allow(request, *read)
        return _json({"runs": service.best_runs(sweep_id, limit=limit)})

    @route(
        "GET",
        "/sweeps/{sweep_id}/thresholds",
        response_model=m.Thresholds,
        dependencies=bearer,
        tags=["runs"],
    )
    def band_thresholds(request: Request, sweep_id: SweepId) -> Response:
        """The stopping rule's bands that runs reached, each with its threshold now."""
        allow(request, *read)
        return _json({"thresholds": service.band_thresholds(sweep_id)})

    @route("GET", "/runs/{run_id}/command", response_model=m.RunCommand, dependencies=bearer, tags=["runs"])
    def run_command(request: Request, run_id: RunId) -> Response:
        """The command the run's agent was told to run, as one line (null outside a sweep)."""
        allow(request, *read)
        return _json({"command": service.run_command(run_id)})

    # --- agents -----------------------------------------------------------------------------------

    @route(
        "POST",
        "/sweeps/{sweep_id}/agents",
        status_code=201,
        response_model=m.AgentId,
        dependencies=bearer,
        tags=["agents"],
    )
    def register_agent(request: Request, sweep_id: SweepId, body: m.RegisterAgent) -> Response:
        """Record an agent working on the sweep."""
        allow(request, *agent)
        agent_id = service.register_agent(
            sweep_id, host=body.host, pid=body.pid, workdir=body.workdir, slots=body.slots
        )
        return _json({"agent_id": agent_id}, 201)

    @route("GET", "/sweeps/{sweep_id}/agents", response_model=m.Agents, dependencies=bearer, tags=["agents"])
    def list_agents(request: Request, sweep_id: SweepId) -> Response:
        """The sweep's agents: host, pid, state, last heartbeat, working directory, GPUs per slot."""
        allow(request, *read)
        return _json({"agents": service.list_agents(sweep_id)})

    @route("POST", "/sweeps/{sweep_id}/claims", response_model=Claim, dependencies=bearer, tags=["agents"])
    def claim_run(request: Request, sweep_id: SweepId, body: m.ClaimRun) -> Response:
        """The sweep's next run for the agent, exactly once across agents; the same key returns the same run."""
        allow(request, *agent)
        return _json(service.claim_run(sweep_id, body.agent_id, body.claim_key, slot=body.slot))

    @route(
        "POST",
        "/agents/{agent_id}/heartbeat",
        response_model=m.RunControls,
        dependencies=bearer,
        tags=["agents"],
    )
    def heartbeat(request: Request, agent_id: AgentPathId, body: m.Heartbeat) -> Response:
        """The agent and these runs are alive (database clock); whether each run should stop."""
        allow(request, *agent)
        return _json({"runs": service.heartbeat(agent_id, body.run_ids)})

    @route("POST", "/agents/{agent_id}/finished", response_model=m.Ok, dependencies=bearer, tags=["agents"])
    def agent_finished(request: Request, agent_id: AgentPathId) -> Response:
        """The agent has stopped."""
        allow(request, *agent)
        service.agent_finished(agent_id)
        return _json({"ok": True})

    # --- runs -------------------------------------------------------------------------------------

    @route("POST", "/runs", status_code=201, response_model=RunInfo, dependencies=bearer, tags=["runs"])
    def start_run(request: Request, body: m.StartRun) -> Response:
        """Record a run outside any sweep."""
        allow(request, *agent)
        return _json(service.start_run(project=body.project, name=body.name, config=body.config), 201)

    @route("GET", "/runs/{run_id}", response_model=RunInfo, dependencies=bearer, tags=["runs"])
    def get_run(request: Request, run_id: RunId) -> Response:
        """One run."""
        allow(request, *read)
        return _json(service.get_run(run_id))

    @route("POST", "/runs/{run_id}/logs", response_model=LogAck, dependencies=bearer, tags=["runs"])
    def log_batch(request: Request, run_id: RunId, body: m.LogBatchBody) -> Response:
        """A batch of the run's rows, summary, config or name; a batch whose ``seq`` was applied is skipped."""
        allow(request, *agent)
        rows, summary = body.rows, body.summary
        if getattr(request.state, "nonfinite", False):
            rows, summary = logged_data(rows), logged_data(summary)
        batch = LogBatch(body.seq, rows, summary, body.config, body.name, body.output)
        return _json(service.log(run_id, batch))

    @route("POST", "/runs/{run_id}/finish", response_model=RunInfo, dependencies=bearer, tags=["runs"])
    def finish_run(request: Request, run_id: RunId, body: m.FinishRun) -> Response:
        """End a run in a terminal state (idempotent: an ended run keeps its state)."""
        allow(request, *agent)
        return _json(service.finish_run(run_id, body.state, exit_code=body.exit_code, error=body.error))

    @route("POST", "/series", response_model=m.SeriesAnswer, dependencies=bearer, tags=["runs"])
    def metric_series(request: Request, body: m.MetricSeries) -> Response:
        """For each run, ``[step, value]`` of its rows that logged ``key`` (after its step in ``after``)."""
        allow(request, *read)
        return _json({"series": service.metric_series(body.run_ids, body.key, after=body.after)})

    @route("GET", "/runs/{run_id}/output", response_model=RunOutput, dependencies=bearer, tags=["runs"])
    def run_output(request: Request, run_id: RunId) -> Response:
        """What a program run printed: its first and newest characters, and how many there were."""
        allow(request, *read)
        return _json(service.run_output(run_id))

    @route("GET", "/runs/{run_id}/history", response_model=HistoryPage, dependencies=bearer, tags=["runs"])
    def history(
        request: Request,
        run_id: RunId,
        after: Annotated[int | None, Query(ge=-(2**63), le=m.INT64)] = None,
        limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    ) -> Response:
        """The run's logged rows after step ``after``, in step order; ``next_after`` continues."""
        allow(request, *read)
        return _json(service.history(run_id, after=after, limit=limit))

    @route(
        "POST", "/sweeps/{sweep_id}/retry", response_model=RetryResult, dependencies=bearer, tags=["sweeps"]
    )
    def retry_runs(request: Request, sweep_id: SweepId, body: m.RetryRuns) -> Response:
        """Queue the parameters of the sweep's unsuccessful runs again, as new runs handed out first."""
        allow(request, *admin)
        return _json(service.retry_runs(sweep_id, body.states))

    @route(
        "POST",
        "/sweeps/{sweep_id}/runs/delete",
        response_model=m.DeletedRuns,
        dependencies=bearer,
        tags=["sweeps"],
    )
    def delete_runs(request: Request, sweep_id: SweepId, body: m.DeleteRuns) -> Response:
        """Delete these runs of the sweep and their history, all or none."""
        allow(request, *admin)
        return _json({"deleted": service.delete_runs(sweep_id, body.run_ids)})

    # --- tokens -----------------------------------------------------------------------------------

    @route("POST", "/tokens", status_code=201, response_model=NewToken, dependencies=bearer, tags=["tokens"])
    def create_token(request: Request, body: m.CreateToken) -> Response:
        """A new token; its secret is in this answer only."""
        allow(request, *token_admin)
        return _json(service.create_token(body.scope, name=body.name), 201)

    @route("GET", "/tokens", response_model=m.TokenList, dependencies=bearer, tags=["tokens"])
    def list_tokens(request: Request) -> Response:
        """Every token (never a secret), revoked ones too."""
        allow(request, *token_admin)
        return _json({"tokens": service.list_tokens()})

    @route("DELETE", "/tokens/{token_id}", response_model=TokenInfo, dependencies=bearer, tags=["tokens"])
    def revoke_token(request: Request, token_id: TokenId) -> Response:
        """Revoke a token: it stops working at once."""
        allow(request, *token_admin)
        return _json(service.revoke_token(token_id))

    # --- the server itself ------------------------------------------------------------------------

    @route("GET", "/health", response_model=m.Health, tags=["server"])
    def health() -> Response:
        """Whether the server answers (no token needed; says nothing about sweeps)."""
        return _json({"status": "ok", "version": __version__})

    @route("GET", "/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> Response:
        allow(request, *read)
        return _json(app.openapi())

    _install_error_handlers(app, service)
    _mount_dashboard(app, service, guard)
    return app


_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _mount_dashboard(app: FastAPI, service: Any, guard: Guard) -> None:
    """The dashboard at ``/``, after the API's routes, behind the same tokens: viewing needs ``read``,
    its controls ``admin``."""
    from sweepkit.dashboard import create_app as dashboard_app

    def authorize(request: Request, scope: str) -> bool:
        client = request.client.host if request.client else "unknown"
        what = "viewing the dashboard" if scope == "read" else "controlling sweeps from the dashboard"
        try:
            guard.check(client, request.headers.get("authorization"), scope, what)
        except Refused as exc:
            headers = {"Retry-After": str(int(exc.retry_after))} if exc.retry_after else None
            raise StarletteHTTPException(exc.status, exc.message, headers=headers) from None
        return True

    # Every other /api/v1 path is an unknown API route (404 in the API's error shape), not a page:
    # a catch-all before the dashboard's mount, leaving the dashboard's own /api/v1/dashboard alone.
    async def no_such_route(request: Request) -> Response:
        raise StarletteHTTPException(404)

    app.add_api_route(
        API_PREFIX + "/{rest:path}", no_such_route, methods=_ALL_METHODS, include_in_schema=False
    )
    app.router.routes[-1].path_regex = re.compile(rf"^{re.escape(API_PREFIX)}/(?!dashboard(?:/|$)).*$")
    app.mount("/", dashboard_app(lambda: service, authorize=authorize))


def _json(value: Any, status: int = 200) -> Response:
    return Response(dumps(value), status_code=status, media_type="application/json")


# --- errors -------------------------------------------------------------------------------------------


def _install_error_handlers(app: FastAPI, service: Any) -> None:
    def answer(
        request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> Response:
        # The store's location means nothing to a client: it reads the server's address instead.
        detail = body["error"]
        public = str(request.base_url).rstrip("/")
        if service.location and service.location in detail["message"]:
            detail["message"] = detail["message"].replace(service.location, public)
        return Response(dumps(body), status_code=status, media_type="application/json", headers=headers)

    async def on_sweepkit_error(request: Request, exc: Exception) -> Response:
        status, body = exception_body(exc)
        if status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc)
        return answer(request, status, body)

    async def on_refused(request: Request, exc: Refused) -> Response:
        headers = {"Retry-After": f"{exc.retry_after:.0f}"} if exc.retry_after else None
        if exc.status == 401:
            headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
        kind = "AccessDenied" if exc.status in (401, 403) else "SweepkitError"
        return answer(request, exc.status, error_body(kind, exc.message, exc.status), headers)

    async def on_invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return answer(request, 422, error_body("SweepkitError", _validation_sentence(exc), 422))

    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        if status == 404:
            kind, message = "NotFoundError", f"no such API route: {request.method} {request.url.path}"
        elif status == 405:
            kind, message = "SweepkitError", f"{request.method} is not allowed on {request.url.path}"
        else:
            kind, message = "SweepkitError", str(exc.detail)
            if status == 400 and message == "There was an error parsing the body":
                message = "the request body is not JSON that sweepkit can read"
        return answer(request, status, error_body(kind, message, status), getattr(exc, "headers", None))

    async def on_too_deep(request: Request, exc: RecursionError) -> Response:
        return answer(request, 400, error_body("SweepkitError", "the request is nested too deeply", 400))

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        message = "the server failed unexpectedly (the details are in its log)"
        return answer(request, 500, error_body("SweepkitError", message, 500))

    app.add_exception_handler(SweepkitError, on_sweepkit_error)
    app.add_exception_handler(ValueError, on_sweepkit_error)
    app.add_exception_handler(Refused, on_refused)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RecursionError, on_too_deep)
    app.add_exception_handler(Exception, on_crash)


def _validation_sentence(exc: RequestValidationError) -> str:
    """A malformed request as one sentence: where and what, for the first few problems."""
    parts = []
    errors = exc.errors()
    for error in errors[:3]:
        loc = [str(x) for x in error.get("loc", ())]
        where = {"body": "", "query": "query parameter ", "path": "path parameter "}.get(
            loc[0] if loc else "", ""
        )
        field = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else "request")
        message = str(error.get("msg", "invalid")).rstrip(".")
        parts.append(f"{where}{field or 'body'}: {message[:1].lower()}{message[1:]}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "invalid request: " + "; ".join(parts) + more

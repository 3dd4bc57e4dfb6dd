"""The HTTP API: the service's routes under ``/api/v1``, the server's own, and one error shape.

The routes of the service's calls are built from their declaration (``sweepkit.service.calls``, by
``sweepkit.server.routes``); this module builds the application around them: the token check of each
request (``auth``), the body limit (``body``), ``/health`` and the OpenAPI document at
``/api/v1/openapi.json``, the error answers and the dashboard's mount. Every error is
``{"error": {"type", "message", "status"}}``: a sweepkit error keeps its class name and sentence
(with the server's address where the store's location would be), a malformed request is a 422 naming
the field, and an unexpected failure is a 500 that says little and is logged in full.

Handlers are plain functions: Starlette runs them on a bounded thread pool (``threads``), fewer
threads than the store has pooled connections, so that no request waits for a connection.
"""

from __future__ import annotations

import logging
import re
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from sweepkit import __version__
from sweepkit.allowed_hosts import HostPolicy
from sweepkit.errors import SweepkitError
from sweepkit.server import middleware
from sweepkit.server import models as m
from sweepkit.server.auth import Guard, Refused
from sweepkit.server.body import DEFAULT_MAX_BYTES, limited_route
from sweepkit.server.routes import add_service_routes
from sweepkit.service.calls import READ, WHAT
from sweepkit.service.wire import API_PREFIX, dumps, error_body, exception_body

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


def create_app(
    service: Any,
    *,
    max_body_bytes: int = DEFAULT_MAX_BYTES,
    threads: int = DEFAULT_THREADS,
    guard: Guard | None = None,
    hosts: HostPolicy | None = None,
    access_log: bool = False,
) -> FastAPI:
    """The API over ``service`` (a ``LocalSweepService``), answering to the names ``hosts`` allows
    (``sweepkit.server.middleware``)."""
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

    read = (READ, WHAT[READ])

    # Routes go on the application's own router: an included router is matched anew on every request.
    app.router.route_class = limited_route(max_body_bytes)

    def route(method: str, path: str, **options: Any):
        return app.api_route(API_PREFIX + path, methods=[method], responses=_ERRORS, **options)

    # --- the service's calls, as declared (sweepkit.service.calls) ------------------------------

    add_service_routes(app, service, allow, dependencies=bearer, responses=_ERRORS)

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
    middleware.install(app, policy=hosts or HostPolicy(), access_log=access_log)
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

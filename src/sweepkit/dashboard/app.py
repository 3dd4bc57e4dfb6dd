"""The dashboard as a web application: its pages, its JSON endpoints and its security headers.

``create_app(service_factory, authorize)`` returns a FastAPI application to mount (at ``/`` in
``sweepkit server``, or anywhere: pages find their assets and API from the mount point). Layout:

=============================================  ======  =========================================
``/``, ``/sweeps/{id}``, ``/runs/{id}``        GET     the pages (one HTML shell, no data)
``/static/...``                                GET     scripts and styles shipped in the package
``/api/v1/dashboard/sweeps``                   read    every sweep with counts and best value
``/api/v1/dashboard/sweeps/{id}``              read    one sweep: config, parameters, hyperband
``/api/v1/dashboard/sweeps/{id}/runs``         read    run rows; ``?since=CURSOR``: only changes
``/api/v1/dashboard/sweeps/{id}/curves``       read    metric curves; ``?runs=1,2``: only those
``/api/v1/dashboard/sweeps/{id}/importance``   read    correlation and forest importance
``/api/v1/dashboard/sweeps/{id}/export``       read    every run, ``?format=csv`` or ``json``
``/api/v1/dashboard/sweeps/{id}/control``      admin   POST ``{"action": "pause"}`` (and resume,
                                                       stop, cancel)
``/api/v1/dashboard/runs/{id}``                read    one run, its command line
``/api/v1/dashboard/runs/{id}/history``        read    logged numbers; ``?after=STEP``
``/api/v1/dashboard/runs/{id}/output``         read    printed output; ``?known=SIZE``: new text
=============================================  ======  =========================================

Errors are JSON ``{"detail": "one sentence"}``, never a traceback. Every answer carries a strict
Content-Security-Policy (scripts and styles from this server only, nothing inline, no frames).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware

from sweepkit.dashboard import auth, views
from sweepkit.dashboard.auth import ADMIN, READ, Authorize
from sweepkit.dashboard.curves import SweepCurves
from sweepkit.dashboard.state import DashboardState
from sweepkit.errors import NotFoundError, StoreError, SweepkitError
from sweepkit.runs import SweepAction
from sweepkit.service import SweepService
from sweepkit.values import dumps

log = logging.getLogger("sweepkit.dashboard")

API = "/api/v1/dashboard"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

STATIC = resources.files("sweepkit.dashboard") / "static"


def _json(data: Any, status: int = 200) -> Response:
    return Response(dumps(data, ascii=True).encode(), status_code=status, media_type="application/json")


@lru_cache(maxsize=1)
def _shell_template() -> tuple[str, str]:
    """The page shell and a version of the assets (so a new release is fetched, not cached)."""
    import hashlib

    digest = hashlib.sha256()
    for name in ("app.js", "app.css"):
        digest.update((STATIC / name).read_bytes())
    return (STATIC / "index.html").read_text(encoding="utf-8"), digest.hexdigest()[:12]


def _page(request: Request) -> Response:
    template, version = _shell_template()
    root = html.escape(request.scope.get("root_path", "").rstrip("/"), quote=True)
    body = template.replace("{{root}}", root).replace("{{version}}", version)
    return Response(body, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


def create_app(
    service_factory: Callable[[], SweepService],
    authorize: Authorize = auth.loopback_only,
    *,
    refresh_interval_s: float = 1.0,
) -> FastAPI:
    """The dashboard application (see the module docstring).

    ``service_factory()`` is called once, on the first request that needs sweeps; its service is
    used from worker threads and never closed here. ``authorize(request, scope)`` decides every API
    call (see ``sweepkit.dashboard.auth``); the default allows loopback clients only.
    """
    state = DashboardState(service_factory, refresh_interval_s=refresh_interval_s)
    app = FastAPI(title="sweepkit dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.dashboard = state

    def scope(name: str):
        async def check(request: Request) -> None:
            await auth.require(authorize, request, name)

        return Depends(check)

    read = [scope(READ)]

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        path, root = request.scope.get("path", ""), request.scope.get("root_path", "")
        if (path[len(root) :] if path.startswith(root) else path).startswith(API):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # Level 1: a quarter of the bytes for large answers at little CPU (level 9 took longer than loopback saves).
    app.add_middleware(GZipMiddleware, minimum_size=2048, compresslevel=1)

    @app.exception_handler(SweepkitError)
    async def sweepkit_error(request: Request, exc: SweepkitError) -> Response:
        if isinstance(exc, NotFoundError):
            status = 404
        elif isinstance(exc, StoreError):
            status = 503  # busy, unreachable, or gone
        else:
            status = 409
        return _json({"detail": str(exc)}, status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "request"
        return _json({"detail": f"{where}: {first.get('msg', 'not valid')}."}, 400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("dashboard: %s %s failed", request.method, request.url.path)
        return _json(
            {"detail": f"The dashboard could not answer ({type(exc).__name__}); see the server log."}, 500
        )

    # --- pages ------------------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def index(request: Request) -> Response:
        return _page(request)

    @app.get("/sweeps/{sweep_id}", include_in_schema=False)
    def sweep_page(request: Request, sweep_id: str) -> Response:
        return _page(request)

    @app.get("/runs/{run_id}", include_in_schema=False)
    def run_page(request: Request, run_id: str) -> Response:
        return _page(request)

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    # --- sweeps -----------------------------------------------------------------------------------

    @app.get(f"{API}/sweeps", dependencies=read)
    def list_sweeps(project: str | None = None) -> Response:
        sweeps = state.service.list_sweeps(project=project)
        return _json({"sweeps": [views.sweep_summary(sweep, state.best(sweep)) for sweep in sweeps]})

    @app.get(f"{API}/sweeps/{{sweep_id}}", dependencies=read)
    def get_sweep(sweep_id: str) -> Response:
        memory = state.sweep(sweep_id)
        sweep = memory.runs.sweep
        return _json(views.sweep_detail(sweep, memory.runs.best()))

    @app.get(f"{API}/sweeps/{{sweep_id}}/runs", dependencies=read)
    def sweep_runs(sweep_id: str, since: str | None = None) -> Response:
        memory = state.sweep(sweep_id)
        runs = memory.runs
        rows, head = runs.encoded(since)
        tail = {
            "sweep": views.sweep_summary(runs.sweep, runs.best()),
            "thresholds": _thresholds(state, memory),
        }
        head_json, tail_json = dumps(head, ascii=True), dumps(tail, ascii=True)
        body = f'{head_json[:-1]},"rows":'.encode() + rows + f",{tail_json[1:]}".encode()
        return Response(body, media_type="application/json")

    @app.get(f"{API}/sweeps/{{sweep_id}}/curves", dependencies=read)
    def sweep_curves(sweep_id: str, runs: str | None = None) -> Response:
        memory = state.sweep(sweep_id)
        table = memory.runs
        with memory.lock:
            if memory.curves is None:
                rule = table.sweep.plan.stopping
                memory.curves = SweepCurves(state.service, table.metric, rule.bands if rule else ())
            curves = memory.curves
        counts = table.metric_counts()
        if runs:
            try:
                numbers = sorted({int(n) for n in runs.split(",") if n})
            except ValueError:
                raise HTTPException(400, "runs: expected run numbers separated by commas") from None
        else:
            numbers = sorted(counts)
        curves.update(counts, table.ids, only=numbers)
        body = b'{"runs":' + curves.encoded(numbers, len(counts)) + b"}"
        return Response(body, media_type="application/json")

    @app.get(f"{API}/sweeps/{{sweep_id}}/importance", dependencies=read)
    def importance(sweep_id: str) -> Response:
        memory = state.sweep(sweep_id)
        table = memory.runs
        payload = table.payload()
        fields = payload["fields"]
        at_best, at_params, at_count = fields.index("best"), fields.index("params"), fields.index("count")
        samples = [(row[at_params], row[at_best]) for row in payload["rows"] if row[at_best] is not None]
        key = (payload["cursor"].split(".")[0], len(samples), sum(row[at_count] for row in payload["rows"]))
        result = memory.importance.get(key, table.params, samples)
        result["metric"] = views.metric_of(table.sweep)
        return _json(result)

    @app.get(f"{API}/sweeps/{{sweep_id}}/export", dependencies=read)
    def export(sweep_id: str, format: str = "csv") -> Response:
        from sweepkit.dashboard import export as exporting

        service = state.service
        sweep = service.get_sweep(sweep_id)
        if format == "json":
            body, kind = exporting.as_json(service, sweep), "application/json"
        elif format == "csv":
            body, kind = exporting.as_csv(service, sweep), "text/csv; charset=utf-8"
        else:
            raise HTTPException(400, "format: expected csv or json")
        name = f"sweep-{sweep.id}-runs.{format}"
        return Response(
            body, media_type=kind, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )

    @app.post(f"{API}/sweeps/{{sweep_id}}/control", dependencies=[scope(ADMIN)])
    async def control(request: Request, sweep_id: str) -> Response:
        auth.same_origin_post(request)
        try:
            body = await request.json()
            action = SweepAction(body["action"])
        except (ValueError, KeyError, TypeError):
            raise HTTPException(400, 'Send {"action": "pause"} (or resume, stop, cancel).') from None
        from starlette.concurrency import run_in_threadpool

        sweep = await run_in_threadpool(state.service.control_sweep, sweep_id, action)
        memory = state.known(sweep_id)
        if memory is not None:
            await run_in_threadpool(memory.runs.refresh, force=True)
        return _json(views.sweep_summary(sweep, memory.runs.best() if memory else None))

    # --- runs -------------------------------------------------------------------------------------

    @app.get(f"{API}/runs/{{run_id}}", dependencies=read)
    def get_run(run_id: str) -> Response:
        service = state.service
        run = service.get_run(run_id)
        sweep = service.get_sweep(run.sweep_id) if run.sweep_id else None
        command = service.run_command(run.id) if sweep is not None else None
        return _json(views.run_detail(run, sweep, command))

    @app.get(f"{API}/runs/{{run_id}}/history", dependencies=read)
    def history(run_id: str, after: int | None = None, limit: int = 10_000) -> Response:
        page = state.service.history(run_id, after=after, limit=max(1, min(limit, 50_000)))
        last = page.rows[-1]["_step"] if page.rows else after
        return _json(
            {"series": views.history_series(page.rows), "next_after": page.next_after, "last_step": last}
        )

    @app.get(f"{API}/runs/{{run_id}}/output", dependencies=read)
    def output(run_id: str, known: int | None = None) -> Response:
        return _json(views.output_delta(state.service.run_output(run_id), known))

    return app


def _thresholds(state: DashboardState, memory) -> list[dict[str, Any]]:
    """The stopping rule's thresholds now (the service's), asked again only when some run changed."""
    runs = memory.runs
    if runs.sweep.plan.stopping is None:
        return []
    cursor = runs.cursor()
    cached = memory.thresholds
    if cached is not None and cached[0] == cursor:
        return cached[1]
    found = views.threshold_list(state.service.band_thresholds(runs.sweep_id))
    memory.thresholds = (cursor, found)
    return found

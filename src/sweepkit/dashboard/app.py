"""The dashboard as a web application: its pages, its JSON endpoints and its security headers.

``create_app(service_factory, authorize)`` returns a FastAPI application to mount (at ``/`` in
``sweepkit server``, or anywhere: pages find their assets and API from the mount point). Layout:

=============================================  ======  =========================================
``/``, ``/sweeps/{id}``, ``/runs/{id}``        GET     the pages (one HTML shell, no data)
``/static/...``                                GET     scripts and styles shipped in the package
``/api/v1/dashboard/access``                   read    whether this caller may control sweeps
``/api/v1/dashboard/sweeps``                   read    every sweep with counts and best value
``/api/v1/dashboard/sweeps/{id}``              read    one sweep: config, parameters, hyperband
``/api/v1/dashboard/sweeps/{id}/runs``         read    run rows; ``?since=CURSOR``: only changes
``/api/v1/dashboard/sweeps/{id}/curves``       read    curves of ``?key=`` (the metric) against
                                                       ``?x=`` (iteration); ``?runs=1,2``: only those
``/api/v1/dashboard/sweeps/{id}/keys``         read    the keys runs logged numbers under
``/api/v1/dashboard/sweeps/{id}/compare``      read    ``?runs=3,7``: configs, summaries, differences
``/api/v1/dashboard/sweeps/{id}/best``         read    the best runs, as the service ranks them
``/api/v1/dashboard/sweeps/{id}/agents``       read    the sweep's agents, their slots and GPUs
``/api/v1/dashboard/sweeps/{id}/importance``   read    correlation and forest importance
``/api/v1/dashboard/sweeps/{id}/export``       read    every run, ``?format=csv`` or ``json``
``/api/v1/dashboard/sweeps/{id}/control``      admin   POST ``{"action": "pause"}`` (and resume,
                                                       stop, cancel)
``/api/v1/dashboard/runs/{id}``                read    one run, its command line, its media keys
``/api/v1/dashboard/runs/{id}/history``        read    logged numbers; ``?after=STEP``
``/api/v1/dashboard/runs/{id}/output``         read    printed output; ``?known=SIZE``: new text
``/api/v1/dashboard/runs/{id}/media``          read    ``?key=K``: a media key over the steps
``/api/v1/dashboard/runs/{id}/file``           read    ``?path=files/media/...``: a logged file
``/api/v1/dashboard/runs/{id}/table``          read    a page of a logged table
``/api/v1/dashboard/runs/{id}/value``          read    a summary or config value whole
=============================================  ======  =========================================

Errors are JSON ``{"detail": "one sentence"}``, never a traceback. Every answer carries a strict
Content-Security-Policy (scripts and styles from this server only, nothing inline, no frames).
"""

from __future__ import annotations

import html
import json
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

from sweepkit.dashboard import auth, run_files, views
from sweepkit.dashboard.auth import ADMIN, READ, Authorize
from sweepkit.dashboard.curves import ITERATION, STEP
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
        "media-src 'self' blob:",
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

    @app.get(f"{API}/access", dependencies=read)
    async def access(request: Request) -> Response:
        """Whether this caller may control sweeps, and if not, why (the page disables its controls)."""
        try:
            await auth.require(authorize, request, ADMIN)
        except HTTPException as refused:
            return _json({"control": False, "reason": str(refused.detail)})
        return _json({"control": True, "reason": None})

    @app.get(f"{API}/sweeps", dependencies=read)
    def list_sweeps(project: str | None = None) -> Response:
        sweeps = state.service.list_sweeps(project=project)
        return _json({"sweeps": [views.sweep_summary(sweep, state.best(sweep)) for sweep in sweeps]})

    @app.get(f"{API}/sweeps/{{sweep_id}}", dependencies=read)
    def get_sweep(sweep_id: str) -> Response:
        memory = state.sweep(sweep_id)
        sweep = memory.runs.sweep
        versions = state.service.config_versions(sweep.id)
        return _json(views.sweep_detail(sweep, memory.runs.best(), versions))

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
    def sweep_curves(
        sweep_id: str,
        runs: str | None = None,
        key: str | None = None,
        x: str | None = None,
        alone: bool = False,
    ) -> Response:
        memory = state.sweep(sweep_id)
        table = memory.runs
        key = key or table.metric
        if key is None:
            return _json({"key": None, "x": None, "runs": []})
        x = x or (ITERATION if key == table.metric else STEP)
        if x == ITERATION and key != table.metric:
            raise HTTPException(
                400, f"x: iterations count values of the sweep metric, not of {key!r}; use _step"
            )
        curves = memory.curves_of(state.service, key, x)
        marks = table.metric_counts() if x == ITERATION else table.steps()
        numbers = _run_numbers(runs) if runs else sorted(marks)
        curves.update(marks, table.ids, only=numbers)
        # A chart of only these runs (``alone``) gives each the budget of a few; else that of the sweep.
        budget_of = len(numbers) if alone else len(marks)
        head = dumps({"key": key, "x": x}, ascii=True).encode()[:-1]
        return Response(
            head + b',"runs":' + curves.encoded(numbers, budget_of) + b"}", media_type="application/json"
        )

    @app.get(f"{API}/sweeps/{{sweep_id}}/keys", dependencies=read)
    def logged_keys(sweep_id: str) -> Response:
        table = state.sweep(sweep_id).runs
        return _json(views.key_choices(table.logged_keys(), table.metric))

    @app.get(f"{API}/sweeps/{{sweep_id}}/compare", dependencies=read)
    def compare_runs(sweep_id: str, runs: str) -> Response:
        from sweepkit.dashboard.compare import MAX_RUNS, compare

        table = state.sweep(sweep_id).runs
        # In the order asked for (the order the page gives each run its color).
        numbers = list(dict.fromkeys(_run_numbers(runs, keep_order=True)))
        if not numbers or len(numbers) > MAX_RUNS:
            raise HTTPException(400, f"runs: expected 1 to {MAX_RUNS} run numbers separated by commas")
        unknown = [n for n in numbers if n not in table.ids]
        if unknown:
            raise HTTPException(404, f"runs: sweep {sweep_id} has no run {unknown[0]}")
        found = [state.service.get_run(table.ids[n]) for n in numbers]
        return _json(compare(found, table.objective))

    @app.get(f"{API}/sweeps/{{sweep_id}}/best", dependencies=read)
    def best_runs(sweep_id: str, limit: int = 5) -> Response:
        table = state.sweep(sweep_id).runs
        ranked = state.service.best_runs(sweep_id, limit=max(1, min(limit, 100)))
        return _json({"runs": [views.ranked_run(r, table.objective) for r in ranked]})

    @app.get(f"{API}/sweeps/{{sweep_id}}/front", dependencies=read)
    def pareto_front(sweep_id: str) -> Response:
        from sweepkit.dashboard.front import front_view

        state.sweep(sweep_id)  # a sweep that does not exist is 404, as for the other calls
        return _json(front_view(state.service, sweep_id))

    @app.get(f"{API}/sweeps/{{sweep_id}}/agents", dependencies=read)
    def sweep_agents(sweep_id: str) -> Response:
        from datetime import datetime, timezone

        from sweepkit import env

        agents = state.service.list_agents(sweep_id)
        return _json(
            {
                "agents": [views.agent_view(agent) for agent in agents],
                "heartbeat_timeout_s": env.heartbeat_timeout_s(),
                "now": datetime.now(timezone.utc).isoformat(),
            }
        )

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

    @app.post(f"{API}/sweeps/{{sweep_id}}/config", dependencies=[scope(ADMIN)])
    async def update_config(request: Request, sweep_id: str) -> Response:
        """The config view's edit: ``{"text": YAML, "defaults": {...}, "dry_run": bool}`` -> what the
        change does (and, without ``dry_run``, the change made)."""
        auth.same_origin_post(request)
        try:
            body = await request.json()
            text, defaults, dry_run = body["text"], body.get("defaults") or {}, bool(body.get("dry_run"))
            if not isinstance(text, str) or not isinstance(defaults, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise HTTPException(400, 'Send {"text": "<the config as YAML>", "dry_run": true}.') from None
        from starlette.concurrency import run_in_threadpool

        from sweepkit import sweep_intake
        from sweepkit.sweep_config import read_config_text

        def change() -> dict[str, Any]:
            source = read_config_text(text, filename="config")
            answer = sweep_intake.update_sweep(
                state.service, sweep_id, source, defaults=defaults, dry_run=dry_run
            )
            return {
                "changes": answer.sweep.changes,
                "warnings": [str(w) for w in answer.warnings],
                "applied": not dry_run,
            }

        out = await run_in_threadpool(change)
        memory = state.known(sweep_id)
        if memory is not None and not dry_run:
            await run_in_threadpool(memory.runs.refresh, force=True)
        return _json(out)

    # --- runs -------------------------------------------------------------------------------------

    def run_folder(run) -> tuple[Any, str | None]:
        """The run's folder on this machine as its agent reported it (None without one), and the agent's host."""
        if run.agent_id is None or run.sweep_id is None:
            return None, None
        for agent in state.service.list_agents(run.sweep_id):
            if agent.id == run.agent_id:
                return run_files.run_folder(agent.workdir, run.id), agent.host
        return None, None

    @app.get(f"{API}/runs/{{run_id}}", dependencies=read)
    def get_run(run_id: str) -> Response:
        service = state.service
        run = service.get_run(run_id)
        sweep = service.get_sweep(run.sweep_id) if run.sweep_id else None
        command = service.run_command(run.id) if sweep is not None else None
        folder, host = run_folder(run)
        return _json(views.run_detail(run, sweep, command, views.files_of(folder, host)))

    @app.get(f"{API}/runs/{{run_id}}/media", dependencies=read)
    def media_steps(run_id: str, key: str, most: int = 200) -> Response:
        """A media key's values over the run's steps (at most ``most``, evenly spaced)."""
        series = state.service.metric_series([run_id], key).get(run_id) or []
        found = [(step, v) for step, v in series if run_files.is_media(v) or run_files.is_media_list(v)]
        picked = run_files.sampled_steps(found, max(2, min(most, 1000)))
        return _json(
            {"key": key, "total": len(found), "steps": [[step, run_files.reference(v)] for step, v in picked]}
        )

    @app.get(f"{API}/runs/{{run_id}}/file", dependencies=read)
    def media_file(run_id: str, path: str, download: bool = False) -> Response:
        from starlette.responses import FileResponse

        run = state.service.get_run(run_id)
        found = _asked(run_files.media_path, run_folder(run)[0], path)
        kind = run_files.content_type(found)
        attach = download or kind is None
        return FileResponse(
            found,
            media_type="application/octet-stream" if attach else kind,
            filename=found.name,
            content_disposition_type="attachment" if attach else "inline",
            headers={
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "private, max-age=300",
            },
        )

    @app.get(f"{API}/runs/{{run_id}}/table", dependencies=read)
    def media_table(run_id: str, path: str, offset: int = 0, limit: int = 50) -> Response:
        run = state.service.get_run(run_id)
        found = _asked(run_files.media_path, run_folder(run)[0], path)
        return _json(_asked(run_files.table_page, found, offset, limit))

    @app.get(f"{API}/runs/{{run_id}}/value", dependencies=read)
    def long_value(run_id: str, path: str, where: str = "summary") -> Response:
        """A value of the run's summary or config whole (the page shows long text cut)."""
        if where not in ("summary", "config"):
            raise HTTPException(400, "where: expected summary or config")
        try:
            steps = json.loads(path)
            if not isinstance(steps, list):
                raise ValueError
        except ValueError:
            raise HTTPException(400, 'path: expected a JSON list of keys, like ["notes"]') from None
        run = state.service.get_run(run_id)
        value = run_files.value_at(run.summary if where == "summary" else run.config, steps)
        text = value if isinstance(value, str) else json.dumps(value, indent=2, default=str)
        return Response(text, media_type="text/plain; charset=utf-8")

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


def _asked(read: Callable[..., Any], *args: Any) -> Any:
    """``read(*args)``, a file the page asked for: a refusal that is not "no such file" is the
    request's fault (400), in the same sentence."""
    try:
        return read(*args)
    except NotFoundError:
        raise
    except SweepkitError as refused:
        raise HTTPException(400, str(refused)) from None


def _run_numbers(text: str, *, keep_order: bool = False) -> list[int]:
    """Run numbers given as ``1,2,3``, sorted unless ``keep_order`` (400 otherwise)."""
    try:
        numbers = [int(n) for n in text.split(",") if n]
        return numbers if keep_order else sorted(set(numbers))
    except ValueError:
        raise HTTPException(400, "runs: expected run numbers separated by commas") from None


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

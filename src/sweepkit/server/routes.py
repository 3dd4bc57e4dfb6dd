"""The API's routes, one per declared call of the sweep service (``sweepkit.service.calls.CALLS``).

Each route checks the caller's token for the call's scope, hands the request's path, query and body
values to the local service's method of the call's name (a call bound to work first asks the
service whether the caller may act for its agent or runs: ``LocalSweepService.bound``), and answers with its result as strict JSON
(``sweepkit.service.wire.dumps``), wrapped in an object under the call's key when it has one, with
the call's status. Logged data in a body (a log batch's rows and summary) has its "NaN" and
"Infinity" texts read as floats. The OpenAPI document shows each operation's scope and retry safety
as ``x-scope`` and ``x-retry``.

Handlers are plain functions: Starlette runs them on its bounded thread pool (see ``app.py``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request, Response

from sweepkit.server.models import answer_model, body_model, pydantic_type, split_rule
from sweepkit.service.calls import CALLS, REQUIRED, Call
from sweepkit.service.wire import API_PREFIX, dumps
from sweepkit.values import logged_data

#: ``allow(request, scope, what)``: raises when the request's token may not do ``what``.
Allow = Callable[[Request, str, str], None]


def add_service_routes(
    app: FastAPI, service: Any, allow: Allow, *, dependencies: list[Any], responses: dict[int, Any]
) -> None:
    """A route on ``app`` for every declared call, carried out by ``service``."""
    for call in CALLS:
        app.add_api_route(
            API_PREFIX + call.path,
            _endpoint(call, service, allow),
            methods=[call.method],
            status_code=call.status,
            response_model=answer_model(call),
            dependencies=dependencies,
            responses=responses,
            tags=[call.tag],
            description=f"{call.doc}\n\nToken scope: `{call.scope}`; {_RETRY[call.retry]}"
            + (" Bound: an agent token may act only for its own agent and runs." if call.bound else ""),
            openapi_extra={"x-scope": call.scope, "x-retry": call.retry, "x-bound": list(call.bound)},
        )


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


_RETRY = {
    "safe": "safe to repeat.",
    "keyed": "safe to repeat: the request's key or sequence number makes a repeat change nothing.",
    "never": "not safe to repeat (it would act twice).",
}


def _endpoint(call: Call, service: Any, allow: Allow) -> Callable[..., Response]:
    """A handler for ``call`` whose signature tells FastAPI where each argument comes from."""
    method = getattr(service, call.name) if service is not None else None
    model = body_model(call)
    spread = {arg.name: arg for arg in call.args if arg.spread}
    logged = [a.name for a in call.args for a in (a.spread or [a]) if a.logged and a.where == "body"]
    body_args = [a for a in call.args if a.where == "body"]
    status, key, scope, what = call.status, call.key, call.scope, call.what

    def endpoint(request: Request, **values: Any) -> Response:
        allow(request, scope, what)
        body = values.pop("body", None)
        if body is not None:
            given = dict(body)
            if logged and getattr(request.state, "nonfinite", False):
                given.update({name: logged_data(given[name]) for name in logged})
            for arg in body_args:
                if arg.name in spread:
                    values[arg.name] = arg.type(**{inner.name: given[inner.name] for inner in arg.spread})
                else:
                    values[arg.name] = given[arg.name]
        if call.bound:
            runs = [r for name in call.bound if name != "agent_id" for r in _listed(values[name])]
            service.bound(agent_id=values.get("agent_id") if "agent_id" in call.bound else None, run_ids=runs)
        answer = method(**{arg.parameter: values[arg.name] for arg in call.args})
        if call.answer is None:
            answer = {"ok": True}
        elif key is not None:
            answer = {key: answer}
        return Response(dumps(answer), status_code=status, media_type="application/json")

    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
    for arg in call.args:
        if arg.where not in ("path", "query"):
            continue
        kind, options = split_rule(arg.type)
        source = Path(**options) if arg.where == "path" else Query(**options)
        kind = pydantic_type(kind)
        if arg.default is None:
            kind = kind | None
        default = inspect.Parameter.empty if arg.default is REQUIRED else arg.default
        parameters.append(
            inspect.Parameter(
                arg.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[kind, source]
            )
        )
    if model is not None:
        parameters.append(inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=model))
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = endpoint.__qualname__ = call.name
    endpoint.__doc__ = call.doc
    return endpoint

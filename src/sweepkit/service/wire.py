"""The HTTP API's wire format, shared by the server and the HTTP client: JSON and errors.

JSON is strict (RFC 8259): a float that is not finite travels as the text ``"NaN"``, ``"Infinity"``
or ``"-Infinity"``, as everywhere in sweepkit (``sweepkit.values``). In logged data (a run's
summary, its history rows, a log batch's rows and summary) those texts mean the floats
(``sweepkit.values.logged_data``); elsewhere (configs, parameters) a text stays text.

Every error answer has one shape::

    {"error": {"type": "NotFoundError", "message": "no sweep 'abc' in http://...", "status": 404}}

``type`` names the ``SweepkitError`` subclass the caller would have seen locally (or ``ValueError``
for a call a local service refuses with one), so that the HTTP client raises the same class with the
same sentence. A ``ConfigError`` also carries its ``problems``. Statuses: ``ERROR_STATUS``.

Light on purpose (standard library only): the client imports it, and so does the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sweepkit import errors, values

#: Every route of the API lives under this prefix (a later, incompatible API gets /api/v2).
API_PREFIX = "/api/v1"

#: The HTTP status of each error type, most specific first (a subclass not listed takes its base's).
ERROR_STATUS: dict[str, int] = {
    "NotFoundError": 404,
    "ConflictError": 409,
    "ConfigError": 422,
    "ValueError": 422,
    "AccessDenied": 403,  # 401 when no valid token was given: the server decides
    "StoreFull": 507,
    "StoreUnavailable": 503,
    "StoreGone": 410,
    "StoreError": 500,
    "SweepkitError": 400,
}
_CLASSES: dict[str, type[Exception]] = {
    "NotFoundError": errors.NotFoundError,
    "ConflictError": errors.ConflictError,
    "AccessDenied": errors.AccessDenied,
    "StoreFull": errors.StoreFull,
    "StoreUnavailable": errors.StoreUnavailable,
    "StoreGone": errors.StoreGone,
    "StoreError": errors.StoreError,
    "SweepkitError": errors.SweepkitError,
    "ValueError": ValueError,
}


# --- JSON -----------------------------------------------------------------------------------------


def dumps(value: Any) -> bytes:
    """``value`` (service types, plain data) as strict JSON bytes (``sweepkit.values.dumps``)."""
    return values.dumps(value).encode("utf-8", "surrogatepass")


# --- errors -----------------------------------------------------------------------------------------


def error_type(exc: BaseException) -> str:
    """The wire name of ``exc``'s class: its own or its nearest listed base's."""
    for cls in type(exc).__mro__:
        if cls.__name__ in ERROR_STATUS:
            return cls.__name__
    return "SweepkitError"


def error_body(kind: str, message: str, status: int, **extra: Any) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, "status": status, **extra}}


def exception_body(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """The status and body that carry ``exc`` (a SweepkitError or a ValueError) to a client."""
    kind = error_type(exc)
    extra: dict[str, Any] = {}
    if kind == "ConfigError":
        extra["problems"] = [_problem(p) for p in getattr(exc, "problems", [])]
        extra["warnings"] = [_problem(p) for p in getattr(exc, "warnings", [])]
    status = ERROR_STATUS[kind]
    return status, error_body(kind, str(exc), status, **extra)


def _problem(problem: Any) -> dict[str, Any]:
    return {
        "severity": problem.severity,
        "path": problem.path,
        "message": problem.message,
        "file": problem.file,
        "line": problem.line,
    }


def rebuild_error(status: int, body: Any, *, fallback: str) -> Exception:
    """The exception an error answer stands for; ``fallback`` is the sentence for an answer that is
    not in the API's error shape (a proxy's error page, say)."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping) or not isinstance(error.get("message"), str):
        if status in (401, 403):
            return errors.AccessDenied(fallback)
        if status == 404:
            return errors.NotFoundError(fallback)
        return errors.SweepkitError(fallback)
    kind, message = error.get("type"), error["message"]
    if kind == "ConfigError":
        from sweepkit.sweep_config import ConfigError, Problem

        def problems(key: str) -> list[Problem]:
            out = []
            for item in error.get(key) or []:
                try:
                    out.append(
                        Problem(**{k: item.get(k) for k in ("severity", "path", "message", "file", "line")})
                    )
                except (TypeError, AttributeError):
                    continue
            return out

        found = problems("problems")
        if found:
            return ConfigError(found, problems("warnings"))
        return errors.SweepkitError(message)
    return _CLASSES.get(kind, errors.SweepkitError)(message)

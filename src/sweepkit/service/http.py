"""``HttpSweepService``: the sweep service of a sweepkit server, reached over HTTP (httpx).

The same calls as the local service, with the same answers and the same errors (the server sends an
error's class and sentence; see ``sweepkit.service.wire``). Its methods are made from the calls'
declaration (``sweepkit.service.calls``) when this module is imported: each has the interface's
signature, applies the declared checks, and sends its arguments where the declaration places them.
The client side only: it imports neither the store nor the server's web stack.

Faults: a server that cannot be reached (refused, reset, timed out) or answers 502, 503 or 504 is
retried with exponential backoff and jitter for ``SWEEPKIT_STORE_RETRY`` seconds (default 300), then
``StoreUnavailable`` is raised (agents keep their runs going and try again). A call is retried only
when repeating it is safe (its declared ``retry``): claims carry a key and log batches a sequence
number, so they are; calls that would act twice (creating a sweep, pausing one) are retried only when
the request surely never reached the server. The token (``SWEEPKIT_TOKEN``) goes in an
``Authorization: Bearer`` header.
"""

from __future__ import annotations

import abc
import enum
import inspect
import os
import random
import sys
import threading
import time
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from sweepkit import env, shutdown
from sweepkit.errors import NotFoundError, StoreUnavailable, SweepkitError
from sweepkit.service.calls import CALLS, REQUIRED, Call, SweepService
from sweepkit.service.types import from_json
from sweepkit.service.wire import API_PREFIX, dumps, rebuild_error
from sweepkit.values import logged_data, may_hold_nonfinite
from sweepkit.version import __version__

#: Statuses that mean "not now": a proxy without its upstream, a store busy behind the server, too
#: many failed attempts from this address.
_TRANSIENT_STATUS = {429, 502, 503, 504}
#: Of those, the ones after which the request surely was not carried out.
_UNSENT_STATUS = {429, 502, 503}
_BACKOFF_S = (0.1, 5.0)
_CONNECT_TIMEOUT_S = 10.0


def server_location(url: str) -> str:
    """``url`` as a server's location for messages: scheme, host and path, never credentials."""
    text = str(url).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SweepkitError(f"server {text!r}: expected a URL such as http://HOST:PORT or https://HOST")
    try:
        port = parts.port
    except ValueError:
        raise SweepkitError(f"server {text!r}: the port is not a number from 0 to 65535") from None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


class HttpSweepService(SweepService):
    """The sweep service of the sweepkit server at ``url`` (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout_s: float | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.location = server_location(url)
        token = token if token is not None else (os.environ.get(env.TOKEN) or "").strip() or None
        headers = {"User-Agent": f"sweepkit/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        timeout = timeout_s if timeout_s is not None else env.http_timeout_s()
        self._client = httpx.Client(
            base_url=self.location + API_PREFIX,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, _CONNECT_TIMEOUT_S)),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            follow_redirects=False,
        )
        #: Told one sentence when the server stops answering, and when it answers again.
        self.on_wait: Callable[[str], None] = say or _say_on_stderr
        self._waiting = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HttpSweepService({self.location!r})"

    def close(self) -> None:
        self._client.close()

    # --- the calls (``sweepkit.service.calls``: each becomes a method below the class) -------------------

    def _send(self, call: Call, given: Mapping[str, Any]) -> Any:
        """Carry out ``call`` with these arguments (by parameter name) and return its answer."""
        if call.check is not None:
            call.check(given)
        values = {}
        for arg in call.args:  # every check first, with the same sentences as locally
            value = given[arg.parameter]
            if arg.check is not None and (value is not None or arg.default is REQUIRED):
                value = arg.check(value)
            values[arg.name] = value
        path, params, body = call.path, {}, ({} if call.method in ("POST", "PUT") else None)
        for arg in call.args:
            value = values[arg.name]
            if arg.where == "path":
                path = path.replace(f"{{{arg.name}}}", self._seg(arg.name.removesuffix("_id"), value))
            elif arg.where == "query":
                if value is not None and value != []:
                    params[arg.name] = _wire(arg.type, value)
            elif arg.spread:
                body.update({inner.name: getattr(value, inner.name) for inner in arg.spread})
            else:
                body[arg.name] = _wire(arg.type, value)
        data = self._call(call.method, path, body, params=params, safe=call.safe(given), logged=call.logged)
        if call.answer is None:
            return None
        return self._load(call.answer, data, call.key)

    # --- plumbing -----------------------------------------------------------------------------------------

    def _seg(self, kind: str, value: Any) -> str:
        """``value`` as one path segment; an empty one names nothing (as it would locally)."""
        text = str(value)
        if not text:
            raise NotFoundError(f"no {kind} {value!r} in {self.location}")
        return quote(text, safe="")

    def _load(self, kind: Any, data: Any, key: str | None = None) -> Any:
        """An answer as ``kind`` (from its ``key``); one clear error if it is not in the expected form
        (a server of another sweepkit version, or not a sweepkit server)."""
        try:
            if key is not None:
                data = data[key]
            return from_json(kind, data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            name = getattr(kind, "__name__", None) or str(kind)
            raise SweepkitError(
                f"server {self.location} answered with a {name} that this sweepkit {__version__} cannot read "
                f"({type(exc).__name__}: {exc}); is the server's sweepkit version the same?"
            ) from None

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        safe: bool = True,
        logged: Sequence[str] = (),
    ) -> Any:
        """Send one request and return its decoded JSON answer; retried as the module docstring says.

        ``safe``: whether carrying the request out twice does no harm (else it is repeated only when it
        surely never reached the server). ``logged``: where the answer holds logged data (``Call.logged``).
        """
        content = None if body is None else dumps(body)
        headers = {"Content-Type": "application/json"} if content is not None else None
        deadline: float | None = None
        delay = _BACKOFF_S[0]
        while True:
            wait_hint = None
            try:
                response = self._client.request(method, path, content=content, params=params, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError) as exc:
                if _tls_failure(exc) is not None:  # a certificate or protocol mismatch: waiting cannot help
                    raise SweepkitError(
                        f"server {self.location}: TLS failed ({_tls_failure(exc)}); for a private certificate "
                        "authority set SSL_CERT_FILE to its certificate"
                    ) from None
                reason = _describe(exc)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                reason = _describe(exc)
                if not safe:
                    raise StoreUnavailable(
                        f"server {self.location}: {reason} before it answered; the request may or may not "
                        "have been carried out"
                    ) from None
            except httpx.HTTPError as exc:  # a bad URL and the like: not a matter of waiting
                raise SweepkitError(f"server {self.location}: {_describe(exc)}") from None
            else:
                if response.status_code not in _TRANSIENT_STATUS:
                    self._answered()
                    return self._decode(response, logged)
                reason = self._reason(response)
                if not safe and response.status_code not in _UNSENT_STATUS:
                    raise StoreUnavailable(
                        f"server {self.location}: {reason}; the request may or may not have been carried out"
                    )
                wait_hint = _retry_after(response)
            now = time.monotonic()
            retry_s = env.store_retry_s()
            if deadline is None:
                deadline = now + retry_s
                self._waiting_for(reason, retry_s)
            stopping = shutdown.requested()
            if stopping is not None:
                raise StoreUnavailable(f"server {self.location}: {reason} (not retried: {stopping})")
            if now >= deadline:
                raise StoreUnavailable(
                    f"server {self.location}: {reason} (retried for {retry_s:g} s, {env.STORE_RETRY})"
                )
            pause = wait_hint if wait_hint is not None else delay * (0.5 + random.random())
            shutdown.wait(max(0.0, min(pause, deadline - now)))
            delay = min(delay * 2, _BACKOFF_S[1])

    def _decode(self, response: httpx.Response, logged: Sequence[str] = ()) -> Any:
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = _NOT_JSON
        if response.is_success:
            if data is _NOT_JSON:
                raise SweepkitError(
                    f"server {self.location} answered {response.request.method} {response.request.url.path} "
                    f"with something that is not sweepkit's API ({response.headers.get('content-type', 'no type')}); "
                    "is it a sweepkit server?"
                )
            if logged and may_hold_nonfinite(response.content):
                for place in logged:
                    _logged_at(data, place.split("."))
            return data
        fallback = f"server {self.location} answered {response.status_code} {response.reason_phrase}" + (
            f" to {response.request.method} {response.request.url.path}"
        )
        if response.status_code == 401 and "authorization" not in self._client.headers:
            fallback += f" (it needs a token: set {env.TOKEN})"
        raise rebuild_error(response.status_code, None if data is _NOT_JSON else data, fallback=fallback)

    def _reason(self, response: httpx.Response) -> str:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = None
        text = f"{response.status_code} {response.reason_phrase}".strip()
        return f"{text}: {message}" if isinstance(message, str) else text

    def _waiting_for(self, reason: str, retry_s: float) -> None:
        with self._lock:
            if self._waiting:
                return
            self._waiting = True
        self.on_wait(
            f"server {self.location} is unreachable or busy ({reason}); retrying for up to {retry_s:g} s"
        )

    def _answered(self) -> None:
        if self._waiting:
            with self._lock:
                was, self._waiting = self._waiting, False
            if was:
                self.on_wait(f"server {self.location} answers again")


_NOT_JSON = object()


def _logged_at(data: Any, steps: list[str]) -> None:
    """Read the logged data at ``steps`` (keys, ``*`` for each item of a list) in ``data``, in place."""
    key, rest = steps[0], steps[1:]
    items = list(enumerate(data)) if key == "*" else [(key, data.get(key))] if isinstance(data, dict) else []
    for place, inner in items:
        if not rest:
            data[place] = logged_data(inner)
        elif inner is not None:
            _logged_at(inner, rest)


def _wire(kind: Any, value: Any) -> Any:
    """An argument as JSON data: enums as their values, sequences as lists, mappings as dicts."""
    while typing.get_origin(kind) is Annotated:
        kind = typing.get_args(kind)[0]
    if value is None:
        return None
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value).value
    origin = typing.get_origin(kind)
    if origin is list:
        (item,) = typing.get_args(kind)
        return [_wire(item, v) for v in value] if _has_enum(item) else list(value)
    if origin is dict and isinstance(value, Mapping):
        return dict(value)
    return value


def _has_enum(kind: Any) -> bool:
    while typing.get_origin(kind) is Annotated:
        kind = typing.get_args(kind)[0]
    return isinstance(kind, type) and issubclass(kind, enum.Enum)


def _method(call: Call) -> Callable[..., Any]:
    """The client's method for ``call``: the interface's signature and documentation, sent by ``_send``."""
    declared = getattr(SweepService, call.name)
    signature = inspect.signature(declared)

    def method(self: HttpSweepService, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        return self._send(call, bound.arguments)

    method.__name__ = method.__qualname__ = call.name
    method.__doc__ = declared.__doc__
    method.__signature__ = signature  # type: ignore[attr-defined]
    return method


for _call in CALLS:
    setattr(HttpSweepService, _call.name, _method(_call))
abc.update_abstractmethods(HttpSweepService)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, min(float(response.headers.get("retry-after", "")), 60.0))
    except ValueError:
        return None


def _tls_failure(exc: BaseException) -> str | None:
    """The TLS error behind a failed connection, as a short phrase, or None."""
    import ssl

    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            reason = getattr(cause, "verify_message", None) or getattr(cause, "reason", None) or str(cause)
            return str(reason).replace("_", " ").lower()
        cause = cause.__cause__ or cause.__context__
    return None


def _describe(exc: BaseException) -> str:
    """A transport failure as a short lowercase phrase ("connection refused")."""
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time" if not isinstance(exc, httpx.ConnectTimeout) else "connecting timed out"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection closed before an answer"
    cause: BaseException | None = exc
    while cause is not None:
        reason = getattr(cause, "strerror", None)
        if reason:
            return reason[:1].lower() + reason[1:]
        cause = cause.__cause__ or cause.__context__
    text = str(exc).strip() or type(exc).__name__
    if text.startswith("[Errno"):
        text = text.split("] ", 1)[-1]
    return text[:1].lower() + text[1:]


def _say_on_stderr(message: str) -> None:
    print(f"sweepkit: {message}", file=sys.stderr, flush=True)

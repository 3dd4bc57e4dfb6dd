"""``HttpSweepService``: the sweep service of a sweepkit server, reached over HTTP (httpx).

The same calls as the local service, with the same answers and the same errors (the server sends an
error's class and sentence; see ``sweepkit.service.wire``). The client side only: it imports neither
the store nor the server's web stack.

Faults: a server that cannot be reached (refused, reset, timed out) or answers 502, 503 or 504 is
retried with exponential backoff and jitter for ``SWEEPKIT_STORE_RETRY`` seconds (default 300), then
``StoreUnavailable`` is raised (agents keep their runs going and try again). A call is retried only
when repeating it is safe: claims carry a key and log batches a sequence number, so they are; calls
that would act twice (creating a sweep, pausing one) are retried only when the request surely never
reached the server. The token (``SWEEPKIT_TOKEN``) goes in an ``Authorization: Bearer`` header.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from sweepkit import env, shutdown
from sweepkit.errors import NotFoundError, StoreUnavailable, SweepkitError
from sweepkit.runs import RunState, SweepAction
from sweepkit.service.checks import (
    check_batch,
    check_claim_key,
    check_retry_states,
    check_slot,
    check_slots,
    check_workdir,
)
from sweepkit.service.interface import SweepService
from sweepkit.service.types import (
    AgentInfo,
    BandThreshold,
    Claim,
    HistoryPage,
    LogAck,
    LogBatch,
    NewToken,
    RankedRun,
    RetryResult,
    RunControl,
    RunInfo,
    RunOutput,
    RunPage,
    SweepInfo,
    TokenInfo,
    from_json,
)
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

    # --- sweeps ---------------------------------------------------------------------------------------

    def create_sweep(self, config, *, project=None, entity=None, name=None, source=None) -> SweepInfo:
        if not isinstance(config, Mapping):
            raise SweepkitError(f"config: expected a sweep config as a mapping, got {type(config).__name__}")
        body = {"config": dict(config), "project": project, "entity": entity, "name": name, "source": source}
        return self._load(SweepInfo, self._call("POST", "/sweeps", body, safe=False))

    def update_sweep(self, sweep_id: str, config, *, source=None) -> SweepInfo:
        path = f"/sweeps/{self._seg('sweep', sweep_id)}/config"
        return self._load(SweepInfo, self._call("PUT", path, {"config": config, "source": source}))

    def control_sweep(self, sweep_id: str, action: SweepAction) -> SweepInfo:
        action = SweepAction(action)
        path = f"/sweeps/{self._seg('sweep', sweep_id)}/control"
        # Stopping or cancelling twice changes nothing; pausing or resuming twice would say "conflict".
        safe = action in (SweepAction.STOP, SweepAction.CANCEL)
        return self._load(SweepInfo, self._call("POST", path, {"action": action.value}, safe=safe))

    def get_sweep(self, sweep_id: str, *, project=None, entity=None) -> SweepInfo:
        params = {k: v for k, v in (("project", project), ("entity", entity)) if v is not None}
        return self._load(
            SweepInfo, self._call("GET", f"/sweeps/{self._seg('sweep', sweep_id)}", params=params)
        )

    def list_sweeps(self, *, project=None) -> list[SweepInfo]:
        params = {"project": project} if project is not None else {}
        return self._load(list[SweepInfo], self._call("GET", "/sweeps", params=params), "sweeps")

    # --- agents and runs ------------------------------------------------------------------------------

    def register_agent(self, sweep_id: str, *, host: str, pid: int, workdir=None, slots=None) -> str:
        # Safe to repeat: a second registration leaves only an idle agent record behind.
        path = f"/sweeps/{self._seg('sweep', sweep_id)}/agents"
        body = {"host": host, "pid": pid, "workdir": check_workdir(workdir), "slots": check_slots(slots)}
        return self._load(str, self._call("POST", path, body), "agent_id")

    def list_agents(self, sweep_id: str) -> list[AgentInfo]:
        path = f"/sweeps/{self._seg('sweep', sweep_id)}/agents"
        return self._load(list[AgentInfo], self._call("GET", path), "agents")

    def claim_run(self, sweep_id: str, agent_id: str, claim_key: str, *, slot=None) -> Claim:
        check_claim_key(claim_key)
        path = f"/sweeps/{self._seg('sweep', sweep_id)}/claims"
        body = {"agent_id": agent_id, "claim_key": claim_key, "slot": check_slot(slot)}
        return self._load(Claim, self._call("POST", path, body))

    def heartbeat(self, agent_id: str, run_ids: Sequence[str]) -> list[RunControl]:
        path = f"/agents/{self._seg('agent', agent_id)}/heartbeat"
        return self._load(list[RunControl], self._call("POST", path, {"run_ids": list(run_ids)}), "runs")

    def log(self, run_id: str, batch: LogBatch) -> LogAck:
        check_batch(run_id, batch)  # the same checks and sentences as locally, before anything is sent
        path = f"/runs/{self._seg('run', run_id)}/logs"
        return self._load(LogAck, self._call("POST", path, batch))

    def finish_run(self, run_id: str, state: RunState, *, exit_code=None, error=None) -> RunInfo:
        body = {"state": RunState(state).value, "exit_code": exit_code, "error": error}
        return self._load(
            RunInfo, self._call("POST", f"/runs/{self._seg('run', run_id)}/finish", body), convert=self._run
        )

    def agent_finished(self, agent_id: str) -> None:
        self._call("POST", f"/agents/{self._seg('agent', agent_id)}/finished", {})

    def start_run(self, *, project=None, name=None, config=None) -> RunInfo:
        body = {"project": project, "name": name, "config": config}
        return self._load(RunInfo, self._call("POST", "/runs", body, safe=False), convert=self._run)

    # --- queries ----------------------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunInfo:
        return self._load(RunInfo, self._call("GET", f"/runs/{self._seg('run', run_id)}"), convert=self._run)

    def list_runs(self, sweep_id: str, *, states=None, after=None, limit=None) -> RunPage:
        params: dict[str, Any] = {}
        if states:
            params["state"] = [RunState(s).value for s in states]
        if after is not None:
            params["after"] = after
        if limit is not None:
            params["limit"] = limit
        data = self._call("GET", f"/sweeps/{self._seg('sweep', sweep_id)}/runs", params=params)
        return self._load(
            RunPage, data, convert=lambda d: RunPage([self._run(r) for r in d["runs"]], d["next_after"])
        )

    def history(self, run_id: str, *, after=None, limit: int = 1000) -> HistoryPage:
        params: dict[str, Any] = {"limit": max(1, min(int(limit), 100_000))}
        if after is not None:
            params["after"] = after
        data = self._call("GET", f"/runs/{self._seg('run', run_id)}/history", params=params, logged="rows")
        return self._load(HistoryPage, data)

    def metric_series(self, run_ids, key, *, after=None):
        body = {"run_ids": list(run_ids), "key": key, "after": dict(after) if after else None}
        data = self._call("POST", "/series", body, logged="series")
        return {
            run_id: [(int(step), value) for step, value in pairs] for run_id, pairs in data["series"].items()
        }

    def run_output(self, run_id: str) -> RunOutput:
        return self._load(RunOutput, self._call("GET", f"/runs/{self._seg('run', run_id)}/output"))

    def retry_runs(self, sweep_id: str, states: Sequence[RunState] | None = None) -> RetryResult:
        checked = None if states is None else check_retry_states(states)  # the same sentence as locally
        body = {"states": None if checked is None else [s.value for s in checked]}
        # Not safe to repeat blindly: a second call would find the first one's runs retried already.
        path = f"/sweeps/{self._seg('sweep', sweep_id)}/retry"
        return self._load(RetryResult, self._call("POST", path, body, safe=False))

    def delete_runs(self, sweep_id: str, run_ids: Sequence[str]) -> list[str]:
        path = f"/sweeps/{self._seg('sweep', sweep_id)}/runs/delete"
        return self._load(
            list[str], self._call("POST", path, {"run_ids": list(run_ids)}, safe=False), "deleted"
        )

    def best_runs(self, sweep_id: str, *, limit: int | None = None) -> list[RankedRun]:
        params = {"limit": limit} if limit is not None else {}
        data = self._call("GET", f"/sweeps/{self._seg('sweep', sweep_id)}/best", params=params)
        return self._load(
            list[RankedRun],
            data,
            convert=lambda d: [RankedRun(self._run(item["run"]), int(item["rank"])) for item in d["runs"]],
        )

    def band_thresholds(self, sweep_id: str) -> list[BandThreshold]:
        data = self._call("GET", f"/sweeps/{self._seg('sweep', sweep_id)}/thresholds")
        return self._load(list[BandThreshold], data, "thresholds")

    def run_command(self, run_id: str) -> str | None:
        data = self._call("GET", f"/runs/{self._seg('run', run_id)}/command")
        return self._load(str, data, "command")

    # --- tokens -------------------------------------------------------------------------------------------

    def create_token(self, scope: str, *, name: str | None = None) -> NewToken:
        return self._load(NewToken, self._call("POST", "/tokens", {"scope": scope, "name": name}, safe=False))

    def list_tokens(self) -> list[TokenInfo]:
        return self._load(list[TokenInfo], self._call("GET", "/tokens"), "tokens")

    def revoke_token(self, token_id: str) -> TokenInfo:
        return self._load(TokenInfo, self._call("DELETE", f"/tokens/{self._seg('token', token_id)}"))

    # --- plumbing -----------------------------------------------------------------------------------------

    def _seg(self, kind: str, value: Any) -> str:
        """``value`` as one path segment; an empty one names nothing (as it would locally)."""
        text = str(value)
        if not text:
            raise NotFoundError(f"no {kind} {value!r} in {self.location}")
        return quote(text, safe="")

    def _load(self, kind: Any, data: Any, key: str | None = None, *, convert: Any = None) -> Any:
        """An answer as ``kind`` (from its ``key``); one clear error if it is not in the expected form
        (a server of another sweepkit version, or not a sweepkit server)."""
        try:
            if key is not None:
                data = data[key]
            return convert(data) if convert is not None else from_json(kind, data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            name = getattr(kind, "__name__", None) or str(kind)
            raise SweepkitError(
                f"server {self.location} answered with a {name} that this sweepkit {__version__} cannot read "
                f"({type(exc).__name__}: {exc}); is the server's sweepkit version the same?"
            ) from None

    @staticmethod
    def _run(data: Any) -> RunInfo:
        data["summary"] = logged_data(data["summary"])  # small: always looked through
        return from_json(RunInfo, data)

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        safe: bool = True,
        logged: str | None = None,
    ) -> Any:
        """Send one request and return its decoded JSON answer; retried as the module docstring says.

        ``safe``: whether carrying the request out twice does no harm (else it is repeated only when it
        surely never reached the server). ``logged``: the answer's key that holds logged data.
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

    def _decode(self, response: httpx.Response, logged: str | None = None) -> Any:
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
            if logged is not None and may_hold_nonfinite(response.content):
                data[logged] = logged_data(data[logged])
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

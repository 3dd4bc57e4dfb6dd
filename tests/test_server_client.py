"""The HTTP client and the server at their edges: a proxy whose upstream is restarting, a server that
is not there, request limits and unreadable input, TLS, and something that is not a sweepkit server.
Real server processes and real sockets throughout."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
import time

import httpx
import pytest

from sweepkit.connect import open_http
from sweepkit.errors import NotFoundError, StoreUnavailable, SweepkitError
from sweepkit.service.types import LogBatch

GRID = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"i": {"values": [0, 1, 2]}}}


@pytest.fixture
def store(tmp_path, sqlite_template):
    shutil.copyfile(sqlite_template, tmp_path / "store.db")
    return f"sqlite:///{tmp_path / 'store.db'}"


def _run(service):
    sweep = service.create_sweep(GRID)
    agent = service.register_agent(sweep.id, host="h", pid=1)
    return service.claim_run(sweep.id, agent, "k").assignment.run_id


class GatewayProxy:
    """A reverse proxy in front of a server that answers 502 Bad Gateway (an HTML page, as nginx does
    while its upstream restarts) until ``down_until``, and forwards requests after that."""

    def __init__(self, upstream: str) -> None:
        proxy = self
        self.down_until = 0.0
        self.refused = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if time.monotonic() < proxy.down_until:
                    proxy.refused += 1
                    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                    self.send_response(502)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() in ("content-type", "authorization")
                }
                answer = httpx.request(self.command, upstream + self.path, content=body, headers=headers)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("content-type", "application/json"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = _relay

            def log_message(self, *args):
                pass

        self.site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.site.server_address[1]}"
        threading.Thread(target=self.site.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.site.shutdown()
        self.site.server_close()


@pytest.fixture
def proxied(store, server_factory):
    proxy = GatewayProxy(server_factory(store).url)
    yield proxy
    proxy.close()


def test_a_restarting_upstream_behind_a_proxy_is_waited_out(proxied, monkeypatch):
    """502s from a proxy are retried with backoff until the server is back; the client says so once
    when it starts waiting and once when it is over, and a retried claim or batch counts once."""
    monkeypatch.setenv("SWEEPKIT_STORE_RETRY", "60")
    said = []
    client = open_http(proxied.url)
    client.on_wait = said.append
    sweep = client.create_sweep(GRID)
    agent = client.register_agent(sweep.id, host="h", pid=1)
    proxied.down_until = time.monotonic() + 2.0
    started = time.monotonic()
    run = client.claim_run(sweep.id, agent, "claim-1").assignment
    assert 1.5 < time.monotonic() - started < 20 and proxied.refused >= 3
    assert said == [
        f"server {proxied.url} is unreachable or busy (502 Bad Gateway); retrying for up to 60 s",
        f"server {proxied.url} answers again",
    ]
    proxied.down_until = time.monotonic() + 1.0
    assert client.log(run.run_id, LogBatch(1, [{"_step": 0, "loss": 0.5}])).applied
    assert client.claim_run(sweep.id, agent, "claim-1").assignment == run
    assert client.get_sweep(sweep.id).run_count == 1
    assert client.history(run.run_id).rows == [{"_step": 0, "loss": 0.5}]


def test_a_gateway_down_for_longer_than_the_retry_time_is_one_clear_error(proxied, monkeypatch):
    client = open_http(proxied.url)
    client.on_wait = lambda message: None
    monkeypatch.setenv("SWEEPKIT_STORE_RETRY", "1.5")
    proxied.down_until = time.monotonic() + 60
    with pytest.raises(StoreUnavailable) as raised:
        client.create_sweep(GRID)  # not safe to repeat in general, but a 502 means it never arrived
    assert (
        str(raised.value)
        == f"server {proxied.url}: 502 Bad Gateway (retried for 1.5 s, SWEEPKIT_STORE_RETRY)"
    )
    proxied.down_until = 0.0
    assert client.list_sweeps() == []  # nothing was created


def test_no_server_there_is_retried_then_one_clear_error(monkeypatch):
    import socket

    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("SWEEPKIT_STORE_RETRY", "1")
    said = []
    client = open_http(f"http://127.0.0.1:{port}/")
    client.on_wait = said.append
    started = time.monotonic()
    with pytest.raises(
        StoreUnavailable,
        match=rf"^server http://127.0.0.1:{port}: connection refused \(retried for 1 s, SWEEPKIT_STORE_RETRY\)$",
    ):
        client.list_sweeps()
    assert 0.9 < time.monotonic() - started < 10
    assert said == [
        f"server http://127.0.0.1:{port} is unreachable or busy (connection refused); retrying for up to 1 s"
    ]
    with pytest.raises(SweepkitError, match="expected a URL such as http://HOST:PORT"):
        open_http("ftp://example")


def test_limits_and_unreadable_input_are_4xx_and_lose_nothing(store, server_factory):
    server = server_factory(store, args=["--max-request-mb", "0.01"])
    client = open_http(server.url)
    run_id = _run(client)
    client.log(run_id, LogBatch(1, [{"_step": 0, "loss": 1.0}]))
    big = [{"_step": i + 1, "loss": 0.5, "note": "x" * 100} for i in range(200)]
    with pytest.raises(
        SweepkitError, match=r"^the request body is larger than this server's limit of 0.01 MiB$"
    ):
        client.log(run_id, LogBatch(2, big))
    api = f"{server.url}/api/v1/runs/{run_id}/logs"
    headers = {"Content-Type": "application/json"}

    def streamed():  # no Content-Length: counted as it arrives
        yield b'{"seq": 2, "rows": ['
        for i in range(200):
            yield b'{"_step": %d, "note": "%s"},' % (i + 1, b"x" * 100)
        yield b'{"_step": 999}]}'

    assert httpx.post(api, content=streamed(), headers=headers).status_code == 413
    lone = httpx.post(api, content=b'{"seq": 2, "rows": [{"_step": 1, "t": "\\ud800"}]}', headers=headers)
    assert lone.status_code == 422 and "surrogate" in lone.json()["error"]["message"]
    deep = httpx.post(
        api, content=b'{"seq": 2, "rows": [' + b"[" * 5000 + b"]" * 5000 + b"]}", headers=headers
    )
    assert deep.status_code == 400 and deep.json()["error"]["type"] == "SweepkitError"
    garbage = httpx.post(api, content=b"{not json", headers=headers)
    assert garbage.status_code == 422 and garbage.json()["error"]["message"].startswith("invalid request: ")
    wrong = httpx.post(api, json={"seq": "two", "rows": []})
    assert wrong.status_code == 422
    assert (
        wrong.json()["error"]["message"]
        == "invalid request: seq: input should be a valid integer, unable to parse string as an integer"
    )
    route = httpx.get(f"{server.url}/api/v1/nothing-here")
    assert (
        route.status_code == 404
        and route.json()["error"]["message"] == "no such API route: GET /api/v1/nothing-here"
    )
    assert client.history(run_id).rows == [{"_step": 0, "loss": 1.0}]
    assert client.log(run_id, LogBatch(2, [{"_step": 1, "loss": 0.25}])).applied
    assert "Traceback" not in server.log()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_tls_with_a_private_certificate_authority(store, server_factory, tmp_path, monkeypatch):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server = server_factory(store, args=["--ssl-certfile", str(cert), "--ssl-keyfile", str(key)])
    assert server.url.startswith("https://127.0.0.1:")
    with pytest.raises(
        SweepkitError,
        match=r"TLS failed \(self-signed certificate\); for a private certificate authority set SSL_CERT_FILE",
    ):
        open_http(server.url).list_sweeps()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    client = open_http(server.url)
    assert client.create_sweep(GRID).id in {s.id for s in client.list_sweeps()}
    client.close()  # the server's graceful stop waits for open connections


def test_something_that_is_not_a_sweepkit_server(monkeypatch):
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith("/api/v1/runs/json"):  # JSON, but not what sweepkit answers
                body, kind, status = b'{"id": "json", "state": "sideways"}', "application/json", 200
            elif self.path.startswith("/api/v1/sweeps"):
                body, kind, status = b"<html>hello</html>", "text/html", 200
            else:
                body, kind, status = b"gone", "text/html", 404
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{site.server_address[1]}"
    try:
        client = open_http(url)
        with pytest.raises(
            SweepkitError,
            match=r"with something that is not sweepkit's API \(text/html\); is it a sweepkit server\?$",
        ):
            client.list_sweeps()
        with pytest.raises(
            NotFoundError, match=rf"^server {url} answered 404 Not Found to GET /api/v1/runs/r1$"
        ):
            client.get_run("r1")
        with pytest.raises(
            SweepkitError, match=r"answered with a RunInfo that this sweepkit .* cannot read \(KeyError"
        ):
            client.get_run("json")
    finally:
        site.shutdown()

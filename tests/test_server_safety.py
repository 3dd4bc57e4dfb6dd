"""The server is safe by default: it answers only to its own names (DNS rebinding) and its own pages
(Origin), token or not; the brake on bad tokens never stops a valid one; ``--access-log`` logs each
request without its token; list answers are compressed and leave large configs out. Real server
processes, a real store, real agents."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from sweepkit.connect import open_http, open_local

GRID = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"i": {"values": [0, 1, 2]}}}

PROGRAM = """
import sweepkit
run = sweepkit.init()
sweepkit.log({"loss": float(run.config["i"])})
"""


@pytest.fixture
def store(tmp_path, sqlite_template):
    import shutil

    path = tmp_path / "store.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def _agent(url: str, sweep_id: str, cwd, token: str | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    if token:
        environ["SWEEPKIT_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "sweepkit", "agent", "--server", url, sweep_id],
        capture_output=True,
        text=True,
        env=environ,
        cwd=cwd,
        timeout=180,
    )


def _program_sweep(tmp_path) -> dict:
    (tmp_path / "train.py").write_text(PROGRAM)
    return {**GRID, "program": "train.py"}


def test_a_forged_host_cannot_change_a_sweep_on_a_tokenless_server(store, server_factory, tmp_path):
    server = server_factory(store)
    client = open_http(server.url)  # HttpSweepService: Host is 127.0.0.1:PORT
    sweep = client.create_sweep(_program_sweep(tmp_path))
    put = f"{server.url}/api/v1/sweeps/{sweep.id}/config"
    evil = {**sweep.config, "command": ["sh", "-c", "touch pwned"]}

    forged = httpx.put(put, json={"config": evil}, headers={"Host": "evil.example"})
    assert forged.status_code == 403
    error = forged.json()["error"]
    assert error["type"] == "AccessDenied"
    assert error["message"].startswith("this server does not answer to the host name 'evil.example'")
    assert "--allowed-host" in error["message"]
    # A page of another site (the browser sends its own Origin) is refused too, with the right Host.
    cross = httpx.put(put, json={"config": evil}, headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403 and "pages of 'http://evil.example'" in cross.json()["error"]["message"]
    assert httpx.get(f"{server.url}/api/v1/sweeps", headers={"Origin": "null"}).status_code == 403
    assert (
        httpx.get(f"{server.url}/", headers={"Host": "evil.example:80"}).status_code == 403
    )  # the dashboard
    assert open_local(store).get_sweep(sweep.id).config.get("command") is None
    assert "refused PUT /api/v1/sweeps/" in server.log() and "evil.example" in server.log()

    # Legitimate callers: loopback names, the address, the server's own page, the CLI and an agent.
    port = server.port
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "[::1]", "LOCALHOST"):
        assert httpx.get(f"{server.url}/api/v1/sweeps", headers={"Host": host}).status_code == 200, host
    same = httpx.get(f"{server.url}/api/v1/sweeps", headers={"Origin": server.url})
    assert same.status_code == 200
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert (
        httpx.get(f"{server.url}/api/v1/dashboard/sweeps", headers={"Origin": server.url}).status_code == 200
    )
    done = _agent(server.url, sweep.id, tmp_path)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "pwned").exists()
    assert open_local(store).get_sweep(sweep.id).runs_by_state == {"finished": 3}


def test_extra_host_names_are_allowed_by_flag_or_environment(store, server_factory):
    server = server_factory(
        store,
        args=["--allowed-host", "sweeps.example.com", "--allowed-host", ".corp.example"],
        env={"SWEEPKIT_ALLOWED_HOSTS": "proxy.internal, other.internal"},
    )
    url = f"{server.url}/api/v1/sweeps"
    for host in (
        "sweeps.example.com",
        "SWEEPS.example.com:443",
        "a.corp.example",
        "corp.example",
        "proxy.internal",
    ):
        assert httpx.get(url, headers={"Host": host}).status_code == 200, host
    assert httpx.get(url, headers={"Host": "evil.example"}).status_code == 403
    assert httpx.get(url, headers={"Host": "corp.example.evil"}).status_code == 403
    # Behind a proxy that rewrites Host, its public name may be the page's origin.
    assert httpx.get(url, headers={"Origin": "https://sweeps.example.com"}).status_code == 200
    assert httpx.get(url, headers={"Origin": "https://evil.example"}).status_code == 403


def test_bad_tokens_are_braked_but_a_valid_token_always_gets_through(store, server_factory, tmp_path):
    service = open_local(store)
    admin = service.create_token("admin", name="ops").secret
    agent_token = service.create_token("agent", name="worker").secret
    revoked = service.create_token("agent", name="old")
    service.revoke_token(revoked.token.id)
    service.close()
    server = server_factory(store)
    url = f"{server.url}/api/v1/sweeps"
    statuses = [
        httpx.get(url, headers={"Authorization": f"Bearer {bad}"}).status_code
        for bad in ["guess"] * 6 + [revoked.secret] * 9
    ]
    assert statuses == [401] * 10 + [429] * 5  # a revoked agent retrying counts as bad tokens too
    braked = httpx.get(url, headers={"Authorization": "Bearer guess"})
    assert braked.status_code == 429 and int(braked.headers["retry-after"]) >= 1
    assert braked.json()["error"]["message"].startswith("too many failed attempts from 127.0.0.1")
    # The admin, from the same address, is not locked out; nor is a running agent.
    sweep = open_http(server.url, token=admin).create_sweep(_program_sweep(tmp_path))
    done = _agent(server.url, sweep.id, tmp_path, token=agent_token)
    assert done.returncode == 0, done.stderr
    assert open_local(store).get_sweep(sweep.id).runs_by_state == {"finished": 3}
    assert httpx.get(url, headers={"Authorization": "Bearer guess"}).status_code == 429  # still braked
    log = server.log()
    assert "(10 failed attempts in 60 s); its further bad tokens are answered 429" in log
    assert "(11 failed attempts" not in log  # once per window, not once per attempt


def test_the_access_log_names_each_request_and_never_its_token(store, server_factory):
    token = open_local(store).create_token("admin").secret
    server = server_factory(store, args=["--access-log"])
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{server.url}/api/v1/sweeps?project=p", headers=auth).status_code == 200
    assert httpx.get(f"{server.url}/api/v1/sweeps/nope", headers=auth).status_code == 404
    assert httpx.get(f"{server.url}/api/v1/sweeps", headers={"Host": "evil.example"}).status_code == 403
    deadline = time.monotonic() + 10
    while "/api/v1/sweeps/nope 404" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = server.log().splitlines()
    ok = [line for line in lines if "GET /api/v1/sweeps 200 " in line]
    assert len(ok) == 1 and ok[0].startswith("sweepkit server: 127.0.0.1 GET /api/v1/sweeps 200 ")
    assert ok[0].endswith(" ms")
    assert any("GET /api/v1/sweeps/nope 404 " in line for line in lines)
    assert any("GET /api/v1/sweeps 403 " in line for line in lines)
    assert token not in server.log() and token.split("_", 2)[2] not in server.log()
    quiet = server_factory(store)
    httpx.get(f"{quiet.url}/api/v1/sweeps", headers=auth)
    assert "GET /api/v1/sweeps" not in quiet.log()


def test_a_huge_config_is_left_out_of_list_answers_which_are_compressed(store, server_factory):
    server = server_factory(store)
    client = open_http(server.url)
    values = [f"value-{i:07d}" for i in range(150_000)]  # a config of about 2.4 MB
    huge = client.create_sweep(
        {"method": "random", "metric": {"name": "loss"}, "parameters": {"v": {"values": values}}}, name="huge"
    )
    small = client.create_sweep(GRID, name="small")

    # httpx asks for gzip; the list leaves the huge config out and keeps the small one.
    raw = httpx.get(f"{server.url}/api/v1/sweeps", headers={"Accept-Encoding": "identity"})
    assert raw.status_code == 200 and "content-encoding" not in raw.headers
    assert len(raw.content) < 20_000
    listed = {s["id"]: s for s in raw.json()["sweeps"]}
    assert listed[huge.id]["config_omitted"] is True and listed[huge.id]["config"] == {}
    assert listed[huge.id]["plan"]["parameters"] == []
    assert listed[huge.id]["plan"]["objectives"][0]["name"] == "loss"  # what lists show stays
    assert listed[small.id]["config_omitted"] is False and listed[small.id]["config"]["parameters"]
    one = httpx.get(f"{server.url}/api/v1/sweeps/{huge.id}", headers={"Accept-Encoding": "gzip"})
    assert one.headers["content-encoding"] == "gzip"
    assert len(one.content) > 2_000_000  # httpx decodes; the wire carried far less
    assert int(one.headers["content-length"]) < len(one.content) / 4

    # The clients still get what they need: the CLI's list, the query API's config (fetched when asked).
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    out = subprocess.run(
        [sys.executable, "-m", "sweepkit", "sweeps", "--format", "json", "--server", server.url],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert {r["name"] for r in json.loads(out.stdout)} == {"huge", "small"}
    assert [s.id for s in client.list_sweeps()] == [small.id, huge.id]
    from sweepkit.api import Api

    environ_url = os.environ.get("SWEEPKIT_URL")
    os.environ["SWEEPKIT_URL"] = server.url
    try:
        api = Api()
        by_id = {s.id: s for s in api.sweeps()}
        assert by_id[huge.id].config["parameters"]["v"]["values"] == values
        assert by_id[small.id].config == small.config
    finally:
        os.environ.pop("SWEEPKIT_URL") if environ_url is None else os.environ.update(SWEEPKIT_URL=environ_url)
    assert open_local(store).list_sweeps()[1].config_omitted  # the local service lists the same way


def test_a_run_is_bound_to_the_agent_token_that_claimed_it(store, server_factory):
    from sweepkit.errors import AccessDenied
    from sweepkit.runs import RunState
    from sweepkit.service.types import LogBatch

    service = open_local(store)
    admin_token = service.create_token("admin").secret
    mine_token = service.create_token("agent", name="mine").secret
    other_token = service.create_token("agent", name="other")
    service.close()
    server = server_factory(store)
    admin, mine = open_http(server.url, token=admin_token), open_http(server.url, token=mine_token)
    other = open_http(server.url, token=other_token.secret)
    sweep = admin.create_sweep(GRID)
    agent = mine.register_agent(sweep.id, host="h", pid=1)
    run_id = mine.claim_run(sweep.id, agent, "k1").assignment.run_id
    assert mine.log(run_id, LogBatch(1, [{"_step": 0, "loss": 0.5}])).applied

    # Another agent token cannot write to the run, act for its agent, or claim as it.
    forged = LogBatch(2, [{"_step": 1, "loss": -99.0}], name="forged")
    refusals = {
        "log": lambda: other.log(run_id, forged),
        "finish": lambda: other.finish_run(run_id, RunState.FAILED, error="forged"),
        "heartbeat": lambda: other.heartbeat(agent, [run_id]),
        "claim": lambda: other.claim_run(sweep.id, agent, "k2"),
        "agent finished": lambda: other.agent_finished(agent),
    }
    for what, call in refusals.items():
        with pytest.raises(AccessDenied, match=r"registered with another token") as refused:
            call()
        assert f"not token {other_token.token.id}" in str(refused.value), what
    own = other.register_agent(sweep.id, host="h2", pid=2)  # its own agent heartbeating the run: no
    with pytest.raises(AccessDenied, match=rf"^run {run_id} was claimed by agent {agent}, which registered"):
        other.heartbeat(own, [run_id])
    raw = httpx.post(
        f"{server.url}/api/v1/runs/{run_id}/finish",
        json={"state": "failed"},
        headers={"Authorization": f"Bearer {other_token.secret}"},
    )
    assert raw.status_code == 403 and raw.json()["error"]["type"] == "AccessDenied"
    stored = open_local(store).get_run(run_id)
    assert stored.state == RunState.RUNNING and stored.name != "forged" and stored.summary["loss"] == 0.5

    # The claiming agent goes on; an admin token may still act on any run.
    assert [c.run_id for c in mine.heartbeat(agent, [run_id])] == [run_id]
    assert mine.log(run_id, LogBatch(2, [{"_step": 1, "loss": 0.25}])).applied
    assert admin.finish_run(run_id, RunState.KILLED, error="stopped by the admin").state == RunState.KILLED
    assert open_local(store).get_run(run_id).summary["loss"] == 0.25
    # The binding is declared with each call (sweepkit.service.calls) and shown in the API document.
    document = httpx.get(
        f"{server.url}/api/v1/openapi.json", headers={"Authorization": f"Bearer {admin_token}"}
    )
    bound = [
        op["x-bound"] for ops in document.json()["paths"].values() for op in ops.values() if op.get("x-bound")
    ]
    assert sorted(map(tuple, bound)) == [
        ("agent_id",),
        ("agent_id",),
        ("agent_id", "run_ids"),
        ("run_id",),
        ("run_id",),
    ]


def test_a_real_browser_uses_the_servers_dashboard_and_another_sites_page_cannot(
    store, server_factory, tmp_path
):
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright")
    chromium = os.environ.get("SWEEPKIT_TEST_CHROMIUM", "/usr/bin/chromium")
    server = server_factory(store)
    import socket

    with socket.socket() as probe:  # a plain web server of another site on this machine
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<html><body>another site</body></html>")
    site = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(tmp_path / "site"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sweep = open_local(store).create_sweep(GRID, name="browsed")
    control = f"{server.url}/api/v1/dashboard/sweeps/{sweep.id}/control"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(f"{server.url}/")
            page.wait_for_selector(f'#sweeps tr[data-sweep="{sweep.id}"]', timeout=30_000)
            # The page's own controls (a JSON POST from its origin) work ...
            status = page.evaluate(
                """async (url) => (await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'},
                   body: JSON.stringify({action: 'pause'})})).status""",
                control,
            )
            assert status == 200 and open_local(store).get_sweep(sweep.id).state == "paused"
            # ... a page of another site sends its requests with its own Origin: refused, nothing changes.
            for _ in range(100):
                try:
                    page.goto(f"http://127.0.0.1:{port}/")
                    break
                except sync_api.Error:
                    time.sleep(0.1)
            assert "another site" in page.content()
            page.evaluate(
                """async ([control, put]) => {
                   await fetch(control, {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'},
                                         body: JSON.stringify({action: 'resume'})}).catch(() => null);
                   await fetch(put, {method: 'POST', mode: 'no-cors', body: '{}'}).catch(() => null); }""",
                [control, f"{server.url}/api/v1/sweeps/{sweep.id}/control"],
            )
        finally:
            browser.close()
            site.terminate()
            site.wait(timeout=30)
    assert open_local(store).get_sweep(sweep.id).state == "paused"
    assert server.log().count(f"requests from pages of 'http://127.0.0.1:{port}' are refused") == 2


def test_a_run_outside_a_sweep_is_bound_to_the_token_that_started_it(store, server_factory):
    """``sweepkit.init()`` against a server with no agent: the run belongs to the token that started
    it; another agent token's writes are refused (403), its own and an admin's go through."""
    from sweepkit.errors import AccessDenied
    from sweepkit.runs import RunState
    from sweepkit.service.types import LogBatch

    service = open_local(store)
    admin_token = service.create_token("admin").secret
    mine_token = service.create_token("agent", name="mine").secret
    other_token = service.create_token("agent", name="other")
    service.close()
    server = server_factory(store)
    admin, mine = open_http(server.url, token=admin_token), open_http(server.url, token=mine_token)
    other = open_http(server.url, token=other_token.secret)
    run_id = mine.start_run(project="p", name="solo").id
    assert mine.log(run_id, LogBatch(1, [{"_step": 0, "loss": 0.5}])).applied

    for what, call in {
        "log": lambda: other.log(run_id, LogBatch(2, [{"_step": 1, "loss": -99.0}], name="forged")),
        "finish": lambda: other.finish_run(run_id, RunState.FAILED, error="forged"),
    }.items():
        with pytest.raises(AccessDenied, match=rf"^run {run_id} was started by another token") as refused:
            call()
        assert f"not token {other_token.token.id}" in str(refused.value), what
    raw = httpx.post(
        f"{server.url}/api/v1/runs/{run_id}/logs",
        json={"seq": 2, "rows": [{"_step": 1, "loss": -99.0}]},
        headers={"Authorization": f"Bearer {other_token.secret}"},
    )
    assert raw.status_code == 403 and raw.json()["error"]["type"] == "AccessDenied"
    stored = open_local(store).get_run(run_id)
    assert stored.state == RunState.RUNNING and stored.name == "solo" and stored.summary["loss"] == 0.5

    assert mine.log(run_id, LogBatch(2, [{"_step": 1, "loss": 0.25}])).applied
    assert mine.finish_run(run_id, RunState.FINISHED).state == RunState.FINISHED
    other_run = other.start_run(name="theirs").id  # each token's own runs
    assert other.log(other_run, LogBatch(1, [{"_step": 0, "loss": 1.0}])).applied
    assert admin.finish_run(other_run, RunState.KILLED, error="by the admin").state == RunState.KILLED
    assert open_local(store).get_run(run_id).summary["loss"] == 0.25

"""The server's door: tokens and their scopes, revocation, the brake on failed attempts, and no open
door on a non-loopback address. Real server processes, a real store, the real CLI."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import httpx
import pytest

from sweepkit.connect import open_http, open_local
from sweepkit.errors import AccessDenied, SweepkitError
from sweepkit.runs import RunState, SweepAction
from sweepkit.service.types import LogBatch

GRID = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"i": {"values": [0, 1, 2]}}}


def _cli(*args: str, token: str | None = None, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    if token is not None:
        environ["SWEEPKIT_TOKEN"] = token
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "sweepkit", *args], capture_output=True, text=True, env=environ, timeout=120
    )


@pytest.fixture
def store(tmp_path, sqlite_template):
    import shutil

    path = tmp_path / "store.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def tokens(store):
    """One token of each scope, made in the store."""
    service = open_local(store)
    made = {
        scope: service.create_token(scope, name=f"{scope}-token").secret
        for scope in ("admin", "agent", "read")
    }
    service.close()
    return made


def test_the_first_token_is_made_on_the_store_and_printed_once(store):
    out = _cli("token", "create", "--scope", "admin", "--name", "ops", "--db", store)
    assert out.returncode == 0, out.stderr
    secret = out.stdout.strip()
    assert secret.startswith("skt_") and len(out.stdout.splitlines()) == 1
    assert "with scope admin" in out.stderr and "it is shown only now" in out.stderr
    (made,) = open_local(store).list_tokens()
    assert (made.name, made.scope, made.revoked_at) == ("ops", "admin", None)


def test_only_a_hash_is_stored_and_list_shows_no_secret(store, tokens):
    path = store[len("sqlite:///") :]
    with sqlite3.connect(path) as conn:
        dump = "\n".join(conn.iterdump())
    for secret in tokens.values():
        assert secret not in dump and secret.split("_", 2)[2] not in dump
    listed = _cli("token", "list", "--db", store)
    assert listed.returncode == 0
    assert all(secret not in listed.stdout for secret in tokens.values())
    assert {"admin-token", "agent-token", "read-token"} <= set(listed.stdout.split())


def test_no_token_is_401_and_health_needs_none(store, tokens, server_factory):
    server = server_factory(store)
    assert "every request needs a token" in server.log()
    raw = httpx.get(f"{server.url}/api/v1/sweeps")
    assert raw.status_code == 401 and raw.headers["www-authenticate"] == "Bearer"
    assert raw.json()["error"] == {
        "type": "AccessDenied",
        "message": "this server needs a token: send 'Authorization: Bearer TOKEN' (sweepkit clients send SWEEPKIT_TOKEN)",
        "status": 401,
    }
    assert httpx.get(f"{server.url}/api/v1/health").json()["status"] == "ok"
    assert httpx.get(f"{server.url}/api/v1/openapi.json").status_code == 401
    client = open_http(server.url, token="")
    with pytest.raises(AccessDenied, match="this server needs a token"):
        client.list_sweeps()
    wrong = open_http(server.url, token="skt_abcdefgh_" + "x" * 43)
    with pytest.raises(AccessDenied, match="^the token is unknown or revoked$"):
        wrong.list_sweeps()


def test_scopes_read_agent_admin(store, tokens, server_factory):
    server = server_factory(store)
    admin, agent, read = (open_http(server.url, token=tokens[s]) for s in ("admin", "agent", "read"))
    sweep = admin.create_sweep(GRID)

    # read: queries only
    assert read.get_sweep(sweep.id).id == sweep.id and read.list_sweeps()[0].id == sweep.id
    with pytest.raises(
        AccessDenied, match=r"\(read-token\) has scope read; running agents and runs needs scope agent"
    ):
        read.register_agent(sweep.id, host="h", pid=1)
    agent_id = agent.register_agent(sweep.id, host="h", pid=1)
    with pytest.raises(AccessDenied, match="has scope read; running agents and runs needs scope agent"):
        read.claim_run(sweep.id, agent_id, "k1")
    with pytest.raises(
        AccessDenied, match="has scope read; creating or controlling sweeps needs scope admin"
    ):
        read.control_sweep(sweep.id, SweepAction.PAUSE)
    raw = httpx.post(
        f"{server.url}/api/v1/sweeps/{sweep.id}/claims",
        json={"agent_id": agent_id, "claim_key": "k1"},
        headers={"Authorization": f"Bearer {tokens['read']}"},
    )
    assert raw.status_code == 403 and raw.json()["error"]["type"] == "AccessDenied"

    # agent: claims, logs, finishes; cannot control sweeps or manage tokens
    run = agent.claim_run(sweep.id, agent_id, "k1").assignment
    agent.log(run.run_id, LogBatch(1, [{"_step": 0, "loss": 1.0}]))
    assert agent.finish_run(run.run_id, RunState.FINISHED).state == RunState.FINISHED
    with pytest.raises(
        AccessDenied, match="has scope agent; creating or controlling sweeps needs scope admin"
    ):
        agent.create_sweep(GRID)
    with pytest.raises(AccessDenied, match="has scope agent; managing tokens needs scope admin"):
        agent.list_tokens()
    # changing a sweep and what it runs: admin only; its config's versions: any scope
    for call in (
        lambda: agent.queue_points(sweep.id, [{"i": 1}]),
        lambda: agent.import_runs(sweep.id, [{"params": {"i": 1}, "metrics": {}}], source="x"),
        lambda: agent.update_sweep(sweep.id, GRID, dry_run=True),
    ):
        with pytest.raises(
            AccessDenied, match="has scope agent; creating or controlling sweeps needs scope admin"
        ):
            call()
    assert [v.version for v in read.config_versions(sweep.id)] == [1]

    # admin: everything, tokens too
    assert admin.control_sweep(sweep.id, SweepAction.PAUSE).state.value == "paused"
    made = admin.create_token("read", name="over-http")
    assert open_http(server.url, token=made.secret).get_run(run.run_id).state == RunState.FINISHED
    assert {t.name for t in admin.list_tokens()} >= {"admin-token", "over-http"}


def test_a_revoked_token_stops_working_at_once(store, tokens, server_factory):
    server = server_factory(store)
    agent = open_http(server.url, token=tokens["agent"])
    sweep = open_http(server.url, token=tokens["admin"]).create_sweep(GRID)
    agent_id = agent.register_agent(sweep.id, host="h", pid=1)
    assert agent.claim_run(sweep.id, agent_id, "k1").status == "claimed"
    token_id = tokens["agent"].split("_")[1]
    revoked = _cli("token", "revoke", token_id, "--db", store)  # through the store, from another process
    assert revoked.returncode == 0 and f"Token {token_id} is revoked" in revoked.stderr
    with pytest.raises(AccessDenied, match="^the token is unknown or revoked$"):
        agent.claim_run(sweep.id, agent_id, "k2")
    listed = {t.id: t for t in open_local(store).list_tokens()}
    assert listed[token_id].revoked_at is not None and listed[token_id].last_used_at is not None


def test_failed_attempts_are_braked_and_logged(store, tokens, server_factory):
    server = server_factory(store)
    for _ in range(10):
        bad = httpx.get(f"{server.url}/api/v1/sweeps", headers={"Authorization": "Bearer guess"})
        assert bad.status_code == 401
    valid = httpx.get(f"{server.url}/api/v1/sweeps", headers={"Authorization": f"Bearer {tokens['read']}"})
    assert valid.status_code == 200  # the brake slows bad tokens, never a valid one
    braked = httpx.get(f"{server.url}/api/v1/sweeps", headers={"Authorization": "Bearer guess"})
    assert braked.status_code == 429 and int(braked.headers["retry-after"]) >= 1
    assert braked.json()["error"]["message"].startswith("too many failed attempts from 127.0.0.1")
    assert (
        "refused a request from 127.0.0.1: unknown, malformed or revoked token (10 failed attempts"
        in server.log()
    )


def test_a_non_loopback_address_is_refused_while_no_token_exists(store):
    out = _cli("server", "--db", store, "--host", "0.0.0.0", "--port", "0")
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "error: refusing to listen on 0.0.0.0: the store holds no token yet, so anyone who can reach 0.0.0.0 "
        "could create, run and read your sweeps; create one first with `sweepkit token create --scope admin "
        "--db ...` (then every request needs a token), or listen on 127.0.0.1"
    ]


def test_a_reverse_proxy_in_front_is_refused_while_no_token_exists(store):
    out = _cli("server", "--db", store, "--port", "0", "--forwarded-allow-ips", "127.0.0.1")
    assert out.returncode == 1
    assert out.stderr.startswith(
        "error: refusing to serve behind a reverse proxy (--forwarded-allow-ips) while"
    )


def test_the_cli_works_against_a_server_with_a_token_from_the_environment(
    store, tokens, server_factory, tmp_path
):
    server = server_factory(store)
    config = tmp_path / "sweep.yaml"
    config.write_text("method: grid\nmetric: {name: loss}\nparameters: {i: {values: [0, 1]}}\n")
    made = _cli("sweep", str(config), "--server", server.url, token=tokens["admin"])
    assert made.returncode == 0, made.stderr
    sweep_id = made.stdout.strip()
    assert f"Run agents with: sweepkit agent --server {server.url} {sweep_id}" in made.stderr
    listed = _cli("sweeps", "--format", "json", token=tokens["read"], SWEEPKIT_URL=server.url)
    assert listed.returncode == 0 and sweep_id in listed.stdout
    refused = _cli("sweep", "--pause", sweep_id, "--server", server.url, token=tokens["read"])
    assert refused.returncode == 1
    assert refused.stderr.strip().endswith("has scope read; creating or controlling sweeps needs scope admin")
    assert "Traceback" not in refused.stderr
    no_token = _cli("sweeps", "--server", server.url)
    assert no_token.returncode == 1 and "this server needs a token" in no_token.stderr
    both = _cli("sweeps", "--server", server.url, "--db", store)
    assert both.returncode == 2 and "give --db or --server, not both" in both.stderr
    over_http = _cli("token", "create", "--scope", "read", "--server", server.url, token=tokens["admin"])
    assert over_http.returncode == 0 and over_http.stdout.startswith("skt_")


def test_without_tokens_a_loopback_server_needs_none(store, server_factory):
    server = server_factory(store)
    assert "no token needed (loopback only)" in server.log()
    client = open_http(server.url)
    assert client.list_sweeps() == []
    with pytest.raises(SweepkitError):
        open_http(server.url, token="skt_abcdefgh_" + "x" * 43).list_sweeps()


def test_the_server_serves_the_dashboard_behind_the_same_tokens(store, tokens, server_factory):
    server = server_factory(store)
    sweep_id = open_local(store).create_sweep(GRID).id
    page = httpx.get(f"{server.url}/")  # the page shell holds no data: it asks for a token itself
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "content-security-policy" in page.headers
    api = f"{server.url}/api/v1/dashboard/sweeps"
    assert httpx.get(api).status_code == 401
    assert httpx.get(api, headers={"Authorization": "Bearer skt_abcdefgh_" + "x" * 43}).status_code == 401
    seen = httpx.get(api, headers={"Authorization": f"Bearer {tokens['read']}"})
    assert seen.status_code == 200 and sweep_id in seen.text
    control = f"{server.url}/api/v1/dashboard/sweeps/{sweep_id}/control"
    paused = httpx.post(
        control, json={"action": "pause"}, headers={"Authorization": f"Bearer {tokens['read']}"}
    )
    assert paused.status_code == 403
    assert open_local(store).get_sweep(sweep_id).state == "running"
    paused = httpx.post(
        control, json={"action": "pause"}, headers={"Authorization": f"Bearer {tokens['admin']}"}
    )
    assert paused.status_code == 200 and open_local(store).get_sweep(sweep_id).state == "paused"
    # the API's own unknown routes keep the API's error shape
    assert httpx.get(f"{server.url}/api/v1/nothing").json()["error"]["type"] in (
        "NotFoundError",
        "AccessDenied",
    )

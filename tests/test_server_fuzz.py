"""Fuzzing the server from its own OpenAPI document (schemathesis): requests that fit the schema and
requests that do not, on every operation, against a real server process over PostgreSQL (SQLite when
no PostgreSQL is configured). No answer may be a 500 or break the document (status, content type,
body). Most requests aim at a real sweep, agent and run, so that bodies reach the service.

Bounded: ``MAX_EXAMPLES`` per operation and mode.
"""

from __future__ import annotations

import os
import shutil
import zlib

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.xdist_group("server-fuzz")  # one server (module-scoped) for every operation

MAX_EXAMPLES = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SWEEP = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "early_terminate": {"type": "hyperband", "min_iter": 1, "eta": 2},
    "parameters": {"x": {"min": 0.0, "max": 1.0}, "opt": {"values": ["adam", "sgd"]}},
}


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory, sqlite_template, request):
    """A server with an admin token, a sweep, an agent and a run of it."""
    from conftest import ServerProcess, _fresh_postgres_schema
    from sweepkit.connect import open_http, open_local

    folder = tmp_path_factory.mktemp("fuzz")
    schema_owner = None
    if os.environ.get("SWEEPKIT_TEST_POSTGRES_URL"):
        schema_owner = _fresh_postgres_schema()
        db = next(schema_owner)
    else:
        shutil.copyfile(sqlite_template, folder / "store.db")
        db = f"sqlite:///{folder / 'store.db'}"
    local = open_local(db, create=True)
    token = local.create_token("admin", name="fuzzer").secret
    local.close()
    server = ServerProcess(db, folder / "server.log").start()
    client = open_http(server.url, token=token)
    sweep = client.create_sweep(SWEEP)
    agent = client.register_agent(sweep.id, host="fuzz", pid=1)
    run = client.claim_run(sweep.id, agent, "fuzz-claim").assignment
    yield {
        "url": server.url,
        "token": token,
        "ids": {"sweep_id": sweep.id, "agent_id": agent, "run_id": run.run_id},
        "server": server,
    }
    client.close()
    server.stop()
    if schema_owner is not None:
        schema_owner.close()


@pytest.fixture(scope="module")
def api_schema(fuzz_target):
    return schemathesis.openapi.from_url(
        f"{fuzz_target['url']}/api/v1/openapi.json",
        headers={"Authorization": f"Bearer {fuzz_target['token']}"},
    )


def _operations() -> list[tuple[str, str, str]]:
    """(method, path, mode) of every operation; "negative" only where there is input to spoil."""
    from sweepkit.server.app import create_app

    paths = create_app(None).openapi()["paths"]
    out = []
    for path, item in paths.items():
        for method, operation in item.items():
            modes = (
                ["positive", "negative"]
                if operation.get("parameters") or operation.get("requestBody")
                else ["positive"]
            )
            out += [(method.upper(), path, mode) for mode in modes]
    return out


@pytest.mark.parametrize(("method", "path", "mode"), _operations())
def test_no_request_gets_a_500_or_an_answer_outside_the_schema(api_schema, fuzz_target, method, path, mode):
    from schemathesis import GenerationMode

    operation = api_schema[path][method]
    logged_before = len(fuzz_target["server"].log())
    headers = {"Authorization": f"Bearer {fuzz_target['token']}"}

    @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
    @settings(
        max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def fuzz(case):
        for name, value in fuzz_target["ids"].items():
            # Mostly aim at the real objects (never at a token: revoking the fuzzer's own would end it).
            drawn = repr((case.path_parameters, case.query, case.body)).encode()
            if name in (case.path_parameters or {}) and zlib.crc32(drawn) % 4:
                case.path_parameters[name] = value
        case.call_and_validate(base_url=fuzz_target["url"], headers=headers, checks=CHECKS)

    fuzz()
    log = fuzz_target["server"].log()[logged_before:]
    assert "Traceback" not in log and " failed\n" not in log, log[-3000:]

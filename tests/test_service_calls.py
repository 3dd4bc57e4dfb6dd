"""The wire declared once (``sweepkit.service.calls``): every call of the interface has one declaration
and every declaration a call; the HTTP client and the server's routes follow it (its OpenAPI document
lists each route with its scope, and a real server refuses each call to a token whose scope is too
low); the paths, statuses, scopes and retry safety older agents and the dashboard rely on stay as
they were; and the client still imports nothing of the server's web stack."""

from __future__ import annotations

import enum
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from sweepkit.service.calls import (
    ADMIN,
    AGENT,
    CALLS,
    KEYED,
    NEVER,
    READ,
    REQUIRED,
    SAFE,
    Arg,
    Rule,
    SweepService,
)
from sweepkit.service.http import HttpSweepService
from sweepkit.service.local import LocalSweepService
from sweepkit.service.tokens import allows

#: Calls the interface serves without making them abstract (a service without tokens says so; the
#: default ``metric_series`` reads each run's history).
OPTIONAL = {"create_token", "list_tokens", "revoke_token", "metric_series"}

#: What clients of earlier versions (older agents, the dashboard's TypeScript client) send: each
#: call's route, success status and token scope, and the calls that act twice when repeated.
WIRE = {
    "create_sweep": ("POST /sweeps", 201, ADMIN),
    "list_sweeps": ("GET /sweeps", 200, READ),
    "get_sweep": ("GET /sweeps/{sweep_id}", 200, READ),
    "update_sweep": ("PUT /sweeps/{sweep_id}/config", 200, ADMIN),
    "control_sweep": ("POST /sweeps/{sweep_id}/control", 200, ADMIN),
    "retry_runs": ("POST /sweeps/{sweep_id}/retry", 200, ADMIN),
    "delete_runs": ("POST /sweeps/{sweep_id}/runs/delete", 200, ADMIN),
    "register_agent": ("POST /sweeps/{sweep_id}/agents", 201, AGENT),
    "list_agents": ("GET /sweeps/{sweep_id}/agents", 200, READ),
    "claim_run": ("POST /sweeps/{sweep_id}/claims", 200, AGENT),
    "heartbeat": ("POST /agents/{agent_id}/heartbeat", 200, AGENT),
    "agent_finished": ("POST /agents/{agent_id}/finished", 200, AGENT),
    "start_run": ("POST /runs", 201, AGENT),
    "log": ("POST /runs/{run_id}/logs", 200, AGENT),
    "finish_run": ("POST /runs/{run_id}/finish", 200, AGENT),
    "get_run": ("GET /runs/{run_id}", 200, READ),
    "list_runs": ("GET /sweeps/{sweep_id}/runs", 200, READ),
    "history": ("GET /runs/{run_id}/history", 200, READ),
    "metric_series": ("POST /series", 200, READ),
    "run_output": ("GET /runs/{run_id}/output", 200, READ),
    "run_command": ("GET /runs/{run_id}/command", 200, READ),
    "best_runs": ("GET /sweeps/{sweep_id}/best", 200, READ),
    "band_thresholds": ("GET /sweeps/{sweep_id}/thresholds", 200, READ),
    "create_token": ("POST /tokens", 201, ADMIN),
    "list_tokens": ("GET /tokens", 200, ADMIN),
    "revoke_token": ("DELETE /tokens/{token_id}", 200, ADMIN),
    "config_versions": ("GET /sweeps/{sweep_id}/versions", 200, READ),
    "queue_points": ("POST /sweeps/{sweep_id}/queue", 200, ADMIN),
    "import_runs": ("POST /sweeps/{sweep_id}/import", 200, ADMIN),
    "scheduler_heartbeat": ("POST /sweeps/{sweep_id}/scheduler", 200, ADMIN),
}
ACT_TWICE = {
    "create_sweep",
    "control_sweep",
    "retry_runs",
    "queue_points",
    "import_runs",
    "delete_runs",
    "start_run",
    "create_token",
}


def test_every_call_of_the_interface_has_exactly_one_declaration_and_every_declaration_a_call():
    names = [c.name for c in CALLS]
    assert names == [name for name in vars(SweepService) if name in names]  # in the interface's order
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    abstract = set(SweepService.__abstractmethods__)
    assert set(names) == abstract | OPTIONAL
    for name in OPTIONAL:
        assert callable(getattr(SweepService, name)) and name not in abstract


@pytest.mark.parametrize("call", CALLS, ids=lambda c: c.name)
def test_a_declaration_names_exactly_the_parameters_of_its_method(call):
    parameters = list(inspect.signature(getattr(SweepService, call.name)).parameters)[1:]
    assert sorted(arg.parameter for arg in call.args) == sorted(parameters)
    assert re.findall(r"{(\w+)}", call.path) == [a.name for a in call.args if a.where == "path"]
    for arg in call.args:
        assert arg.where == ("path" if arg.where == "path" else "query" if call.method == "GET" else "body")
    assert call.retry in (SAFE, KEYED, NEVER) and call.scope in (READ, AGENT, ADMIN)


def test_the_wire_is_what_older_clients_know():
    assert {c.name: (f"{c.method} {c.path}", c.status, c.scope) for c in CALLS} == WIRE
    assert {c.name for c in CALLS if c.retry == NEVER} == ACT_TWICE
    assert {c.name for c in CALLS if c.retry == KEYED} == {"claim_run", "log"}


@pytest.mark.parametrize("call", CALLS, ids=lambda c: c.name)
def test_the_http_client_has_each_call_with_the_interface_s_signature(call):
    method = getattr(HttpSweepService, call.name)
    declared = getattr(SweepService, call.name)
    assert inspect.signature(method) == inspect.signature(declared)
    assert method.__doc__ == declared.__doc__
    assert method is not getattr(LocalSweepService, call.name)
    assert not getattr(method, "__isabstractmethod__", False)
    assert not HttpSweepService.__abstractmethods__


def test_the_openapi_document_lists_every_declared_route_with_its_scope():
    from sweepkit.server.app import create_app

    paths = create_app(None).openapi()["paths"]
    documented = {
        (method.upper(), path): operation
        for path, item in paths.items()
        for method, operation in item.items()
    }
    for call in CALLS:
        operation = documented.pop((call.method, "/api/v1" + call.path))
        assert operation["x-scope"] == call.scope and operation["x-retry"] == call.retry
        assert f"Token scope: `{call.scope}`" in operation["description"]
        assert str(call.status) in operation["responses"] and "403" in operation["responses"]
        assert operation["tags"] == [call.tag]
        wire_names = {a.name for a in call.args if a.where in ("path", "query")}
        assert {p["name"] for p in operation.get("parameters", [])} == wire_names
        body = [inner.name for a in call.args if a.where == "body" for inner in (a.spread or [a])]
        if body:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
            model = create_app(None).openapi()["components"]["schemas"][schema]
            assert set(model["properties"]) == set(body) and model["additionalProperties"] is False
    assert list(documented) == [("GET", "/api/v1/health")]  # the server's own route, not a service call


def _sample(kind, default=REQUIRED):
    """A value of wire type ``kind`` that a client sends without complaint (the service may refuse it)."""
    if default is not REQUIRED:
        return default
    rule = None
    while typing.get_origin(kind) is typing.Annotated:
        kind, *extras = typing.get_args(kind)
        rule = next((e for e in extras if isinstance(e, Rule)), rule)
    origin = typing.get_origin(kind)
    if origin is typing.Literal:
        return typing.get_args(kind)[0]
    if origin is list:
        (item,) = typing.get_args(kind)
        return [_sample(item)] * (rule.min_length or 0 if rule else 0)
    if origin is dict or kind is dict:
        return {}
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return list(kind)[-1]
    if kind is int:
        return max(1, (rule.ge if rule and rule.ge is not None else 1))
    return "x"


def _arguments(call) -> dict:
    out = {}
    for arg in call.args:
        if arg.spread:
            out[arg.parameter] = arg.type(**{a.name: _sample(a.type, a.default) for a in arg.spread})
        else:
            out[arg.parameter] = _sample(arg.type, arg.default)
    return out


def test_a_real_server_refuses_each_call_to_a_token_whose_scope_is_too_low(
    tmp_path, sqlite_template, server_factory
):
    from sweepkit.connect import open_http, open_local
    from sweepkit.errors import AccessDenied, SweepkitError

    shutil.copyfile(sqlite_template, tmp_path / "store.db")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    local = open_local(db)
    secrets = {scope: local.create_token(scope).secret for scope in (READ, AGENT)}
    local.close()
    server = server_factory(db)
    for scope, secret in secrets.items():
        client = open_http(server.url, token=secret)
        for call in CALLS:
            if call.name == "revoke_token" and allows(scope, call.scope):
                continue  # never revoke the token in hand
            try:
                getattr(client, call.name)(**_arguments(call))
                refused = None
            except AccessDenied as exc:
                refused = str(exc)
            except SweepkitError as exc:  # past the door: the service judged the sample arguments
                assert "needs scope" not in str(exc), (call.name, scope, exc)
                refused = None
            if allows(scope, call.scope):
                assert refused is None, (call.name, scope, refused)
            else:
                assert refused is not None and refused.endswith(f"{call.what} needs scope {call.scope}"), (
                    call.name,
                    scope,
                    refused,
                )
        client.close()


def test_a_declared_argument_reaches_the_server_with_its_limits():
    """A Rule becomes the request model's limit: the server's 422 and the client's check agree."""
    from sweepkit.server.models import body_model

    (claim,) = [c for c in CALLS if c.name == "claim_run"]
    model = body_model(claim)
    schema = model.model_json_schema()
    slot = next(s for s in schema["properties"]["slot"]["anyOf"] if s.get("type") == "integer")
    assert (slot["minimum"], slot["maximum"]) == (1, 1024)
    assert schema["required"] == ["agent_id", "claim_key"]
    assert isinstance(claim.args[0], Arg) and claim.args[0].where == "path"


def test_the_http_client_imports_none_of_the_server_s_web_stack():
    code = (
        "import sys, sweepkit.service.http\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'pydantic', 'starlette', 'uvicorn'}))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('sweepkit.server', 'sweepkit.store'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.splitlines() == ["[]", "[]"], out.stdout


#: A call that no sweepkit has: declared in ``calls.py`` and implemented in ``local.py``, nothing else.
ECHO_DECLARED = '''
    @call("GET /sweeps/{sweep_id}/echo", str, Arg("text", Annotated[str, Rule(max_length=100)]),
          key="echo", tag="sweeps", doc="The text back, after the sweep's name.")
    @abstractmethod
    def echo(self, sweep_id: str, text: str) -> str:
        """The text back, after the sweep's name."""

'''
ECHO_IMPLEMENTED = """
    def echo(self, sweep_id: str, text: str) -> str:
        return f"{self.get_sweep(sweep_id).name}: {text}"
"""
ECHO_USED = """
import json, sys
from sweepkit.connect import open_http, open_local
from sweepkit.server.app import create_app

local = open_local(sys.argv[1])
doc = create_app(local).openapi()["paths"]["/api/v1/sweeps/{sweep_id}/echo"]["get"]
client = open_http(sys.argv[2])
sweep_id = local.list_sweeps()[0].id
print(json.dumps([client.echo(sweep_id, "hello"), local.echo(sweep_id, "hi"), doc["x-scope"], doc["description"]]))
"""


def test_a_call_declared_in_calls_py_and_implemented_locally_needs_nothing_else(
    tmp_path, sqlite_template, server_factory
):
    """The closing example of the wire declared once: a copy of sweepkit whose ``calls.py`` declares one
    more method and whose ``local.py`` implements it; its server serves the call and documents it, and
    its HTTP client has it, with no other file changed."""
    import sweepkit

    tree = tmp_path / "src"
    shutil.copytree(
        Path(sweepkit.__file__).parent, tree / "sweepkit", ignore=shutil.ignore_patterns("__pycache__")
    )
    calls, local = tree / "sweepkit" / "service" / "calls.py", tree / "sweepkit" / "service" / "local.py"
    marker = "    # --- tokens"
    assert calls.read_text().count(marker) == 1
    calls.write_text(calls.read_text().replace(marker, ECHO_DECLARED.lstrip("\n") + marker))
    anchor = "    def close(self) -> None:\n        self.store.close()\n"
    assert local.read_text().count(anchor) == 1
    local.write_text(local.read_text().replace(anchor, anchor + ECHO_IMPLEMENTED))

    shutil.copyfile(sqlite_template, tmp_path / "store.db")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    made = subprocess.run(
        [sys.executable, "-c", f"from sweepkit.connect import open_local; open_local({db!r}).create_sweep("
         "{'method': 'random', 'parameters': {'x': {'values': [1]}}}, name='first')"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    server = server_factory(db, env={"PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"})
    used = subprocess.run(
        [sys.executable, "-c", ECHO_USED, db, server.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert used.returncode == 0, used.stderr
    assert json.loads(used.stdout) == [
        "first: hello",
        "first: hi",
        "read",
        "The text back, after the sweep's name.\n\nToken scope: `read`; safe to repeat.",
    ]

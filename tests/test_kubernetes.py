"""``sweepkit k8s``: the Job it prints is one the Kubernetes client's models read back without loss
(a misspelt field would be dropped, a wrong type refused), its pods take the connection from a
Secret and never from the Job, and the pod's command with the Secret's variables runs a real agent.
No cluster here: applying is tested as far as the client's own configuration loader."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sweepkit.connect import open_local
from sweepkit.launchers.connection import AgentConnection
from sweepkit.launchers.kubernetes import KubeJob, build_job, build_secret, manifest
from sweepkit.runs import RunState

kubernetes = pytest.importorskip("kubernetes")

SECRET = "s3cret-4f3e2d"


def _round_trip(document: dict, kind: str) -> dict:
    """The document as the client's models read it (the model an API answer of it would be), and back."""
    api = kubernetes.client.ApiClient()
    return api.sanitize_for_serialization(api.deserialize(json.dumps(document), kind, "application/json"))


def _sweepkit(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SWEEPKIT_", "KUBE"))}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "sweepkit", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _sweep(store_url: str, tmp_path: Path) -> str:
    (tmp_path / "train.py").write_text("pass\n")
    config = {
        "program": "train.py",
        "method": "grid",
        "command": ["${interpreter}", "${program}", "${args}"],
        "parameters": {"a": {"values": [1, 2, 3]}},
    }
    return open_local(store_url, create=True).create_sweep(config).id


def test_a_server_job_round_trips_through_the_client_models_with_its_token_in_a_secret(monkeypatch):
    monkeypatch.setenv("SWEEPKIT_KILL_GRACE", "30")
    connection = AgentConnection({"SWEEPKIT_URL": "https://sweeps.internal", "SWEEPKIT_TOKEN": SECRET})
    spec = KubeJob(sweep_id="ab12cd34", agents=4, image="ghcr.io/me/train:1", gpus=2, gpus_per_run=1)
    text = manifest(spec, connection)
    assert SECRET not in text
    job = yaml.safe_load(text)
    assert _round_trip(job, "V1Job") == job
    assert job["spec"]["parallelism"] == 4 and "completions" not in job["spec"]
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["terminationGracePeriodSeconds"] == 90
    (container,) = pod["containers"]
    assert container["command"] == ["sweepkit", "agent", "ab12cd34", "--gpus", "all", "--gpus-per-run", "1"]
    assert container["envFrom"] == [{"secretRef": {"name": spec.name}}]
    assert "env" not in container
    assert container["resources"] == {"requests": {"nvidia.com/gpu": "2"}, "limits": {"nvidia.com/gpu": "2"}}
    secret = kubernetes.client.ApiClient().sanitize_for_serialization(build_secret(spec, connection))
    assert _round_trip(secret, "V1Secret") == secret
    assert secret["metadata"]["name"] == spec.name
    assert secret["stringData"] == {"SWEEPKIT_URL": "https://sweeps.internal", "SWEEPKIT_TOKEN": SECRET}


def test_k8s_dry_run_prints_the_job_for_a_database_with_a_password(postgres_url, tmp_path):
    sweep_id = _sweep(postgres_url, tmp_path)
    with_password = postgres_url.replace("postgres@", f"postgres:{SECRET}@", 1)
    out = _sweepkit(
        ["k8s", sweep_id, "--agents", "3", "--image", "train:1", "--dry-run"],
        tmp_path,
        SWEEPKIT_DB=with_password,
    )
    assert out.returncode == 0, out.stderr
    assert SECRET not in out.stdout + out.stderr
    job = yaml.safe_load(out.stdout)
    assert _round_trip(job, "V1Job") == job
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["sweepkit", "agent", sweep_id]
    assert "Their pods take SWEEPKIT_DB" in out.stdout
    assert (
        "note: the database is at a loopback address: agents on other machines cannot reach it" in out.stderr
    )


def test_the_pods_command_with_its_secret_runs_an_agent(postgres_url, tmp_path):
    sweep_id = _sweep(postgres_url, tmp_path)
    connection = AgentConnection({"SWEEPKIT_DB": postgres_url})
    spec = KubeJob(sweep_id=sweep_id, agents=1, image="train:1")
    (container,) = build_job(spec).spec.template.spec.containers
    assert container.command[0] == "sweepkit"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    environ.update(build_secret(spec, connection).string_data, SWEEPKIT_INTERPRETER=sys.executable)
    pod = subprocess.run(
        [sys.executable, "-m", "sweepkit", *container.command[1:]],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert pod.returncode == 0, pod.stderr
    runs = open_local(postgres_url).all_runs(sweep_id)
    assert sorted(r.params["a"] for r in runs) == [1, 2, 3]
    assert {r.state for r in runs} == {RunState.FINISHED}


def test_k8s_refuses_a_sqlite_store(tmp_path):
    store = f"sqlite:///{tmp_path / 's.db'}"
    sweep_id = _sweep(store, tmp_path)
    out = _sweepkit(["k8s", sweep_id, "--agents", "2", "--image", "train:1", "--db", store], tmp_path)
    assert out.returncode == 1
    assert out.stderr.startswith("error: Kubernetes pods cannot open the SQLite file")
    assert len(out.stderr.splitlines()) == 1


def test_k8s_without_a_cluster_configured_is_one_sentence(postgres_url, tmp_path):
    sweep_id = _sweep(postgres_url, tmp_path)
    out = _sweepkit(
        ["k8s", sweep_id, "--agents", "2", "--image", "train:1"],
        tmp_path,
        SWEEPKIT_DB=postgres_url,
        HOME=str(tmp_path),
        KUBECONFIG=str(tmp_path / "no-such-kubeconfig"),
    )
    assert out.returncode == 1
    assert out.stderr.splitlines()[-1].startswith("error: no Kubernetes cluster configured:")
    assert "Traceback" not in out.stderr

"""Helpers for tests that run an unchanged training script under a real ``sweepkit agent`` process:
the sweep is made and run with the CLI, the run processes record any network use (an audit hook in a
``sitecustomize`` on their path), and the stored runs are read back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

#: Installed in every run process (through PYTHONPATH): records any socket it opens or resolves.
NETWORK_GUARD = """
import os, sys
if os.environ.get("SWEEPKIT_RUN_FILE"):
    _log = os.environ["NET_LOG"]
    _events = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "http.client.connect",
               "urllib.Request"}

    def _hook(event, args):
        if event == "socket.connect" and not isinstance(args[1], tuple):
            return  # a local (AF_UNIX) socket: not the network
        if event in _events:
            with open(_log, "a") as fh:
                fh.write(f"{event} {args!r}\\n")

    sys.addaudithook(_hook)
"""


def agent_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment for sweepkit commands: a store in ``tmp_path``, no W&B or sweepkit variables of
    the caller's, the network guard, and a proxy that refuses in case anything tried the network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWEEPKIT_", "WANDB_"))}
    guard = tmp_path / "guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(textwrap.dedent(NETWORK_GUARD))
    env["PYTHONPATH"] = os.pathsep.join([str(guard)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.update(
        SWEEPKIT_DB=str(tmp_path / "store.db"),
        SWEEPKIT_INTERPRETER=sys.executable,
        NET_LOG=str(tmp_path / "net.log"),
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        # Frameworks that would look for models or report usage online are told not to.
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        DO_NOT_TRACK="1",
    )
    env.update(extra)
    return env


def sweepkit_cli(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sweepkit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def store_env(store_url: str, **extra: str) -> dict[str, str]:
    """This process's environment for sweepkit commands on the store at ``store_url``."""
    return {**os.environ, "SWEEPKIT_DB": store_url, "SWEEPKIT_INTERPRETER": sys.executable, **extra}


def start_agents(
    sweep_id: str, env: dict[str, str], cwd: Path, n: int = 1, *args: str, stdout: Any = subprocess.DEVNULL
) -> list[subprocess.Popen]:
    """``n`` ``sweepkit agent SWEEP_ID --quiet ARGS`` processes at once (their stderr piped)."""
    return [
        subprocess.Popen(
            [sys.executable, "-m", "sweepkit", "agent", sweep_id, "--quiet", *args],
            cwd=cwd,
            env=env,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]


def run_agents(
    sweep_id: str, env: dict[str, str], cwd: Path, n: int = 1, *args: str, timeout: float = 300
) -> list[str]:
    """``n`` agent processes on the sweep at once, until each has ended; each must exit 0. Their stderr."""
    procs = start_agents(sweep_id, env, cwd, n, *args)
    errors = [proc.communicate(timeout=timeout)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * n, "\n".join(errors)
    return errors


def run_sweep(
    tmp_path: Path, script: str, config: dict[str, Any], *agent_args: str, **extra: str
) -> tuple[str, dict[str, str], str]:
    """Write ``train.py`` and the sweep, run one agent to the sweep's end; (sweep id, env, agent stderr)."""
    (tmp_path / "train.py").write_text(textwrap.dedent(script))
    (tmp_path / "sweep.json").write_text(json.dumps({"program": "train.py", **config}))
    env = agent_env(tmp_path, **extra)
    made = sweepkit_cli(["sweep", "sweep.json"], env, tmp_path)
    assert made.returncode == 0, made.stderr
    sweep_id = made.stdout.strip()
    ran = sweepkit_cli(["agent", sweep_id, "--quiet", *agent_args], env, tmp_path, timeout=600)
    assert ran.returncode == 0, ran.stderr
    return sweep_id, env, ran.stderr


def stored_runs(sweep_id: str, env: dict[str, str], cwd: Path) -> list[dict[str, Any]]:
    """The sweep's runs as ``sweepkit runs --format json`` lists them, in order."""
    listed = sweepkit_cli(["runs", sweep_id, "--format", "json"], env, cwd)
    assert listed.returncode == 0, listed.stderr
    return sorted(json.loads(listed.stdout), key=lambda run: run["number"])


def history(env: dict[str, str], run_id: str) -> list[dict[str, Any]]:
    from sweepkit.connect import open_local

    service = open_local(env["SWEEPKIT_DB"])
    try:
        return service.full_history(run_id)
    finally:
        service.close()


def run_output(tmp_path: Path, run_id: str) -> str:
    return (tmp_path / ".sweepkit" / "runs" / run_id / "output.log").read_text()


def assert_no_network(tmp_path: Path) -> None:
    net_log = tmp_path / "net.log"
    assert not net_log.exists(), net_log.read_text()

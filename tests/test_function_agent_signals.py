"""A function agent (``sweepkit.agent(sweep_id, function=train)``, the run a call in the agent's own
process) answers SIGTERM and SIGINT within seconds: the call is interrupted, the run ends ``killed``
with the values it logged stored, and the agent says why it stops. Real processes, a real SQLite file
and, for the stopped-store case, a real server that is gone."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tests.agent_programs import agent_env

import sweepkit

#: A function agent whose training never ends on its own: it logs a row every 0.1 s and says when it
#: has logged five (the file ``ready``). The agent's report is printed last, as ``report <reason>``.
AGENT = """
    import sys, time
    from pathlib import Path
    import sweepkit
    from sweepkit.errors import SweepkitError

    here = Path(sys.argv[1])

    def train():
        sweepkit.init()
        step = 0
        while True:
            sweepkit.log({"loss": 1.0 / (step + 1)})
            step += 1
            if step == 5:
                (here / "ready").write_text("1")
            time.sleep(0.1)

    sweep_id = sweepkit.sweep(
        {"method": "grid", "metric": {"name": "loss"}, "parameters": {"i": {"values": [0, 1, 2]}}}
    )
    (here / "sweep_id").write_text(sweep_id)
    try:
        report = sweepkit.agent(sweep_id, function=train)
    except SweepkitError as exc:  # its store is gone: the agent says so and ends
        print("error:", exc, file=sys.stderr, flush=True)
        sys.exit(1)
    print("report", report.reason, flush=True)
"""


def _start(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen:
    (tmp_path / "agent.py").write_text(textwrap.dedent(AGENT))
    return subprocess.Popen(
        [sys.executable, str(tmp_path / "agent.py"), str(tmp_path)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_ready(tmp_path: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not (tmp_path / "ready").exists():
        if proc.poll() is not None:
            pytest.fail(f"the agent ended early:\n{proc.communicate()[1]}")
        assert time.monotonic() < deadline, "the function never logged five rows"
        time.sleep(0.05)


def _signalled(proc: subprocess.Popen, sig: int, within: float = 10.0) -> tuple[str, str, float]:
    started = time.monotonic()
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the function agent did not end within 60 s of {sig.name}:\n{err}")
    took = time.monotonic() - started
    assert took < within, f"{took:.1f} s\n{err}"
    return out, err, took


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_function_agent_answers_a_signal_within_seconds(tmp_path, sig):
    env = agent_env(tmp_path)
    proc = _start(tmp_path, env)
    _wait_ready(tmp_path, proc)
    out, err, _took = _signalled(proc, sig)
    assert "Traceback" not in err, err
    assert f"agent stops: interrupted ({sig.name})" in err, err
    assert f"report interrupted ({sig.name})" in out, out
    api = sweepkit.Api(env["SWEEPKIT_DB"])
    runs = api.sweep((tmp_path / "sweep_id").read_text()).runs
    assert [r.state for r in runs] == ["killed"], [(r.state, r.reason) for r in runs]
    assert sig.name in (runs[0].reason or ""), runs[0].reason
    rows = runs[0].history()
    assert len(rows) >= 5 and [r["_step"] for r in rows] == list(range(len(rows))), rows


def test_a_function_agent_answers_sigterm_while_its_server_is_gone(tmp_path, server_factory):
    """Its server killed under it: the run's end cannot be recorded; the agent still ends within
    seconds and its last lines say what it leaves behind."""
    env = agent_env(tmp_path, SWEEPKIT_STORE_RETRY="600")
    server = server_factory(str(tmp_path / "store.db"))
    client_env = {k: v for k, v in env.items() if k not in ("SWEEPKIT_DB", "HTTP_PROXY", "HTTPS_PROXY")}
    client_env["SWEEPKIT_URL"] = server.url
    proc = _start(tmp_path, client_env)
    try:
        _wait_ready(tmp_path, proc)
    finally:
        server.kill()
    time.sleep(2)  # the function goes on logging; its rows wait for the server
    _out, err, _took = _signalled(proc, signal.SIGTERM)
    assert proc.returncode == 1 and "Traceback" not in err, err
    assert "left behind: run" in err and "its end (killed" in err and "rows are kept in" in err, err

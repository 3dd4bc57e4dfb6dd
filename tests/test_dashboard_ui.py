"""``sweepkit ui``: the dashboard of a local store, as a process on the loopback address."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

pytest.importorskip("fastapi", reason="the dashboard needs the server extra")
pytest.importorskip("uvicorn", reason="sweepkit ui needs the server extra")

import sweepkit  # noqa: E402

CONFIG = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [1, 2]}}}


def ui(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sweepkit", "ui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def get(url: str, host: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_ui_serves_the_store_on_loopback_and_prints_its_address(tmp_path):
    db = str(tmp_path / "s.db")
    sweep_id = sweepkit.sweep(CONFIG, db=db)
    process = ui("--db", db, "--port", "0")
    try:
        address = process.stdout.readline().strip()
        assert address.startswith("http://127.0.0.1:") and address.endswith("/")
        status, page = get(address)
        assert status == 200 and "/static/app.js" in page
        status, body = get(address + "api/v1/dashboard/sweeps")
        assert status == 200 and [s["id"] for s in json.loads(body)["sweeps"]] == [sweep_id]
        # A page of another site that made its name resolve here (DNS rebinding) is refused.
        status, body = get(address + "api/v1/dashboard/sweeps", host="evil.example")
        assert status == 403 and "read" in json.loads(body)["detail"]
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"the dashboard of sqlite:///{db} is at {address}" in err


def test_ui_without_a_store_is_one_sentence(tmp_path):
    process = ui("--db", str(tmp_path / "missing.db"), "--port", "0")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_ui_on_a_port_in_use_is_one_sentence(tmp_path):
    db = str(tmp_path / "s.db")
    sweepkit.sweep(CONFIG, db=db)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        process = ui("--db", db, "--port", str(port))
        out, err = process.communicate(timeout=60)
    finally:
        taken.close()
    assert process.returncode == 1 and out == ""
    assert (
        err
        == f"error: cannot listen on 127.0.0.1:{port} (Address already in use); choose another port with --port\n"
    )


def test_ui_without_the_server_extra_says_what_to_install(tmp_path):
    db = str(tmp_path / "s.db")
    sweepkit.sweep(CONFIG, db=db)
    script = f"""
import sys

class NoWebStack:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("fastapi", "uvicorn", "starlette"):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

sys.meta_path.insert(0, NoWebStack())
from sweepkit.cli.main import main
main(["ui", "--db", {db!r}, "--port", "0"])
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == "error: the dashboard needs uvicorn: pip install 'sweepkit[server]'\n"

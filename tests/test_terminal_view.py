"""The terminal view: ``sweepkit run`` and ``sweepkit watch`` in a real pseudo-terminal draw a live
progress bar, the top runs and the failures; in a pipe they print plain lines without a single
escape code; ``sweepkit runs`` and ``sweeps`` draw tables that fit the terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
import yaml

from sweepkit.connect import open_local

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]")
TRAIN = """
import sys, time, sweepkit
run = sweepkit.init()
lr = run.config["lr"]
if lr == 0.5:
    print("diverged: loss is nan")
    sys.exit(1)
for epoch in range(2):
    time.sleep(0.2)
    sweepkit.log({"loss": abs(lr - 0.3) + 0.1 * epoch})
"""
CONFIG = {
    "program": "train.py",
    "name": "demo",
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"lr": {"values": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}, "optimizer": {"value": "adam"}},
}


class Terminal:
    """A command running in a pseudo-terminal of ``cols`` x ``rows``, its output collected."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str], cols: int = 110, rows: int = 40):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sweepkit", *args],
            cwd=cwd,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
        )
        os.close(slave)
        self.master, self.raw = master, b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the other side is closed
                return
            if not chunk:
                return
            self.raw += chunk

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw.decode("utf-8", errors="replace")).replace("\r\n", "\n")

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match:
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = re.search(pattern, self.text)
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} never appeared on the terminal:\n{self.text[-3000:]}")

    def finish(self, timeout: float = 120) -> int:
        code = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        os.close(self.master)
        return code


def _env(store_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM", "COLUMNS", "LINES")}
    env.update(SWEEPKIT_DB=store_url, SWEEPKIT_INTERPRETER=sys.executable, TERM="xterm-256color", **extra)
    return env


def _setup(tmp_path: Path) -> str:
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(CONFIG))
    return f"sqlite:///{tmp_path / 'store.db'}"


def test_sweepkit_run_draws_a_live_view_in_a_terminal(tmp_path):
    store_url = _setup(tmp_path)
    term = Terminal(["run", "sweep.yaml", "--agents", "2"], tmp_path, _env(store_url))
    assert term.finish() == 0, term.text
    raw, text = term.raw.decode(), term.text
    assert "━" in text and "\x1b[" in raw  # a drawn bar, in a terminal
    counts = {int(n) for n in re.findall(r"(\d)/6 runs · \d+%", text)}
    assert len(counts) >= 2 and 6 in counts, counts  # the bar moved, and reached the end
    assert re.search(r"sweep \w+ \(demo\) · grid · (running|finished)", text)
    assert re.search(r"finished 5 · failed 1", text)
    assert re.search(r"#\s+run\s+loss\s+duration\s+lr *\n", text)  # the top runs (the constant left out)
    assert re.search(r"1\s+\w{8}\s+0\s+[\d.]+ s\s+0\.3\n", text)
    assert re.search(r"failed\s+run \w+ \(demo-5\).*: exit code 1: diverged: loss is nan", text)
    assert re.search(r"best loss 0 \(\w+\) [▁▂▃▄▅▆▇█]+", text)
    assert "best run of sweep" in text  # the result at the end


def test_sweepkit_watch_follows_a_sweep_run_elsewhere_until_it_ends(store_url, tmp_path):
    _setup(tmp_path)
    service = open_local(store_url, create=True)
    sweep = service.create_sweep(CONFIG)
    env = _env(store_url)
    agent = subprocess.Popen(
        [sys.executable, "-m", "sweepkit", "agent", sweep.id, "--quiet"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    term = Terminal(["watch", sweep.id, "--interval", "0.3"], tmp_path, env)
    term.wait_for(r"[0-5]/6 runs")
    assert term.finish() == 0, term.text  # it ends by itself once the sweep is over
    assert agent.wait(timeout=60) == 0
    text = term.text
    assert len({int(n) for n in re.findall(r"(\d)/6 runs", text)}) >= 2
    assert "6/6 runs · 100%" in text and re.search(r"#\s+run\s+loss", text)
    assert re.search(r"failed\s+run \w+ \(demo-5\).*: exit code 1: diverged: loss is nan", text)
    assert service.get_sweep(sweep.id).runs_by_state == {"finished": 5, "failed": 1}


def test_ctrl_c_stops_watching_and_leaves_the_sweep_alone(tmp_path):
    store_url = _setup(tmp_path)
    service = open_local(store_url, create=True)
    sweep = service.create_sweep(CONFIG)
    agent = service.register_agent(sweep.id, host="elsewhere", pid=1)
    service.claim_run(sweep.id, agent, "k1")  # a run going on another machine
    term = Terminal(["watch", sweep.id, "--interval", "0.3"], tmp_path, _env(store_url))
    term.wait_for(r"running 1")
    term.proc.send_signal(signal.SIGINT)
    assert term.finish(timeout=30) == 0
    assert f"stopped watching; sweep {sweep.id} goes on" in term.text
    info = service.get_sweep(sweep.id)
    assert (info.state.value, info.runs_by_state) == ("running", {"running": 1})


def test_piped_output_has_no_escape_codes(tmp_path):
    store_url = _setup(tmp_path)
    env = _env(store_url)
    ran = subprocess.run(
        [sys.executable, "-m", "sweepkit", "run", "sweep.yaml"], cwd=tmp_path, env=env, capture_output=True
    )
    assert ran.returncode == 0, ran.stderr
    sweep_id = re.search(rb"Created sweep (\w+)", ran.stderr).group(1).decode()
    outputs = [ran.stdout, ran.stderr]
    for args in (["watch", sweep_id], ["runs", sweep_id], ["sweeps"], ["best", sweep_id]):
        done = subprocess.run(
            [sys.executable, "-m", "sweepkit", *args], cwd=tmp_path, env=env, capture_output=True
        )
        assert done.returncode == 0, done.stderr
        outputs += [done.stdout, done.stderr]
    assert not any(b"\x1b" in out for out in outputs)
    assert b"runs: 6/6 done, 1 failed, 5 finished, best loss=0" in ran.stderr
    assert b"exit code 1: diverged: loss is nan" in ran.stderr


def test_runs_and_sweeps_draw_tables_that_fit_the_terminal(tmp_path):
    store_url = _setup(tmp_path)
    service = open_local(store_url, create=True)
    sweep = service.create_sweep(
        {**CONFIG, "parameters": {f"p{i}": {"values": [i * 111111]} for i in range(12)}}
    )
    agent = service.register_agent(sweep.id, host="h", pid=1)
    service.claim_run(sweep.id, agent, "k")
    term = Terminal(["runs", sweep.id], tmp_path, _env(store_url), cols=80)
    assert term.finish() == 0
    lines = term.text.splitlines()
    assert lines[0].startswith("id        state    ") and "config.p0" in lines[0]
    assert all(len(line) <= 80 for line in lines)
    assert re.search(r"\d+ columns left out to fit: name, duration_s, config.p3, ", term.text)
    assert "\x1b[" in term.raw.decode()  # drawn for a terminal
    plain = Terminal(["runs", sweep.id], tmp_path, _env(store_url, NO_COLOR="1"), cols=80)
    assert plain.finish() == 0
    assert not re.search(r"\x1b\[[0-9;]*3\dm", plain.raw.decode())  # NO_COLOR: no colours
    listed = Terminal(["sweeps"], tmp_path, _env(store_url), cols=80)
    assert listed.finish() == 0 and re.search(rf"{sweep.id}\s+demo\s+", listed.text)


def test_no_progress_prints_plain_lines_in_a_terminal(tmp_path):
    store_url = _setup(tmp_path)
    term = Terminal(["run", "sweep.yaml", "--no-progress"], tmp_path, _env(store_url))
    assert term.finish() == 0
    assert "━" not in term.text and "runs: 6/6 done, 1 failed, 5 finished" in term.text
    assert not re.search(r"\x1b\[\d*[AK]", term.raw.decode())  # no cursor movement, no line erasing


@pytest.mark.parametrize("command", ["agent", "runs"])
def test_rich_stays_out_of_commands_that_do_not_draw(command):
    """Import weight: ``sweepkit agent`` (and a piped ``runs``) never load rich."""
    code = (
        "import sys\nfrom sweepkit.cli.main import cli\n"
        f"cli.get_command(None, {command!r})\nprint('rich' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

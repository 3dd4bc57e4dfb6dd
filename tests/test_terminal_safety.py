"""No user-supplied text reaches a terminal with its control sequences: run names, sweep names,
config values, metric keys and error sentences carrying OSC titles, screen clears, carriage
returns and bells are printed without them by the agent, ``runs``, ``best``, ``sweeps``,
``watch`` (plain and live) and in pipes. Real CLI processes, some in a real pseudo-terminal."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sweepkit.connect import open_local
from sweepkit.printable import printable
from test_terminal_view import Terminal

OSC = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
#: What a hostile name or value carries; none of it may reach a terminal.
EVIL = [OSC, CLEAR, "\x1b]8;;http://evil.example\x1b\\", "\x9b31m", "\r", "\x07", "\u202e"]
TRAIN = f"""
import sweepkit
run = sweepkit.init()
run.name = "run{OSC}-" + str(run.config["tag"])[:3]
sweepkit.log({{"loss": 0.5 if run.config["tag"].startswith("a") else 0.25, "key{CLEAR}": 1.0}})
if run.config["tag"].startswith("b"):
    raise SystemExit("failed{OSC}badly\\rhidden")
"""
CONFIG = {
    "program": "train.py",
    "method": "grid",
    "metric": {"name": "loss"},
    "parameters": {"tag": {"values": [f"a{OSC}x", f"b{CLEAR}\ry", "c\x1b]8;;http://evil.example\x1b\\z"]}},
}


def _env(store_url: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_") and k not in ("TERM", "COLUMNS")
    }
    env.update(
        SWEEPKIT_DB=store_url, SWEEPKIT_INTERPRETER=sys.executable, TERM="xterm-256color", COLUMNS="200"
    )
    return env


def _cli(env, cwd, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sweepkit", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=180,
    )


def _assert_clean(raw: str, where: str) -> None:
    for bad in ("\x1b]", CLEAR, "\x07", "pwned\x07", "\x9b", "\u202e", "\r"):
        assert bad not in raw, f"{where} printed {bad!r}:\n{raw!r}"


@pytest.fixture
def swept(tmp_path):
    """A sweep whose names and values carry control sequences, run to the end by a real agent."""
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    (tmp_path / "train.py").write_text(TRAIN)
    service = open_local(store_url, create=True)
    sweep = service.create_sweep(CONFIG, name=f"sweep{OSC}name")
    env = _env(store_url)
    agent = _cli(env, tmp_path, "agent", sweep.id)
    assert agent.returncode == 0, agent.stderr
    return store_url, sweep.id, env, tmp_path, agent


def test_the_agent_and_the_query_commands_print_no_control_sequence(swept):
    _store, sweep_id, env, cwd, agent = swept
    _assert_clean(agent.stderr, "sweepkit agent")
    assert "starts: tag=ax\n" in agent.stderr  # the sequence goes whole, not only its introducer
    assert "(run-a) finished in" in agent.stderr and "(run-b) failed in" in agent.stderr
    assert "(sweepname-2) starts: tag=by\n" in agent.stderr
    for args in (
        ["runs", sweep_id],
        ["best", sweep_id],
        ["sweeps"],
        ["watch", sweep_id, "--no-progress"],
    ):
        out = _cli(env, cwd, *args)
        assert out.returncode == 0, (args, out.stderr)
        _assert_clean(out.stdout + out.stderr, " ".join(args[:1]))
    best = _cli(env, cwd, "best", sweep_id).stdout
    assert "runpwned" not in best and "tag = b" not in best and "tag = cz" in best  # OSC 8 link dropped
    sweeps = _cli(env, cwd, "sweeps").stdout
    assert "sweepname" in sweeps
    runs = _cli(env, cwd, "runs", sweep_id).stdout
    assert "run-a" in runs and " b\\ry " in runs and "summary.key " in runs
    # CSV in a file or a pipe is data: each value whole (a terminal gets it cleaned, below)
    assert f"a{OSC}x" in _cli(env, cwd, "runs", sweep_id, "--format", "csv").stdout


def test_a_terminal_shows_tables_and_the_live_view_without_them(swept):
    _store, sweep_id, env, cwd, _agent = swept
    for args in (
        ["runs", sweep_id],
        ["runs", sweep_id, "--format", "csv"],
        ["sweeps"],
        ["best", sweep_id],
        ["watch", sweep_id, "--interval", "0.2"],
    ):
        term = Terminal(args, cwd, env, cols=200)
        assert term.finish() == 0, term.text
        raw = term.raw.decode("utf-8", "replace")
        # rich's own colours and cursor moves are fine; nothing of the names' sequences is left
        for bad in ("\x1b]", CLEAR, "\x07", "\x9b", "\u202e"):
            assert bad not in raw, f"{args[0]} printed {bad!r} on a terminal:\n{raw!r}"
        assert "pwned" not in raw


@given(st.text())
def test_printable_leaves_no_control_character(text):
    out = printable(text, newlines=True, tabs=True)
    assert not any(
        ord(c) < 0x20 and c not in "\n\t" or 0x7F <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E for c in out
    )
    assert printable(out, newlines=True, tabs=True) == out  # nothing more to take away
    if text.isprintable():
        assert printable(text) == text


def test_watch_says_no_agent_is_working_instead_of_a_time_left(tmp_path):
    """Once the last agent has gone, the view stops promising "~13 s left" and says why nothing moves."""
    import signal
    import time

    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    # Each run takes a second, so that the view shows the sweep while the agent works on it.
    (tmp_path / "train.py").write_text(
        "import time\nimport sweepkit\nsweepkit.init()\ntime.sleep(1.0)\nsweepkit.log({'loss': 1.0})\n"
    )
    config = {**CONFIG, "parameters": {"tag": {"values": [f"v{i}" for i in range(8)]}}}
    sweep = open_local(store_url, create=True).create_sweep(config)
    env = _env(store_url)
    term = Terminal(["watch", sweep.id, "--interval", "0.2"], tmp_path, env, cols=140)
    agent = subprocess.Popen(
        [sys.executable, "-m", "sweepkit", "agent", sweep.id, "--count", "4", "--quiet"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    term.wait_for(r"[1-3]/8 runs .* left")  # while the agent works: a time left
    assert agent.wait(timeout=120) == 0
    term.wait_for(r"4/8 runs .*no agent is working on it")
    shown = len(term.text)
    time.sleep(1.0)
    assert " left" not in term.text[shown:]  # and no time left any more
    term.proc.send_signal(signal.SIGINT)
    assert term.finish() == 0
    plain = subprocess.Popen(
        [sys.executable, "-m", "sweepkit", "watch", sweep.id, "--no-progress", "--interval", "0.2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = plain.stderr.readline()  # a pipe says it in its line too
    plain.send_signal(signal.SIGINT)
    plain.wait(timeout=30)
    assert first.startswith("runs: 4/8 done, 4 finished") and first.rstrip().endswith(
        ", no agent is working on it"
    )

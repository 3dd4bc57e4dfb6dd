"""``sweepkit scheduler ID``: the user's ``scheduler.source`` (an ``optimizer`` and a conditional,
define-by-run ``search_space``) proposing a multi-objective sweep's runs, with real processes: program
agents and the scheduler on a local SQLite store and over ``sweepkit server`` with tokens; the
scheduler killed and started again (nothing queued twice, nothing lost); "scheduler gone" in
``sweepkit sweeps`` and in what waiting agents say; one-sentence errors for bad source files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from agent_programs import sweepkit_cli
from sweepkit.connect import open_local
from sweepkit.errors import SweepkitError
from sweepkit.runs import RunState

pytest.importorskip("optuna")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "user_scheduler"


def _example(folder: Path, **changes) -> None:
    """The documented example (sweep.yaml, scheduler.py, train.py) in ``folder``, its config as JSON
    with ``changes``."""
    for name in ("scheduler.py", "train.py", "sweep.yaml"):
        shutil.copyfile(EXAMPLE / name, folder / name)
    from sweepkit.sweep_config import read_config

    config = dict(read_config(folder / "sweep.yaml").data)
    config.update(changes)
    (folder / "sweep.json").write_text(json.dumps(config))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env.update(extra)
    return env


def _cli(cwd, env, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return sweepkit_cli(list(args), env, cwd, timeout=timeout)


class _Proc:
    """A sweepkit process whose merged output is read as it comes."""

    def __init__(self, cwd, env, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sweepkit", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.text:
            assert self.proc.poll() is None or text in self.text, (
                f"exited {self.proc.returncode}:\n{self.text}"
            )
            assert time.monotonic() < deadline, f"no {text!r} within {timeout} s:\n{self.text}"
            time.sleep(0.1)

    def finish(self, timeout: float = 300) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.finish()


def _runs(cwd, env, sweep_id: str) -> list[dict]:
    listed = _cli(cwd, env, "runs", sweep_id, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def _wait_runs(cwd, env, sweep_id: str, count: int, state: str, timeout: float = 120) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        runs = _runs(cwd, env, sweep_id)
        if sum(r["state"] == state for r in runs) >= count:
            return runs
        assert time.monotonic() < deadline, f"not {count} {state} runs within {timeout} s: {runs}"
        time.sleep(0.2)


def _check_conditional_front(cwd, env, sweep_id: str, n_runs: int) -> list[dict]:
    """Every run finished, was queued by the scheduler, has the parameters of its branch only and both
    metrics; the points are distinct; ``best`` prints the Pareto front."""
    runs = _runs(cwd, env, sweep_id)
    assert sorted(r["number"] for r in runs) == list(range(1, n_runs + 1))
    assert all(r["state"] == "finished" for r in runs), [r["state"] for r in runs]
    assert all(r["suggestion"].get("queued") for r in runs)
    for r in runs:
        keys = set(r["config"])  # the example's program adds nothing to its parameters
        branch = {"lr"} if r["config"]["model"] == "linear" else {"depth"}
        assert keys == {"model", "dropout"} | branch, r["config"]
        assert set(r["objectives"]) == {"error", "cost"} and None not in r["objectives"].values()
    assert len({json.dumps(r["config"], sort_keys=True) for r in runs}) == n_runs
    best = _cli(cwd, env, "best", sweep_id)
    assert best.returncode == 0 and best.stdout.startswith(f"Pareto front of sweep {sweep_id}:"), best.stderr
    return runs


def test_user_scheduler_with_program_agents_on_sqlite(tmp_path):
    _example(tmp_path, run_cap=12)
    env = _env(SWEEPKIT_DB=f"sqlite:///{tmp_path / 'store.db'}")
    made = _cli(tmp_path, env, "sweep", "sweep.json")
    assert made.returncode == 0, made.stderr
    sweep_id = made.stdout.strip()
    scheduler = _Proc(tmp_path, env, "scheduler", sweep_id, "--interval", "0.2")
    agents = [_Proc(tmp_path, env, "agent", sweep_id) for _ in range(2)]
    assert [a.finish() for a in agents] == [0, 0], "\n".join(a.text for a in agents)
    assert scheduler.finish(timeout=120) == 0, scheduler.text
    assert f"sweep {sweep_id} is finished: run_cap 12 reached; the scheduler stops" in scheduler.text
    assert "queued 12 runs, told 12 results" in scheduler.text
    runs = _check_conditional_front(tmp_path, env, sweep_id, 12)
    assert {r["config"]["model"] for r in runs} == {"linear", "tree"}  # both branches of the space
    listed = json.loads(_cli(tmp_path, env, "sweeps", "--format", "json").stdout)
    assert listed[0]["scheduler"].startswith("scheduler gone") or listed[0]["scheduler"].startswith("alive")


def test_user_scheduler_over_the_server_with_tokens(tmp_path, sqlite_template, server_factory):
    shutil.copyfile(sqlite_template, tmp_path / "store.db")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    local = open_local(db)
    admin = local.create_token("admin", name="scheduler").secret
    agent = local.create_token("agent", name="agents").secret
    local.close()
    server = server_factory(db)
    _example(tmp_path, run_cap=10)
    env = _env(SWEEPKIT_URL=server.url, SWEEPKIT_TOKEN=admin)
    made = _cli(tmp_path, env, "sweep", "sweep.json")
    assert made.returncode == 0, made.stderr
    sweep_id = made.stdout.strip()
    # An agent token may not run a scheduler: it queues runs, which is an admin's business.
    refused = _cli(tmp_path, {**env, "SWEEPKIT_TOKEN": agent}, "scheduler", sweep_id, "--once")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert errors == [errors[0]] and "needs scope admin" in errors[0], refused.stderr
    # The user's file is read on this machine, relative to the config given (here: another folder).
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    scheduler = _Proc(elsewhere, env, "scheduler", sweep_id, "--config", str(tmp_path / "sweep.json"))
    agents = [_Proc(tmp_path, {**env, "SWEEPKIT_TOKEN": agent}, "agent", sweep_id) for _ in range(2)]
    assert [a.finish() for a in agents] == [0, 0], "\n".join(a.text for a in agents)
    assert scheduler.finish(timeout=120) == 0, scheduler.text
    _check_conditional_front(tmp_path, env, sweep_id, 10)
    assert "scheduler.py" not in server.log()  # the user's code never ran in the server


def test_scheduler_killed_and_started_again_loses_and_repeats_nothing(tmp_path):
    _example(tmp_path, run_cap=8)
    env = _env(SWEEPKIT_DB=f"sqlite:///{tmp_path / 'store.db'}", SWEEPKIT_HEARTBEAT_TIMEOUT="4")
    sweep_id = _cli(tmp_path, env, "sweep", "sweep.json").stdout.strip()
    before = json.loads(_cli(tmp_path, env, "sweeps", "--format", "json").stdout)
    assert before[0]["scheduler"] == f"not started (sweepkit scheduler {sweep_id})"

    first = _Proc(tmp_path, env, "scheduler", sweep_id, "--ahead", "3", "--interval", "0.2")
    _wait_runs(tmp_path, env, sweep_id, 3, "pending")
    first.kill()  # SIGKILL: no goodbye
    queued = {r["id"]: r["config"] for r in _runs(tmp_path, env, sweep_id)}
    assert len(queued) == 3

    # Started again: the study is rebuilt from the three queued runs, nothing more is queued for them.
    again = _cli(tmp_path, env, "scheduler", sweep_id, "--ahead", "3", "--once")
    assert again.returncode == 0, again.stderr
    assert "study rebuilt from 3 runs (3 still to come)" in again.stderr
    assert {r["id"]: r["config"] for r in _runs(tmp_path, env, sweep_id)} == queued

    # Silent for longer than the heartbeat timeout: the sweep says its scheduler is gone...
    time.sleep(5)
    table = _cli(tmp_path, env, "sweeps")
    assert "scheduler gone" in table.stdout, table.stdout
    # ...and an agent that ran the queued runs says so while it waits for more.
    waiting = _Proc(tmp_path, env, "agent", sweep_id, "--count", "5")
    waiting.wait_for("scheduler gone")
    assert f"start `sweepkit scheduler {sweep_id}` again" in waiting.text
    assert sum(r["state"] == "finished" for r in _runs(tmp_path, env, sweep_id)) == 3

    last = _Proc(tmp_path, env, "scheduler", sweep_id, "--ahead", "2", "--interval", "0.2")
    last.wait_for("study rebuilt from 3 runs (0 still to come)")
    assert waiting.finish() == 0, waiting.text
    helper = _Proc(tmp_path, env, "agent", sweep_id)
    assert helper.finish() == 0, helper.text
    assert last.finish(timeout=120) == 0, last.text
    runs = _check_conditional_front(tmp_path, env, sweep_id, 8)
    assert {r["id"]: r["config"] for r in runs if r["id"] in queued} == queued


@pytest.mark.parametrize(
    ("scheduler_py", "scheduler", "expected"),
    [
        (None, {}, "scheduler.source: no file "),
        ("import optuna\n", {}, "scheduler.search_space: "),
        ("raise ValueError('bad line 1')\n", {}, "raised ValueError: bad line 1"),
        ("search_space = 3\n", {}, "is a int, not a function"),
        ("def space(trial):\n    raise KeyError('x')\n", {"search_space": "space"}, "space() in "),
        ("def space(trial):\n    pass\n", {"search_space": "space"}, "asked the trial for no parameter"),
        (
            "def space(trial):\n    trial.suggest_float('x', 0, 1)\ndef opt():\n    return 3\n",
            {"search_space": "space", "optimizer": "opt"},
            "returned int, expected an Optuna sampler",
        ),
    ],
)
def test_bad_source_files_are_said_in_one_sentence(tmp_path, scheduler_py, scheduler, expected):
    config = {
        "program": "train.py",
        "method": "custom",
        "metric": {"name": "error"},
        "scheduler": {
            "engine": "optuna",
            "source": "scheduler.py",
            "search_space": "search_space",
            **scheduler,
        },
    }
    (tmp_path / "sweep.json").write_text(json.dumps(config))
    if scheduler_py is not None:
        (tmp_path / "scheduler.py").write_text(scheduler_py)
    env = _env(SWEEPKIT_DB=f"sqlite:///{tmp_path / 'store.db'}")
    made = _cli(tmp_path, env, "sweep", "sweep.json")
    assert made.returncode == 0, made.stderr
    ran = _cli(tmp_path, env, "scheduler", made.stdout.strip(), "--once")
    assert ran.returncode == 1 and "Traceback" not in ran.stderr
    lines = [line for line in ran.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and expected in lines[0], ran.stderr


def test_a_sweep_without_source_needs_no_scheduler_and_other_engines_are_refused(tmp_path):
    env = _env(SWEEPKIT_DB=f"sqlite:///{tmp_path / 'store.db'}")
    plain = {"program": "train.py", "method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    (tmp_path / "plain.json").write_text(json.dumps(plain))
    sweep_id = _cli(tmp_path, env, "sweep", "plain.json").stdout.strip()
    ran = _cli(tmp_path, env, "scheduler", sweep_id)
    assert ran.returncode == 1 and "has no scheduler.source in its config" in ran.stderr
    wandb = {
        **plain,
        "method": "bayes",
        "metric": {"name": "error"},
        "scheduler": {"engine": "wandb", "source": "scheduler.py", "search_space": "space"},
    }
    (tmp_path / "wandb.json").write_text(json.dumps(wandb))
    assert _cli(tmp_path, env, "validate", "wandb.json").returncode == 0  # W&B's rules: valid
    made = _cli(tmp_path, env, "sweep", "wandb.json")
    assert made.returncode == 1 and "Traceback" not in made.stderr
    assert "runs Optuna only: set engine: optuna with scheduler.source, got 'wandb'" in made.stderr


def test_results_are_told_as_optuna_means_them(tmp_path):
    """Finished with every value: complete; stopped by the sweep's rule: pruned; failed, killed, or
    finished without every value: failed; queued or running: running, told when they end."""
    import optuna

    from sweepkit.scheduler.trials import Trials
    from sweepkit.scheduler.user_code import UserCode
    from sweepkit.sweep_config import load_config

    def space(trial):
        if trial.suggest_categorical("kind", ["a", "b"]) == "a":
            trial.suggest_float("x", 0.0, 1.0)

    config = load_config(
        {
            "program": "t.py",
            "method": "custom",
            "metrics": [{"name": "f1"}, {"name": "f2", "goal": "maximize"}],
            "scheduler": {"engine": "optuna", "source": "s.py", "search_space": "space"},
        }
    )
    trials = Trials(config, None, UserCode(tmp_path / "s.py", None, space))

    def run(run_id, state, values=None, stop_info=None, **params):
        return SimpleNamespace(
            id=run_id,
            state=RunState(state),
            params=params,
            objective_values=values or {},
            stop_info=stop_info,
        )

    both = {"f1": 0.5, "f2": 2.0}
    trials.sync(
        [
            run("r1", "finished", both, kind="a", x=0.25),
            run("r2", "finished", {"f1": 0.1, "f2": None}, kind="b"),
            run("r3", "failed", kind="a", x=0.5),
            run("r4", "killed", stop_info={"band": 3}, kind="b"),
            run("r5", "killed", kind="b"),
            run("r6", "pending", kind="a", x=0.75),
            run("r7", "finished", both, kind="c"),  # outside the space: not told
        ]
    )
    states = [t.state for t in trials.study.trials]
    s = optuna.trial.TrialState
    assert states == [s.COMPLETE, s.FAIL, s.FAIL, s.PRUNED, s.FAIL, s.RUNNING]
    assert trials.study.trials[0].values == [0.5, 2.0]
    assert trials.study.trials[0].distributions["x"] == optuna.distributions.FloatDistribution(0.0, 1.0)
    assert trials.sync([run("r6", "finished", {"f1": 0.3, "f2": 1.0}, kind="a", x=0.75)]) == 1
    assert trials.study.trials[5].state == s.COMPLETE and trials.study.trials[5].values == [0.3, 1.0]
    trials.sync([run("r8", "running", kind="a", x=0.125)])
    trials.forget("r8")  # deleted while it ran: failed
    assert trials.study.trials[6].state == s.FAIL and not trials.open
    # A new trial (r7 was left out) whose parameters no run has: {"kind": "b"} is taken, so a sampler
    # drawing it again is told the twin's result and asked again.
    number, params = trials.ask()
    assert number >= 7 and params["kind"] == "a" and params["x"] not in (0.125, 0.25, 0.5, 0.75)


def test_the_service_waits_for_a_scheduler_and_hears_its_heartbeat(service):
    """On every transport and store: a claim with nothing queued says whether a scheduler has started;
    the heartbeat makes it alive; points of a define-by-run space are queued as they are."""
    config = {
        "program": "train.py",
        "method": "custom",
        "metrics": [{"name": "error"}, {"name": "cost"}],
        "scheduler": {"engine": "optuna", "source": "scheduler.py", "search_space": "search_space"},
    }
    sweep = service.create_sweep(config)
    assert sweep.scheduler.state == "waiting" and sweep.scheduler.seen_at is None
    agent = service.register_agent(sweep.id, host="test", pid=1)
    claim = service.claim_run(sweep.id, agent, "k1")
    assert claim.status == "waiting" and claim.assignment is None
    assert f"start `sweepkit scheduler {sweep.id}`" in claim.reason
    beat = service.scheduler_heartbeat(sweep.id, host="box", pid=77)
    assert (beat.scheduler.state, beat.scheduler.host, beat.scheduler.pid) == ("alive", "box", 77)
    assert beat.updated_at == sweep.updated_at  # a heartbeat is not a change of the sweep
    assert service.get_sweep(sweep.id).scheduler.state == "alive"
    assert (
        service.claim_run(sweep.id, agent, "k2").reason
        == "waiting for the scheduler (box, pid 77) to queue runs"
    )
    queued = service.queue_points(sweep.id, [{"model": "tree", "depth": 3}, {"model": "linear", "lr": 0.01}])
    assert [run.params for run in queued] == [{"model": "tree", "depth": 3}, {"model": "linear", "lr": 0.01}]
    got = service.claim_run(sweep.id, agent, "k3")
    assert got.status == "claimed" and got.assignment.config == {"model": "tree", "depth": 3}
    plain = service.create_sweep(
        {"method": "random", "parameters": {"x": {"values": [1, 2]}}, "program": "t.py"}
    )
    assert plain.scheduler is None
    with pytest.raises(SweepkitError, match="has no scheduler.source in its config"):
        service.scheduler_heartbeat(plain.id, host="box", pid=77)


TWO_METRICS_PY = """
import sweepkit
run = sweepkit.init()
c = run.config
sweepkit.log({"f1": c.x, "f2": (1 - c.x) ** 2 + (0.3 if c.kind == "b" else 0.0)})
"""


def test_an_optimizer_alone_searches_the_config_s_parameters(tmp_path):
    (tmp_path / "train.py").write_text(TWO_METRICS_PY)
    (tmp_path / "opt.py").write_text(
        "import optuna\n\ndef build():\n    return optuna.samplers.TPESampler(seed=1, n_startup_trials=3)\n"
    )
    config = {
        "program": "train.py",
        "method": "custom",
        "metrics": [{"name": "f1"}, {"name": "f2"}],
        "run_cap": 6,
        "parameters": {
            "x": {"distribution": "uniform", "min": 0.0, "max": 1.0},
            "kind": {"values": ["a", "b"]},
            "fixed": {"value": 3},
        },
        "scheduler": {"engine": "optuna", "source": "opt.py", "optimizer": "build"},
    }
    (tmp_path / "sweep.json").write_text(json.dumps(config))
    env = _env(SWEEPKIT_DB=f"sqlite:///{tmp_path / 'store.db'}")
    sweep_id = _cli(tmp_path, env, "sweep", "sweep.json").stdout.strip()
    scheduler = _Proc(tmp_path, env, "scheduler", sweep_id, "--interval", "0.2")
    agent = _Proc(tmp_path, env, "agent", sweep_id)
    assert agent.finish() == 0, agent.text
    assert scheduler.finish(timeout=120) == 0, scheduler.text
    runs = _runs(tmp_path, env, sweep_id)
    assert len(runs) == 6 and all(r["state"] == "finished" for r in runs)
    for r in runs:
        assert set(r["config"]) == {"x", "kind", "fixed"} and r["config"]["fixed"] == 3
        assert 0.0 <= r["config"]["x"] <= 1.0 and r["config"]["kind"] in ("a", "b")
        assert set(r["objectives"]) == {"f1", "f2"}


def test_sweepkit_run_starts_the_scheduler_too(tmp_path):
    _example(tmp_path, run_cap=6)
    env = _env(SWEEPKIT_DB=f"sqlite:///{tmp_path / 'store.db'}")
    ran = _cli(tmp_path, env, "run", "sweep.json", "--agents", "2", "--no-progress", timeout=300)
    assert ran.returncode == 0, ran.stderr
    assert "Started the sweep's scheduler" in ran.stderr and "runs: 6/6 done, 6 finished" in ran.stderr
    (sweep,) = json.loads(_cli(tmp_path, env, "sweeps", "--format", "json").stdout)
    assert sweep["state"] == "finished" and sweep["runs"] == 6
    log = next((tmp_path / ".sweepkit" / "agents").glob("*-scheduler.log")).read_text()
    # `sweepkit run` stops the scheduler once the sweep is done, whether or not it has told the
    # study the last results yet (they no longer matter): what it queued is what counts.
    assert "queued 6 runs" in log


def test_a_sweep_without_a_metric_is_told_how_to_give_it_one(tmp_path):
    config = {
        "program": "train.py",
        "method": "custom",
        "scheduler": {"engine": "optuna", "source": "scheduler.py", "search_space": "search_space"},
    }
    (tmp_path / "sweep.json").write_text(json.dumps(config))
    shutil.copyfile(EXAMPLE / "scheduler.py", tmp_path / "scheduler.py")
    env = _env(SWEEPKIT_DB=f"sqlite:///{tmp_path / 'store.db'}")
    made = _cli(tmp_path, env, "sweep", "sweep.json")
    assert made.returncode == 0, made.stderr  # W&B's rules: a user scheduler needs no metric
    ran = _cli(tmp_path, env, "scheduler", made.stdout.strip(), "--once")
    assert ran.returncode == 1 and "Traceback" not in ran.stderr
    assert "error: metric: the scheduler's study learns from the sweep's metric" in ran.stderr


TREE_ONLY = '''

def search_space_narrow(trial):
    """The space after the update: trees only, a smaller dropout."""
    trial.suggest_categorical("model", ["tree"])
    trial.suggest_int("depth", 1, 12)
    trial.suggest_float("dropout", 0.0, 0.1)
'''


@pytest.mark.parametrize("transport", ["sqlite", "server"])
def test_a_running_scheduler_takes_up_an_updated_config(tmp_path, transport, request):
    """``sweepkit sweep --update`` while the scheduler runs (on a store, and over a server with an
    admin token): its next pass loads the user's file again with the new config's function, withdraws
    the runs it queued that the new space does not admit, keeps a point the user queued (it runs as
    queued, as the service does), rebuilds its study and queues only points of the new space; no
    restart."""
    _example(tmp_path, run_cap=9)
    with open(tmp_path / "scheduler.py", "a") as f:
        f.write(TREE_ONLY)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    env = _env(SWEEPKIT_DB=db)
    if transport == "server":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "store.db")
        local = open_local(db)
        admin = local.create_token("admin", name="scheduler").secret
        local.close()
        env = _env(SWEEPKIT_URL=request.getfixturevalue("server_factory")(db).url, SWEEPKIT_TOKEN=admin)
    sweep_id = _cli(tmp_path, env, "sweep", "sweep.json").stdout.strip()
    scheduler = _Proc(tmp_path, env, "scheduler", sweep_id, "--ahead", "4", "--interval", "0.2")
    _wait_runs(tmp_path, env, sweep_id, 4, "pending")
    added = _cli(
        tmp_path,
        env,
        "sweep",
        "--add",
        sweep_id,
        "--params",
        '{"model": "linear", "lr": 0.01, "dropout": 0.4}',
    )
    assert added.returncode == 0, added.stderr
    before = {r["id"]: r for r in _runs(tmp_path, env, sweep_id)}
    mine = {
        i: r["config"]
        for i, r in before.items()
        if r["config"] != {"model": "linear", "lr": 0.01, "dropout": 0.4}
    }
    assert len(mine) == 4
    admitted = {i for i, c in mine.items() if c["model"] == "tree" and c["dropout"] <= 0.1}

    config = json.loads((tmp_path / "sweep.json").read_text())
    config["scheduler"]["search_space"] = "search_space_narrow"
    (tmp_path / "narrow.json").write_text(json.dumps(config))
    updated = _cli(tmp_path, env, "sweep", "--update", sweep_id, "narrow.json", "--yes")
    assert updated.returncode == 0, updated.stderr
    scheduler.wait_for("loaded again", timeout=30)
    scheduler.wait_for("study rebuilt from", timeout=30)
    line = next(x for x in scheduler.lines if "config changed" in x)
    assert f"sweep {sweep_id}: config changed (version 2): " in line, line
    withdrawn = set(mine) - admitted
    if withdrawn:
        numbers = ", ".join(
            str(before[i]["number"]) for i in sorted(withdrawn, key=lambda i: before[i]["number"])
        )
        assert (
            f"withdrew {len(withdrawn)} of the 4 runs it had queued that the new config does not admit ({numbers})"
            in line
        )
    after = {r["id"]: r for r in _runs(tmp_path, env, sweep_id)}
    assert not withdrawn & set(after)  # deleted, never run
    assert set(before) - withdrawn <= set(after)  # the user's point and the admitted ones stay

    agent = _Proc(tmp_path, env, "agent", sweep_id)
    assert agent.finish() == 0, agent.text
    assert scheduler.finish(timeout=120) == 0, scheduler.text
    runs = _runs(tmp_path, env, sweep_id)
    assert all(r["state"] == "finished" for r in runs), [r["state"] for r in runs]
    new = [r for r in runs if r["id"] not in before]
    assert new, "the scheduler queued nothing after the update"
    for r in new:  # every run queued after the update is a point of the new space
        assert r["config"]["model"] == "tree" and r["config"]["dropout"] <= 0.1, r["config"]
    assert any(r["config"].get("lr") == 0.01 for r in runs)  # the user's point ran as queued
    assert "Traceback" not in scheduler.text


def test_a_config_change_to_the_parameters_or_away_from_source_is_taken_up(tmp_path):
    """The config's ``parameters`` as the space (an optimizer alone), on a real store: a narrowed
    range withdraws the scheduler's own queued runs outside it and keeps the others, and what it
    queues next fits the new range; a config without ``source`` stops the scheduler, saying why."""
    from sweepkit.scheduler import SchedulerProcess, load_user_code

    (tmp_path / "opt.py").write_text(
        "import optuna\n\ndef build():\n    return optuna.samplers.RandomSampler(seed=4)\n"
    )
    config = {
        "program": "train.py",
        "method": "custom",
        "metric": {"name": "f1"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
        "scheduler": {"engine": "optuna", "source": "opt.py", "optimizer": "build"},
    }
    service = open_local(f"sqlite:///{tmp_path / 'store.db'}", create=True)
    sweep = service.create_sweep(config)
    said: list[str] = []
    process = SchedulerProcess(
        service,
        sweep.id,
        load_user_code(config["scheduler"], source=str(tmp_path / "opt.py")),
        ahead=6,
        interval_s=0.01,
        say=said.append,
        load_code=lambda section: load_user_code(section, source=str(tmp_path / "opt.py")),
    )
    assert process.step()
    first = {run.id: run.params["x"] for run in service.all_runs(sweep.id)}
    assert len(first) == 6
    outside = {i for i, x in first.items() if x > 0.5}
    assert outside and outside != set(first)  # seed 4: some on each side of 0.5

    narrow = {**config, "parameters": {"x": {"min": 0.0, "max": 0.5}}}
    service.update_sweep(sweep.id, narrow)
    assert process.step()
    change = next(line for line in said if "config changed" in line)
    assert (
        f"config changed (version 2): {tmp_path / 'opt.py'} loaded again; withdrew {len(outside)} of the 6 runs"
        in change
    )
    now = {run.id: run.params["x"] for run in service.all_runs(sweep.id)}
    assert set(first) - outside <= set(now) and not outside & set(now)
    assert len(now) == 6 and all(x <= 0.5 for x in now.values())  # refilled from the new range

    service.update_sweep(sweep.id, {**narrow, "run_cap": 50})  # the space as it was: nothing withdrawn
    assert process.step()
    assert said[-2] == (
        f"sweep {sweep.id}: config changed (version 3): {tmp_path / 'opt.py'} loaded again; the 6 runs "
        "it had queued fit the new config and stay queued"
    )
    assert said[-1].endswith(
        "study rebuilt from 6 runs (6 still to come); keeping 6 queued ahead of the agents"
    )
    assert {run.id for run in service.all_runs(sweep.id)} == set(now)

    service.update_sweep(sweep.id, {**narrow, "method": "random", "scheduler": {"engine": "wandb"}})
    assert not process.step()
    assert said[-1] == (
        f"sweep {sweep.id}: config changed (version 4) and names no scheduler.source: the service "
        "proposes its runs now; the scheduler stops"
    )
    service.close()

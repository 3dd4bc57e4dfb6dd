"""One run per ``init()``, nothing dropped: ``init()`` called again in one process follows W&B's
``reinit`` rules outside agents, never writes into the run an agent handed over once it is finished,
and every write to a finished run raises at the call. Plus the stand-in's module paths and utilities
that integrations import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sweepkit
from agent_programs import history, run_output, run_sweep, stored_runs
from sweepkit.connect import open_local
from sweepkit.runs import RunState

STANDIN = Path(sweepkit.__file__).parent / "wandb_standin"


def _standalone(tmp_path: Path, script: str) -> dict:
    """Run ``script`` outside any agent with the stand-in ``wandb``; returns what it wrote to OUT."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWEEPKIT_", "WANDB_"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(STANDIN), str(Path(sweepkit.__file__).parents[1])]),
        SWEEPKIT_DB=str(tmp_path / "store.db"),
        OUT=str(tmp_path / "out.json"),
    )
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads((tmp_path / "out.json").read_text())


STANDALONE_REINIT = """
import json, os
import wandb

out = {}
first = wandb.init(project="p", config={"fold": 0})
first.log({"loss": 1.0})
out["same"] = wandb.init(project="p") is first  # "default" outside a notebook: the active run
wandb.finish()
second = wandb.init(project="p", config={"fold": 1})  # after finish(): a new run, from step 0
second.log({"loss": 2.0})
third = wandb.init(project="p", reinit=True, config={"fold": 2})  # True: finish it, start another
third.log({"loss": 3.0})
side = wandb.init(project="p", reinit="create_new", config={"fold": 3})  # beside it, not wandb.run
side.log({"loss": 4.0})
out["run_after_create_new"] = wandb.run.id
try:
    wandb.init(resume="must")
except wandb.Error as exc:
    out["resume_must"] = str(exc)
out["ids"] = [first.id, second.id, third.id, side.id]
out["finished"] = [first._is_finished, second._is_finished, third._is_finished, side._is_finished]
with open(os.environ["OUT"], "w") as fh:
    json.dump(out, fh)
"""


def test_init_again_outside_an_agent_follows_wandbs_reinit_rules(tmp_path):
    out = _standalone(tmp_path, STANDALONE_REINIT)
    first, second, third, side = out["ids"]
    assert out["same"] is True and len(set(out["ids"])) == 4
    assert out["finished"] == [True, True, False, False]
    assert out["run_after_create_new"] == third
    assert "cannot resume a run while another run is active" in out["resume_must"]
    service = open_local(str(tmp_path / "store.db"))
    # Each run holds only its own row, at its own step 0, and every run ended (the open ones at exit).
    for run_id, fold, loss in zip(out["ids"], range(4), [1.0, 2.0, 3.0, 4.0], strict=True):
        run = service.get_run(run_id)
        assert run.state == RunState.FINISHED and run.config == {"fold": fold}
        assert [(row["_step"], row["loss"]) for row in service.full_history(run_id)] == [(0, loss)]


AFTER_FINISH = """
import json, os
import wandb

out = {}
run = wandb.init(config={"lr": 0.1})
run.log({"loss": 1.0})
wandb.finish()
for name, call in [
    ("run.log", lambda: run.log({"loss": 2.0})),
    ("wandb.log", lambda: wandb.log({"loss": 2.0})),
    ("summary", lambda: run.summary.update({"best": 1.0})),
    ("config", lambda: run.config.update({"extra": 1})),
    ("wandb.config", lambda: wandb.config.update({"extra": 1})),
]:
    try:
        call()
        out[name] = None
    except wandb.Error as exc:
        out[name] = str(exc)
out["ids"] = [wandb.util.generate_id() for _ in range(3)]
with open(os.environ["OUT"], "w") as fh:
    json.dump(out, fh)
"""


def test_every_write_after_finish_raises_at_the_call_and_nothing_is_dropped(tmp_path):
    out = _standalone(tmp_path, AFTER_FINISH)
    for name in ("run.log", "summary", "config"):
        assert out[name] and "is finished" in out[name] and "after finish() is not recorded" in out[name], (
            name
        )
    assert (
        out["wandb.log"] == "call sweepkit.init() before sweepkit.log() (the run started before is finished)"
    )
    assert out["wandb.config"].startswith("call sweepkit.init() before sweepkit.config")
    ids = out["ids"]
    assert len(set(ids)) == 3 and all(len(i) == 8 and i.isalnum() and i.islower() for i in ids)


IN_AGENT = """
import json, os
import wandb

out = {}
run = wandb.init(config={"fold": 0})
wandb.log({"loss": run.config.lr})
try:
    wandb.init(reinit="create_new")  # would need a second run of the sweep
except wandb.Error as exc:
    out["create_new"] = str(exc)
out["same"] = wandb.init() is run  # the default: the active run
wandb.finish()
try:
    wandb.init(config={"fold": 1})  # W&B would write into the finished run again
except wandb.Error as exc:
    out["again"] = str(exc)
with open(os.environ["OUT"], "w") as fh:
    json.dump(out, fh)
"""


def test_inside_an_agent_a_second_run_is_refused_and_the_finished_run_is_left_alone(tmp_path):
    config = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"lr": {"values": [0.5]}}}
    sweep_id, env, _err = run_sweep(tmp_path, IN_AGENT, config, OUT=str(tmp_path / "out.json"))
    out = json.loads((tmp_path / "out.json").read_text())
    (run,) = stored_runs(sweep_id, env, tmp_path)
    assert out["same"] is True
    assert out["create_new"].startswith("wandb.init(): reinit='create_new' asks for a second run; the agent")
    assert out["again"] == (
        f"wandb.init(): run {run['id']} is finished; the agent handed this process one run (run {run['id']} of "
        f"sweep {sweep_id}) and W&B would write into that same run again, so start each further run in a "
        "process of its own"
    )
    assert run["state"] == "finished" and run["config"] == {"fold": 0, "lr": 0.5}
    assert [(row["_step"], row["loss"]) for row in history(env, run["id"])] == [(0, 0.5)]
    assert "Traceback" not in run_output(tmp_path, run["id"])


def test_a_function_agent_hands_each_call_its_own_run_and_refuses_a_second_one(tmp_path):
    store = str(tmp_path / "store.db")
    errors = []

    def train():
        run = sweepkit.init()
        sweepkit.log({"loss": run.config["x"]})
        sweepkit.finish()
        with pytest.raises(
            sweepkit.Error, match="is finished; the agent handed this process one run"
        ) as info:
            sweepkit.init()
        errors.append(str(info.value))

    config = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [1, 2]}}}
    sweep_id = sweepkit.sweep(config, db=store)
    report = sweepkit.agent(sweep_id, function=train, db=store, quiet=True)
    assert list(report.runs.values()) == [RunState.FINISHED, RunState.FINISHED] and len(errors) == 2
    service = open_local(store)
    for run in service.all_runs(sweep_id):
        assert [row["loss"] for row in service.full_history(run.id)] == [run.config["x"]]


MODULE_PATHS = """
import importlib.metadata, json, os, sys
import wandb
from wandb.sdk.lib import RunDisabled
from wandb.sdk.lib.config_util import ConfigError
from wandb.sdk.lib.runid import generate_id
from wandb.sdk.wandb_run import Run as SdkRun
from wandb.wandb_run import Run
from wandb.sdk.data_types.base_types.wb_value import WBValue
from wandb.sdk.data_types.image import Image
from wandb.sdk.artifacts.artifact import Artifact
from wandb.sdk.wandb_settings import Settings
from wandb.apis.public import Api
from wandb.util import json_dumps_safer
import wandb.env

out = {"metadata": importlib.metadata.version("wandb"), "heavy": [m for m in ("numpy", "torch", "sqlalchemy") if m in sys.modules]}
run = wandb.init(settings=Settings(reinit="return_previous"))
out["isinstance"] = isinstance(run, (Run, RunDisabled)) and Run is SdkRun is wandb.Run
out["wbvalue"] = isinstance(Image([[0, 1]]), WBValue) and Artifact is wandb.Artifact
run._label(code="my_integration", repo="r")
run._set_config_wandb("code_path", "train.py")
out["labels"] = run._labels
out["attach"] = wandb._attach(run._attach_id) is run
out["settings"] = [run.settings.run_id, run._settings.sweep_id, run.settings.mode, run.settings.anything]
run._log({"loss": 0.5})
out["step"] = run.step
out["json"] = json_dumps_safer({"path": __import__("pathlib").Path("a/b"), "set": {2, 1}})
out["lazy"] = wandb.util.generate_id() != wandb.util.generate_id() and len(generate_id()) == 8
out["config"] = dict(run.config)
wandb.require("service")
try:
    wandb._attach("nope")
except wandb.Error as exc:
    out["attach_error"] = str(exc)
with open(os.environ["OUT"], "w") as fh:
    json.dump(out, fh)
"""


def test_the_module_paths_and_private_run_calls_integrations_use(tmp_path):
    config = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"lr": {"values": [0.5]}}}
    sweep_id, env, _err = run_sweep(tmp_path, MODULE_PATHS, config, OUT=str(tmp_path / "out.json"))
    (run,) = stored_runs(sweep_id, env, tmp_path)
    out = json.loads((tmp_path / "out.json").read_text())
    from sweepkit.wandb_facade import WANDB_VERSION

    assert out["metadata"] == WANDB_VERSION and out["heavy"] == []
    assert out["isinstance"] and out["wbvalue"] and out["attach"] and out["lazy"]
    assert out["labels"] == {"code": "my_integration", "repo": "r"}
    assert out["settings"] == [run["id"], sweep_id, "online", None]
    assert out["step"] == 1 and json.loads(out["json"]) == {"path": "a/b", "set": [1, 2]}
    assert out["config"] == {"lr": 0.5}  # _set_config_wandb keeps W&B's hidden section off the config
    assert out["attach_error"] == "wandb._attach('nope'): no run with that id is active in this process"
    assert run["config"] == {"lr": 0.5} and run["summary"]["loss"] == 0.5

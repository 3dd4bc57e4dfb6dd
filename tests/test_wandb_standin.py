"""Unchanged W&B training scripts under real agents: the stand-in ``wandb`` wins, with or without the real
package installed, and never opens a socket; argparse configs; the stand-in switched off."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sweepkit
from sweepkit.connect import open_local
from sweepkit.runs import RunState

STANDIN_DIR = Path(sweepkit.__file__).parent / "wandb_standin"

#: A training script as W&B users write it; only the last lines (what the test reads) are extra.
WANDB_SCRIPT = """
import json, os, random, sys
import wandb

run = wandb.init(project="mnist", entity="team", config={"epochs": 4, "lr": 0.1, "batch_size": 32},
                 tags=["baseline"], job_type="train", settings=wandb.Settings(start_method="thread"))
config = wandb.config
wandb.define_metric("epoch")
wandb.define_metric("val_loss", step_metric="epoch", summary="min")
wandb.define_metric("val_acc", summary="max")
wandb.watch(None, log="all", log_freq=10)
samples = wandb.Table(columns=["epoch", "val_loss"])
for epoch in range(config.epochs):
    for batch in range(3):
        wandb.log({"train_loss": 1.0 / (epoch * 3 + batch + 1)})
    val_loss = 1.0 / (1 + epoch * config.lr) + (0.5 if epoch == config.epochs - 1 else 0.0)
    wandb.log({"epoch": epoch, "val_loss": val_loss, "val_acc": 1 - val_loss / 2,
               "weights": wandb.Histogram([random.random() for _ in range(100)])}, step=run.step)
    samples.add_data(epoch, val_loss)
wandb.log({"samples": samples, "example": wandb.Image([[0, 128], [255, 64]], caption="digit")})
with open(os.path.join(wandb.run.dir, "model.txt"), "w") as fh:
    fh.write("weights")
with open("notes.txt", "w") as fh:
    fh.write("notes")
wandb.save("notes.txt")
wandb.run.summary["test_acc"] = 0.9
wandb.run.log_code(".")
wandb.log({"last": 1}, commit=True, sync=False)
wandb.finish(exit_code=0, quiet=True)

with open(os.environ["OUT"], "w") as fh:
    heavy = [m for m in ("numpy", "sqlalchemy", "yaml", "click", "jsonschema") if m in sys.modules]
    json.dump({"wandb_file": wandb.__file__, "standin": getattr(wandb, "__sweepkit__", None), "heavy": heavy,
               "env": {k: v for k, v in os.environ.items() if k.startswith("WANDB_")}}, fh)
"""

#: Installed in every run process (through PYTHONPATH): records any socket it opens or resolves.
NETWORK_GUARD = """
import os, sys
if os.environ.get("SWEEPKIT_RUN_FILE"):
    _log = os.environ["NET_LOG"]
    _events = {"socket.__new__", "socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
               "http.client.connect", "urllib.Request"}

    def _hook(event, args):
        if event in _events:
            with open(_log, "a") as fh:
                fh.write(f"{event} {args!r}\\n")

    sys.addaudithook(_hook)
"""


def _env(db: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWEEPKIT_", "WANDB_"))}
    guard = tmp_path / "guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(textwrap.dedent(NETWORK_GUARD))
    env["PYTHONPATH"] = os.pathsep.join([str(guard)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.update(
        SWEEPKIT_DB=db,
        SWEEPKIT_INTERPRETER=sys.executable,
        NET_LOG=str(tmp_path / "net.log"),
        # A proxy that refuses, in case anything tried the network anyway.
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
    )
    env.update(extra)
    return env


def _sweepkit(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sweepkit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _run_sweep(tmp_path: Path, script: str, config: dict, *agent_args: str, **extra: str):
    db = str(tmp_path / "store.db")
    (tmp_path / "train.py").write_text(textwrap.dedent(script))
    (tmp_path / "sweep.json").write_text(json.dumps({"program": "train.py", **config}))
    env = _env(db, tmp_path, OUT=str(tmp_path / "seen.json"), **extra)
    made = _sweepkit(["sweep", "sweep.json"], env, tmp_path)
    assert made.returncode == 0, made.stderr
    sweep_id = made.stdout.strip()
    ran = _sweepkit(["agent", sweep_id, "--quiet", *agent_args], env, tmp_path)
    assert ran.returncode == 0, ran.stderr
    return sweep_id, env, ran.stderr


WANDB_SWEEP = {
    "method": "grid",
    "metric": {"name": "val_loss", "goal": "minimize"},
    "parameters": {"lr": {"values": [0.5]}},
}


def _check_wandb_script_run(tmp_path: Path, sweep_id: str, env: dict[str, str], agent_err: str) -> None:
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["standin"] == sweepkit.__version__
    assert seen["heavy"] == []  # the stand-in stays light
    assert Path(seen["wandb_file"]).resolve() == (STANDIN_DIR / "wandb" / "__init__.py").resolve()
    assert not (tmp_path / "net.log").exists(), (tmp_path / "net.log").read_text()

    listed = _sweepkit(["runs", sweep_id, "--format", "json"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    (run,) = json.loads(listed.stdout)
    assert run["state"] == "finished", run
    assert run["config"] == {"epochs": 4, "lr": 0.5, "batch_size": 32}  # the sweep's lr wins
    val_losses = [1.0 / (1 + e * 0.5) + (0.5 if e == 3 else 0.0) for e in range(4)]
    # The value the sweep ranks by: the best logged (the last epoch was worse).
    assert run["metric"] == {"name": "val_loss", "value": pytest.approx(min(val_losses))}
    # define_metric decides what the summary holds, as in W&B.
    assert run["summary"]["val_loss"] == {"min": pytest.approx(min(val_losses))}
    assert run["summary"]["val_acc"] == {"max": pytest.approx(1 - min(val_losses) / 2)}
    assert run["summary"]["test_acc"] == 0.9

    # The sweep saw every value; log(step=run.step) adds to the current step, which the next
    # log() without a step completes (W&B's rule): epoch e's values share step 3(e+1).
    service = open_local(env["SWEEPKIT_DB"])
    history = service.full_history(run["id"])
    val_rows = [row for row in history if "val_loss" in row]
    assert [row["val_loss"] for row in val_rows] == pytest.approx(val_losses)
    assert [row["_step"] for row in val_rows] == [3, 6, 9, 12]
    assert all(
        row["weights"]["_type"] == "histogram" and sum(row["weights"]["values"]) == 100 for row in val_rows
    )
    (media_row,) = [row for row in history if "samples" in row]
    run_dir = tmp_path / ".sweepkit" / "runs" / run["id"]
    table = json.loads((run_dir / media_row["samples"]["path"]).read_text())
    assert table["columns"] == ["epoch", "val_loss"] and [r[0] for r in table["data"]] == [0, 1, 2, 3]
    image = run_dir / media_row["example"]["path"]
    assert image.read_bytes().startswith(b"\x89PNG") and media_row["example"]["caption"] == "digit"
    assert (run_dir / "files" / "model.txt").read_text() == "weights"
    assert (run_dir / "files" / "notes.txt").read_text() == "notes"
    # W&B's environment for the run.
    assert seen["env"]["WANDB_SWEEP_ID"] == sweep_id and seen["env"]["WANDB_RUN_ID"] == run["id"]
    assert seen["env"]["WANDB_DIR"] == str(tmp_path)
    param_file = tmp_path / "wandb" / f"sweep-{sweep_id}" / f"config-{run['id']}.yaml"
    assert seen["env"]["WANDB_SWEEP_PARAM_PATH"] == str(param_file)
    assert "lr:\n  value: 0.5" in param_file.read_text()
    # What does nothing says so, once, in the run's output.
    output = (run_dir / "output.log").read_text()
    assert output.count("wandb.watch()") == 1 and "wandb.Run.log_code is not supported" in output
    assert "finished without" not in agent_err

    best = _sweepkit(["best", sweep_id], env, tmp_path)
    assert best.returncode == 0, best.stderr
    assert (
        f"val_loss = {min(val_losses):.6g} (the value it is ranked by: the best of its 4 logged values"
        in best.stdout
    )


def test_an_unchanged_wandb_script_reports_to_sweepkit_without_the_real_package(tmp_path):
    # An interpreter that has no wandb at all (nor sweepkit: the stand-in finds its own copy).
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    bare_python = str(venv / "bin" / "python")
    probe = subprocess.run(
        [bare_python, "-c", "import importlib.util as u; print(u.find_spec('wandb') is None)"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        check=True,
    )
    assert probe.stdout.strip() == "True"
    sweep_id, env, err = _run_sweep(tmp_path, WANDB_SCRIPT, WANDB_SWEEP, SWEEPKIT_INTERPRETER=bare_python)
    _check_wandb_script_run(tmp_path, sweep_id, env, err)


def test_an_unchanged_wandb_script_gets_the_stand_in_even_with_the_real_package_installed(tmp_path):
    real = importlib.util.find_spec("wandb")
    assert real is not None, "the real wandb package is a test dependency (pyproject's test extra)"
    assert "wandb_standin" not in str(real.origin)
    sweep_id, env, err = _run_sweep(tmp_path, WANDB_SCRIPT, WANDB_SWEEP)
    _check_wandb_script_run(tmp_path, sweep_id, env, err)


ARGPARSE_SCRIPT = """
import argparse, json, os, pathlib
import wandb

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--optimizer", default="sgd")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("model.pt"))
args = parser.parse_args()
wandb.init(project="p")
wandb.config.update(args)
wandb.config.update({"lr": 99.0})  # a swept key: the sweep's value stays
for epoch in range(wandb.config.epochs):
    wandb.log({"loss": wandb.config.lr * (wandb.config.epochs - epoch)})
with open(os.environ["OUT"], "w") as fh:
    json.dump(dict(wandb.config), fh)
"""


def test_an_argparse_script_updates_its_config_from_the_namespace(tmp_path):
    config = {
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"lr": {"values": [0.2]}, "optimizer": {"values": ["adam"]}},
    }
    sweep_id, env, _err = _run_sweep(tmp_path, ARGPARSE_SCRIPT, config)
    expected = {"lr": 0.2, "optimizer": "adam", "epochs": 3, "out": "model.pt"}
    assert json.loads((tmp_path / "seen.json").read_text()) == expected
    (run,) = open_local(env["SWEEPKIT_DB"]).all_runs(sweep_id)
    assert run.state == RunState.FINISHED and run.config == expected
    assert (run.metric.count, run.metric.min) == (3, pytest.approx(0.2))
    log = (tmp_path / ".sweepkit" / "runs" / run.id / "output.log").read_text()
    # Same values from the command line: no warning; a different one: one warning, ignored.
    assert log.count("is set by the sweep") == 1 and "'lr'" in log


SILENT_SCRIPT = """
import json, os
with open(os.environ["OUT"], "w") as fh:
    json.dump({"pythonpath": os.environ.get("PYTHONPATH", "")}, fh)
"""


def test_the_stand_in_can_be_turned_off_and_a_silent_run_is_named(tmp_path):
    config = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"value": 1}}}
    _sweep_id, _env, err = _run_sweep(tmp_path, SILENT_SCRIPT, config, "--no-wandb-standin")
    assert "wandb_standin" not in json.loads((tmp_path / "seen.json").read_text())["pythonpath"]
    assert "finished without reporting any metric" in err and "the stand-in is off" in err
    (tmp_path / "seen.json").unlink()
    _sweep_id, _env, err = _run_sweep(tmp_path, SILENT_SCRIPT, config)
    assert str(STANDIN_DIR) in json.loads((tmp_path / "seen.json").read_text())["pythonpath"]

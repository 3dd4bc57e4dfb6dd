"""The frameworks' own W&B integrations, unchanged, under a real ``sweepkit agent``: each test runs a
tiny model built from a config (CPU, no download) through the framework's integration and checks
that metrics, config and summary reach the sweep, that nothing touched the network, and that the
run got sweepkit's stand-in although the real ``wandb`` is installed in the same environment.

The frameworks come with the ``integrations`` extra (``pip install -e '.[test,integrations]'``); a test
whose framework is missing is skipped. Select these tests with ``-m integrations``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

import sweepkit
from agent_programs import assert_no_network, history, run_output, run_sweep, stored_runs
from sweepkit.wandb_facade import WANDB_VERSION

pytestmark = [pytest.mark.integrations, pytest.mark.slow]

STANDIN_INIT = (Path(sweepkit.__file__).parent / "wandb_standin" / "wandb" / "__init__.py").resolve()

#: Appended to each script: what the run's own `import wandb` and package metadata saw.
REPORT_WANDB = """
import importlib.metadata, json, os, sys, wandb
with open(os.environ["OUT"], "w") as fh:
    json.dump({"file": wandb.__file__, "version": wandb.__version__,
               "metadata_version": importlib.metadata.version("wandb"),
               "labels": getattr(wandb.run, "_labels", None) if wandb.run is not None else None}, fh)
"""


def _seen(tmp_path: Path) -> dict:
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert Path(seen["file"]).resolve() == STANDIN_INIT
    assert seen["version"] == seen["metadata_version"] == WANDB_VERSION
    return seen


def _quiet_about_unsupported(tmp_path: Path, run_id: str) -> str:
    output = run_output(tmp_path, run_id)
    assert "is not supported by sweepkit" not in output, output
    assert "Traceback" not in output, output
    return output


# --- Hugging Face transformers: Trainer(report_to="wandb") ---------------------------------------------

TRAINER_SCRIPT = """
import argparse, time
import torch
from transformers import (BertConfig, BertForSequenceClassification, Trainer, TrainerCallback,
                          TrainingArguments)

parser = argparse.ArgumentParser()
parser.add_argument("--learning_rate", type=float, default=1e-3)
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--epoch_seconds", type=float, default=0.0)  # a longer training, for hyperband
args = parser.parse_args()

torch.manual_seed(0)
config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                    intermediate_size=32, max_position_embeddings=16, num_labels=2)
model = BertForSequenceClassification(config)


class RandomTokens(torch.utils.data.Dataset):
    def __init__(self, n, seed):
        generator = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(1, 50, (n, 8), generator=generator)
        self.labels = (self.ids[:, 0] > 25).long()

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


class SlowEpochs(TrainerCallback):
    def on_epoch_end(self, args_, state, control, **kwargs):
        time.sleep(args.epoch_seconds)


training = TrainingArguments(output_dir="out", report_to="wandb", learning_rate=args.learning_rate,
                             num_train_epochs=args.epochs, per_device_train_batch_size=16,
                             eval_strategy="epoch", logging_steps=2, save_strategy="no", use_cpu=True,
                             disable_tqdm=True)
trainer = Trainer(model=model, args=training, train_dataset=RandomTokens(64, 1),
                  eval_dataset=RandomTokens(32, 2), callbacks=[SlowEpochs()])
trainer.train()
"""


def test_a_transformers_trainer_reports_to_the_sweep_through_its_wandb_callback(tmp_path):
    pytest.importorskip("transformers")
    real = importlib.util.find_spec("wandb")
    assert real is not None and "wandb_standin" not in str(real.origin)  # the real package is installed
    config = {
        "method": "grid",
        "metric": {"name": "eval/loss", "goal": "minimize"},
        "parameters": {"learning_rate": {"values": [0.01]}},
    }
    sweep_id, env, _err = run_sweep(
        tmp_path,
        TRAINER_SCRIPT + REPORT_WANDB,
        config,
        OUT=str(tmp_path / "seen.json"),
        WANDB_LOG_MODEL="end",
    )
    seen = _seen(tmp_path)
    assert seen["labels"] == {"code": "transformers_trainer"}  # run._label(...) was honoured
    assert_no_network(tmp_path)
    (run,) = stored_runs(sweep_id, env, tmp_path)
    assert run["state"] == "finished", run
    # The sweep's value, the TrainingArguments and the model's config, as W&B's config holds them.
    assert run["config"]["learning_rate"] == 0.01
    assert run["config"]["num_train_epochs"] == 3 and run["config"]["hidden_size"] == 16
    assert run["config"]["model/num_parameters"] > 0
    rows = history(env, run["id"])
    evals = [row for row in rows if "eval/loss" in row]
    assert len(evals) == 3 and [row["train/epoch"] for row in evals] == [1, 2, 3]
    assert all("train/global_step" in row for row in rows)  # define_metric(..., step_sync=True)
    assert any("train/loss" in row for row in rows)
    assert run["metric"]["value"] == pytest.approx(min(row["eval/loss"] for row in evals))
    # Single values go to the summary, as the callback sets them.
    assert run["summary"]["train_loss"] > 0 and run["summary"]["train_runtime"] > 0
    assert run["summary"]["eval/loss"] == pytest.approx(evals[-1]["eval/loss"])
    # WANDB_LOG_MODEL=end: the model's architecture, then the trained model, kept as artifact versions.
    versions = sorted((tmp_path / ".sweepkit" / "artifacts" / f"model-{run['id']}").iterdir())
    aliases = [json.loads((version / "manifest.json").read_text())["aliases"] for version in versions]
    assert aliases == [["base_model"], ["final_model"]]
    assert (versions[1] / "model.safetensors").stat().st_size > 0 and (versions[1] / "config.json").exists()
    _quiet_about_unsupported(tmp_path, run["id"])


def test_hyperband_over_a_trainer_script_kills_poor_runs_which_keep_their_history(tmp_path):
    pytest.importorskip("transformers")
    epochs = 4
    config = {
        "method": "grid",
        "metric": {"name": "eval/loss", "goal": "minimize"},
        # Two good learning rates first, so the poor one meets a threshold at its first band.
        "parameters": {
            "learning_rate": {"values": [0.02, 0.01, 1e-7]},
            "epochs": {"value": epochs},
            "epoch_seconds": {"value": 0.6},
        },
        "early_terminate": {"type": "hyperband", "min_iter": 1, "eta": 2},
    }
    sweep_id, env, _err = run_sweep(tmp_path, TRAINER_SCRIPT, config, SWEEPKIT_KILL_GRACE="5")
    runs = stored_runs(sweep_id, env, tmp_path)
    assert [run["state"] for run in runs] == ["finished", "finished", "killed"], runs
    poor = runs[2]
    assert poor["stop_reason"].startswith("hyperband: eval/loss ")
    evals = [row["eval/loss"] for row in history(env, poor["id"]) if "eval/loss" in row]
    # Its history is kept up to the kill: at least the band that condemned it, not the whole training.
    assert 1 <= len(evals) < epochs
    assert poor["metric"]["value"] == pytest.approx(min(evals))
    assert_no_network(tmp_path)


# --- Hugging Face Accelerate: Accelerator(log_with="wandb") ---------------------------------------------

ACCELERATE_SCRIPT = """
import argparse
import torch
from accelerate import Accelerator

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1)
args = parser.parse_args()

accelerator = Accelerator(log_with="wandb", cpu=True)
accelerator.init_trackers("accelerate-project", config={"lr": args.lr, "epochs": 3, "hidden": 8},
                          init_kwargs={"wandb": {"tags": ["tiny"]}})
torch.manual_seed(0)
x = torch.randn(64, 4)
y = x.sum(1, keepdim=True)
model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)
model, optimizer, data = accelerator.prepare(model, optimizer, data)
for epoch in range(3):
    for xb, yb in data:
        loss = torch.nn.functional.mse_loss(model(xb), yb)
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
    with torch.no_grad():
        val = torch.nn.functional.mse_loss(model(x), y).item()
    accelerator.log({"train_loss": loss.item(), "val_loss": val}, step=epoch)
tracker = accelerator.get_tracker("wandb")
tracker.log_table("predictions", columns=["x0", "pred"], data=[[float(x[i, 0]), float(model(x[i:i+1]))] for i in range(3)], step=3)
accelerator.end_training()
"""


def test_accelerate_log_with_wandb_reports_to_the_sweep(tmp_path):
    pytest.importorskip("accelerate")
    config = {
        "method": "grid",
        "metric": {"name": "val_loss", "goal": "minimize"},
        "parameters": {"lr": {"values": [0.05]}},
    }
    sweep_id, env, _err = run_sweep(tmp_path, ACCELERATE_SCRIPT, config)
    assert_no_network(tmp_path)
    (run,) = stored_runs(sweep_id, env, tmp_path)
    assert run["state"] == "finished", run
    assert run["config"] == {"lr": 0.05, "epochs": 3, "hidden": 8}
    rows = history(env, run["id"])
    vals = [row for row in rows if "val_loss" in row]
    assert [row["_step"] for row in vals] == [0, 1, 2]
    assert run["metric"]["value"] == pytest.approx(min(row["val_loss"] for row in vals))
    (table_row,) = [row for row in rows if "predictions" in row]
    table = json.loads(
        (tmp_path / ".sweepkit" / "runs" / run["id"] / table_row["predictions"]["path"]).read_text()
    )
    assert table["columns"] == ["x0", "pred"] and len(table["data"]) == 3
    _quiet_about_unsupported(tmp_path, run["id"])


# --- Lightning: WandbLogger ----------------------------------------------------------------------------

LIGHTNING_SCRIPT = """
import argparse
import torch
import lightning as L
from lightning.pytorch.loggers import WandbLogger

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--log_model", default="false")
args = parser.parse_args()


class Tiny(L.LightningModule):
    def __init__(self, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Linear(4, 1)

    def training_step(self, batch, _):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, _):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


torch.manual_seed(0)
x = torch.randn(64, 4)
y = x.sum(1, keepdim=True)
data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)
logger = WandbLogger(project="lightning", log_model={"false": False, "true": True}[args.log_model])
logger.experiment.config["batch_size"] = 16
logger.experiment.config.update({"optimizer": "sgd"})
logger.log_hyperparams({"layers": 1})
model = Tiny(args.lr)
logger.watch(model, log="all", log_freq=1)
trainer = L.Trainer(max_epochs=3, logger=logger, accelerator="cpu", enable_progress_bar=False,
                    log_every_n_steps=1, enable_model_summary=False)
trainer.fit(model, data, data)
"""


def test_lightning_wandb_logger_reports_to_the_sweep_with_and_without_log_model(tmp_path):
    pytest.importorskip("lightning")
    config = {
        "method": "grid",
        "metric": {"name": "val_loss", "goal": "minimize"},
        "parameters": {"lr": {"values": [0.05]}, "log_model": {"values": ["false", "true"]}},
    }
    sweep_id, env, _err = run_sweep(
        tmp_path, LIGHTNING_SCRIPT + REPORT_WANDB, config, OUT=str(tmp_path / "seen.json")
    )
    _seen(tmp_path)
    assert_no_network(tmp_path)
    runs = stored_runs(sweep_id, env, tmp_path)
    assert [run["state"] for run in runs] == ["finished", "finished"], runs
    for run in runs:
        # The sweep's values, experiment.config and log_hyperparams (save_hyperparameters' lr agrees).
        assert run["config"] == {
            "lr": 0.05, "log_model": run["config"]["log_model"], "batch_size": 16, "optimizer": "sgd", "layers": 1
        }  # fmt: skip
        rows = history(env, run["id"])
        vals = [row for row in rows if "val_loss" in row]
        assert len(vals) == 3 and all("trainer/global_step" in row for row in rows)
        assert [row["epoch"] for row in vals] == [0, 1, 2]
        assert run["metric"]["value"] == pytest.approx(min(row["val_loss"] for row in vals))
        assert run["summary"]["val_loss"] == pytest.approx(vals[-1]["val_loss"])
        output = _quiet_about_unsupported(tmp_path, run["id"])
        assert output.count("wandb.watch()") == 1  # watch is accepted and says what it does
    artifacts = tmp_path / ".sweepkit" / "artifacts"
    assert not (artifacts / f"model-{runs[0]['id']}").exists()  # log_model=False keeps nothing
    (version,) = (artifacts / f"model-{runs[1]['id']}").iterdir()  # log_model=True: the checkpoint
    manifest = json.loads((version / "manifest.json").read_text())
    assert (version / "model.ckpt").stat().st_size > 0 and {"latest", "best"} <= set(manifest["aliases"])
    assert manifest["metadata"]["ModelCheckpoint"]["save_top_k"] == 1


# --- Keras 3 (torch backend): wandb.integration.keras ------------------------------------------------

KERAS_SCRIPT = """
import os
os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np
import keras
import wandb
from wandb.integration.keras import WandbMetricsLogger, WandbModelCheckpoint

run = wandb.init(config={"units": 8, "lr": 0.01, "epochs": 3})
keras.utils.set_random_seed(0)
x = np.random.rand(64, 4).astype("float32")
y = x.sum(axis=1, keepdims=True)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(run.config.units, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.Adam(run.config.lr), loss="mse", metrics=["mae"])
model.fit(x, y, validation_data=(x[:16], y[:16]), epochs=run.config.epochs, batch_size=16, verbose=0,
          callbacks=[WandbMetricsLogger(), WandbModelCheckpoint("model.keras", save_best_only=True)])
"""


def test_keras_callbacks_report_epoch_metrics_and_keep_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")  # Keras 3 on the CPU build of torch
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    config = {
        "method": "grid",
        "metric": {"name": "epoch/val_loss", "goal": "minimize"},
        "parameters": {"lr": {"values": [0.05]}},
    }
    sweep_id, env, _err = run_sweep(tmp_path, KERAS_SCRIPT, config, KERAS_BACKEND="torch")
    assert_no_network(tmp_path)
    (run,) = stored_runs(sweep_id, env, tmp_path)
    assert run["state"] == "finished", run
    assert run["config"] == {"units": 8, "lr": 0.05, "epochs": 3}
    rows = [row for row in history(env, run["id"]) if "epoch/val_loss" in row]
    assert [row["epoch/epoch"] for row in rows] == [0, 1, 2]
    assert all({"epoch/loss", "epoch/mae", "epoch/val_mae"} <= set(row) for row in rows)
    assert [row["epoch/learning_rate"] for row in rows] == pytest.approx([0.05] * 3)
    assert run["metric"]["value"] == pytest.approx(min(row["epoch/val_loss"] for row in rows))
    # Each model the checkpoint saved (save_best_only: the epochs that improved) is an artifact.
    improved = [
        i
        for i, row in enumerate(rows)
        if row["epoch/val_loss"] <= min(r["epoch/val_loss"] for r in rows[: i + 1])
    ]
    versions = sorted((tmp_path / ".sweepkit" / "artifacts" / f"run_{run['id']}_model").iterdir())
    aliases = [json.loads((version / "manifest.json").read_text())["aliases"] for version in versions]
    assert aliases == [["latest", f"epoch_{i}"] for i in improved]
    assert all((version / "model.keras").stat().st_size > 0 for version in versions)
    _quiet_about_unsupported(tmp_path, run["id"])


# --- XGBoost and LightGBM: wandb.integration.xgboost / .lightgbm -----------------------------------------

XGBOOST_SCRIPT = """
import numpy as np
import xgboost as xgb
import wandb
from wandb.integration.xgboost import WandbCallback

run = wandb.init(config={"max_depth": 3, "learning_rate": 0.3})
rng = np.random.default_rng(0)
x = rng.random((200, 5))
y = x[:, 0] * 3 + x[:, 1] + rng.normal(0, 0.1, 200)
model = xgb.XGBRegressor(n_estimators=8, max_depth=run.config.max_depth, learning_rate=run.config.learning_rate,
                         early_stopping_rounds=3, callbacks=[WandbCallback(log_model=True)])
model.fit(x[:150], y[:150], eval_set=[(x[150:], y[150:])], verbose=False)
"""


def test_xgboost_wandb_callback_reports_each_round(tmp_path):
    pytest.importorskip("xgboost")
    config = {
        "method": "grid",
        "metric": {"name": "validation_0-rmse", "goal": "minimize"},
        "parameters": {"learning_rate": {"values": [0.5]}},
    }
    sweep_id, env, _err = run_sweep(tmp_path, XGBOOST_SCRIPT, config)
    assert_no_network(tmp_path)
    (run,) = stored_runs(sweep_id, env, tmp_path)
    assert run["state"] == "finished", run
    assert run["config"]["learning_rate"] == 0.5 and run["config"]["max_depth"] == 3
    assert run["config"]["learner"]["gradient_booster"]["name"] == "gbtree"  # the booster's own config
    rows = history(env, run["id"])
    rounds = [row for row in rows if "validation_0-rmse" in row]
    assert [row["epoch"] for row in rounds] == list(range(len(rounds))) and 3 <= len(rounds) <= 8
    best = min(row["validation_0-rmse"] for row in rounds)
    assert run["summary"]["validation_0-rmse"] == {"min": pytest.approx(best)}  # define_metric(summary="min")
    assert run["metric"]["value"] == pytest.approx(best)
    (importance,) = [row["Feature Importance"] for row in rows if "Feature Importance" in row]
    assert importance["_type"] == "chart" and importance["fields"] == {
        "label": "Feature",
        "value": "Importance",
    }
    assert run["summary"]["best_score"] == pytest.approx(best, rel=1e-6)
    (version,) = (tmp_path / ".sweepkit" / "artifacts" / f"{run['id']}_model.json").iterdir()
    assert (version / f"{run['id']}_model.json").stat().st_size > 0
    _quiet_about_unsupported(tmp_path, run["id"])


LIGHTGBM_SCRIPT = """
import numpy as np
import lightgbm as lgb
import wandb
from wandb.integration.lightgbm import log_summary, wandb_callback

run = wandb.init()
rng = np.random.default_rng(0)
x = rng.random((200, 4))
y = x[:, 0] * 2 + rng.normal(0, 0.1, 200)
params = {"objective": "regression", "metric": "l2", "num_leaves": run.config.num_leaves, "verbose": -1}
train = lgb.Dataset(x[:150], y[:150])
valid = lgb.Dataset(x[150:], y[150:], reference=train)
booster = lgb.train(params, train, num_boost_round=6, valid_sets=[valid], valid_names=["validation"],
                    callbacks=[wandb_callback()])
log_summary(booster, save_model_checkpoint=True)
"""


def test_lightgbm_wandb_callback_reports_each_iteration(tmp_path):
    pytest.importorskip("lightgbm")
    config = {
        "method": "grid",
        "metric": {"name": "validation_l2", "goal": "minimize"},
        "parameters": {"num_leaves": {"values": [7]}},
    }
    sweep_id, env, _err = run_sweep(tmp_path, LIGHTGBM_SCRIPT, config)
    assert_no_network(tmp_path)
    (run,) = stored_runs(sweep_id, env, tmp_path)
    assert run["state"] == "finished", run
    assert run["config"]["num_leaves"] == 7 and run["config"]["objective"] == "regression"
    rows = [row for row in history(env, run["id"]) if "validation_l2" in row]
    assert [row["iteration"] for row in rows] == list(range(6))
    best = min(row["validation_l2"] for row in rows)
    assert run["summary"]["validation_l2"] == {"min": pytest.approx(best)}
    assert run["metric"]["value"] == pytest.approx(best)
    assert run["summary"]["best_iteration"] == 0  # no early stopping
    assert (tmp_path / ".sweepkit" / "artifacts" / f"model_{run['id']}" / "v1" / "model_ckpt_0.txt").exists()
    _quiet_about_unsupported(tmp_path, run["id"])


# --- Stable-Baselines3: wandb.integration.sb3 ---------------------------------------------------------

SB3_SCRIPT = """
import gymnasium as gym
from stable_baselines3 import PPO
import wandb
from wandb.integration.sb3 import WandbCallback

run = wandb.init(config={"policy_type": "MlpPolicy", "total_timesteps": 256}, sync_tensorboard=True)
model = PPO(run.config.policy_type, gym.make("CartPole-v1"), n_steps=64, batch_size=32, n_epochs=1,
            learning_rate=run.config.learning_rate, seed=0, device="cpu", verbose=0)
model.learn(total_timesteps=run.config.total_timesteps,
            callback=WandbCallback(model_save_path=f"models/{run.id}", gradient_save_freq=10))
"""


def test_stable_baselines3_callback_keeps_settings_model_and_sb3s_logged_values(tmp_path):
    pytest.importorskip("stable_baselines3")
    config = {
        "method": "grid",
        "metric": {"name": "rollout/ep_rew_mean", "goal": "maximize"},
        "parameters": {"learning_rate": {"values": [0.001]}},
    }
    sweep_id, env, _err = run_sweep(tmp_path, SB3_SCRIPT, config)
    assert_no_network(tmp_path)
    (run,) = stored_runs(sweep_id, env, tmp_path)
    assert run["state"] == "finished", run
    # The script's and the sweep's values stay; the algorithm's settings are added.
    assert run["config"]["learning_rate"] == 0.001 and run["config"]["algo"] == "PPO"
    assert run["config"]["n_steps"] == 64 and run["config"]["gamma"] == 0.99
    rows = [row for row in history(env, run["id"]) if "rollout/ep_rew_mean" in row]
    assert len(rows) == 4 and [row["global_step"] for row in rows] == [64, 128, 192, 256]
    assert run["metric"]["value"] == pytest.approx(max(row["rollout/ep_rew_mean"] for row in rows))
    assert (tmp_path / ".sweepkit" / "runs" / run["id"] / "files" / "model.zip").stat().st_size > 0
    output = run_output(tmp_path, run["id"])
    assert "sync_tensorboard" in output and output.count("wandb.watch()") == 1


# --- scikit-learn: wandb.sklearn ---------------------------------------------------------------------

SKLEARN_SCRIPT = """
import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
import wandb

run = wandb.init()
x, y = make_classification(n_samples=120, n_features=5, random_state=0)
model = RandomForestClassifier(n_estimators=run.config.n_estimators, random_state=0).fit(x[:80], y[:80])
wandb.log({"accuracy": model.score(x[80:], y[80:])})
wandb.sklearn.plot_classifier(model, x[:80], x[80:], y[:80], y[80:], model.predict(x[80:]),
                              model.predict_proba(x[80:]), ["no", "yes"], model_name="forest",
                              feature_names=list("abcde"))
"""


def test_sklearn_charts_are_logged_as_tables(tmp_path):
    pytest.importorskip("sklearn")
    config = {
        "method": "grid",
        "metric": {"name": "accuracy", "goal": "maximize"},
        "parameters": {"n_estimators": {"values": [5]}},
    }
    sweep_id, env, _err = run_sweep(tmp_path, SKLEARN_SCRIPT, config)
    (run,) = stored_runs(sweep_id, env, tmp_path)
    assert run["state"] == "finished", run
    rows = history(env, run["id"])
    charts = {key: value for row in rows for key, value in row.items() if isinstance(value, dict)}
    assert set(charts) == {
        "feature_importances", "confusion_matrix", "summary_metrics", "class_proportions",
        "calibration_curve", "roc", "precision_recall",
    }  # fmt: skip
    run_dir = tmp_path / ".sweepkit" / "runs" / run["id"]
    importances = json.loads((run_dir / charts["feature_importances"]["table"]["path"]).read_text())
    assert sorted(name for name, _ in importances["data"]) == list("abcde")
    matrix = json.loads((run_dir / charts["confusion_matrix"]["table"]["path"]).read_text())
    assert sum(row[-1] for row in matrix["data"]) == 40 and {row[0] for row in matrix["data"]} <= {
        "no",
        "yes",
    }
    _quiet_about_unsupported(tmp_path, run["id"])

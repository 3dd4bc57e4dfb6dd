"""``wandb.integration.lightgbm`` in sweepkit's stand-in: W&B's LightGBM callback, written for sweepkit.

``wandb_callback()`` logs the training parameters as the run's config and each iteration's
evaluation results (``<data>_<metric>``, e.g. ``validation_l2``; ``-mean``/``-stdv`` with
``lightgbm.cv``) with ``iteration``, and makes the summary of each known metric its best value.
``log_summary(booster)`` afterwards puts ``best_iteration`` and ``best_score`` in the summary, logs a
feature-importance bar chart and, with ``save_model_checkpoint=True``, the best model as an artifact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm

import wandb

MINIMIZE_METRICS = ("l1", "l2", "rmse", "mape", "huber", "fair", "poisson", "gamma", "binary_logloss")
MAXIMIZE_METRICS = ("map", "auc", "average_precision")


def _define(key: str, metric: str) -> None:
    name = metric.lower()
    if "loss" in name or name in MINIMIZE_METRICS:
        wandb.define_metric(key, summary="min")
    elif name in MAXIMIZE_METRICS:
        wandb.define_metric(key, summary="max")


def _results(item: tuple) -> list[tuple[str, str, Any]]:
    """One evaluation result of LightGBM's callback env: (W&B's key, metric name, value) each."""
    if len(item) == 4:  # (data, metric, value, higher is better)
        data, metric, value = item[:3]
        return [(f"{data}_{metric}", metric, value)]
    data, metric = item[1].split()  # lightgbm.cv: ("cv_agg", "valid l2", mean, higher is better, stdv)
    return [
        (f"{data}_{metric}-mean", f"{metric}-mean", item[2]),
        (f"{data}_{metric}-stdv", f"{metric}-stdv", item[4]),
    ]


class _WandbCallback:
    """The callable ``wandb_callback()`` returns (LightGBM calls it after each iteration)."""

    def __init__(self, log_params: bool = True, define_metric: bool = True) -> None:
        self.order = 20
        self.before_iteration = False
        self.log_params = log_params
        self.define_metric = define_metric

    def __call__(self, env: Any) -> None:
        results = [found for item in env.evaluation_result_list for found in _results(item)]
        if env.iteration == env.begin_iteration:
            if self.log_params:
                wandb.config.update(env.params)
            if self.define_metric:
                for key, metric, _value in results:
                    _define(key, metric)
        wandb.log({**{key: value for key, _metric, value in results}, "iteration": env.iteration})


def wandb_callback(log_params: bool = True, define_metric: bool = True) -> _WandbCallback:
    """See the module docstring."""
    return _WandbCallback(log_params, define_metric)


def log_summary(model: Any, feature_importance: bool = True, save_model_checkpoint: bool = False) -> None:
    """See the module docstring."""
    if wandb.run is None:
        raise wandb.Error("You must call wandb.init() before WandbCallback()")
    if not isinstance(model, lightgbm.Booster):
        raise wandb.Error("Model should be an instance of lightgbm.basic.Booster")
    wandb.run.summary["best_iteration"] = model.best_iteration
    wandb.run.summary["best_score"] = {name: dict(scores) for name, scores in model.best_score.items()}
    if feature_importance:
        pairs = [
            [name, value]
            for name, value in zip(model.feature_name(), model.feature_importance(), strict=True)
        ]
        table = wandb.Table(columns=["Feature", "Importance"], data=pairs)
        wandb.log(
            {"Feature Importance": wandb.plot.bar(table, "Feature", "Importance", title="Feature Importance")}
        )
    if save_model_checkpoint:
        path = Path(wandb.run.dir) / f"model_ckpt_{model.best_iteration}.txt"
        model.save_model(str(path), num_iteration=model.best_iteration)
        artifact = wandb.Artifact(name=f"model_{wandb.run.id}", type="model")
        artifact.add_file(str(path))
        wandb.log_artifact(artifact, aliases=["best"])


__all__ = ["log_summary", "wandb_callback"]

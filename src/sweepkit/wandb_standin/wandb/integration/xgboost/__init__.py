"""``wandb.integration.xgboost`` in sweepkit's stand-in: W&B's XGBoost callbacks, written for sweepkit.

``WandbCallback`` (a ``TrainingCallback``) logs the booster's configuration as the run's config, each
round's evaluation results (``<data>-<metric>``, e.g. ``validation_0-rmse``) with ``epoch``, makes the
summary of each known metric its best value (``define_metric``), and after training logs
``best_score``/``best_iteration`` (early stopping), a feature-importance bar chart and, with
``log_model=True``, the model as an artifact. ``wandb_callback()`` is W&B's older function callback.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import xgboost

import wandb

#: Metric names whose best value is the lowest / the highest (W&B's lists, and names holding "loss").
MINIMIZE_METRICS = ("rmse", "rmsle", "mae", "mape", "mphe", "logloss", "error", "error@t", "merror")
MAXIMIZE_METRICS = ("auc", "aucpr", "ndcg", "map", "ndcg@n", "map@n")


def _summary_of(metric: str) -> str | None:
    name = metric.lower()
    if "loss" in name or name in MINIMIZE_METRICS:
        return "min"
    if name in MAXIMIZE_METRICS:
        return "max"
    return None


class WandbCallback(xgboost.callback.TrainingCallback):
    """See the module docstring."""

    def __init__(
        self,
        log_model: bool = False,
        log_feature_importance: bool = True,
        importance_type: str = "gain",
        define_metric: bool = True,
    ) -> None:
        super().__init__()
        if wandb.run is None:
            raise wandb.Error("You must call wandb.init() before WandbCallback()")
        self.log_model = log_model
        self.log_feature_importance = log_feature_importance
        self.importance_type = importance_type
        self.define_metric = define_metric

    def before_training(self, model: Any) -> Any:
        wandb.config.update(json.loads(model.save_config()))
        return model

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, dict[str, list]]) -> bool:
        row = {}
        for data, metrics in evals_log.items():
            for metric, values in metrics.items():
                key = f"{data}-{metric}"
                if self.define_metric and (summary := _summary_of(metric)):
                    wandb.define_metric(key, summary=summary)
                last = values[-1]
                row[key] = last[0] if isinstance(last, tuple) else last  # (mean, std) with xgb.cv
        self.define_metric = False
        wandb.log({**row, "epoch": epoch})
        return False

    def after_training(self, model: Any) -> Any:
        if self.log_model:
            path = Path(wandb.run.dir) / f"{wandb.run.id}_model.json"
            model.save_model(str(path))
            artifact = wandb.Artifact(name=path.name, type="model")
            artifact.add_file(str(path))
            wandb.log_artifact(artifact)
        if self.log_feature_importance:
            importance = model.get_score(importance_type=self.importance_type)
            table = wandb.Table(
                columns=["Feature", "Importance"], data=[[k, v] for k, v in importance.items()]
            )
            chart = wandb.plot.bar(table, "Feature", "Importance", title="Feature Importance")
            wandb.log({"Feature Importance": chart})
        if model.attr("best_score") is not None:
            wandb.log(
                {
                    "best_score": float(model.attr("best_score")),
                    "best_iteration": int(model.attr("best_iteration")),
                }
            )
        return model


def wandb_callback():
    """W&B's older callback for ``xgboost.train(callbacks=[...])``: each round's evaluation results."""
    warnings.warn(
        "wandb_callback will be deprecated in favor of WandbCallback. Please use WandbCallback for more features.",
        UserWarning,
        stacklevel=2,
    )
    return _OldCallback()


class _OldCallback(xgboost.callback.TrainingCallback):
    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, dict[str, list]]) -> bool:
        row = {}
        for data, metrics in evals_log.items():
            for metric, values in metrics.items():
                last = values[-1]
                row[f"{data}-{metric}"] = last[0] if isinstance(last, tuple) else last
        wandb.log(row)
        return False


__all__ = ["WandbCallback", "wandb_callback"]

"""The Keras callbacks of ``wandb.integration.keras`` (see that package's docstring)."""

from __future__ import annotations

import abc
import os
from typing import Any

import wandb

try:  # Keras 3 (any backend), or Keras 2 installed as `keras`
    import keras
except ImportError:  # pragma: no cover - only TensorFlow's bundled Keras
    from tensorflow import keras  # type: ignore[no-redef]


def _need_run(what: str) -> Any:
    if wandb.run is None:
        raise wandb.Error(f"You must call wandb.init() before {what}()")
    return wandb.run


def _number(value: Any) -> float | None:
    """A learning rate (a float, a backend tensor or variable) as a float, or None."""
    for convert in (float, lambda v: float(v.numpy()), lambda v: float(keras.ops.convert_to_numpy(v))):
        try:
            return convert(value)
        except Exception:  # noqa: BLE001 - try the next way
            continue
    return None


def _learning_rate(model: Any, step: int) -> float | None:
    optimizer = getattr(model, "optimizer", None)
    rate = getattr(optimizer, "learning_rate", None)
    if rate is None:
        return None
    found = _number(rate)
    if found is None and callable(rate):  # a schedule object (tf.keras)
        try:
            found = _number(rate(step))
        except Exception:  # noqa: BLE001 - no learning rate logged
            found = None
    return found


class WandbMetricsLogger(keras.callbacks.Callback):
    """Logs ``fit()``'s metrics and the learning rate each epoch, or every ``log_freq`` batches."""

    def __init__(
        self, log_freq: str | int = "epoch", initial_global_step: int = 0, *args: Any, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        _need_run("WandbMetricsLogger")
        if log_freq == "batch":
            log_freq = 1
        self.logging_batch_wise = isinstance(log_freq, int) and not isinstance(log_freq, bool)
        self.log_freq = log_freq if self.logging_batch_wise else None
        self.global_batch = 0
        self.global_step = initial_global_step
        if self.logging_batch_wise:
            wandb.define_metric("batch/batch_step")
            wandb.define_metric("batch/*", step_metric="batch/batch_step")
        else:
            wandb.define_metric("epoch/epoch")
            wandb.define_metric("epoch/*", step_metric="epoch/epoch")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        row = {f"epoch/{key}": value for key, value in (logs or {}).items()}
        row["epoch/epoch"] = epoch
        rate = _learning_rate(self.model, self.global_step)
        if rate is not None:
            row["epoch/learning_rate"] = rate
        wandb.log(row)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.global_step += 1
        if self.logging_batch_wise and batch % self.log_freq == 0:
            row = {f"batch/{key}": value for key, value in (logs or {}).items()}
            row["batch/batch_step"] = self.global_batch
            rate = _learning_rate(self.model, self.global_step)
            if rate is not None:
                row["batch/learning_rate"] = rate
            wandb.log(row)
            self.global_batch += self.log_freq


class WandbModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """Keras' ``ModelCheckpoint``; each model it saves is also kept as an artifact of the run."""

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            filepath=filepath,
            monitor=monitor,
            verbose=verbose,
            save_best_only=save_best_only,
            save_weights_only=save_weights_only,
            mode=mode,
            save_freq=save_freq,
            initial_value_threshold=initial_value_threshold,
            **kwargs,
        )
        _need_run("WandbModelCheckpoint")
        self._logged: dict[str, float] = {}  # file -> modification time when it was kept

    def _save_model(self, epoch: int, batch: int | None, logs: dict[str, Any] | None) -> None:
        super()._save_model(epoch=epoch, batch=batch, logs=logs)
        path = self._get_file_path(epoch, batch, logs or {})
        if not os.path.exists(path):
            return  # save_best_only and not better: nothing was saved
        stamp = os.path.getmtime(path)
        if self._logged.get(path) == stamp:
            return  # the same file as before (not saved again)
        self._logged[path] = stamp
        aliases = ["latest", f"epoch_{epoch}" if batch is None else f"epoch_{epoch}_batch_{batch}"]
        artifact = wandb.Artifact(f"run_{wandb.run.id}_model", type="model")
        if os.path.isdir(path):
            artifact.add_dir(path)
        else:
            artifact.add_file(path)
        wandb.log_artifact(artifact, aliases=aliases)


class WandbEvalCallback(keras.callbacks.Callback, abc.ABC):
    """Base class for prediction tables: fill ``data_table`` in ``add_ground_truth`` (once, at the
    start of training) and ``pred_table`` in ``add_model_predictions`` (each epoch); both are kept as
    artifacts of the run."""

    def __init__(
        self, data_table_columns: list[str], pred_table_columns: list[str], *args: Any, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        _need_run("WandbEvalCallback")
        self.data_table_columns = data_table_columns
        self.pred_table_columns = pred_table_columns

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.init_data_table(column_names=self.data_table_columns)
        self.add_ground_truth(logs)
        self.log_data_table()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.init_pred_table(column_names=self.pred_table_columns)
        self.add_model_predictions(epoch, logs)
        self.log_pred_table()

    @abc.abstractmethod
    def add_ground_truth(self, logs: dict[str, Any] | None = None) -> None:
        """Add the validation data to ``self.data_table`` (``self.data_table.add_data(...)``)."""

    @abc.abstractmethod
    def add_model_predictions(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Add this epoch's predictions to ``self.pred_table``."""

    def init_data_table(self, column_names: list[str]) -> None:
        self.data_table = wandb.Table(columns=column_names)

    def init_pred_table(self, column_names: list[str]) -> None:
        self.pred_table = wandb.Table(columns=column_names)

    def log_data_table(self, name: str = "val", type: str = "dataset", table_name: str = "val_data") -> None:
        artifact = wandb.Artifact(name, type=type)
        artifact.add(self.data_table, table_name)
        wandb.log_artifact(artifact)
        self.data_table_ref = self.data_table

    def log_pred_table(
        self, type: str = "evaluation", table_name: str = "eval_data", aliases: list[str] | None = None
    ) -> None:
        artifact = wandb.Artifact(f"run_{wandb.run.id}_pred", type=type)
        artifact.add(self.pred_table, table_name)
        wandb.log_artifact(artifact, aliases=aliases or ["latest"])


class WandbCallback(keras.callbacks.Callback):
    """W&B's older all-in-one Keras callback: each epoch's metrics (with ``epoch``); the best value of
    ``monitor`` and its epoch in the summary (``best_<monitor>``, ``best_epoch``); with ``save_model``,
    the best model saved as ``model-best.keras`` in ``run.dir``. What it would send W&B beyond that
    (weights, gradients, sample predictions, the graph) is noted once and not recorded."""

    _UNRECORDED = (
        "log_weights",
        "log_gradients",
        "training_data",
        "generator",
        "log_evaluation",
        "compute_flops",
    )

    def __init__(
        self,
        monitor: str = "val_loss",
        verbose: int = 0,
        mode: str = "auto",
        save_weights_only: bool = False,
        save_model: bool = True,
        log_batch_frequency: int | None = None,
        log_best_prefix: str = "best_",
        **kwargs: Any,
    ) -> None:
        super().__init__()
        _need_run("WandbCallback")
        asked = [name for name in self._UNRECORDED if kwargs.get(name)]
        if asked:
            wandb.termwarn(f"WandbCallback({', '.join(asked)}): not recorded by sweepkit; metrics are")
        self.monitor = monitor
        self.verbose = verbose
        self.save_weights_only = save_weights_only
        self.save_model = save_model
        self.log_batch_frequency = log_batch_frequency
        self.log_best_prefix = log_best_prefix
        if mode not in ("auto", "min", "max"):
            mode = "auto"
        self.maximize = mode == "max" or (
            mode == "auto" and ("acc" in monitor or monitor.startswith("fmeasure"))
        )
        self.best: float | None = None

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.log_batch_frequency and batch % self.log_batch_frequency == 0:
            wandb.log(dict(logs or {}))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = dict(logs or {})
        wandb.log({"epoch": epoch, **logs})
        current = _number(logs.get(self.monitor)) if self.monitor in logs else None
        if current is None:
            return
        if self.best is None or (current > self.best if self.maximize else current < self.best):
            self.best = current
            wandb.run.summary.update(
                {f"{self.log_best_prefix}{self.monitor}": current, f"{self.log_best_prefix}epoch": epoch}
            )
            if self.save_model:
                self._save_best()

    def _save_best(self) -> None:
        name = "model-best.weights.h5" if self.save_weights_only else "model-best.keras"
        path = os.path.join(wandb.run.dir, name)
        try:
            if self.save_weights_only:
                self.model.save_weights(path, overwrite=True)
            else:
                self.model.save(path, overwrite=True)
        except Exception as exc:  # noqa: BLE001 - W&B's callback warns and trains on
            wandb.termwarn(f"WandbCallback could not save the best model to {path}: {exc}")

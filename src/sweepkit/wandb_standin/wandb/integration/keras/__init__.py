"""``wandb.integration.keras`` in sweepkit's stand-in: W&B's Keras callbacks, written for sweepkit.

``WandbMetricsLogger`` logs what ``fit()`` reports each epoch (``epoch/<name>``, ``epoch/epoch``,
``epoch/learning_rate``) or every N batches (``batch/...``), as W&B's does; ``WandbModelCheckpoint``
is Keras' ``ModelCheckpoint`` that also keeps each saved model as an artifact
(``run_<run id>_model``, aliases ``latest`` and ``epoch_<n>``); ``WandbEvalCallback`` is the base
class for prediction tables; ``WandbCallback`` is W&B's older all-in-one callback (epoch metrics,
the best value of ``monitor`` in the summary, the best model in ``run.dir``). They work with Keras 3
on any backend, and with ``tf.keras``.
"""

from wandb.integration.keras.callbacks import (
    WandbCallback,
    WandbEvalCallback,
    WandbMetricsLogger,
    WandbModelCheckpoint,
)

__all__ = ["WandbCallback", "WandbEvalCallback", "WandbMetricsLogger", "WandbModelCheckpoint"]

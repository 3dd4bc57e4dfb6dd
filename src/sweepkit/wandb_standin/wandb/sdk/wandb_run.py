"""``wandb.sdk.wandb_run`` in sweepkit's stand-in: ``Run`` is sweepkit's run class."""

from sweepkit.tracking.run import Run
from sweepkit.wandb_facade import NAMES as _NAMES

finish = _NAMES["finish"]

__all__ = ["Run", "finish"]

"""``wandb.plot`` in sweepkit's stand-in: the charts of ``sweepkit.tracking.plot``."""

from sweepkit.tracking.plot import (  # noqa: F401
    bar,
    confusion_matrix,
    histogram,
    line,
    line_series,
    pr_curve,
    roc_curve,
    scatter,
)

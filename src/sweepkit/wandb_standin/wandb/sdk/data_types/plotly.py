"""``wandb.sdk.data_types.plotly`` in sweepkit's stand-in: ``Plotly``."""

from sweepkit.tracking.media import Plotly

__all__ = ["Plotly"]

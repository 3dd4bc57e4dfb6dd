"""``wandb.sdk.lib`` in sweepkit's stand-in: ``RunDisabled`` and ``SummaryDisabled`` (the types W&B
used for ``mode="disabled"`` runs; sweepkit's runs are never of them, as in current W&B)."""

from wandb.sdk.lib.disabled import RunDisabled, SummaryDisabled

__all__ = ["RunDisabled", "SummaryDisabled"]

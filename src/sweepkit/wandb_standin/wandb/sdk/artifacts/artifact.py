"""``wandb.sdk.artifacts.artifact`` in sweepkit's stand-in: ``Artifact`` (kept under ``.sweepkit``)."""

from sweepkit.tracking.files import Artifact

__all__ = ["Artifact"]

"""``wandb.sdk.data_types.object_3d`` in sweepkit's stand-in: ``Object3D``."""

from sweepkit.tracking.media import Object3D

__all__ = ["Object3D"]

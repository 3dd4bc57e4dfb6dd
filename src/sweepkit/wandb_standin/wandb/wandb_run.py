"""``wandb.wandb_run`` in sweepkit's stand-in: ``Run`` is sweepkit's run, so ``isinstance`` checks
(Lightning's ``WandbLogger``) hold for what ``wandb.init()`` returns."""

from sweepkit.tracking.run import Run

__all__ = ["Run"]

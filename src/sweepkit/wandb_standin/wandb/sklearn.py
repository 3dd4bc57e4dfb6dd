"""``wandb.sklearn`` in sweepkit's stand-in: the charts of ``wandb.integration.sklearn``."""

from wandb.integration.sklearn import *  # noqa: F403
from wandb.integration.sklearn import __all__  # noqa: F401

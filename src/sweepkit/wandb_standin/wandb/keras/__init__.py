"""``wandb.keras`` in sweepkit's stand-in: older scripts' name for ``wandb.integration.keras``."""

from wandb.integration.keras import *  # noqa: F403
from wandb.integration.keras import __all__  # noqa: F401

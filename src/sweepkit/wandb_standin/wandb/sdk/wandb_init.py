"""``wandb.sdk.wandb_init`` in sweepkit's stand-in: ``init`` and ``_attach``."""

from sweepkit.wandb_facade import NAMES as _NAMES

init = _NAMES["init"]
_attach = _NAMES["_attach"]

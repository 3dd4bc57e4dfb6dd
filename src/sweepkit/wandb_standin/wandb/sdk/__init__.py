"""``wandb.sdk`` in sweepkit's stand-in: the module paths integrations import names from
(``wandb.sdk.lib``, ``wandb.sdk.wandb_run``, ``wandb.sdk.data_types``, ...), all sweepkit's."""

from sweepkit.wandb_facade import NAMES as _NAMES
from wandb.sdk import lib  # noqa: F401 - `wandb.sdk.lib.X` works after `import wandb.sdk`, as in W&B

#: The names W&B's ``wandb.sdk`` has at its top, the same objects as ``wandb``'s.
_TOP = (
    "AlertLevel",
    "Artifact",
    "Config",
    "Settings",
    "Summary",
    "init",
    "finish",
    "login",
    "require",
    "setup",
    "sweep",
    "teardown",
    "_attach",
)
globals().update({name: _NAMES[name] for name in _TOP})

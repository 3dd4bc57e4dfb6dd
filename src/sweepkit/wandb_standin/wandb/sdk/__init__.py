"""``wandb.sdk`` in sweepkit's stand-in: the module paths integrations import names from
(``wandb.sdk.lib``, ``wandb.sdk.wandb_run``, ``wandb.sdk.data_types``, ...), all sweepkit's."""

from sweepkit.wandb_facade import NAMES as _NAMES
from wandb.sdk import lib  # noqa: F401 - `wandb.sdk.lib.X` works after `import wandb.sdk`, as in W&B

AlertLevel = _NAMES["AlertLevel"]
Artifact = _NAMES["Artifact"]
Config = _NAMES["Config"]
Settings = _NAMES["Settings"]
Summary = _NAMES["Summary"]
init = _NAMES["init"]
finish = _NAMES["finish"]
login = _NAMES["login"]
require = _NAMES["require"]
setup = _NAMES["setup"]
sweep = _NAMES["sweep"]
teardown = _NAMES["teardown"]
_attach = _NAMES["_attach"]

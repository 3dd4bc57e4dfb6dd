"""sweepkit's stand-in for the ``wandb`` package: an unchanged W&B training script reports to sweepkit.

A sweepkit agent puts the folder holding this package first on a program run's ``PYTHONPATH``, so
``import wandb`` finds it whether or not the real package is installed: no account, no key, no
prompt, no network. Every name comes from ``sweepkit.wandb_facade`` (see
docs/from-wandb.md); a name W&B has and sweepkit does not is noted once and does nothing.
"""

import sys as _sys
from pathlib import Path as _Path

try:
    import sweepkit as _sweepkit
except ImportError:  # the program's interpreter does not have sweepkit installed: use this copy's
    _sys.path.append(str(_Path(__file__).resolve().parents[3]))
    import sweepkit as _sweepkit

from sweepkit import wandb_facade as _module

__version__ = _module.WANDB_VERSION
#: Lets a script or a test tell the stand-in from the real package.
__sweepkit__ = _sweepkit.__version__

_globals = globals()
_globals.update(_module.NAMES)
__all__ = sorted(name for name in _module.NAMES if not name.startswith("_")) + ["run", "summary"]

#: The stand-in's submodules: ``wandb.util``, ``wandb.sdk``, ... are imported on first use.
_SUBMODULES = frozenset(
    {"apis", "data_types", "env", "errors", "integration", "keras", "sdk", "sklearn", "util", "wandb_run"}
)


def __getattr__(name):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name.startswith("_"):
        raise AttributeError(f"module 'wandb' has no attribute {name!r}")
    return _module.name_of(name)

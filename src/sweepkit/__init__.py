"""sweepkit: run W&B sweep configs on your own machines, with no account and no network.

The top-level names mirror W&B's (``sweep``, ``agent``, ``init``, ``log``, ``config``, ``finish``,
``Api``, and ``define_metric``, ``Table``, ``Image``, ... from the W&B facade, ``sweepkit.wandb_facade``),
so existing code changes only its import. Everything is imported on first use, which
keeps ``import sweepkit`` (and so every run's start-up) light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sweepkit.version import __version__ as __version__

__all__ = ["Api", "agent", "config", "finish", "init", "log", "run", "summary", "sweep"]

#: The rest of W&B's module API, from ``sweepkit.wandb_facade`` (named here so that looking up a
#: submodule such as ``sweepkit.env`` never imports it).
WANDB_NAMES = frozenset(
    {
        "define_metric", "save", "log_artifact", "use_artifact", "watch", "unwatch", "alert",
        "AlertLevel", "login", "Settings", "setup", "teardown", "termlog", "termwarn", "termerror",
        "Artifact", "Table", "Image", "Histogram", "Audio", "Video", "Html", "Object3D", "Plotly",
        "plot", "plot_table", "Error", "Run", "Config", "Summary", "require", "mark_preempting",
        "_attach",
    }
)  # fmt: skip

if TYPE_CHECKING:  # pragma: no cover
    from sweepkit.api import Api, agent, sweep
    from sweepkit.tracking import config, finish, init, log


def __getattr__(name: str) -> Any:
    if name in ("sweep", "agent", "Api"):
        from sweepkit import api

        return getattr(api, name)
    if name in ("init", "log", "finish", "config"):
        import sweepkit.tracking as run_module

        return getattr(run_module, name)
    if name in ("run", "summary"):
        # W&B's `wandb.run` and `wandb.summary` follow the current run (None and {} before init()).
        import sweepkit.tracking as run_module

        return getattr(run_module, f"current_{name}")()
    if name in WANDB_NAMES:
        from sweepkit.wandb_facade import NAMES

        return NAMES[name]
    raise AttributeError(f"module 'sweepkit' has no attribute {name!r}")

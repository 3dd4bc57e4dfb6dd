"""The ``wandb`` module's names, mapped onto sweepkit: the facade in front of the run API and the
Python API, and what the stand-in ``wandb`` package exports.

``import wandb`` in a program run gets the stand-in (``sweepkit/wandb_standin/wandb``), which takes
every name from here; ``import sweepkit as wandb`` reaches the same names. The run API
(``init``, ``log``, ``config``, ``summary``, ``define_metric``, ``finish``...) is ``sweepkit.tracking``;
``sweep``, ``agent`` and ``Api`` take W&B's argument order onto ``sweepkit.api``; media, charts,
files and artifacts are kept under the run's folder; what only makes sense on W&B's servers
(``login``, ``watch``, ``Settings``...) is accepted and does nothing, without a network.
``name_of(name)`` answers for any other name: noted once, then a ``NoOp``. Nothing below imports
this module: it sits above what it fronts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from sweepkit import api, tracking
from sweepkit.errors import SweepkitError
from sweepkit.tracking import plot
from sweepkit.tracking.files import Artifact
from sweepkit.tracking.media import Audio, Chart, Histogram, Html, Image, Object3D, Plotly, Table, Video
from sweepkit.tracking.run import Config, Run, Summary
from sweepkit.tracking.run_internals import AlertLevel, alert, unwatch, watch
from sweepkit.tracking.unsupported import NoOp, unsupported

#: What ``wandb.__version__`` says: a W&B version whose API the stand-in follows, marked as sweepkit's.
WANDB_VERSION = "0.21.0+sweepkit"

Error = SweepkitError


def _on_run(method: str) -> Callable[..., Any]:
    """``wandb.<method>(...)``: the current run's method of that name (an error before ``init()``)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        run = tracking.current_run()
        if run is None:
            raise SweepkitError(f"call wandb.init() before wandb.{method}()")
        return getattr(run, method)(*args, **kwargs)

    call.__name__ = call.__qualname__ = method
    call.__doc__ = getattr(Run, method).__doc__
    return call


define_metric = _on_run("define_metric")
save = _on_run("save")
log_artifact = _on_run("log_artifact")
use_artifact = _on_run("use_artifact")


def login(*args: Any, **kwargs: Any) -> bool:
    """Nothing to log in to: sweepkit needs no account and no key."""
    return True


class Settings:
    """``wandb.Settings(...)``: accepted, kept as attributes, and ignored."""

    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for arg in args:
            self.__dict__.update(dict(arg))
        self.__dict__.update(kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return None


def require(requirement: Any = None, experiment: Any = None) -> None:
    """W&B's feature switches (``wandb.require("service")``, ``"core"``): nothing to switch here."""


def mark_preempting() -> None:
    """A run about to be preempted: the agent sees the process end and records the run's state."""


def plot_table(
    vega_spec_name: str,
    data_table: Table,
    fields: dict[str, str],
    string_fields: dict[str, Any] | None = None,
    split_table: bool = False,
) -> Chart:
    """A custom chart: its table is written as a file, as for ``wandb.plot`` charts."""
    title = (string_fields or {}).get("title")
    return Chart(str(vega_spec_name), data_table, dict(fields), title=title)


def _attach(attach_id: str | None = None, run_id: str | None = None, *, run: Any = None) -> Any:
    """The run with this id (Lightning's ``WandbLogger`` re-attaches after being pickled)."""
    return tracking.attach(attach_id or run_id or getattr(run, "id", None))


def setup(settings: Any = None) -> NoOp:
    return NoOp("wandb.setup()")


def teardown(exit_code: int | None = None) -> None:
    """Nothing to tear down."""


def termlog(string: str = "", newline: bool = True, repeat: bool = True, prefix: bool = True) -> None:
    print(f"{'wandb: ' if prefix else ''}{string}", file=sys.stderr, end="\n" if newline else "", flush=True)


def termwarn(string: str = "", **kwargs: Any) -> None:
    termlog(f"WARNING {string}")


def termerror(string: str = "", **kwargs: Any) -> None:
    termlog(f"ERROR {string}")


def sweep(sweep: Any, entity: str | None = None, project: str | None = None, prior_runs: Any = None) -> str:
    """W&B's argument order (``sweep, entity, project``) onto ``sweepkit.sweep``."""
    return api.sweep(sweep, project=project, entity=entity)


def agent(
    sweep_id: str,
    function: Any = None,
    entity: str | None = None,
    project: str | None = None,
    count: int | None = None,
) -> Any:
    """W&B's argument order (``sweep_id, function, entity, project, count``) onto ``sweepkit.agent``."""
    return api.agent(sweep_id, function=function, count=count, project=project, entity=entity)


def Api(overrides: Any = None, timeout: Any = None, api_key: Any = None, **_ignored: Any) -> Any:  # noqa: N802
    """sweepkit's query API over the default store (W&B's arguments are accepted and ignored)."""
    return api.Api()


#: The names the stand-in exports, besides ``run``, ``summary`` and ``config`` (looked up live).
NAMES = {
    "init": tracking.init,
    "log": tracking.log,
    "finish": tracking.finish,
    "config": tracking.config,
    "define_metric": define_metric,
    "save": save,
    "log_artifact": log_artifact,
    "use_artifact": use_artifact,
    "watch": watch,
    "unwatch": unwatch,
    "alert": alert,
    "AlertLevel": AlertLevel,
    "login": login,
    "Settings": Settings,
    "setup": setup,
    "teardown": teardown,
    "termlog": termlog,
    "termwarn": termwarn,
    "termerror": termerror,
    "sweep": sweep,
    "agent": agent,
    "Api": Api,
    "Artifact": Artifact,
    "Table": Table,
    "Image": Image,
    "Histogram": Histogram,
    "Audio": Audio,
    "Video": Video,
    "Html": Html,
    "Object3D": Object3D,
    "Plotly": Plotly,
    "plot": plot,
    "plot_table": plot_table,
    "Error": Error,
    "Run": Run,
    "Config": Config,
    "Summary": Summary,
    "require": require,
    "mark_preempting": mark_preempting,
    "_attach": _attach,
}


def name_of(name: str) -> Any:
    """``wandb.<name>``: the live run, its summary, a name above, or a noted ``NoOp``."""
    if name == "run":
        return tracking.current_run()
    if name == "summary":
        return tracking.current_summary()
    if name in NAMES:
        return NAMES[name]
    return unsupported(f"wandb.{name}")

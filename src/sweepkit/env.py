"""Every environment variable sweepkit reads or sets, and the default store location: one place each.

Settings are read when used (``number(name, default)``), so a test or a user can change them per
process. The variables an agent sets for its runs are listed here too, with W&B's names.
"""

from __future__ import annotations

import os

from sweepkit.errors import SweepkitError

# -- where the sweeps are ------------------------------------------------------------------------
#: A store: SQLite file path or database URL (it may hold a password: never print it, never pass it
#: to a run).
STORE = "SWEEPKIT_DB"
#: The default store, relative to the current directory.
DEFAULT_STORE_DIR = ".sweepkit"
DEFAULT_STORE_FILE = "sweepkit.db"

#: A sweepkit server (``http(s)://HOST:PORT``): the CLI, the Python API and agents use it instead of a
#: store when no ``--db`` is given (``sweepkit server``, docs/server.md).
SERVER_URL = "SWEEPKIT_URL"
#: The token sent to a sweepkit server (``sweepkit token create``); never a command-line argument.
TOKEN = "SWEEPKIT_TOKEN"
HTTP_TIMEOUT = "SWEEPKIT_HTTP_TIMEOUT"  # seconds to wait for one answer from a server (90)
#: Seconds a server waits for its busy or unreachable store within one request (20) before answering
#: 503; its clients go on retrying for SWEEPKIT_STORE_RETRY.
SERVER_STORE_RETRY = "SWEEPKIT_SERVER_STORE_RETRY"

#: Further names a sweepkit server answers to, comma-separated (``--allowed-host``): e.g. the name a
#: reverse proxy forwards in ``Host``; ``*`` allows every name (docs/server.md).
ALLOWED_HOSTS = "SWEEPKIT_ALLOWED_HOSTS"


# -- agent tunables ------------------------------------------------------------------------------
HEARTBEAT_TIMEOUT = "SWEEPKIT_HEARTBEAT_TIMEOUT"  # seconds without a heartbeat -> crashed (60)
HEARTBEAT_INTERVAL = "SWEEPKIT_HEARTBEAT_INTERVAL"  # seconds between an agent's heartbeats
PAUSE_POLL = "SWEEPKIT_PAUSE_POLL"  # seconds between claims while a sweep is paused (2)
KILL_GRACE = "SWEEPKIT_KILL_GRACE"  # seconds from SIGTERM to SIGKILL when stopping a run (30)
INTERPRETER = "SWEEPKIT_INTERPRETER"  # what ${interpreter} becomes ("python")
MAX_INITIAL_FAILURES = "SWEEPKIT_AGENT_MAX_INITIAL_FAILURES"  # failure policy (3)
INITIAL_WINDOW = "SWEEPKIT_AGENT_INITIAL_WINDOW"  # ... within this many seconds (60)
MAX_FAILURES = "SWEEPKIT_AGENT_MAX_FAILURES"  # failures without a success (5)
STORE_RETRY = "SWEEPKIT_STORE_RETRY"  # seconds a busy or unreachable store or server is retried (300)
#: Logged rows a run holds in memory while the store does not take them (100000); then a spill file.
HELD_ROWS = "SWEEPKIT_HELD_ROWS"
#: "0" (or false/no/off): program runs' `import wandb` gets the real package, not sweepkit's stand-in.
WANDB_STANDIN = "SWEEPKIT_WANDB_STANDIN"
#: "1": read metrics from a program run's output lines (`name=value` pairs); see metric_lines.py.
METRICS_FROM_OUTPUT = "SWEEPKIT_METRICS_FROM_OUTPUT"
#: A regular expression for metrics in output lines (groups `name` and `value`); implies the above.
METRICS_REGEX = "SWEEPKIT_METRICS_REGEX"
LOG_MAX_BYTES = "SWEEPKIT_LOG_MAX_BYTES"  # cap of each run's output.log: head and newest tail kept (10 MB)

# -- what an agent sets for each run -------------------------------------------------------------
SWEEP_ID = "SWEEPKIT_SWEEP_ID"
RUN_ID = "SWEEPKIT_RUN_ID"
#: The run's assignment file (JSON): id, name, config; ``sweepkit.init()`` attaches to it.
RUN_FILE = "SWEEPKIT_RUN_FILE"
#: The file a Python run appends its events to; the agent reads it and reports to the service.
EVENTS_FILE = "SWEEPKIT_EVENTS_FILE"
#: The file a program in any language appends its metrics to, one JSON object per line.
METRICS_FILE = "SWEEPKIT_METRICS_FILE"
PARAM_PATH = "SWEEPKIT_SWEEP_PARAM_PATH"
NESTED_CONFIG = "SWEEPKIT_NESTED_CONFIG"  # "replace" (default) or "deep"
WANDB_SWEEP_ID = "WANDB_SWEEP_ID"
WANDB_RUN_ID = "WANDB_RUN_ID"
WANDB_PARAM_PATH = "WANDB_SWEEP_PARAM_PATH"
WANDB_PROJECT = "WANDB_PROJECT"
WANDB_ENTITY = "WANDB_ENTITY"
#: W&B's run folder root: the agent's working directory unless already set; holds the parameter file.
WANDB_DIR = "WANDB_DIR"
#: Python's module path: the agent puts the stand-in `wandb` first on it.
PYTHONPATH = "PYTHONPATH"
#: Set to "1" for program runs whose output is read for metrics, so Python prints at once.
PYTHONUNBUFFERED = "PYTHONUNBUFFERED"
#: The GPUs a program sees: an agent with ``--gpus`` gives each of its runs their own; ``--gpus all``
#: takes the ones a scheduler gave the agent here, if any (docs/clusters.md).
CUDA_VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES"
#: Set to "PCI_BUS_ID" (unless already set) with those GPUs, so that CUDA numbers them as nvidia-smi does.
CUDA_DEVICE_ORDER = "CUDA_DEVICE_ORDER"
#: Set to "0" (unless set) by `sweepkit ray`: Ray would merge lines of different agents that look alike.
RAY_DEDUP_LOGS = "RAY_DEDUP_LOGS"

#: Never passed on to a run: credentials and the agent's own connection (a run reports to its agent).
NOT_FOR_RUNS = (STORE, SERVER_URL, TOKEN, "WANDB_SERVICE")


def number(name: str, default: float, *, positive: bool = False) -> float:
    """The number in environment variable ``name``, or ``default`` when it is unset or empty."""
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SweepkitError(f"{name}: expected a number, got {raw!r}") from None
    if positive and not value > 0:
        raise SweepkitError(f"{name}: expected a positive number, got {raw!r}")
    return value


def flag(name: str, default: bool) -> bool:
    """The yes/no in environment variable ``name`` (1/true/yes/on or 0/false/no/off), or ``default``."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SweepkitError(f"{name}: expected 1 or 0 (true/false, yes/no, on/off), got {raw!r}")


def heartbeat_timeout_s() -> float:
    """Seconds without a heartbeat after which a running run counts as crashed."""
    return number(HEARTBEAT_TIMEOUT, 60.0, positive=True)


def store_retry_s() -> float:
    """Seconds a busy or unreachable store (or sweepkit server) is retried before an operation gives up."""
    return number(STORE_RETRY, 300.0)


def log_max_bytes() -> int:
    """The most bytes a run's output log keeps on disk (its head and its newest tail)."""
    return int(number(LOG_MAX_BYTES, 10_000_000, positive=True))


def http_timeout_s() -> float:
    """Seconds a client waits for one answer from a sweepkit server."""
    return number(HTTP_TIMEOUT, 90.0, positive=True)


def allowed_hosts() -> list[str]:
    """The names in ``SWEEPKIT_ALLOWED_HOSTS``."""
    return [name.strip() for name in os.environ.get(ALLOWED_HOSTS, "").split(",") if name.strip()]

"""The user's ``scheduler.source`` file, imported in the scheduler process: its ``optimizer`` and
``search_space`` functions, found by the names the config gives, with one-sentence errors.

The path is the config's ``scheduler.source``, relative to the folder of the sweep's config file when
one is given, else to the working directory (``--source`` names the file directly instead). The
file's folder is put first on ``sys.path`` while it is imported, so it can import its neighbours.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sweepkit.errors import SweepkitError


@dataclass(frozen=True)
class UserCode:
    """The user's functions: ``optimizer()`` builds the Optuna sampler, ``search_space(trial)`` asks
    the trial for each parameter (define-by-run); either may be absent."""

    path: Path
    optimizer: Callable[[], Any] | None = None
    search_space: Callable[[Any], Any] | None = None


def source_path(
    scheduler: dict[str, Any], *, config_file: str | None = None, source: str | None = None
) -> Path:
    """Where the user's file is: ``source`` as given, else ``scheduler.source`` relative to the config
    file's folder (or the working directory)."""
    if source is not None:
        return Path(source)
    named = Path(str(scheduler.get("source") or ""))
    if named.is_absolute():
        return named
    base = Path(config_file).resolve().parent if config_file else Path.cwd()
    return base / named


def load_user_code(
    scheduler: dict[str, Any], *, config_file: str | None = None, source: str | None = None
) -> UserCode:
    """Import the user's file and find the functions the config names (SweepkitError in one sentence
    when the file is missing, cannot be imported, or lacks a function)."""
    path = source_path(scheduler, config_file=config_file, source=source)
    where = "the config file's folder" if config_file else "the working directory"
    if not path.is_file():
        raise SweepkitError(
            f"scheduler.source: no file {path} (the config names {scheduler.get('source')!r}, read from {where}); "
            "run from the config's folder, or give --config FILE or --source PATH"
        )
    module = _imported(path)
    found: dict[str, Callable[..., Any] | None] = {}
    for key in ("optimizer", "search_space"):
        name = scheduler.get(key)
        if not name:
            found[key] = None
            continue
        function = getattr(module, str(name), None)
        if function is None:
            raise SweepkitError(f"scheduler.{key}: {path} has no function named {name!r}")
        if not callable(function):
            raise SweepkitError(
                f"scheduler.{key}: {name!r} in {path} is a {type(function).__name__}, not a function"
            )
        found[key] = function
    return UserCode(path, found["optimizer"], found["search_space"])


def _imported(path: Path) -> Any:
    name = f"sweepkit_user_scheduler_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SweepkitError(f"scheduler.source: {path} cannot be imported as Python (is it a .py file?)")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 - the user's code: said in one sentence
        raise SweepkitError(
            f"scheduler.source: importing {path} raised {type(err).__name__}: {_first_line(err)}"
        ) from None
    finally:
        try:
            sys.path.remove(folder)
        except ValueError:
            pass
    return module


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else "(no message)"


def user_error(key: str, code: UserCode, err: BaseException) -> SweepkitError:
    """The user's function ``scheduler.KEY`` raised ``err``: one sentence naming it and the file."""
    function = getattr(code, key)
    name = getattr(function, "__name__", key)
    return SweepkitError(
        f"scheduler.{key}: {name}() in {code.path} raised {type(err).__name__}: {_first_line(err)}"
    )

"""The one way a sweep's config comes in: ``sweepkit sweep``, ``sweepkit sweep --update``,
``sweepkit run`` and ``sweepkit.sweep()`` (so ``wandb.sweep()``) all create or update a sweep here.

The config is read here (a YAML or JSON file, or a dict): what keeps it from being a config at all
(a file that cannot be read, a syntax error, a key written twice, a value JSON cannot hold) is an
error naming its file and line. The config and its text then go to the sweep service, which
validates it, once. The problems it finds (a ``ConfigError``) and its warnings come back by key
path, over HTTP too; here each is placed at its file and the line of its key path, so that they
read as ``sweepkit validate`` prints them: ``sweep.yaml:4: parameters.lr.min: expected a number,
got 'abc'``.

One warning only the client can give, because it depends on where agents will run (the service may
be on another machine): a ``program`` that is not a file relative to the current directory
(:func:`program_warnings`; ``sweepkit validate`` gives it too).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sweepkit.service.types import ConfigWarning, SweepInfo
from sweepkit.sweep_config import ConfigError, Problem, SweepSource, read_config

#: A config as the caller gives it: a file's path, a dict, or one already read.
ConfigInput = str | os.PathLike[str] | Mapping[str, Any] | SweepSource


@dataclass(frozen=True)
class SweepAnswer:
    """A sweep just created or updated, and the warnings about its config, placed in its file."""

    sweep: SweepInfo
    warnings: list[Problem]


def read(config: ConfigInput) -> SweepSource:
    """The config read (not validated): a ``ConfigError`` names the file and line of what keeps it
    from being a config at all."""
    return config if isinstance(config, SweepSource) else read_config(config)


def create_sweep(
    service: Any,
    config: ConfigInput,
    *,
    project: str | None = None,
    entity: str | None = None,
    name: str | None = None,
) -> SweepAnswer:
    """Create a sweep from ``config``; its problems (a ``ConfigError``) and warnings come back placed
    at their file and line."""
    source = read(config)
    with _placed(source):
        info = service.create_sweep(
            source.data, project=project, entity=entity, name=name, source=source.written()
        )
    return _answer(info, source)


def update_sweep(
    service: Any, sweep_id: str, config: ConfigInput, *, defaults: Any = None, dry_run: bool = False
) -> SweepAnswer:
    """Replace the config of sweep ``sweep_id`` with ``config`` (problems and warnings as
    ``create_sweep``); the answer's ``sweep.changes`` say what it does (``dry_run``: only say it)."""
    source = read(config)
    with _placed(source):
        info = service.update_sweep(
            sweep_id, source.data, source=source.written(), defaults=defaults, dry_run=dry_run
        )
    return _answer(info, source)


@contextmanager
def _placed(source: SweepSource) -> Iterator[None]:
    """A ``ConfigError`` of the service raised again with its problems placed in ``source``."""
    try:
        yield
    except ConfigError as error:
        raise ConfigError(source.placed(error.problems), source.placed(error.warnings)) from None


def program_warnings(
    data: Mapping[str, Any], where: str | os.PathLike[str] | None = None
) -> list[ConfigWarning]:
    """A warning when the config's ``program`` is not a file relative to ``where`` (the current
    directory): agents started there run it from there, as W&B's do."""
    program = data.get("program")
    if not isinstance(program, str) or not program.strip():
        return []
    command = data.get("command")
    if isinstance(command, list) and command and not any("program}" in str(item) for item in command):
        return []  # a command of its own that never names ${program}: the program is not run
    folder = os.fspath(where) if where is not None else os.getcwd()
    if os.path.isfile(os.path.join(folder, program)):
        return []
    return [
        ConfigWarning(
            "program",
            f"{program!r} is not a file in {folder}: agents started in this directory could not run it "
            "(start them where it is, or correct the path)",
        )
    ]


def _answer(info: SweepInfo, source: SweepSource) -> SweepAnswer:
    given = [*info.warnings, *program_warnings(source.data)]
    warnings = [Problem("warning", w.path, w.message) for w in given]
    return SweepAnswer(info, source.placed(warnings))

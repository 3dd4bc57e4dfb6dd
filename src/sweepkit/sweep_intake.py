"""The one way a sweep's config comes in: ``sweepkit sweep``, ``sweepkit sweep --update``,
``sweepkit run`` and ``sweepkit.sweep()`` (so ``wandb.sweep()``) all create or update a sweep here.

The config is read here (a YAML or JSON file, or a dict): what keeps it from being a config at all
(a file that cannot be read, a syntax error, a key written twice, a value JSON cannot hold) is an
error naming its file and line. The config and its text then go to the sweep service, which
validates it, once. The problems it finds (a ``ConfigError``) and its warnings come back by key
path, over HTTP too; here each is placed at its file and the line of its key path, so that they
read as ``sweepkit validate`` prints them: ``sweep.yaml:4: parameters.lr.min: expected a number,
got 'abc'``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sweepkit.service.types import SweepInfo
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


def update_sweep(service: Any, sweep_id: str, config: ConfigInput) -> SweepAnswer:
    """Replace the config of sweep ``sweep_id`` with ``config`` (problems and warnings as ``create_sweep``)."""
    source = read(config)
    with _placed(source):
        info = service.update_sweep(sweep_id, source.data, source=source.written())
    return _answer(info, source)


@contextmanager
def _placed(source: SweepSource) -> Iterator[None]:
    """A ``ConfigError`` of the service raised again with its problems placed in ``source``."""
    try:
        yield
    except ConfigError as error:
        raise ConfigError(source.placed(error.problems), source.placed(error.warnings)) from None


def _answer(info: SweepInfo, source: SweepSource) -> SweepAnswer:
    warnings = [Problem("warning", w.path, w.message) for w in info.warnings]
    return SweepAnswer(info, source.placed(warnings))

"""The W&B-shaped Python API: ``sweep()``, ``agent()`` and ``Api`` for querying sweeps and runs.

Each takes an optional ``db`` (a store URL or SQLite path); without it the store is the one named
by ``SWEEPKIT_DB``, else ``.sweepkit/sweepkit.db`` in the current directory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sweepkit.runs import RunState


def sweep(
    sweep: Mapping[str, Any] | str | Path,
    project: str | None = None,
    entity: str | None = None,
    *,
    name: str | None = None,
    db: str | None = None,
) -> str:
    """Create a sweep from a config dict or a YAML/JSON file; returns its id."""
    from sweepkit.controller import open_controller

    record, _cfg = open_controller(db).create_sweep(sweep, project=project, entity=entity, name=name)
    return record.id


def agent(
    sweep_id: str,
    function: Callable[[], object] | None = None,
    count: int | None = None,
    project: str | None = None,
    entity: str | None = None,
    *,
    db: str | None = None,
    echo: bool = True,
    quiet: bool = False,
):
    """Run the sweep's runs here: ``function()`` once per run, or the config's program.

    ``echo=False`` keeps a program run's output out of the console (it is still kept per run);
    ``quiet=True`` also silences the agent's own messages.
    """
    from sweepkit.agents.loop import Agent
    from sweepkit.controller import SweepRef, open_controller

    ref = SweepRef.parse(sweep_id)
    ref = SweepRef(ref.id, project=ref.project or project, entity=ref.entity or entity)
    say = (lambda message: None) if quiet else None
    return Agent(open_controller(db), ref, function=function, count=count, echo=echo, say=say).run()


@dataclass(frozen=True)
class RunInfo:
    """A run as the query API shows it."""

    id: str
    name: str
    sweep_id: str | None
    state: RunState
    config: dict[str, Any]
    params: dict[str, Any]
    summary: dict[str, Any]
    created_at: Any
    duration_s: float | None
    exit_code: int | None
    stop_reason: str | None
    suggestion: dict[str, Any]
    error: str | None
    _api: Api

    def history(self) -> list[dict[str, Any]]:
        return self._api._controller.store.history(self.id)

    def to_json(self) -> dict[str, Any]:
        """The object ``sweepkit runs --format json`` prints for this run."""
        return {
            "id": self.id,
            "name": self.name,
            "sweep_id": self.sweep_id,
            "state": self.state.value,
            "config": self.config,
            "summary": {k: v for k, v in self.summary.items() if not k.startswith("_")},
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "duration_s": self.duration_s,
            "exit_code": self.exit_code,
            "stop_reason": self.stop_reason,
            "suggestion": self.suggestion,
            "error": self.error,
        }


@dataclass(frozen=True)
class SweepInfo:
    """A sweep as the query API shows it."""

    id: str
    name: str | None
    project: str | None
    entity: str | None
    state: str
    config: dict[str, Any]
    created_at: Any
    run_count: int
    finished_reason: str | None
    _api: Api

    @property
    def runs(self) -> list[RunInfo]:
        return self._api.runs(self.id)

    def best_run(self) -> RunInfo | None:
        return self._api.best_run(self.id)


class Api:
    """Read access to sweeps and runs in a store."""

    def __init__(self, db: str | None = None):
        from sweepkit.controller import open_controller

        self._controller = open_controller(db)

    def _sweep_info(self, record) -> SweepInfo:
        return SweepInfo(
            id=record.id,
            name=record.name,
            project=record.project,
            entity=record.entity,
            state=record.state,
            config=record.config,
            created_at=record.created_at,
            run_count=record.run_count,
            finished_reason=record.finished_reason,
            _api=self,
        )

    def _run_info(self, record) -> RunInfo:
        return RunInfo(
            id=record.id,
            name=record.name,
            sweep_id=record.sweep_id,
            state=record.state,
            config=self._controller.run_config(record),
            params=dict(record.params or {}),
            summary=dict(record.summary or {}),
            created_at=record.created_at,
            duration_s=record.duration_s,
            exit_code=record.exit_code,
            stop_reason=record.stop_reason,
            suggestion=dict(record.suggestion_info or {}),
            error=record.error,
            _api=self,
        )

    def sweeps(self, project: str | None = None) -> list[SweepInfo]:
        return [self._sweep_info(r) for r in self._controller.store.list_sweeps(project=project)]

    def sweep(self, sweep_id: str) -> SweepInfo:
        return self._sweep_info(self._controller.get_sweep(sweep_id))

    def runs(self, sweep_id: str) -> list[RunInfo]:
        sweep = self._controller.get_sweep(sweep_id)
        return [self._run_info(r) for r in self._controller.list_runs(sweep.id)]

    def run(self, run_id: str) -> RunInfo:
        return self._run_info(self._controller.get_run(run_id))

    def best_run(self, sweep_id: str) -> RunInfo | None:
        sweep = self._controller.get_sweep(sweep_id)
        best = self._controller.best_run(sweep.id)
        return self._run_info(best) if best is not None else None

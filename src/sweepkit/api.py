"""The W&B-shaped Python API: ``sweep()``, ``agent()`` and ``Api`` for querying sweeps and runs.

Each takes an optional ``db`` (a store URL or SQLite path); without it the store is the one named
by ``SWEEPKIT_DB``, else ``.sweepkit/sweepkit.db`` in the current directory. Everything goes through
the sweep service (``sweepkit.service``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.run_export import run_json


class SweepkitWarning(UserWarning):
    """A warning about a sweep config (it still runs; see the message)."""


@dataclass(frozen=True)
class SweepRef:
    """A sweep named on the command line: ``id``, ``project/id`` or ``entity/project/id``."""

    id: str
    project: str | None = None
    entity: str | None = None

    @classmethod
    def parse(cls, text: str, project: str | None = None, entity: str | None = None) -> SweepRef:
        parts = str(text).strip().split("/")
        if not all(parts) or len(parts) > 3:
            raise SweepkitError(f"sweep id {text!r}: expected 'id', 'project/id' or 'entity/project/id'")
        if len(parts) == 2:
            return cls(parts[1], project=parts[0], entity=entity)
        if len(parts) == 3:
            return cls(parts[2], project=parts[1], entity=parts[0])
        return cls(parts[0], project=project, entity=entity)


def sweep(
    sweep: Mapping[str, Any] | str | Path,
    project: str | None = None,
    entity: str | None = None,
    *,
    name: str | None = None,
    db: str | None = None,
    from_sweeps: Sequence[str] = (),
) -> str:
    """Create a sweep from a config dict or a YAML/JSON file; returns its id.

    ``from_sweeps``: earlier sweeps whose finished runs the new sweep starts from, as imported
    observations (not run again; runs outside the new space are left out): a warm start.
    The config's warnings (things that run, but probably not as meant) are issued as
    ``SweepkitWarning`` through Python's ``warnings``, the same as ``sweepkit validate`` prints,
    except "no program": a sweep made in Python is usually run by a function agent.
    """
    from sweepkit import sweep_intake
    from sweepkit.connect import connect

    source = sweep_intake.read(sweep)  # a file that is no config creates no store
    service = connect(db, create=True)
    try:
        for earlier in from_sweeps:  # a sweep to start from that does not exist creates nothing
            service.get_sweep(SweepRef.parse(earlier).id)
        answer = sweep_intake.create_sweep(service, source, project=project, entity=entity, name=name)
        warm_start(service, answer.sweep.id, from_sweeps)
    finally:
        service.close()
    for problem in answer.warnings:
        if problem.path != "program":
            warnings.warn(str(problem), SweepkitWarning, stacklevel=2)
    return answer.sweep.id


def warm_start(service: Any, sweep_id: str, from_sweeps: Sequence[str]) -> list[tuple[str, int, Any]]:
    """Import the finished runs of each sweep of ``from_sweeps`` into sweep ``sweep_id``: for each,
    ``(its id, how many finished runs it had, the ImportResult)``."""
    from sweepkit.results_file import runs_as_rows
    from sweepkit.runs import RunState

    out = []
    for earlier in from_sweeps:
        ref = SweepRef.parse(earlier)
        earlier_id = service.get_sweep(ref.id, project=ref.project, entity=ref.entity).id
        if earlier_id == sweep_id:
            raise SweepkitError(f"--from {earlier}: a sweep cannot start from itself")
        rows = runs_as_rows(service.all_runs(earlier_id, states=[RunState.FINISHED]))
        result = service.import_runs(sweep_id, rows, source=f"sweep {earlier_id}") if rows else None
        out.append((earlier_id, len(rows), result))
    return out


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
    wandb_standin: bool | None = None,
    metrics_from_output: bool | None = None,
    metrics_regex: str | None = None,
    gpus: str | None = None,
    gpus_per_run: int | None = None,
    parallel: int | None = None,
):
    """Run the sweep's runs here: ``function()`` once per run, or the config's program.

    ``echo=False`` keeps a program run's output out of the console (it is still kept per run);
    ``quiet=True`` also silences the agent's own messages. Program runs only:
    ``wandb_standin=False`` lets ``import wandb`` find the real package instead of sweepkit's
    stand-in; ``metrics_from_output=True`` reads ``name=value`` metrics from the output, and
    ``metrics_regex`` with a pattern of your own (docs/any-program.md). Each defaults to its
    environment variable. Several program runs at once (docs/clusters.md): ``gpus="all"`` or
    ``"0,1,2,3"`` runs one run per GPU (per ``gpus_per_run`` GPUs), each with its own
    ``CUDA_VISIBLE_DEVICES``; ``parallel=N`` runs N at once without GPUs. Returns the agent's report.
    """
    from sweepkit.agents.loop import Agent
    from sweepkit.connect import connect

    ref = SweepRef.parse(sweep_id, project, entity)
    service = connect(db)
    try:
        runner = Agent(
            service,
            ref.id,
            project=ref.project,
            entity=ref.entity,
            function=function,
            count=count,
            gpus=gpus,
            gpus_per_run=gpus_per_run,
            parallel=parallel,
            echo=echo,
            say=(lambda message: None) if quiet else None,
            wandb_standin=wandb_standin,
            metrics_from_output=metrics_from_output,
            metrics_regex=metrics_regex,
        )
        return runner.run()
    finally:
        service.close()


class _Record:
    """A record of the service as the query API shows it: its fields, and calls that ask for more."""

    def __init__(self, info: Any, api: Api):
        self._info, self._api = info, api

    def __getattr__(self, name: str) -> Any:
        return getattr(self._info, name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} ({self.state.value})>"

    @property
    def info(self) -> Any:
        """The service's record: a ``RunInfo`` or a ``SweepInfo``."""
        return self._info


class Run(_Record):
    """A run as the query API shows it (``Api().run(id)``, ``sweep.runs``)."""

    def to_json(self) -> dict[str, Any]:
        return run_json(self._info)

    def history(self) -> list[dict[str, Any]]:
        """Every row the run logged, in step order."""
        return self._api.service.full_history(self.id)

    def scan_history(self, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """The run's rows one by one, read page by page."""
        after = None
        while True:
            page = self._api.service.history(self.id, after=after, limit=page_size)
            yield from page.rows
            if page.next_after is None:
                return
            after = page.next_after


class Sweep(_Record):
    """A sweep as the query API shows it (``Api().sweep(id)``)."""

    def __getattr__(self, name: str) -> Any:
        if name in ("config", "source", "plan") and self._info.config_omitted:  # listed without it
            self._info = self._api.service.get_sweep(self._info.id)
        return getattr(self._info, name)

    @property
    def runs(self) -> list[Run]:
        return self._api.runs(self.id)

    def best_run(self) -> Run | None:
        return self._api.best_run(self.id)


class Api:
    """Read access to the sweeps and runs of a store."""

    def __init__(self, db: str | None = None):
        from sweepkit.connect import connect

        self.service = connect(db)

    def close(self) -> None:
        self.service.close()

    def sweeps(self, project: str | None = None) -> list[Sweep]:
        return [Sweep(info, self) for info in self.service.list_sweeps(project=project)]

    def sweep(self, sweep_id: str) -> Sweep:
        ref = SweepRef.parse(sweep_id)
        return Sweep(self.service.get_sweep(ref.id, project=ref.project, entity=ref.entity), self)

    def runs(self, sweep_id: str) -> list[Run]:
        ref = SweepRef.parse(sweep_id)
        return [Run(info, self) for info in self.service.all_runs(ref.id)]

    def run(self, run_id: str) -> Run:
        return Run(self.service.get_run(run_id), self)

    def best_run(self, sweep_id: str) -> Run | None:
        best = self.service.best_run(SweepRef.parse(sweep_id).id)
        return Run(best, self) if best is not None else None

    def retry_runs(self, sweep_id: str, states: Sequence[str] | None = None) -> dict[str, str]:
        """Run again the parameters of the sweep's runs in ``states`` (default failed, crashed and
        killed): returns each retried run's id -> its new run's id (a finished sweep resumes)."""
        return self.service.retry_runs(self._sweep_id(sweep_id), states).retried

    def delete_runs(self, sweep_id: str, run_ids: Sequence[str]) -> list[str]:
        """Delete these ended runs of the sweep and their history (all or none); returns their ids."""
        return self.service.delete_runs(self._sweep_id(sweep_id), list(run_ids))

    def queue_points(self, sweep_id: str, points: Sequence[Mapping[str, Any]]) -> list[str]:
        """Queue these points (parameter -> value) to run before the method suggests more, each once;
        returns the queued runs' ids. A point that does not fit the space queues nothing."""
        return [run.id for run in self.service.queue_points(self._sweep_id(sweep_id), list(points))]

    def update_sweep(
        self,
        sweep_id: str,
        config: Mapping[str, Any] | str | Path,
        *,
        defaults: Mapping[str, Any] | None = None,
        dry_run: bool = False,
    ) -> list[str]:
        """Replace the sweep's config (a dict or a YAML/JSON file), keeping the old one as a version;
        returns what the change does, one sentence each (``dry_run``: only that). ``defaults``: the
        value earlier runs are taken to have had for each parameter the change adds."""
        from sweepkit import sweep_intake

        answer = sweep_intake.update_sweep(
            self.service, self._sweep_id(sweep_id), config, defaults=defaults, dry_run=dry_run
        )
        return answer.sweep.changes

    def config_versions(self, sweep_id: str) -> list[Any]:
        """Every version of the sweep's config (``ConfigVersion``), oldest first."""
        return self.service.config_versions(self._sweep_id(sweep_id))

    def import_runs(self, sweep_id: str, results: str | Path | Sequence[Mapping[str, Any]]) -> Any:
        """Add finished results as imported runs: a CSV or JSON-lines file, or rows
        ``{"params": {...}, "metrics": {...}}``; returns the ``ImportResult`` (ids kept, rows refused)."""
        from sweepkit.results_file import read_results

        info = self.service.get_sweep(self._sweep_id(sweep_id))
        if isinstance(results, (str, Path)):
            rows = read_results(results, [p.name for p in info.plan.parameters])
            source = Path(results).name
        else:
            rows, source = [dict(row) for row in results], "python"
        return self.service.import_runs(info.id, rows, source=source)

    def warm_start(self, sweep_id: str, from_sweeps: Sequence[str]) -> list[tuple[str, int, Any]]:
        """Import the finished runs of earlier sweeps as observations (see :func:`warm_start`)."""
        return warm_start(self.service, self._sweep_id(sweep_id), from_sweeps)

    def _sweep_id(self, sweep_id: str) -> str:
        ref = SweepRef.parse(sweep_id)
        return self.service.get_sweep(ref.id, project=ref.project, entity=ref.entity).id

"""A sweep config as its author gave it (:class:`SweepSource`), validated (:class:`SweepConfig`), and
its metric (:class:`Metric`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Generic, Literal, TypeVar

from sweepkit.runs.goals import DEFAULT_GOAL
from sweepkit.sweep_config.lines import LineMap
from sweepkit.sweep_config.problems import Collector, Problem

V = TypeVar("V")


@dataclass(frozen=True)
class SweepSource:
    """A config as read (``read_config``), not validated yet: ``data`` (JSON data), the ``text`` it
    was read from (None for a dict), the line of each key (``lines``) and the name its problems cite
    (``file``: the path as given, or None for a dict)."""

    file: str | None
    data: dict[str, Any]
    lines: LineMap
    text: str | None = None

    def written(self) -> str:
        """The config as its author wrote it: the text it was read from, else the given mapping as
        YAML (the form sweep configs are written in)."""
        if self.text is not None:
            return self.text
        import yaml

        return yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, default_flow_style=False)

    def placed(self, problems: Iterable[Problem]) -> list[Problem]:
        """Problems found in ``data`` (by key path, as a service reports them) at this file and the
        line of each one's key path, in file order; a last line counting problems not shown stays last."""
        placed = [replace(p, file=self.file, line=self.lines.line_of_text(p.path)) for p in problems]
        counts = [p for p in placed if not p.path and p.message.startswith("... and ")]
        return Collector.in_file_order([p for p in placed if p not in counts]) + counts


@dataclass(frozen=True)
class Metric:
    """The metric a sweep optimises. ``sign * value`` is "lower is better"."""

    name: str
    goal: str = DEFAULT_GOAL
    target: float | None = None
    impute: Literal["worst", "best", "latest"] = "worst"

    @property
    def sign(self) -> int:
        """+1 when minimizing, -1 when maximizing."""
        from sweepkit.runs.objective import sign

        return sign(self.goal)


class _Key(Generic[V]):
    """An attribute of ``SweepConfig`` that is one top-level key of its ``data`` (None when absent)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = name

    def __get__(self, config: Any, owner: type | None = None) -> V | None:
        return config.data.get(self.key)


class SweepConfig:
    """A config that passed validation.

    ``raw`` is the config as loaded; ``data`` its normalized, JSON-safe form (every parameter leaf
    has its ``distribution`` and defaults, metric and early_terminate have theirs); ``warnings``
    the warnings found. ``load_config(cfg.data)`` gives back an equal config. Treat ``data`` as
    read-only.
    """

    def __init__(
        self, source: str, raw: dict[str, Any], data: dict[str, Any], warnings: list[Problem]
    ) -> None:
        self.source = source
        self.raw = raw
        self.data = data
        self.warnings = warnings

    def __repr__(self) -> str:
        return (
            f"SweepConfig(source={self.source!r}, method={self.method!r}, parameters={len(self.parameters)})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SweepConfig) and self.data == other.data

    __hash__ = None  # type: ignore[assignment]

    # --- top-level keys as they are (None when absent) ------------------------------------------

    early_terminate: _Key[dict[str, Any]] = _Key()
    program: _Key[str] = _Key()
    run_cap: _Key[int] = _Key()
    name: _Key[str] = _Key()
    description: _Key[str] = _Key()
    project: _Key[str] = _Key()
    entity: _Key[str] = _Key()
    #: sweepkit extension: makes a sweep's random draws reproducible.
    seed: _Key[int] = _Key()
    #: The ``scheduler`` section (who proposes the runs), or None: sweepkit's own method.
    scheduler: _Key[dict[str, Any]] = _Key()

    @property
    def method(self) -> str:
        return self.data["method"]

    @property
    def parameters(self) -> dict[str, Any]:
        """The normalized parameter tree (nested groups as ``{"parameters": {...}}``); empty when the
        user's ``scheduler.search_space`` function defines the space."""
        return self.data.get("parameters", {})

    @property
    def metric(self) -> Metric | None:
        spec = self.data.get("metric")
        if spec is None:
            return None
        return Metric(name=spec["name"], goal=spec["goal"], target=spec.get("target"), impute=spec["impute"])

    @property
    def metrics(self) -> list[Metric]:
        """Every metric the sweep optimises, in order: ``metrics``, else ``metric`` (empty without)."""
        specs = self.data.get("metrics")
        if specs is None:
            return [self.metric] if self.metric is not None else []
        return [Metric(s["name"], s["goal"], s.get("target"), s["impute"]) for s in specs]

    @property
    def judged_metric(self) -> Metric | None:
        """The metric hyperband judges runs by: ``metric``, or the first of ``metrics``."""
        metrics = self.metrics
        return metrics[0] if metrics else None

    @property
    def engine(self) -> str:
        """Who proposes the runs: ``wandb`` (sweepkit's own method), ``optuna`` (a sampler on the
        service side; ``method: custom`` without a scheduler too) or ``user`` (the process
        ``sweepkit scheduler`` runs the user's ``scheduler.source``)."""
        scheduler = self.scheduler or {}
        if scheduler.get("source"):
            return "user"
        if self.method == "custom":
            return scheduler.get("engine", "optuna")
        return "wandb"

    @property
    def command(self) -> list[str] | None:
        command = self.data.get("command")
        return None if command is None else list(command)

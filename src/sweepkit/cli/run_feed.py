"""Following a sweep's runs through the service cheaply: each poll reads only the runs from the
oldest one that had not ended at the previous poll, and says which runs ended since.

Runs are numbered in the order they are handed out and mostly end in that order, so the window
of runs still to watch is short whatever the sweep's size: a sweep of 10,000 runs is read once,
page by page, and afterwards only its newest runs are.
"""

from __future__ import annotations

from typing import Any

from sweepkit.runs import TERMINAL_STATES

_PAGE = 500


class RunFeed:
    """The runs of one sweep that ended since the last ``poll`` (and those still going)."""

    def __init__(self, service: Any, sweep_id: str) -> None:
        self.service, self.sweep_id = service, sweep_id
        #: Runs with a number up to this one had all ended at the last poll.
        self._after: int | None = None
        self._reported: set[str] = set()
        #: The runs that had not ended at the last poll, in run-number order.
        self.active: list[Any] = []

    def poll(self) -> list[Any]:
        """The runs (``RunInfo``) that ended since the previous poll (at the first poll: every run
        that has ended), in run-number order."""
        done, active = [], []
        after = self._after
        while True:
            page = self.service.list_runs(self.sweep_id, after=after, limit=_PAGE)
            for run in page.runs:
                (done if run.state in TERMINAL_STATES else active).append(run)
            if page.next_after is None:
                break
            after = page.next_after
        ended = [run for run in done if run.id not in self._reported]
        self.active = active
        if active:
            self._after = active[0].number - 1
        elif done:
            self._after = done[-1].number
        # Runs at or before the new start are never read again: only later ones need remembering.
        start = self._after if self._after is not None else 0
        self._reported = {run.id for run in done if run.number > start}
        return ended

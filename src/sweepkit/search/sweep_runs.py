"""A sweep's runs as search methods see them, kept from one claim to the next.

A claim needs what the runs of the sweep say, and a sweep may have 10,000 of them: reading and
digesting each one again at every claim made claims ever slower. Runs that ended for good
(``ENDED_FOR_GOOD``) change only by being retried or deleted, so ``SweepRuns`` keeps only what each
method digests of them (a ``Digest``: bayes's encoded points and values, grid's used points, the
runs that reached ``metric.target``, hyperband's values at its bands: ``sweepkit.stopping.band_values``),
and the live runs (every other state) as read at this claim.
The service keeps one per sweep and hands it the runs that ended or were retried since it last looked
(``StoreTx.changed_runs``); it starts again from every run after a deletion, or in a new process.
A method given a plain list of runs builds its ``SweepRuns`` from that list (``of``), so a kept one
and one built from scratch give the same suggestion for the same runs.

What is kept can be saved as bytes (``SweepRuns.dump``, arrays in NumPy's ``.npz`` format, no pickle)
and loaded again (``SweepRuns.load``) when every digest can say what it holds (``Digest.state``): the
store keeps the newest such snapshot per sweep, so that a new process reads it and the runs stamped
since instead of every run (``StoreTx.digest_snapshot``). A loaded ``SweepRuns`` equals the one it was
saved from.
"""

from __future__ import annotations

import io
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from sweepkit.runs import ENDED_FOR_GOOD, RunView

if TYPE_CHECKING:
    import numpy as np


class Digest(ABC):
    """What one method keeps of each run that ended for good (never the whole run)."""

    @abstractmethod
    def update(self, added: list[RunView], removed: list[str]) -> None:
        """Runs that ended for good (a run added again replaces what was kept of it; each has its
        ``number``), and runs that no longer count (retried: their retry stands for them)."""

    def state(self) -> dict[str, np.ndarray] | None:
        """What this digest holds, as arrays that ``restore`` takes back; None when it cannot say."""
        return None

    def restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Become the digest whose ``state`` gave ``arrays`` (on a new, empty digest)."""
        raise NotImplementedError


class SweepRuns:
    """The sweep's runs: digests of those that ended for good, and the live ones (see the module)."""

    def __init__(self, digests: Mapping[str, Digest]) -> None:
        self.digests = dict(digests)
        #: The runs in other states (pending, running, crashed...), in run-number order, read at this claim.
        self.live: list[RunView] = []
        #: The store's change number these digests are up to date with (``SweepRecord.change_seq``).
        self.change_seq = 0
        #: Held while the digests change or a method reads them.
        self.lock = threading.Lock()
        self._ended: set[str] = set()

    @classmethod
    def of(cls, views: Iterable[RunView], digests: Mapping[str, Digest]) -> SweepRuns:
        """Built from every run of the sweep (not retried), in run-number order."""
        runs = cls(digests)
        views = list(views)
        if any(view.number is None for view in views):  # numbered by their place in the list
            views = [replace(view, number=i) for i, view in enumerate(views)]
        runs.update(views, ())
        runs.live = [view for view in views if view.state not in ENDED_FOR_GOOD]
        return runs

    def update(self, changed: Sequence[RunView], retried: Iterable[str]) -> None:
        """Runs that ended for good (others in ``changed`` are left to ``live``), and runs retried."""
        added = [view for view in changed if view.state in ENDED_FOR_GOOD]
        # A changed run that has not ended for good is not expected of a store: forget it anyway.
        removed = [view.id for view in changed if view.state not in ENDED_FOR_GOOD]
        removed = [run_id for run_id in [*removed, *retried] if run_id in self._ended]
        if not added and not removed:
            return
        self._ended.difference_update(removed)
        self._ended.update(view.id for view in added)
        for digest in self.digests.values():
            digest.update(added, removed)

    def __len__(self) -> int:
        """How many runs the sweep has (not retried)."""
        return len(self._ended) + len(self.live)

    def dump(self) -> bytes | None:
        """The ended runs' digests and ``change_seq`` as bytes; None when a digest cannot be saved."""
        import numpy as np

        arrays: dict[str, np.ndarray] = {
            "change_seq": np.array([self.change_seq], dtype=np.int64),
            "ended": np.array(sorted(self._ended), dtype=str),
        }
        for name, digest in self.digests.items():
            state = digest.state()
            if state is None:
                return None
            arrays.update({f"{name}/{key}": value for key, value in state.items()})
        out = io.BytesIO()
        np.savez(out, **arrays)
        return out.getvalue()

    def load(self, data: bytes) -> None:
        """Take the state ``dump`` saved (on a new ``SweepRuns`` with the same kinds of digest)."""
        import numpy as np

        with np.load(io.BytesIO(data), allow_pickle=False) as found:
            arrays = {name: found[name] for name in found.files}
        self.change_seq = int(arrays.pop("change_seq")[0])
        self._ended = set(arrays.pop("ended").tolist())
        for name, digest in self.digests.items():
            prefix = f"{name}/"
            digest.restore(
                {key[len(prefix) :]: value for key, value in arrays.items() if key.startswith(prefix)}
            )


#: The key of the digest that keeps the ended runs themselves.
ENDED_VIEWS = "ended.views"


class EndedViews(Digest):
    """The runs that ended for good, as they are: for methods that read every run afresh at each
    suggestion (bayes with several metrics, whose scalar values change with each suggestion's
    weights; the Optuna engine, which rebuilds its study)."""

    def __init__(self) -> None:
        self.views: dict[str, RunView] = {}

    def update(self, added: Sequence[RunView], removed: Iterable[str]) -> None:
        for run_id in [*removed, *(view.id for view in added)]:
            self.views.pop(run_id, None)
        for view in added:
            self.views[view.id] = view


def every_run(runs: Iterable[RunView] | SweepRuns) -> list[RunView]:
    """Every run, in run order: a ``SweepRuns`` keeping ``EndedViews`` gives its ended runs and its
    live ones."""
    if isinstance(runs, SweepRuns):
        ended = sorted(runs.digests[ENDED_VIEWS].views.values(), key=lambda view: view.number or 0)
        return ended + list(runs.live)
    return list(runs)

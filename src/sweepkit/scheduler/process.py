"""The loop of ``sweepkit scheduler ID``: keep a few suggestions of the user's study queued ahead of
the agents (``queue_points``), tell the study the results as runs end, and say through the service
that the scheduler is alive (``scheduler_heartbeat``), until the sweep is over.

Every pass reads the sweep and its runs that may have changed (new ones, those still to come, those
that ended since the last pass): runs the study does not know become trials (so a process
started again rebuilds its study from the runs, and queues nothing until the runs it finds pending
are claimed), ended runs are told, then new trials are asked and queued until ``ahead`` runs wait
for an agent (at least one per live agent), within the sweep's ``run_cap``. A queueing call whose
answer is lost fails its trials; the runs it may have made are taken in by the next pass, so no
suggestion is queued twice and none is lost.

When the sweep's config changes (``sweepkit sweep --update``), the next pass notices it, loads the
user's file again (with the function names and settings of the new config), withdraws the runs this
process queued that are still pending and that the new config does not admit (they were its own
suggestions for the old space, as a service-side method's next suggestion follows the new config;
runs queued by anyone else run as queued, as the service does), rebuilds the study from the runs,
and says so; a config that no longer names a ``source`` stops it.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any

from sweepkit import env, shutdown
from sweepkit.errors import NotFoundError, StoreError, StoreUnavailable, SweepkitError
from sweepkit.runs import FINAL_SWEEP_STATES, RunState, SweepState
from sweepkit.scheduler.trials import OPEN_STATES, Trials
from sweepkit.scheduler.user_code import UserCode
from sweepkit.values import json_safe


class SchedulerProcess:
    """One scheduler process of one sweep (see the module docstring)."""

    def __init__(
        self,
        service: Any,
        sweep_id: str,
        code: UserCode,
        *,
        ahead: int = 2,
        interval_s: float = 1.0,
        say: Callable[[str], None] = lambda message: None,
        load_code: Callable[[dict[str, Any]], UserCode] | None = None,
    ) -> None:
        """``load_code`` loads the user's file for a config's ``scheduler`` section (after the
        config changed; without it, the code given is kept)."""
        from sweepkit.service.sweep_policy import SweepPolicy

        self.service = service
        self.sweep = service.get_sweep(sweep_id)
        self.policy = SweepPolicy(self.sweep.config, source=f"sweep {self.sweep.id}")
        if self.policy.config.engine != "user":
            raise SweepkitError(
                f"sweep {self.sweep.id} has no scheduler.source in its config: the service proposes its "
                "runs, no `sweepkit scheduler` is needed"
            )
        self.code = code
        self.load_code = load_code
        #: The config the study was built for (a change is noticed by comparing with it).
        self._config = self.sweep.config
        #: Runs this process queued (the ones a config change may withdraw).
        self._mine: set[str] = set()
        self.ahead = max(1, int(ahead))
        self.interval_s = interval_s
        self.beat_every_s = min(10.0, env.heartbeat_timeout_s() / 4)
        self.say = say
        self.queued_total = 0
        self.told_total = 0
        self._last_beat = -1e18
        self._trials: Trials | None = None
        #: The newest run number a pass has read (``_changed_runs``).
        self._last_number = 0

    def beat(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_beat >= self.beat_every_s:
            self.sweep = self.service.scheduler_heartbeat(
                self.sweep.id, host=socket.gethostname(), pid=os.getpid()
            )
            self._last_beat = now
            timeout = self.sweep.scheduler.timeout_s if self.sweep.scheduler is not None else None
            if timeout:  # the service's timeout, which may not be this machine's setting
                self.beat_every_s = min(10.0, timeout / 4)

    def start(self) -> Trials:
        """The study, rebuilt from the sweep's runs."""
        runs = self.service.all_runs(self.sweep.id)
        trials = Trials(self.policy.config, self.policy.space, self.code, seed_offset=len(runs))
        trials.sync(runs)
        self._trials = trials
        self._last_number = max((run.number or 0 for run in runs), default=0)
        self.say(
            f"scheduler of sweep {self.sweep.id}: study rebuilt from {len(runs)} runs "
            f"({len(trials.open)} still to come); keeping {self.ahead} queued ahead of the agents"
        )
        return trials

    def step(self) -> bool:
        """One pass; False when the sweep is over."""
        trials = self._trials or self.start()
        self.beat()
        sweep = self.sweep = self.service.get_sweep(self.sweep.id)
        if sweep.config != self._config:
            if not self._reload(sweep):
                return False
            trials = self.start()
        runs = self._changed_runs(trials)
        self.told_total += trials.sync(runs)
        if sweep.state in FINAL_SWEEP_STATES:
            if any(run.state in (RunState.RUNNING, RunState.PREEMPTING) for run in runs):
                return True  # its last results are still to come: told before stopping
            reason = f": {sweep.state_reason}" if sweep.state_reason else ""
            self.say(f"sweep {sweep.id} is {sweep.state.value}{reason}; the scheduler stops")
            return False
        if sweep.state != SweepState.RUNNING:
            return True
        waiting = sum(1 for run in runs if run.state == RunState.PENDING)
        wanted = max(self.ahead, sweep.live_agents) - waiting
        cap = self.policy.config.run_cap
        if cap is not None:
            wanted = min(wanted, cap - sweep.run_count)
        if wanted > 0:
            self._queue(trials, wanted)
        return True

    def _reload(self, sweep: Any) -> bool:
        """The sweep's config changed: take the new one (code, settings, space) and withdraw what
        this process queued that it does not admit; False when the new config runs no scheduler."""
        from sweepkit.service.sweep_policy import SweepPolicy

        versions = self.service.config_versions(sweep.id)
        version = f"version {versions[-1].version}" if versions else "a new version"
        policy = SweepPolicy(sweep.config, source=f"sweep {sweep.id}")
        if policy.config.engine != "user":
            self.say(
                f"sweep {sweep.id}: config changed ({version}) and names no scheduler.source: the service "
                "proposes its runs now; the scheduler stops"
            )
            return False
        code = self.load_code(sweep.config.get("scheduler") or {}) if self.load_code else self.code
        fresh = Trials(policy.config, policy.space, code)
        pending = [
            run for run in self.service.all_runs(sweep.id, states=[RunState.PENDING]) if run.id in self._mine
        ]
        withdrawn = []
        for run in pending:
            if fresh.admits(dict(run.params)):
                continue
            try:
                self.service.delete_runs(sweep.id, [run.id])
            except StoreError:  # the store away: this pass ends, the next takes the change up again
                raise
            except SweepkitError:  # claimed (or deleted) meanwhile: it runs as queued
                continue
            self._mine.discard(run.id)
            withdrawn.append(run.number)
        self.policy, self.code, self._config = policy, code, sweep.config
        self._trials, self._last_number = None, 0
        if withdrawn:
            dropped = (
                f"; withdrew {len(withdrawn)} of the {len(pending)} runs it had queued that the new config "
                f"does not admit ({', '.join(map(str, sorted(withdrawn)))})"
            )
        elif pending:
            dropped = f"; the {len(pending)} runs it had queued fit the new config and stay queued"
        else:
            dropped = ""
        self.say(f"sweep {sweep.id}: config changed ({version}): {code.path} loaded again{dropped}")
        return True

    def _changed_runs(self, trials: Trials) -> list[Any]:
        """The runs this pass looks at, not every run of the sweep: those numbered after the newest
        seen, those whose result is still to come, and those the study waited for that have ended
        since (a deleted one is told failed)."""
        new = []
        after = self._last_number
        while True:
            page = self.service.list_runs(self.sweep.id, after=after, limit=1000)
            new += page.runs
            if page.next_after is None:
                break
            after = page.next_after
        # Only numbers read here move on: a run numbered lower than one seen below may be made (and
        # may end) between the two reads.
        self._last_number = max([self._last_number, *(run.number or 0 for run in new)])
        going = self.service.all_runs(self.sweep.id, states=sorted(OPEN_STATES))
        fresh = {run.id: run for run in [*new, *going]}
        for run_id in [run_id for run_id in trials.open if run_id not in fresh]:
            try:
                fresh[run_id] = self.service.get_run(run_id)
            except NotFoundError:
                trials.forget(run_id)
        return list(fresh.values())

    def _queue(self, trials: Trials, count: int) -> None:
        asked = [trials.ask() for _ in range(count)]
        numbers = [number for number, _ in asked]
        points = [json_safe(params) for _, params in asked]
        try:
            made = self.service.queue_points(self.sweep.id, points)
        except BaseException as err:
            trials.lost(numbers)
            refused = isinstance(err, SweepkitError) and not isinstance(err, StoreUnavailable)
            if refused and self.service.get_sweep(self.sweep.id).config != self._config:
                return  # points of the old config, refused by the new one: the next pass takes it up
            raise
        trials.queued(numbers, [run.id for run in made])
        self._mine.update(run.id for run in made)
        self.queued_total += len(made)
        for run in made:
            self.say(f"queued run {run.number} ({run.id}): {_shown(run.params)}")

    def run(self, *, once: bool = False) -> None:
        """Pass after pass until the sweep is over (or the process is asked to stop)."""
        self.beat(force=True)
        while True:
            try:
                if not self.step() or once:
                    return
            except StoreUnavailable as err:  # the store or server is away for longer than its retries
                self.say(f"scheduler of sweep {self.sweep.id}: {err}; trying again")
            if shutdown.wait(self.interval_s):
                self.say(f"scheduler of sweep {self.sweep.id} stopped ({shutdown.requested()})")
                return


def _shown(params: dict[str, Any]) -> str:
    text = ", ".join(f"{key}={value!r}" for key, value in params.items())
    return text if len(text) <= 200 else text[:197] + "..."

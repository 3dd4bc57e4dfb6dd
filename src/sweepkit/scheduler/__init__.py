"""The user's scheduler process (``sweepkit scheduler ID``): the user's own Optuna code, named by the
sweep config's ``scheduler.source``, proposing a sweep's runs from outside the service.

``user_code`` imports the user's file and finds its functions; ``trials`` keeps an Optuna study in
step with the sweep's runs; ``process`` is the loop that queues suggestions ahead of the agents,
tells the study the results, takes up a changed sweep config and beats the scheduler's heartbeat.
Nothing here runs in a server.
"""

from __future__ import annotations

from sweepkit.scheduler.process import SchedulerProcess
from sweepkit.scheduler.user_code import UserCode, load_user_code

__all__ = ["SchedulerProcess", "UserCode", "load_user_code"]

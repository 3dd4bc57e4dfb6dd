"""Slots: where an agent executes one run at a time, each slot with its own GPUs (or none, on CPUs).

``plan_slots`` turns ``--gpus``/``--gpus-per-run`` or ``--parallel`` into slots; the agent loop
(``loop.py``) runs in each slot. A slot's run gets the slot's ``CUDA_VISIBLE_DEVICES`` on top of the
usual run environment (``CUDA_DEVICE_ORDER=PCI_BUS_ID`` too, unless set: CUDA then numbers the GPUs as
nvidia-smi and NVML do); with several slots, the output of each run reaches the console in whole
lines after its run's id.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from sweepkit import env
from sweepkit.agents.gpus import gpu_groups, parse_gpus
from sweepkit.errors import SweepkitError


@dataclass(frozen=True)
class Slot:
    """Where one run at a time executes: its number, its GPUs, and whether other slots print beside it."""

    number: int
    gpus: tuple[str, ...] = ()
    #: Runs of other slots print to the same console: this slot's output lines carry its run's id.
    side_by_side: bool = False

    @property
    def env(self) -> dict[str, str]:
        """What the slot adds to its runs' environment: its GPUs, numbered as nvidia-smi numbers them."""
        if not self.gpus:
            return {}
        order = os.environ.get(env.CUDA_DEVICE_ORDER) or "PCI_BUS_ID"
        return {env.CUDA_VISIBLE_DEVICES: ",".join(self.gpus), env.CUDA_DEVICE_ORDER: order}

    @property
    def where(self) -> str:
        return f"GPU {','.join(self.gpus)}" if self.gpus else f"slot {self.number}"


def plan_slots(
    *,
    gpus: str | None = None,
    gpus_per_run: int | None = None,
    parallel: int | None = None,
    say: Callable[[str], None] = lambda message: None,
) -> list[Slot]:
    """The slots for ``--gpus`` (``all`` or indices) in groups of ``--gpus-per-run``, or ``--parallel``
    slots without GPUs."""
    if gpus is not None and parallel is not None:
        raise SweepkitError("give --gpus (one run per GPU group) or --parallel (runs on CPUs), not both")
    if gpus_per_run is not None and gpus is None:
        raise SweepkitError("--gpus-per-run needs --gpus (all, or GPU indices like 0,1,2,3)")
    if gpus is not None:
        chosen = parse_gpus(gpus)
        per_run = gpus_per_run or 1
        groups, left = gpu_groups(chosen, per_run)
        if left:
            say(
                f"GPU {','.join(left)} stay{'s' if len(left) == 1 else ''} unused: {len(chosen)} GPUs "
                f"make {len(groups)} group{'s' if len(groups) != 1 else ''} of {per_run}"
            )
        return [Slot(k, tuple(group), len(groups) > 1) for k, group in enumerate(groups, start=1)]
    if parallel is None or parallel < 1:
        raise SweepkitError(f"--parallel: expected 1 or more runs at once, got {parallel}")
    return [Slot(k, (), parallel > 1) for k in range(1, parallel + 1)]

"""Ray: agents as tasks on an existing Ray cluster, each asking Ray for the CPUs and GPUs its runs need.

``launch`` connects to the cluster (``address``; ``auto`` finds the one ``ray start`` began on this
machine) and starts N tasks. Each asks for ``cpus`` CPUs and K GPUs and runs this installation's
``python -m sweepkit agent ID`` as a child process, in this folder (the sweep's program is found from
there, so every node must see it: a shared filesystem) and with the connection (``connection.py``)
in its environment, handed to the task as an argument, never on a command line. Ray's
``CUDA_VISIBLE_DEVICES`` for the task says which GPUs its runs get. ``launch`` waits for the agents
and returns how each ended; Ctrl-C cancels the tasks, and each stops its agent cleanly (its run ends
``killed``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sweepkit import env
from sweepkit.errors import SweepkitError
from sweepkit.launchers.connection import AgentConnection

#: Seconds a cancelled agent gets to stop its run and record it (beyond its own kill grace).
CANCEL_WAIT_S = 60


@dataclass(frozen=True)
class AgentOutcome:
    """How one agent task ended."""

    host: str
    exit_code: int
    error: str | None = None


def run_agent(sweep_id: str, variables: dict[str, str], workdir: str) -> AgentOutcome:
    """The task: one ``sweepkit agent`` process on this node, until it exits (or the task is cancelled)."""
    from sweepkit.agents.process import own_session_dying_with_parent

    host = socket.gethostname()
    if not Path(workdir).is_dir():
        return AgentOutcome(
            host, 1, f"folder {workdir} is not on {host}: agents run the sweep's program from it"
        )
    proc = subprocess.Popen(
        [sys.executable, "-m", "sweepkit", "agent", sweep_id],
        cwd=workdir,
        env=AgentConnection(variables).environment(os.environ),
        preexec_fn=own_session_dying_with_parent,
    )
    try:
        while True:
            try:  # in short waits: ray.cancel() raises KeyboardInterrupt here only between them
                return AgentOutcome(host, proc.wait(timeout=0.5))
            except subprocess.TimeoutExpired:
                pass
    except KeyboardInterrupt:  # ray.cancel(): the agent stops its run cleanly, as on Ctrl-C
        proc.send_signal(signal.SIGINT)
        proc.wait()
        raise


def launch(
    sweep_id: str,
    agents: int,
    connection: AgentConnection,
    workdir: Path,
    *,
    address: str = "auto",
    cpus: float = 1,
    gpus_per_run: int | None = None,
    say: Callable[[str], None] = lambda message: None,
) -> list[AgentOutcome]:
    """Start ``agents`` agent tasks on the Ray cluster at ``address`` and wait for them."""
    import logging

    # Ray would merge lines of different agents that look alike ("repeated 5x across cluster").
    os.environ.setdefault(env.RAY_DEDUP_LOGS, "0")
    import ray

    try:
        ray.init(address=address, logging_level=logging.WARNING)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SweepkitError(
            f"no Ray cluster at --address {address}: {first} (start one with `ray start --head`)"
        ) from None
    try:
        task = ray.remote(run_agent).options(
            num_cpus=cpus, num_gpus=gpus_per_run or 0, name=f"sweepkit-agent-{sweep_id}"
        )
        refs = [task.remote(sweep_id, dict(connection.variables), str(workdir)) for _ in range(agents)]
        say(f"Started {agents} agent task{'s' if agents != 1 else ''} on Ray; Ctrl-C stops them cleanly")
        try:
            return ray.get(refs)
        except KeyboardInterrupt:
            for ref in refs:
                ray.cancel(ref)
            ray.wait(refs, num_returns=len(refs), timeout=CANCEL_WAIT_S + env.number(env.KILL_GRACE, 30.0))
            raise
        except ray.exceptions.RayError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SweepkitError(f"an agent task failed on Ray: {first}") from None
    finally:
        ray.shutdown()

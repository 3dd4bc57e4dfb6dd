"""SLURM: a job array whose tasks each run ``sweepkit agent`` against the sweep, submitted with sbatch.

``job_script`` writes the script: one array task per agent, each with its GPUs (``--gres=gpu:G``),
time limit and partition when asked and any other ``#SBATCH`` option given, started in this folder
(the sweep's program is found from here) with its output in ``.sweepkit/slurm/``. With a time limit,
SLURM sends the agent SIGTERM a minute and a kill grace before it, so that its runs end ``killed``
and recorded (``sweepkit sweep --retry`` runs them again) rather than cut off. Each task runs
this Python's ``-m sweepkit agent ID``, with ``--gpus all`` when it has GPUs: the
``CUDA_VISIBLE_DEVICES`` SLURM sets for the task says which, and each run gets its own share.
``submit`` hands the script to ``sbatch`` with the connection (``connection.py``) in sbatch's
environment, which ``--export=ALL`` passes on to the tasks: a token or a database password is never
on sbatch's command line nor in the script file.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sweepkit import env
from sweepkit.errors import SweepkitError

#: Where scripts and the tasks' output go, under the folder the job starts in.
SLURM_DIR = Path(env.DEFAULT_STORE_DIR) / "slurm"


@dataclass(frozen=True)
class SlurmJob:
    """A job array of ``agents`` sweepkit agents for one sweep."""

    sweep_id: str
    agents: int
    workdir: Path
    gpus_per_agent: int | None = None
    gpus_per_run: int | None = None
    time: str | None = None
    partition: str | None = None
    #: More ``#SBATCH`` options, as sbatch takes them (``--account=ml``, ``--mem=32G``).
    options: Sequence[str] = field(default_factory=tuple)
    #: The Python that runs the agents (this one: the same installation, on a shared filesystem).
    python: str = sys.executable

    def __post_init__(self) -> None:
        if self.gpus_per_run and not self.gpus_per_agent:
            raise SweepkitError("--gpus-per-run needs --gpus-per-agent (the GPUs each agent asks SLURM for)")
        if self.gpus_per_run and self.gpus_per_agent and self.gpus_per_run > self.gpus_per_agent:
            raise SweepkitError(
                f"--gpus-per-run {self.gpus_per_run} is more than an agent's {self.gpus_per_agent} GPUs "
                "(--gpus-per-agent)"
            )

    @property
    def stop_warning_s(self) -> int:
        """Seconds before the time limit the agents are told to stop: their runs' grace, and a minute."""
        return int(env.number(env.KILL_GRACE, 30.0)) + 60

    @property
    def name(self) -> str:
        return f"sweepkit-{self.sweep_id}"

    def agent_command(self) -> list[str]:
        command = [self.python, "-m", "sweepkit", "agent", self.sweep_id]
        if self.gpus_per_agent:
            command += ["--gpus", "all", "--gpus-per-run", str(self.gpus_per_run or 1)]
        return command


def job_script(job: SlurmJob, connection_names: str) -> str:
    """The sbatch script of ``job``; ``connection_names`` names the variables it expects from sbatch."""
    logs = job.workdir / SLURM_DIR / f"{job.sweep_id}-%A_%a.log"
    directives = [
        f"--job-name={job.name}",
        f"--array=0-{job.agents - 1}",
        "--ntasks=1",
        f"--chdir={job.workdir}",
        f"--output={logs}",
        "--export=ALL",
    ]
    if job.gpus_per_agent:
        directives.append(f"--gres=gpu:{job.gpus_per_agent}")
    if job.time:
        # SIGTERM to the agent (the script execs it) before the limit: it stops its runs cleanly.
        directives += [f"--time={job.time}", f"--signal=B:TERM@{job.stop_warning_s}"]
    if job.partition:
        directives.append(f"--partition={job.partition}")
    directives += list(job.options)
    lines = ["#!/bin/bash", *(f"#SBATCH {d}" for d in directives)]
    lines += [
        f"# {job.agents} sweepkit agent{'s' if job.agents != 1 else ''} of sweep {job.sweep_id}, one per array task.",
        f"# Where they find the sweep ({connection_names}) comes from the environment sbatch was",
        "# given (--export=ALL), not from this file.",
        f"exec {shlex.join(job.agent_command())}",
    ]
    return "\n".join(lines) + "\n"


def write_script(job: SlurmJob, script: str) -> Path:
    """Save the script in the job's folder; returns its path."""
    folder = job.workdir / SLURM_DIR
    folder.mkdir(parents=True, exist_ok=True)
    taken = [p.stem.rpartition("-")[2] for p in folder.glob(f"{job.sweep_id}-*.sbatch")]
    number = 1 + max((int(n) for n in taken if n.isdigit()), default=0)
    path = folder / f"{job.sweep_id}-{number}.sbatch"
    path.write_text(script, encoding="utf-8")
    return path


def submit(script_path: Path, environ: Mapping[str, str]) -> str:
    """``sbatch`` the script with ``environ``; returns the job's id."""
    try:
        out = subprocess.run(
            ["sbatch", "--parsable", str(script_path)],
            env=dict(environ),
            capture_output=True,
            text=True,
            timeout=300,
        )
    except FileNotFoundError:
        raise SweepkitError(
            "sbatch not found: run this on a SLURM login node (--dry-run prints the script)"
        ) from None
    except subprocess.TimeoutExpired:
        raise SweepkitError("sbatch did not answer within 300 s; the job may or may not be queued") from None
    if out.returncode != 0:
        why = (out.stderr.strip() or out.stdout.strip() or f"exit code {out.returncode}").splitlines()[0]
        raise SweepkitError(f"sbatch refused the job: {why} (script: {script_path})")
    job_id = out.stdout.strip().splitlines()[-1].split(";")[0] if out.stdout.strip() else ""
    if not job_id:
        raise SweepkitError(f"sbatch printed no job id (script: {script_path})")
    return job_id

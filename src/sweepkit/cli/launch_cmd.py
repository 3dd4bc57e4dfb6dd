"""``sweepkit slurm|k8s|ray ID --agents N``: start N agents of a sweep on a cluster's own engine.

Each command finds the sweep through the service (so a wrong id or store fails here, not in N
agents) and gives the agents the same store or server (``launchers/connection.py``), through the
environment. Messages go to stderr; stdout holds only what a script may want: the SLURM job id, the
Kubernetes Job's name, or with ``--dry-run`` the script or manifest.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from sweepkit.cli.common import db_option, friendly_errors, open_service, say

_agents = click.option(
    "--agents", type=click.IntRange(min=1), required=True, metavar="N", help="Number of agents to start."
)
_gpus_per_run = click.option(
    "--gpus-per-run",
    type=click.IntRange(min=1),
    metavar="K",
    help="GPUs each run gets (default 1): an agent with G GPUs runs G/K runs at once.",
)
_dry_run = click.option("--dry-run", is_flag=True, help="Print what would be submitted; submit nothing.")


def _target(sweep_id: str, db: str | None):
    """The sweep (it must still hand out runs) and the connection its agents get."""
    from sweepkit.api import SweepRef
    from sweepkit.errors import SweepkitError
    from sweepkit.launchers.connection import agent_connection

    ref = SweepRef.parse(sweep_id)
    service = open_service(db)
    try:
        sweep = service.get_sweep(ref.id, project=ref.project, entity=ref.entity)
    finally:
        service.close()
    if sweep.state.value in ("finished", "stopped", "cancelled"):
        why = f" ({sweep.state_reason})" if sweep.state_reason else ""
        raise SweepkitError(
            f"sweep {sweep.id} is {sweep.state.value}{why}: its agents would stop at once "
            f"(sweepkit sweep --retry {sweep.id} queues its failed, crashed and killed runs again)"
        )
    return sweep, agent_connection(db)


def _notes(connection) -> None:
    """Say what may keep agents on other machines from the sweep."""
    if connection.sqlite:
        say(
            f"note: the store is a SQLite file ({connection.store}): agents on other machines need it on a "
            "shared filesystem, where SQLite's locking is often unreliable; PostgreSQL or a sweepkit "
            "server serves many machines better"
        )
    if connection.local_only:
        where = connection.server or "the database"
        say(f"note: {where} is at a loopback address: agents on other machines cannot reach it")


@click.command("slurm")
@click.argument("sweep_id", metavar="ID")
@_agents
@click.option(
    "--gpus-per-agent", type=click.IntRange(min=1), metavar="G", help="GPUs each agent asks SLURM for."
)
@_gpus_per_run
@click.option("--time", metavar="T", help="Time limit of each agent (sbatch --time, e.g. 4:00:00).")
@click.option("--partition", metavar="P", help="SLURM partition (sbatch --partition).")
@click.option(
    "--sbatch-option",
    "sbatch_options",
    multiple=True,
    metavar="OPTION",
    help="Another #SBATCH line, e.g. --sbatch-option=--account=ml (repeatable).",
)
@_dry_run
@db_option
@friendly_errors
def slurm(sweep_id, agents, gpus_per_agent, gpus_per_run, time, partition, sbatch_options, dry_run, db):
    """Submit a SLURM job array of N agents of sweep ID (one per array task); prints the job id.

    The agents use this command's store or server, passed through sbatch's environment (a token or a
    database password never appears on a command line or in the script).
    """
    from sweepkit.launchers.slurm import SLURM_DIR, SlurmJob, job_script, submit, write_script

    sweep, connection = _target(sweep_id, db)
    job = SlurmJob(
        sweep_id=sweep.id,
        agents=agents,
        workdir=Path.cwd(),
        gpus_per_agent=gpus_per_agent,
        gpus_per_run=gpus_per_run,
        time=time,
        partition=partition,
        options=tuple(sbatch_options),
    )
    script = job_script(job, connection.names())
    _notes(connection)
    if dry_run:
        click.echo(script, nl=False)
        say(f"not submitted (--dry-run); sbatch would pass {connection.names()} from this environment")
        return
    path = write_script(job, script)
    job_id = submit(path, connection.environment(os.environ))
    click.echo(job_id)
    say(
        f"Submitted job array {job_id}: {agents} agent{'s' if agents != 1 else ''} of sweep {sweep.id} "
        f"(script {path}; output {SLURM_DIR}/{sweep.id}-{job_id}_*.log); follow it with: sweepkit watch {sweep.id}"
    )


@click.command("k8s")
@click.argument("sweep_id", metavar="ID")
@_agents
@click.option("--image", required=True, help="Container image with sweepkit and the sweep's program.")
@click.option(
    "--gpus", type=click.IntRange(min=1), metavar="G", help="GPUs of each agent's pod (nvidia.com/gpu)."
)
@_gpus_per_run
@click.option("--namespace", help="Namespace (default: the kubeconfig context's, else default).")
@_dry_run
@db_option
@friendly_errors
def k8s(sweep_id, agents, image, gpus, gpus_per_run, namespace, dry_run, db):
    """Run N agents of sweep ID as a Kubernetes Job; prints the Job's name (with --dry-run, its YAML).

    The pods need a sweepkit server (--server, SWEEPKIT_URL) or a PostgreSQL store they can reach;
    its address and token reach them from a Secret, never from the Job.
    """
    from sweepkit.errors import SweepkitError
    from sweepkit.launchers.kubernetes import KubeJob, apply, manifest

    sweep, connection = _target(sweep_id, db)
    if connection.sqlite:
        raise SweepkitError(
            f"Kubernetes pods cannot open the SQLite file {connection.store}: give a sweepkit server "
            "(--server or SWEEPKIT_URL) or a PostgreSQL store the pods can reach (--db or SWEEPKIT_DB)"
        )
    _notes(connection)
    spec = KubeJob(sweep_id=sweep.id, agents=agents, image=image, gpus=gpus, gpus_per_run=gpus_per_run)
    if dry_run:
        click.echo(manifest(spec, connection), nl=False)
        say("not applied (--dry-run)")
        return
    where = apply(spec, connection, namespace)
    click.echo(spec.name)
    say(
        f"Created Job {spec.name} in namespace {where}: {agents} agent pod{'s' if agents != 1 else ''} of sweep "
        f"{sweep.id}; follow it with: sweepkit watch {sweep.id} (pods: kubectl get pods -l job-name={spec.name})"
    )


@click.command("ray")
@click.argument("sweep_id", metavar="ID")
@_agents
@_gpus_per_run
@click.option(
    "--cpus-per-agent",
    type=click.FloatRange(min=0),
    default=1,
    show_default=True,
    help="CPUs each agent task asks for.",
)
@click.option(
    "--address",
    default="auto",
    show_default=True,
    help="The Ray cluster (auto: the one started on this machine).",
)
@db_option
@friendly_errors
def ray(sweep_id, agents, gpus_per_run, cpus_per_agent, address, db):
    """Run N agents of sweep ID as tasks on an existing Ray cluster and wait for them.

    Each agent runs one run at a time with --gpus-per-run GPUs from Ray. Exits 1 when an agent failed.
    """
    from sweepkit.launchers.ray import launch

    sweep, connection = _target(sweep_id, db)
    _notes(connection)
    try:
        outcomes = launch(
            sweep.id,
            agents,
            connection,
            Path.cwd(),
            address=address,
            cpus=cpus_per_agent,
            gpus_per_run=gpus_per_run,
            say=say,
        )
    except KeyboardInterrupt:
        say("interrupted: the agent tasks were cancelled and stopped their runs")
        raise SystemExit(130) from None
    for number, outcome in enumerate(outcomes, start=1):
        how = f"exited {outcome.exit_code}" + (f": {outcome.error}" if outcome.error else "")
        say(f"agent {number} on {outcome.host} {how}")
    raise SystemExit(1 if any(o.exit_code for o in outcomes) else 0)

"""Kubernetes: a Job whose pods are agents of the sweep, built from the official client's models.

``build_job`` makes the Job: ``parallelism`` N pods, a work queue (no ``completions``: the Job is
complete once an agent has exited 0, which it does when the sweep has nothing more to hand out, and
the others have ended; a failed pod is replaced up to ``backoffLimit`` times), each running
``sweepkit agent ID`` in the image, with G GPUs (``nvidia.com/gpu`` requested and limited) and then
``--gpus all``; a pod told to stop has its runs' kill grace and a minute before it is killed. The
connection (a server's URL and token, or a database URL) reaches the pods from a Secret
(``envFrom``), never from the Job itself. ``apply`` creates the Secret, then the Job, and makes the
Job the Secret's owner (deleting the Job deletes it); ``manifest`` is the Job as YAML.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from typing import Any

from sweepkit import env
from sweepkit.errors import SweepkitError
from sweepkit.launchers.connection import AgentConnection

#: The extended resource NVIDIA's device plugin offers GPUs as.
GPU_RESOURCE = "nvidia.com/gpu"


@dataclass(frozen=True)
class KubeJob:
    """N agents of one sweep as a Kubernetes Job (its Secret has the same name)."""

    sweep_id: str
    agents: int
    image: str
    gpus: int | None = None
    gpus_per_run: int | None = None
    #: ``sweepkit-<sweep id>-<5 random characters>``: launching again makes another Job.
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            suffix = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(5))
            object.__setattr__(self, "name", f"sweepkit-{self.sweep_id}-{suffix}")
        if self.gpus_per_run and not self.gpus:
            raise SweepkitError("--gpus-per-run needs --gpus (the GPUs each agent's pod asks for)")
        if self.gpus_per_run and self.gpus and self.gpus_per_run > self.gpus:
            raise SweepkitError(
                f"--gpus-per-run {self.gpus_per_run} is more than a pod's {self.gpus} GPUs (--gpus)"
            )

    @property
    def stop_grace_s(self) -> int:
        """Seconds a pod told to stop (the Job deleted, a node drained) has before it is killed: its
        runs' kill grace, and a minute for the agent to record them."""
        return int(env.number(env.KILL_GRACE, 30.0)) + 60

    @property
    def labels(self) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": "sweepkit",
            "app.kubernetes.io/component": "agent",
            "sweepkit/sweep": self.sweep_id,
        }

    def agent_command(self) -> list[str]:
        command = ["sweepkit", "agent", self.sweep_id]
        if self.gpus:
            command += ["--gpus", "all", "--gpus-per-run", str(self.gpus_per_run or 1)]
        return command


def build_job(spec: KubeJob) -> Any:
    """The ``V1Job`` of ``spec``."""
    from kubernetes import client

    resources = None
    if spec.gpus:
        amount = {GPU_RESOURCE: str(spec.gpus)}
        resources = client.V1ResourceRequirements(requests=amount, limits=dict(amount))
    container = client.V1Container(
        name="agent",
        image=spec.image,
        command=spec.agent_command(),
        env_from=[client.V1EnvFromSource(secret_ref=client.V1SecretEnvSource(name=spec.name))],
        resources=resources,
    )
    pod = client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=spec.labels),
        spec=client.V1PodSpec(
            containers=[container],
            restart_policy="Never",
            termination_grace_period_seconds=spec.stop_grace_s,
        ),
    )
    return client.V1Job(
        api_version="batch/v1",
        kind="Job",
        metadata=client.V1ObjectMeta(name=spec.name, labels=spec.labels),
        spec=client.V1JobSpec(parallelism=spec.agents, backoff_limit=spec.agents, template=pod),
    )


def build_secret(spec: KubeJob, connection: AgentConnection) -> Any:
    """The ``V1Secret`` the Job's pods take the connection from."""
    from kubernetes import client

    return client.V1Secret(
        api_version="v1",
        kind="Secret",
        metadata=client.V1ObjectMeta(name=spec.name, labels=spec.labels),
        type="Opaque",
        string_data=dict(connection.variables),
    )


def manifest(spec: KubeJob, connection: AgentConnection) -> str:
    """The Job as YAML (``kubectl apply -f``), after comments on the Secret it needs."""
    import yaml
    from kubernetes import client

    keys = ", ".join(sorted(connection.variables))
    header = [
        f"# {spec.agents} sweepkit agent{'s' if spec.agents != 1 else ''} of sweep {spec.sweep_id}. Their pods take {keys}",
        f"# from the Secret {spec.name}, which sweepkit k8s creates without --dry-run; by hand:",
        f"#   kubectl create secret generic {spec.name} --from-env-file=<(env | grep -E '^({'|'.join(sorted(connection.variables))})=')",
    ]
    body = yaml.safe_dump(client.ApiClient().sanitize_for_serialization(build_job(spec)), sort_keys=False)
    return "\n".join(header) + "\n" + body


def apply(spec: KubeJob, connection: AgentConnection, namespace: str | None = None) -> str:
    """Create the Secret and the Job in the cluster of the current kubeconfig context (or the one this
    runs in); returns the namespace."""
    from kubernetes import client

    namespace = _load_config(namespace)
    core, batch = client.CoreV1Api(), client.BatchV1Api()
    _call("create the Secret", core.create_namespaced_secret, namespace, build_secret(spec, connection))
    try:
        job = _call("create the Job", batch.create_namespaced_job, namespace, build_job(spec))
    except SweepkitError:
        _call("delete the Secret", core.delete_namespaced_secret, spec.name, namespace)
        raise
    owner = {"apiVersion": "batch/v1", "kind": "Job", "name": spec.name, "uid": job.metadata.uid}
    _call(
        "make the Job own its Secret",
        core.patch_namespaced_secret,
        spec.name,
        namespace,
        {"metadata": {"ownerReferences": [owner]}},
    )
    return namespace


def _load_config(namespace: str | None) -> str:
    """Load the kubeconfig (or the in-cluster configuration); returns the namespace to use."""
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    try:
        config.load_kube_config()
        _contexts, current = config.list_kube_config_contexts()
        return namespace or current.get("context", {}).get("namespace") or "default"
    except ConfigException as exc:
        try:
            config.load_incluster_config()
        except ConfigException:
            raise SweepkitError(
                f"no Kubernetes cluster configured: {exc} (set KUBECONFIG or ~/.kube/config; --dry-run prints the Job)"
            ) from None
        return namespace or "default"


def _call(what: str, method, *args) -> Any:
    """One API call; its failure as one sentence."""
    from kubernetes.client.rest import ApiException
    from urllib3.exceptions import HTTPError

    try:
        return method(*args)
    except ApiException as exc:
        try:
            reason = json.loads(exc.body or "{}").get("message") or exc.reason
        except (ValueError, AttributeError):
            reason = exc.reason
        raise SweepkitError(f"Kubernetes did not {what}: {exc.status} {reason}") from None
    except HTTPError as exc:
        raise SweepkitError(f"cannot reach the Kubernetes API server to {what}: {exc}") from None

"""Which GPUs an agent may use: ``--gpus all`` or a list, and the groups of them its runs get.

``all`` means the GPUs a scheduler gave the agent in ``CUDA_VISIBLE_DEVICES`` (SLURM, Ray and some
Kubernetes setups set it), else every GPU of the machine, found through NVML (the ``gpu`` extra,
``nvidia-ml-py``) or, without it, ``nvidia-smi``. A GPU is named as ``CUDA_VISIBLE_DEVICES`` names
it (an index, or a ``GPU-``/``MIG-`` UUID) and given to runs in groups of ``per_run``.
"""

from __future__ import annotations

import os
import subprocess

from sweepkit import env
from sweepkit.errors import SweepkitError

#: Seconds ``nvidia-smi`` may take to list the GPUs.
NVIDIA_SMI_TIMEOUT_S = 30


def parse_gpus(spec: str) -> list[str]:
    """The GPUs ``--gpus`` names: ``all`` (see the module docstring) or a comma-separated list."""
    text = spec.strip()
    if text.lower() == "all":
        return visible_gpus()
    gpus = [part.strip() for part in text.split(",")]
    if not all(gpus):
        raise SweepkitError(f"--gpus: expected 'all' or GPU indices like 0,1,2,3, got {spec!r}")
    if len(set(gpus)) != len(gpus):
        raise SweepkitError(f"--gpus: a GPU is named twice in {spec!r}")
    return gpus


def visible_gpus() -> list[str]:
    """The GPUs this agent may use: the scheduler's ``CUDA_VISIBLE_DEVICES``, else the machine's."""
    given = os.environ.get(env.CUDA_VISIBLE_DEVICES)
    if given is not None:
        gpus = [part.strip() for part in given.split(",") if part.strip()]
        # CUDA ignores everything from the first invalid entry on; -1 is the usual "none".
        if "-1" in gpus:
            gpus = gpus[: gpus.index("-1")]
        if not gpus:
            raise SweepkitError(f"--gpus all: {env.CUDA_VISIBLE_DEVICES}={given!r} leaves this agent no GPU")
        return gpus
    gpus = _nvml_gpus()
    if gpus is None:
        gpus = _nvidia_smi_gpus()
    if not gpus:
        raise SweepkitError("--gpus all: the NVIDIA driver reports no GPU on this machine")
    return gpus


def _nvml_gpus() -> list[str] | None:
    """The GPUs' indices through NVML, or None when NVML is not installed or not usable here."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return None  # no driver library: nvidia-smi says why in its own words
    try:
        return [str(i) for i in range(pynvml.nvmlDeviceGetCount())]
    finally:
        pynvml.nvmlShutdown()


def _nvidia_smi_gpus() -> list[str]:
    """The GPUs' indices as ``nvidia-smi`` lists them."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT_S,
        )
    except FileNotFoundError:
        raise SweepkitError(
            "--gpus all: no GPU found: neither NVML (pip install 'sweepkit[gpu]') nor nvidia-smi is "
            "available here; name the GPUs (--gpus 0,1) or run on CPUs with --parallel N"
        ) from None
    except subprocess.TimeoutExpired:
        raise SweepkitError(
            f"--gpus all: nvidia-smi did not answer within {NVIDIA_SMI_TIMEOUT_S} s; name the GPUs (--gpus 0,1)"
        ) from None
    if out.returncode != 0:
        why = (out.stderr.strip() or out.stdout.strip() or f"exit code {out.returncode}").splitlines()[0]
        raise SweepkitError(f"--gpus all: nvidia-smi failed: {why}")
    gpus = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    if not all(gpu.isdigit() for gpu in gpus):
        raise SweepkitError(
            f"--gpus all: cannot read nvidia-smi's list of GPUs: {out.stdout.strip()[:200]!r}"
        )
    return gpus


def gpu_groups(gpus: list[str], per_run: int) -> tuple[list[list[str]], list[str]]:
    """``gpus`` in groups of ``per_run``, one per run at a time; and the GPUs left over."""
    if per_run < 1:
        raise SweepkitError(f"--gpus-per-run: expected 1 or more, got {per_run}")
    if per_run > len(gpus):
        raise SweepkitError(
            f"--gpus-per-run {per_run}: this agent has only {len(gpus)} GPU{'s' if len(gpus) != 1 else ''} "
            f"({','.join(gpus)})"
        )
    count = len(gpus) // per_run
    groups = [gpus[k * per_run : (k + 1) * per_run] for k in range(count)]
    return groups, gpus[count * per_run :]

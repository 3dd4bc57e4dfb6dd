"""The run process alone in two checkouts, interleaved: what starting a program run costs.

    python benchmarks/run_start.py BEFORE AFTER [--rounds 20]

Each round starts the trivial program of ``benchmarks/overhead.py`` (``import sweepkit``, ``init()``,
one ``log()``, ``finish()``) as an agent starts it (a run file, an events file, no store) once per
checkout, in alternating order, with ``PYTHONPATH`` naming the checkout's ``src``; then once more each
with no bytecode to read or write (``PYTHONDONTWRITEBYTECODE=1`` and an empty ``PYTHONPYCACHEPREFIX``:
every module compiled from source, as in an environment that never writes ``.pyc`` files). It prints
the median wall time and CPU time (user + system of the process) of each, and the load average: on
a busy machine the CPU time is the number to read.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROGRAM = (
    'import sweepkit\nrun = sweepkit.init()\nsweepkit.log({"loss": run.config["x"]})\nsweepkit.finish()\n'
)


def start(checkout: Path, work: Path, cached: bool) -> tuple[float, float]:
    """One run process: (wall ms, CPU ms)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        PYTHONPATH=str(checkout / "src"),
        SWEEPKIT_RUN_FILE=str(work / "run.json"),
        SWEEPKIT_EVENTS_FILE=str(work / "events.jsonl"),
    )
    if not cached:
        env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=str(work / "no-cache"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run([sys.executable, str(work / "trivial_run.py")], env=env, check=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall * 1000, cpu * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rounds", type=int, default=20)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sweepkit-run-start-"))
    (work / "trivial_run.py").write_text(PROGRAM)
    run = {"run_id": "r1", "run_name": "r1", "sweep_id": "s1", "config": {"x": 0.5}}
    (work / "run.json").write_text(json.dumps(run))
    sides = {"before": opts.before.resolve(), "after": opts.after.resolve()}
    for checkout in sides.values():
        start(checkout, work, cached=True)  # writes the checkout's bytecode
    found: dict[tuple[bool, str], list[tuple[float, float]]] = {}
    loads = [os.getloadavg()[0]]
    for i in range(opts.rounds):
        order = list(sides.items()) if i % 2 == 0 else list(sides.items())[::-1]
        for cached in (True, False):
            for name, checkout in order:
                found.setdefault((not cached, name), []).append(start(checkout, work, cached))
        loads.append(os.getloadavg()[0])
    print(f"the run process alone, {opts.rounds} rounds, interleaved: median ms per run")
    print(f"{'checkout':9} {'bytecode':10} {'wall':>8} {'CPU':>8}")
    for (uncached, name), values in sorted(found.items()):
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        print(f"{name:9} {'none' if uncached else 'cached':10} {wall:8.1f} {cpu:8.1f}")
    print("load average (1 min) at start and after each round:", " ".join(f"{x:.1f}" for x in loads))


if __name__ == "__main__":
    main()

"""The CPU time of a bayes claim through the service on SQLite: a new process's first claim, and the later ones.

    python benchmarks/claim_cpu.py [--runs 10000] [--claims 20] [--repeat 3] [--gc-freeze] [--cold]
        [--profile first|later]

A SQLite sweep (the bayes space of ``claim_cost.py``, with a seed, so that every process makes the
same suggestions) is filled with ``--runs`` finished runs and claimed once (the store then keeps
its snapshot) into a template file, once. Each repeat copies the file and starts a new process
that imports what the benchmark's agents import (``sweepkit.search.bayes`` included; with
``--cold`` only what ``sweepkit agent`` imports before it claims, so that the first claim imports
the model's modules, NumPy and SciPy), then makes ``--claims`` + 1 claims, each logged and finished
before the next: the CPU time of the first claim (a new process: the store's snapshot, the SQL
statements, the model's first use) and the median of the later ones, with a hash of every
suggestion (equal hashes: the same suggestions, bit for bit). CPU time, not wall time: the machine
is shared. ``--gc-freeze`` calls ``gc.freeze()`` after the imports (a full collection then skips the
objects the imports made). ``--profile`` prints cProfile's view of the first claim, or of 10 later
ones, instead.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import closing
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

SEED = 7


def _sibling(name: str):
    """A benchmark module of this folder (kept off the import path: see benchmarks/overhead.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _template(runs: int, folder: Path) -> tuple[Path, str]:
    """A SQLite file with a seeded bayes sweep of ``runs`` finished runs, claimed once."""
    import random

    from sweepkit.connect import open_local

    cost = _sibling("claim_cost")
    path = folder / f"template-{runs}.db"
    random.seed(1)
    with closing(open_local(str(path), create=True)) as service:
        sweep_id = service.create_sweep({**cost._config("bayes"), "seed": SEED}).id
        cost._fill(service, sweep_id, "bayes", runs)
        cost._claim(service, sweep_id, service.register_agent(sweep_id, host="bench", pid=os.getpid()))
    return path, sweep_id


def _child(db: str, sweep_id: str, claims: int, profile: str | None, gc_freeze: bool, cold: bool) -> None:
    """One new process: its claims' CPU times and suggestions as one line of JSON (or a profile)."""
    import gc
    import random

    import sweepkit.agents.loop  # noqa: F401 - what `sweepkit agent` imports before it claims
    import sweepkit.cli.main  # noqa: F401
    from sweepkit.connect import connect

    if not cold:
        import sweepkit.search.bayes  # noqa: F401 - the imports claim_cost.py's agents make first
        import sweepkit.sweep_config  # noqa: F401
    from sweepkit.runs import RunState
    from sweepkit.service.types import LogBatch

    if gc_freeze:
        gc.freeze()
    random.seed(2)
    cost = None
    with closing(connect(db)) as service:
        agent = service.register_agent(sweep_id, host="bench", pid=os.getpid())

        def claim() -> tuple[float, dict]:
            start = time.process_time()
            found = service.claim_run(sweep_id, agent, uuid.uuid4().hex)
            took = time.process_time() - start
            nonlocal cost
            cost = cost or _sibling("claim_cost")
            run_id, params = found.assignment.run_id, found.assignment.params
            service.log(run_id, LogBatch(seq=1, rows=[{"_step": 0, "loss": cost._loss(params)}]))
            service.finish_run(run_id, RunState.FINISHED, exit_code=0)
            return took, params

        if profile:
            import cProfile
            import pstats

            if profile == "later":
                claim()
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(1 if profile == "first" else 10):
                claim()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(50)
            return
        found = [claim() for _ in range(claims + 1)]
    digest = hashlib.sha1(json.dumps([p for _, p in found], sort_keys=True).encode()).hexdigest()[:16]
    print(json.dumps({"first": found[0][0], "later": [t for t, _ in found[1:]], "suggestions": digest}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--claims", type=int, default=20, help="later claims timed in each process")
    parser.add_argument("--repeat", type=int, default=3, help="new processes, one after the other")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after the imports")
    parser.add_argument("--cold", action="store_true", help="the first claim imports the model's modules")
    parser.add_argument("--profile", choices=["first", "later"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.claims, args.profile, args.gc_freeze, args.cold)
        return
    folder = Path(tempfile.mkdtemp(prefix="claim-cpu-"))
    try:
        template, sweep_id = _template(args.runs, folder)
        firsts, laters, digests = [], [], set()
        for i in range(1 if args.profile else args.repeat):
            db = folder / f"claims-{i}.db"
            shutil.copy(template, db)
            command = [sys.executable, __file__, "--child", str(db), sweep_id, "--claims", str(args.claims)]
            command += (
                ["--gc-freeze"] * args.gc_freeze
                + ["--cold"] * args.cold
                + (["--profile", args.profile] if args.profile else [])
            )
            out = subprocess.run(command, check=True, capture_output=not args.profile, text=True)
            if args.profile:
                continue
            result = json.loads(out.stdout.strip().splitlines()[-1])
            firsts.append(result["first"])
            laters.append(statistics.median(result["later"]))
            digests.add(result["suggestions"])
        if args.profile:
            return
        how = " (cold imports)" * args.cold + " (gc.freeze)" * args.gc_freeze
        print(f"bayes, {args.runs:,} runs, SQLite, {args.repeat} new processes{how} (CPU time, ms):")
        print(f"  first claim:           {', '.join(f'{t * 1000:.1f}' for t in firsts)}")
        print(f"  later claims (median): {', '.join(f'{t * 1000:.1f}' for t in laters)}")
        print(f"  suggestions: {', '.join(sorted(digests))}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

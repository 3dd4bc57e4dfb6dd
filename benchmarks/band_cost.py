"""What hyperband costs as a sweep grows: a log call that reaches a band, and ``band_thresholds``.

    python benchmarks/band_cost.py [--sizes 100,1000,10000] [--calls 30] [--postgres URL] [--no-sqlite]

For each store (a fresh SQLite file; PostgreSQL in a fresh schema when a URL is given or
SWEEPKIT_TEST_POSTGRES_URL is set) and size, a random sweep with ``early_terminate: {type:
hyperband, min_iter: 3, eta: 3}`` (bands 3, 9, 27) is filled with that many ended runs straight
through the store, in one transaction: each logged 3 to 27 values of the metric (so it reached band
3, and most of them 9 or 27), the runs that stopped before 27 killed, the others finished. Then,
``--calls`` times: a run is claimed and logs 2 values (not timed), then logs its 3rd, which takes
it into band 3, so the service decides under the sweep's lock whether to stop it (timed: the median
of these ``log`` calls, after one shown apart: the first in a new service, which reads what it keeps
from the store; some are stopped), then it is ended (killed or finished, not timed). ``band_thresholds`` (what the dashboard draws) is then called ``--calls`` times, after one
call that is shown apart (the first in a new service: it reads what it keeps from the store). The
table shows the median wall time and the median CPU time of the call in this process (the service's
work, and SQLite's; not PostgreSQL's server). The machine's load average is printed with the table.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import closing
from dataclasses import replace
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sweepkit.connect import open_local  # noqa: E402
from sweepkit.runs import MetricStats, RunState  # noqa: E402
from sweepkit.service.types import LogBatch  # noqa: E402
from sweepkit.store import NewRun, new_id  # noqa: E402

BANDS = (3, 9, 27)
CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1}},
    "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 3},
    "program": "train.py",
}


def _curve(rng: random.Random, n: int) -> list[float]:
    """A made-up learning curve: a run's level, falling with each iteration, with a little noise."""
    level = rng.uniform(0.5, 2.0)
    return [level * (1 + 2 / (i + 1)) + rng.gauss(0, 0.02) for i in range(n)]


def _fill(service, sweep_id: str, n: int) -> float:
    """``n`` ended runs in the sweep, written through the store in one transaction; seconds taken."""
    start = time.perf_counter()
    rng = random.Random(0)

    def tx(t):
        t.lock_sweep(sweep_id)
        new = [
            NewRun(new_id(), sweep_id=sweep_id, number=i + 1, project=None, name=f"fill-{i + 1}", params={})
            for i in range(n)
        ]
        t.insert_pending_runs(new)
        t.set_run_counts(sweep_id, run_count=n, retry_count=0)
        for run in new:
            count = rng.choice([3, 5, 9, 12, 27, 27])
            values = _curve(rng, count)
            target = t.log_target(run.id)
            metric = MetricStats().add(values, BANDS)
            logged = replace(
                target, summary={"loss": values[-1]}, metric=metric, last_step=count - 1, log_seq=1
            )
            t.update_logged(logged)
            state = RunState.FINISHED if count == 27 else RunState.KILLED
            t.end_run(run.id, state, exit_code=0, error=None, from_states=[RunState.PENDING])

    service.store.transact(tx)
    return time.perf_counter() - start


def _timed(call) -> tuple[float, float]:
    start, start_cpu = time.perf_counter(), time.thread_time()
    call()
    return time.perf_counter() - start, time.thread_time() - start_cpu


def _measure(db: str, n: int, calls: int) -> dict[str, tuple[float, float] | float]:
    """Median (wall, CPU) seconds of a log reaching band 3 and of ``band_thresholds``, on a fresh sweep
    of ``n`` ended runs; the first ``band_thresholds`` of a new service; the fill's seconds."""
    rng = random.Random(1)
    with closing(open_local(db, create=True)) as service:
        sweep_id = service.create_sweep(CONFIG).id
        filled = _fill(service, sweep_id, n)
    with closing(open_local(db)) as service:
        agent = service.register_agent(sweep_id, host="bench", pid=os.getpid())
        logs, stopped = [], 0
        for i in range(calls + 1):  # the first warms this process's caches (its policy, what it keeps)
            run_id = service.claim_run(sweep_id, agent, uuid.uuid4().hex).assignment.run_id
            values = _curve(rng, 3)
            service.log(run_id, LogBatch(1, [{"_step": s, "loss": v} for s, v in enumerate(values[:2])]))
            acks: list = []
            batch = LogBatch(2, [{"_step": 2, "loss": values[2]}])
            took = _timed(lambda r=run_id, b=batch, a=acks: a.append(service.log(r, b)))
            if i:
                logs.append(took)
                stopped += acks[0].stop_requested
            else:
                first_log = took
            service.finish_run(run_id, RunState.KILLED if acks[0].stop_requested else RunState.FINISHED)
    with closing(open_local(db)) as service:
        first = _timed(lambda: service.band_thresholds(sweep_id))
        later = [_timed(lambda: service.band_thresholds(sweep_id)) for _ in range(calls)]

    def median(times):
        return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)

    return {
        "log": median(logs),
        "first log": first_log,
        "stopped": stopped,
        "first": first,
        "thresholds": median(later),
        "fill": filled,
    }


def _sibling(name: str):
    """A benchmark module of this folder (kept off the import path: see benchmarks/overhead.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000", help="ended runs in the sweep")
    parser.add_argument("--calls", type=int, default=30, help="log calls and band_thresholds calls timed")
    parser.add_argument("--postgres", default=os.environ.get("SWEEPKIT_TEST_POSTGRES_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]

    def ms(pair):
        return f"{1000 * pair[0]:.1f} ms / {1000 * pair[1]:.1f} ms"

    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        stores = [] if args.no_sqlite else [("sqlite", lambda: str(Path(tmp) / f"{uuid.uuid4().hex}.db"))]
        if args.postgres:
            pg_url = _sibling("overhead")._pg_url_with_schema
            stores.append(("postgresql", lambda: pg_url(args.postgres)))
        for label, fresh in stores:
            for n in sizes:
                found = _measure(fresh(), n, args.calls)
                rows.append(
                    (
                        label,
                        f"{n:,}",
                        ms(found["log"]),
                        f"{found['stopped']}/{args.calls}",
                        ms(found["first log"]),
                        ms(found["thresholds"]),
                        ms(found["first"]),
                        f"{found['fill']:.1f} s",
                    )
                )
                print(*rows[-1], sep="\t", file=sys.stderr, flush=True)

    header = (
        "store",
        "ended runs",
        "log reaching a band (wall / CPU)",
        "stopped",
        "first such log",
        "band_thresholds (wall / CPU)",
        "first band_thresholds",
        "fill",
    )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
    print("load average (1, 5, 15 min) before: " + " ".join(f"{x:.2f}" for x in load_before))
    print("load average (1, 5, 15 min) after:  " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()

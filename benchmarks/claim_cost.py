"""What a claim costs as a sweep grows: median claim time by method and sweep size, and many agents at once.

    python benchmarks/claim_cost.py [--sizes 100,1000,10000] [--methods bayes,random,grid]
        [--claims 30] [--agents 16] [--agent-claims 3] [--agent-modes processes,threads,server]
        [--postgres URL] [--no-sqlite]

For each store (a fresh SQLite file; PostgreSQL in a fresh schema when a URL is given or
SWEEPKIT_TEST_POSTGRES_URL is set), method and size, a sweep is filled with that many finished runs
straight through the store, in one transaction (what thousands of agents would have left), and then
``--claims`` runs are claimed through the service one after the other, each logged and finished
before the next claim; the table shows the median time of ``claim_run``, and the median CPU time
it took in this process (the service's work, and SQLite's; not PostgreSQL's server: on a shared,
busy machine the wall time waits for the CPU, this does not). The last rows put
``--agents`` processes, each with its own service (as agents on as many machines have), claiming
``--agent-claims`` runs each at once on a bayes sweep of the largest size (after one claim, as on
a sweep that has been running: the store then keeps a snapshot of what claims keep of its ended
runs): the 50th and 90th percentile of the time a claim took, waiting for the sweep's lock
included, and of its CPU time in the agent's process or thread, for each agent's first claim (a
new process reads the snapshot and the runs stamped since), the later ones, and all; as
processes, then as threads of this process each with its own service, then as processes that are
clients of one ``sweepkit server`` on the store (``--agent-modes``; the CPU column is then the
client's, not the server's). The machine's load
average is printed with the table. Targets: bayes at 10,000 runs under 40 ms and within 2x of its
time at 1,000; random and grid under 5 ms at 10,000; 16 agents at once under 1 s each (p90).
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

from sweepkit.connect import connect, open_local  # noqa: E402
from sweepkit.runs import RunState  # noqa: E402
from sweepkit.service.types import LogBatch  # noqa: E402
from sweepkit.store import NewRun, new_id  # noqa: E402

#: Continuous, integer and categorical parameters for bayes and random; 40,000 points for grid.
SPACES = {
    "bayes": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
        "dropout": {"min": 0.0, "max": 0.5},
        "layers": {"min": 1, "max": 8},
        "optimizer": {"values": ["adam", "sgd", "rmsprop"]},
    },
    "grid": {
        "a": {"values": list(range(20))},
        "b": {"values": list(range(20))},
        "c": {"values": list(range(20))},
        "d": {"values": ["x", "y", "z", "u", "v"]},
    },
}
SPACES["random"] = SPACES["bayes"]


def _loss(params: dict) -> float:
    """A smooth made-up loss with a little noise, so that the model has something to fit."""
    if "lr" in params:
        import math

        x = (math.log10(params["lr"]) + 3) ** 2 + (params["dropout"] - 0.2) ** 2 + 0.05 * params["layers"]
        return x + {"adam": 0.0, "sgd": 0.3, "rmsprop": 0.1}[params["optimizer"]] + random.gauss(0, 0.01)
    return float(params["a"] + params["b"] - params["c"]) + random.random()


def _config(method: str) -> dict:
    return {
        "method": method,
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": SPACES[method],
        "program": "train.py",
    }


def _grid_points(n: int) -> list[dict]:
    import itertools

    space = SPACES["grid"]
    names = sorted(space)
    product = itertools.product(*(space[name]["values"] for name in names))
    return [dict(zip(names, values, strict=True)) for values in itertools.islice(product, n)]


def _fill(service, sweep_id: str, method: str, n: int) -> float:
    """``n`` finished runs in the sweep, written through the store in one transaction; seconds taken."""
    from sweepkit.runs import MetricStats

    start = time.perf_counter()
    if method == "grid":
        params = _grid_points(n)
    else:
        from sweepkit.service.sweep_policy import SweepPolicy

        policy = SweepPolicy(service.get_sweep(sweep_id).config, source="bench")
        rng = random.Random(0)
        params = [policy.space.draw(rng) for _ in range(n)]

    def tx(t):
        t.lock_sweep(sweep_id)
        new = [
            NewRun(new_id(), sweep_id=sweep_id, number=i + 1, project=None, name=f"fill-{i + 1}", params=p)
            for i, p in enumerate(params)
        ]
        t.insert_pending_runs(new)
        t.set_run_counts(sweep_id, run_count=n, retry_count=0)
        for run, p in zip(new, params, strict=True):
            value = _loss(p)
            target = t.log_target(run.id)
            metric = MetricStats().add([value])
            t.update_logged(replace(target, summary={"loss": value}, metric=metric, last_step=0, log_seq=1))
            t.end_run(run.id, RunState.FINISHED, exit_code=0, error=None, from_states=[RunState.PENDING])

    service.store.transact(tx)
    return time.perf_counter() - start


def _claim(service, sweep_id: str, agent: str, cpu: list[float] | None = None) -> float:
    """Claim a run (timed; its CPU time in this process added to ``cpu``), then log its loss and
    finish it (not timed)."""
    start, start_cpu = time.perf_counter(), time.thread_time()
    claim = service.claim_run(sweep_id, agent, uuid.uuid4().hex)
    took = time.perf_counter() - start
    if cpu is not None:
        cpu.append(time.thread_time() - start_cpu)
    if claim.assignment is None:
        raise SystemExit(f"sweep {sweep_id}: no run to claim ({claim.status}: {claim.reason})")
    run_id = claim.assignment.run_id
    value = _loss(claim.assignment.params)
    service.log(run_id, LogBatch(seq=1, rows=[{"_step": 0, "loss": value}]))
    service.finish_run(run_id, RunState.FINISHED, exit_code=0)
    return took


def _sequential(db: str, method: str, n: int, claims: int) -> tuple[float, float, float]:
    """(fill seconds, median claim seconds, median CPU seconds) for a fresh sweep of ``n`` runs."""
    with closing(open_local(db, create=True)) as service:
        sweep_id = service.create_sweep(_config(method)).id
        filled = _fill(service, sweep_id, method, n)
        agent = service.register_agent(sweep_id, host="bench", pid=os.getpid())
        _claim(service, sweep_id, agent)  # the first claim of a process warms its caches
        cpu: list[float] = []
        times = [_claim(service, sweep_id, agent, cpu) for _ in range(claims)]
    return filled, statistics.median(times), statistics.median(cpu)


def _agent_process(db: str, sweep_id: str, claims_each: int, start, out) -> None:
    """One agent in its own process: its claims' (wall, CPU) times, its first claim (a new process) first."""
    import sweepkit.search.bayes  # noqa: F401 - the imports a new process makes are not the claim's
    import sweepkit.sweep_config  # noqa: F401

    out.put(_agent_claims(db, sweep_id, claims_each, start))


def _agent_thread(db: str, sweep_id: str, claims_each: int, start, out: list) -> None:
    """One agent in a thread of this process, with its own service (as a server process per agent)."""
    out.append(_agent_claims(db, sweep_id, claims_each, start))


def _agent_claims(db: str, sweep_id: str, claims_each: int, start) -> list[tuple[float, float]]:
    """One agent with its own service: registers, waits for ``start``, then its claims' (wall, CPU)."""
    with closing(connect(db)) as own:
        agent = own.register_agent(sweep_id, host="bench", pid=os.getpid())
        start.wait()
        found = []
        for _ in range(claims_each):
            cpu: list[float] = []
            found.append((_claim(own, sweep_id, agent, cpu), cpu[0]))
        return found


def _concurrent(
    db: str, n: int, agents: int, claims_each: int, mode: str = "processes"
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Every claim's (wall, CPU) time when ``agents`` processes (or threads), each an agent with its
    own service, claim at once: (each agent's first claim, the others). The sweep has had one claim
    before (as a running sweep has: the store then keeps a snapshot of its ended runs)."""
    import multiprocessing
    import threading

    with closing(open_local(db, create=True)) as service:
        sweep_id = service.create_sweep(_config("bayes")).id
        _fill(service, sweep_id, "bayes", n)
        _claim(service, sweep_id, service.register_agent(sweep_id, host="bench", pid=os.getpid()))
    server = None
    if mode == "server":  # agents in processes, each a client of one `sweepkit server` on the store
        server, db = _sibling("server")._start_server(db, Path(tempfile.mkdtemp()) / "server.log")
        mode = "processes"
        with closing(connect(db)) as client:  # a server that has been running: its imports done
            _claim(client, sweep_id, client.register_agent(sweep_id, host="bench", pid=os.getpid()))
    if mode == "threads":
        start, found = threading.Event(), []
        threads = [
            threading.Thread(target=_agent_thread, args=(db, sweep_id, claims_each, start, found))
            for _ in range(agents)
        ]
        for thread in threads:
            thread.start()
        time.sleep(2)
        start.set()
        for thread in threads:
            thread.join()
    else:
        context = multiprocessing.get_context("spawn")
        start, out = context.Event(), context.Queue()
        procs = [
            context.Process(target=_agent_process, args=(db, sweep_id, claims_each, start, out))
            for _ in range(agents)
        ]
        for proc in procs:
            proc.start()
        time.sleep(5)  # every agent registered and waiting
        start.set()
        found = [out.get() for _ in procs]
        for proc in procs:
            proc.join()
    if server is not None:
        server.terminate()
        server.wait(30)
    return [times[0] for times in found], [t for times in found for t in times[1:]]


def _sibling(name: str):
    """A benchmark module of this folder (kept off the import path: see benchmarks/overhead.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_bytecode() -> None:
    """Compile sweepkit's modules to bytecode files, as installing a package does: where
    PYTHONDONTWRITEBYTECODE is set (as on the machine these numbers were taken on), every new
    agent process would otherwise compile from source each module its first claim imports."""
    import compileall

    import sweepkit

    compileall.compile_dir(Path(sweepkit.__file__).parent, quiet=1)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000", help="runs in the sweep before the claims")
    parser.add_argument("--methods", default="bayes,random,grid")
    parser.add_argument("--claims", type=int, default=30, help="claims timed per method and size")
    parser.add_argument("--agents", type=int, default=16, help="agents claiming at once (0: skip)")
    parser.add_argument("--agent-claims", type=int, default=3, help="claims by each of those agents")
    parser.add_argument(
        "--agent-modes",
        default="processes,threads,server",
        help="agents as processes, threads, and/or processes talking to one sweepkit server",
    )
    parser.add_argument("--postgres", default=os.environ.get("SWEEPKIT_TEST_POSTGRES_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    _write_bytecode()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    methods = [m for m in args.methods.split(",") if m]

    _pg_url_with_schema = _sibling("overhead")._pg_url_with_schema

    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        stores = [] if args.no_sqlite else [("sqlite", lambda: str(Path(tmp) / f"{uuid.uuid4().hex}.db"))]
        if args.postgres:
            stores.append(("postgresql", lambda: _pg_url_with_schema(args.postgres)))
        for label, fresh in stores:
            for method in methods:
                for n in sizes:
                    filled, median, cpu = _sequential(fresh(), method, n, args.claims)
                    rows.append(
                        (
                            label,
                            method,
                            f"{n:,}",
                            f"{1000 * median:.1f} ms",
                            f"{1000 * cpu:.1f} ms",
                            f"{filled:.1f} s",
                        )
                    )
                    print(*rows[-1], sep="\t", file=sys.stderr, flush=True)
            for mode in [m for m in args.agent_modes.split(",") if m] if args.agents else []:
                first, later = _concurrent(fresh(), max(sizes), args.agents, args.agent_claims, mode)
                for what, times in (("first claims", first), ("later claims", later), ("all", first + later)):
                    if not times:
                        continue
                    wall, cpu = [t[0] for t in times], [t[1] for t in times]
                    rows.append(
                        (
                            label,
                            f"bayes, {args.agents} agents at once ({mode}): {what}",
                            f"{max(sizes):,}",
                            f"p50 {1000 * _percentile(wall, 50):.0f} ms, p90 {1000 * _percentile(wall, 90):.0f} ms",
                            f"p50 {1000 * _percentile(cpu, 50):.0f} ms, p90 {1000 * _percentile(cpu, 90):.0f} ms",
                            "",
                        )
                    )
                    print(*rows[-1], sep="\t", file=sys.stderr, flush=True)

    header = ("store", "method", "runs", "median claim", "its CPU here", "fill")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
    print("load average (1, 5, 15 min) before: " + " ".join(f"{x:.2f}" for x in load_before))
    print("load average (1, 5, 15 min) after:  " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()

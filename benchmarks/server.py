"""The sweep service over HTTP next to the local service: claims and logged rows per second at 1, 4,
16 and 32 concurrent clients, with SQLite and PostgreSQL behind.

Each client is a process of its own (as agents are), kept from one case to the next. "claims": each
client claims a run and finishes it, again and again (``claim_run`` + ``finish_run``, a fresh claim
key each time), on one random sweep per case. "rows": each client logs batches of ``--batch`` rows
(two metrics a row, as the agent's reporter sends them) to a run of its own. "local" clients open
the store themselves; "http" clients talk to one ``sweepkit server`` process that requires a token
(each request looks its token up). Every case runs ``--seconds`` seconds; errors are counted;
``ms/claim+finish`` is the mean time of one claim + finish, ``median ms`` its median (less swayed by
a busy machine), ``ms/batch`` the mean time of one batch.

    python benchmarks/server.py          # SQLite; PostgreSQL too when SWEEPKIT_TEST_POSTGRES_URL is set
    python benchmarks/server.py --postgres postgresql://postgres@127.0.0.1:5432/test --clients 1,4,16,32

What HTTP adds to one claim + finish is measured apart, in one process that alternates a local and
an HTTP claim + finish ``--rounds`` times, so that both see the same load on the machine (a shared
machine's load swings more than the difference between two separate runs).

Targets: 32 clients with no error; one claim + finish over HTTP adds under 10 ms at 1 client; batched
logging over HTTP stores at least 20,000 rows a second.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

# benchmarks/logging.py is named after what it measures, like the standard library's module: keep this
# folder off the import path so that `import logging` (sqlalchemy, uvicorn, ...) finds the real one.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

SWEEP = {"method": "random", "metric": {"name": "loss"}, "parameters": {"lr": {"min": 0.001, "max": 0.1}}}


# --- one client (a process of its own) ----------------------------------------------------------


def _open(job: dict):
    from sweepkit.connect import open_http, open_local

    if job["transport"] == "http":
        return open_http(job["url"], token=job["token"])
    return open_local(job["db"])


def client_main(conn) -> None:
    """Serve cases from the coordinator: setup, then go until a deadline, then report."""
    from sweepkit.runs import RunState
    from sweepkit.service.types import LogBatch

    while True:
        message = conn.recv()
        if message[0] == "quit":
            return
        job = message[1]
        service = _open(job)
        agent = service.register_agent(job["sweep_id"], host="bench", pid=os.getpid())
        run_id = None
        if job["kind"] == "rows":
            run_id = service.claim_run(job["sweep_id"], agent, uuid.uuid4().hex).assignment.run_id
        conn.send(("ready",))
        deadline = conn.recv()[1]
        ops = rows = errors = 0
        busy = 0.0
        times: list[float] = []
        first_error = None
        seq = step = 0
        started = time.monotonic()
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            try:
                if job["kind"] == "claims":
                    claim = service.claim_run(job["sweep_id"], agent, uuid.uuid4().hex)
                    service.finish_run(claim.assignment.run_id, RunState.FINISHED, exit_code=0)
                else:
                    seq += 1
                    batch = [
                        {"_step": step + i, "loss": 1.0 / (step + i + 1), "acc": 0.5}
                        for i in range(job["batch"])
                    ]
                    step += job["batch"]
                    service.log(run_id, LogBatch(seq, batch))
                    rows += job["batch"]
                ops += 1
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"
            times.append(time.perf_counter() - t0)
            busy += times[-1]
        ended = time.monotonic()
        service.close()
        conn.send(("done", {"ops": ops, "rows": rows, "errors": errors, "busy": busy, "error": first_error,
                            "started": started, "ended": ended, "times": times}))  # fmt: skip


class Clients:
    """A pool of client processes, started once."""

    def __init__(self, count: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes, self.procs = [], []
        for _ in range(count):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=client_main, args=(theirs,), daemon=True)
            proc.start()
            self.pipes.append(mine)
            self.procs.append(proc)

    def run(self, n: int, job: dict, seconds: float) -> dict:
        pipes = self.pipes[:n]
        for pipe in pipes:
            pipe.send(("setup", job))
        for pipe in pipes:
            assert pipe.recv()[0] == "ready"
        deadline = time.monotonic() + seconds
        for pipe in pipes:
            pipe.send(("go", deadline))
        results = [pipe.recv()[1] for pipe in pipes]
        elapsed = max(r["ended"] for r in results) - min(r["started"] for r in results)
        ops = sum(r["ops"] for r in results)
        times = sorted(t for r in results for t in r["times"])
        return {
            "per_s": (sum(r["rows"] for r in results) if job["kind"] == "rows" else ops) / elapsed,
            "ms_per_op": 1000 * sum(r["busy"] for r in results) / max(ops, 1),
            "median_ms": 1000 * times[len(times) // 2] if times else float("nan"),
            "errors": sum(r["errors"] for r in results),
            "error": next((r["error"] for r in results if r["error"]), None),
        }

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(("quit",))
        for proc in self.procs:
            proc.join(timeout=10)


# --- stores and the server ----------------------------------------------------------------------


def _postgres_schema(url: str) -> tuple[str, str]:
    """A fresh schema on the server (dropped at the end); returns its URL and name."""
    import psycopg
    from sqlalchemy.engine import make_url

    schema = f"sweepkit_bench_{uuid.uuid4().hex[:10]}"
    base = make_url(url.replace("postgresql+psycopg://", "postgresql://"))
    with psycopg.connect(base.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    ), schema


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _start_server(db: str, log: Path) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SWEEPKIT_URL", "SWEEPKIT_TOKEN", "SWEEPKIT_DB")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sweepkit", "server", "--db", db, "--port", "0"], stderr=out, env=env
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"listening on (http://\S+?:\d+) ", log.read_text())
        if found:
            return proc, found.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise SystemExit(f"the server did not start:\n{log.read_text()}")


# --- the added latency, measured side by side ----------------------------------------------------


def added_latency(db: str, url: str, token: str, rounds: int) -> tuple[float, float, float]:
    """Median ms of one claim + finish locally and over HTTP, alternating the two in one process so
    that both see the same load on the machine; and the median of their paired differences."""
    import statistics

    from sweepkit.connect import open_http, open_local
    from sweepkit.runs import RunState

    local, http = open_local(db), open_http(url, token=token)
    sweep_id = local.create_sweep(SWEEP).id
    agents = {id(s): s.register_agent(sweep_id, host="bench", pid=os.getpid()) for s in (local, http)}

    def once(service) -> float:
        started = time.perf_counter()
        claim = service.claim_run(sweep_id, agents[id(service)], uuid.uuid4().hex)
        service.finish_run(claim.assignment.run_id, RunState.FINISHED, exit_code=0)
        return 1000 * (time.perf_counter() - started)

    for service in (local, http):  # warm up: plans cached, connections open
        once(service)
    pairs = [(once(local), once(http)) for _ in range(rounds)]
    local.close()
    http.close()
    return (
        statistics.median(a for a, _ in pairs),
        statistics.median(b for _, b in pairs),
        statistics.median(b - a for a, b in pairs),
    )


# --- the table ----------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", default="1,4,16,32", help="comma-separated numbers of concurrent clients")
    ap.add_argument("--seconds", type=float, default=2.0, help="duration of each case")
    ap.add_argument("--batch", type=int, default=1000, help="rows per logged batch")
    ap.add_argument("--rounds", type=int, default=300, help="pairs of claims for the added latency")
    ap.add_argument("--postgres", metavar="URL", default=os.environ.get("SWEEPKIT_TEST_POSTGRES_URL"))
    ap.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = ap.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    backends = ["sqlite"] + ([] if args.no_postgres or not args.postgres else ["postgresql"])

    from sweepkit.connect import open_local

    clients = Clients(max(levels))
    print(f"{'store':<11} {'transport':<9} {'clients':>7} {'claims/s':>9} {'ms/claim+finish':>16} "
          f"{'median ms':>10} {'rows/s':>9} {'ms/batch':>9} {'errors':>7}", flush=True)  # fmt: skip
    summary: dict[tuple[str, str, int], dict] = {}
    latency: dict[str, tuple[float, float, float]] = {}
    work = Path(tempfile.mkdtemp(prefix="sweepkit-bench-server-"))
    try:
        for backend in backends:
            schema = None
            if backend == "sqlite":
                db = f"sqlite:///{work / 'store.db'}"
            else:
                db, schema = _postgres_schema(args.postgres)
            local = open_local(db, create=True)
            token = local.create_token("agent", name="bench").secret
            server, url = _start_server(db, work / f"server-{backend}.log")
            try:
                latency[backend] = added_latency(db, url, token, args.rounds)
                for transport in ("local", "http"):
                    for n in levels:
                        cells = {}
                        for kind in ("claims", "rows"):
                            sweep_id = local.create_sweep(SWEEP).id
                            job = {"kind": kind, "transport": transport, "db": db, "url": url, "token": token,
                                   "sweep_id": sweep_id, "batch": args.batch}  # fmt: skip
                            cells[kind] = clients.run(n, job, args.seconds)
                        summary[(backend, transport, n)] = cells
                        c, r = cells["claims"], cells["rows"]
                        print(
                            f"{backend:<11} {transport:<9} {n:>7} {c['per_s']:>9.0f} {c['ms_per_op']:>16.2f} "
                            f"{c['median_ms']:>10.2f} {r['per_s']:>9.0f} {r['ms_per_op']:>9.1f} "
                            f"{c['errors'] + r['errors']:>7}",
                            flush=True,
                        )
                        for cell in cells.values():
                            if cell["error"]:
                                print(f"    first error: {cell['error']}", flush=True)
            finally:
                server.terminate()
                server.wait(timeout=30)
                local.close()
                if schema is not None:
                    _drop_schema(args.postgres, schema)
    finally:
        clients.close()
        shutil.rmtree(work, ignore_errors=True)

    print()
    for backend in backends:
        local_ms, http_ms, added = latency[backend]
        print(
            f"{backend}: one claim + finish takes {local_ms:.2f} ms locally and {http_ms:.2f} ms over HTTP "
            f"(medians of {args.rounds} alternating pairs): HTTP adds {added:.2f} ms (target: under 10 ms)"
        )
        best = max(
            (v["rows"]["per_s"] for (b, t, _n), v in summary.items() if b == backend and t == "http"),
            default=0,
        )
        print(f"{backend}: batched logging over HTTP, best {best:,.0f} rows/s (target: at least 20,000)")
        most = max(levels)
        errors = sum(
            summary[(backend, t, most)][k]["errors"] for t in ("local", "http") for k in ("claims", "rows")
        )
        print(f"{backend}: {most} clients, {errors} error{'s' if errors != 1 else ''} (target: none)")


if __name__ == "__main__":
    main()

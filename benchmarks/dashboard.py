"""The dashboard with a large sweep: how long until the sweep page is drawn, and what each call sends.

    python benchmarks/dashboard.py [--runs 10000] [--steps 100] [--store PATH] [--repeat 3]

Builds (or reuses, with ``--store``) a SQLite store holding one random sweep of ``--runs`` runs that
logged ``--steps`` values each, through the sweep service's own calls (claim, one LogBatch per run,
finish). Then serves the dashboard on 127.0.0.1 and opens the sweep page in headless Chromium
(Debian's ``/usr/bin/chromium``, through Playwright), and prints:

* the time from navigation until the runs table and every chart are drawn (the page marks itself
  ready after the curves chart, its last chart, is painted), first with the server's caches cold,
  then warm (the same page opened again, as a second browser would); target under 1.5 s warm;
  next to it the CPU time of the page's main thread until then (its own work, whatever else the
  machine runs), and when each part was done;
* when the parameter importance table appears (the forest is computed in the background);
* the views added in the second round, cold (the server's first time) and warm: every run's curve
  of another logged key (``acc``), from choosing it in the page until drawn; the comparison of the
  5 best runs and of 20 runs (the most), from navigation until their curves and tables are drawn;
  the agents' timeline of every run, from navigation until drawn;
* every API call the page makes and a few more: bytes sent plain and gzipped, and its time.

The sweep gets its hyperband section (bands every 3**k iterations) after its runs have logged:
the service judges hyperband as values arrive, reading every run of the sweep each time a batch
crosses a band, so building 10,000 runs with it from the start takes quadratic time. The curves
chart therefore draws the bands without thresholds here.
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import random
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

# benchmarks/logging.py is named after what it measures, like the standard library's module: keep this
# folder off the import path so that `import logging` (sqlalchemy, ...) finds the real one.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sweepkit.connect import open_local  # noqa: E402
from sweepkit.runs import RunState  # noqa: E402
from sweepkit.service import LogBatch  # noqa: E402

CHROMIUM = os.environ.get("SWEEPKIT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
#: The page's own marks (performance.mark) of when each part was done, in the order it does them.
PHASES = [
    ("data", "data"),
    ("table", "table"),
    ("best", "best-so-far"),
    ("parallel", "parallel"),
    ("scatter", "scatter"),
    ("curves", "curves-drawn"),
]
CONFIG = {
    "method": "random",
    "name": "dashboard benchmark",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
        "batch_size": {"values": [16, 32, 64, 128, 256]},
        "dropout": {"min": 0.0, "max": 0.6},
        "optimizer": {"values": ["adam", "sgd", "rmsprop"]},
        "layers": {"distribution": "int_uniform", "min": 1, "max": 8},
    },
    "seed": 1,
}
HYPERBAND = {"type": "hyperband", "min_iter": 3, "eta": 3}


def build(db: str, runs: int, steps: int) -> tuple[str, float]:
    """A store with one sweep of ``runs`` runs of ``steps`` logged values each; returns its id and the seconds taken."""
    service = open_local(db, create=True)
    try:
        for sweep in service.list_sweeps():
            if sweep.name == CONFIG["name"] and sweep.run_count == runs:
                return sweep.id, 0.0
        start = time.perf_counter()
        sweep = service.create_sweep(CONFIG)
        agent = service.register_agent(sweep.id, host="bench", pid=os.getpid())
        rng = random.Random(7)
        for i in range(runs):
            run = service.claim_run(sweep.id, agent, f"bench-{i}").assignment
            p = run.config
            floor = 0.05 + abs(math.log10(p["lr"]) + 3) * 0.1 + p["dropout"] * 0.2
            floor += {"adam": 0.0, "sgd": 0.15, "rmsprop": 0.05}[p["optimizer"]] + 0.01 * p["layers"]
            value, rows = 2.0, []
            for step in range(steps):
                value = floor + (value - floor) * (0.93 + rng.random() * 0.04)
                rows.append({"_step": step, "loss": value, "acc": 1.0 / (1.0 + value)})
            service.log(run.run_id, LogBatch(seq=1, rows=rows, output=f"run {i} done\n"))
            state = RunState.FAILED if i % 97 == 13 else RunState.FINISHED
            service.finish_run(run.run_id, state, exit_code=0 if state == RunState.FINISHED else 1)
            if (i + 1) % 1000 == 0:
                print(f"  built {i + 1} runs ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
        service.update_sweep(sweep.id, {**CONFIG, "early_terminate": HYPERBAND})
        return sweep.id, time.perf_counter() - start
    finally:
        service.close()


class Server:
    """The dashboard over the store, served by uvicorn in a thread on an ephemeral loopback port."""

    def __init__(self, db: str):
        import uvicorn

        from sweepkit.dashboard import create_app, loopback_only
        from sweepkit.dashboard.local import bind

        self.service = open_local(db)
        self.socket = bind(0)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        app = create_app(lambda: self.service, loopback_only)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()
        self.service.close()


def fetch(url: str) -> tuple[int, int, float]:
    """Plain bytes, gzipped bytes (as the server sends them), and seconds, of one GET."""
    start = time.perf_counter()
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=600) as answer:
        body = answer.read()
        zipped = answer.headers.get("Content-Encoding") == "gzip"
    took = time.perf_counter() - start
    plain = gzip.decompress(body) if zipped else body
    return len(plain), len(body), took


def open_page(browser, url: str) -> dict[str, float]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(600_000)
    devtools = page.context.new_cdp_session(page)
    devtools.send("Performance.enable", {"timeDomain": "threadTicks"})
    page.goto(url)
    page.wait_for_selector("main[data-ready]")
    ready = float(page.get_attribute("main", "data-ready-ms"))
    # CPU time of the page's main thread so far: the page's own work, whatever else the machine runs.
    metrics = {m["name"]: m["value"] for m in devtools.send("Performance.getMetrics")["metrics"]}
    marks = dict(page.evaluate("performance.getEntriesByType('mark').map(m => [m.name, m.startTime])"))
    page.wait_for_selector("#importance-table")
    importance = float(page.get_attribute("#importance", "data-drawn-ms"))
    rows = page.get_attribute(".runs-table", "data-drawn")
    page.close()
    phases = {name: marks.get(f"sweepkit:{mark}", math.nan) for name, mark in PHASES}
    return {
        "ready_ms": ready,
        "cpu_ms": metrics.get("ThreadTime", math.nan) * 1000,
        "importance_ms": importance,
        "rows": float(rows or 0),
        **phases,
    }


def any_key(browser, url: str, key: str = "acc") -> float:
    """Milliseconds from choosing ``key`` in the curves chart until every run's curve of it is drawn."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(600_000)
    page.goto(url)
    page.wait_for_selector("main[data-ready]")
    page.wait_for_selector(f"#curves-key option[value='{key}']", state="attached")
    asked = page.evaluate("performance.now()")
    page.select_option("#curves-key", key)
    page.wait_for_selector(f'#chart-curves[data-key="{key}"][data-drawn]')
    drawn = float(page.get_attribute("#chart-curves", "data-drawn-ms"))
    page.close()
    return drawn - asked


def compare_view(browser, url: str, runs: list[int]) -> float:
    """Milliseconds from navigation until the comparison of ``runs`` (curves and tables) is drawn."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(600_000)
    page.goto(f"{url}?compare={','.join(map(str, runs))}")
    page.wait_for_selector(f'#compare[data-drawn="{len(runs)}"]')
    drawn = float(page.get_attribute("#compare", "data-drawn-ms"))
    page.close()
    return drawn


def timeline(browser, url: str) -> float:
    """Milliseconds from navigation until the agents' timeline of every run is drawn."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(600_000)
    page.goto(url)
    page.wait_for_selector("#chart-timeline[data-bars][data-drawn]")
    drawn = float(page.get_attribute("#chart-timeline", "data-drawn-ms"))
    page.close()
    return drawn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--store", help="SQLite file to build into, or reuse when it holds the sweep already")
    parser.add_argument("--repeat", type=int, default=3, help="warm page loads to time")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="sweepkit-dashboard-bench-")
    db = args.store or str(Path(folder) / "store.db")
    print(f"store: {db}")
    sweep_id, built = build(db, args.runs, args.steps)
    if built:
        print(f"built {args.runs} runs x {args.steps} steps through the service in {built:.1f} s")
    else:
        print(f"reused the sweep of {args.runs} runs in {db}")

    from playwright.sync_api import sync_playwright

    server = Server(db)
    page_url = f"{server.url}/sweeps/{sweep_id}"
    best = [r.run.number for r in server.service.best_runs(sweep_id, limit=20)]
    views: list[tuple[str, list[float]]] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            cold = open_page(browser, page_url)
            warm = [open_page(browser, page_url) for _ in range(args.repeat)]
            views.append(
                ("curves of another key (acc)", [any_key(browser, page_url) for _ in range(args.repeat + 1)])
            )
            views.append(
                (
                    "compare the 5 best runs",
                    [compare_view(browser, page_url, best[:5]) for _ in range(args.repeat + 1)],
                )
            )
            views.append(
                (
                    "compare 20 runs",
                    [compare_view(browser, page_url, best[:20]) for _ in range(args.repeat + 1)],
                )
            )
            views.append(
                (
                    "agents' timeline of every run",
                    [timeline(browser, page_url) for _ in range(args.repeat + 1)],
                )
            )
            browser.close()
        print(f"\nsweep page, {int(cold['rows'])} runs in the table (ms from navigation; headless Chromium)")
        print(f"load average now: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        names = [name for name, _ in PHASES]
        print(
            f"{'load':<12}{'table and charts':>18}{'page CPU':>10}{'importance':>12}   done at: "
            + " ".join(f"{n:>8}" for n in names)
        )
        for label, load in [("cold server", cold)] + [(f"warm {i}", w) for i, w in enumerate(warm, 1)]:
            phases = " ".join(f"{load[n]:>8.0f}" for n in names)
            print(
                f"{label:<12}{load['ready_ms']:>18.0f}{load['cpu_ms']:>10.0f}{load['importance_ms']:>12.0f}"
                f"   {'':8} {phases}"
            )
        fastest = min(load["ready_ms"] for load in warm)
        verdict = "met" if fastest < 1500 else "MISSED"
        print(f"target: table and charts under 1500 ms on a warm server: {verdict} (best {fastest:.0f} ms)")

        print(f"\nviews of {int(cold['rows'])} runs (ms; the first time is the server's first, cold)")
        print(
            f"{'view':<34}{'what is timed':<34}{'cold':>8}"
            + "".join(f"{f'warm {i}':>9}" for i in range(1, args.repeat + 1))
        )
        timed = {
            "curves of another key (acc)": "choosing it until drawn",
            "compare the 5 best runs": "navigation until drawn",
            "compare 20 runs": "navigation until drawn",
            "agents' timeline of every run": "navigation until drawn",
        }
        for name, times in views:
            print(f"{name:<34}{timed[name]:<34}" + "".join(f"{t:>9.0f}" for t in times))

        api = f"{server.url}/api/v1/dashboard"
        runs_full = fetch(f"{api}/sweeps/{sweep_id}/runs")
        import json

        cursor = json.loads(urllib.request.urlopen(f"{api}/sweeps/{sweep_id}/runs").read())["cursor"]
        run_id = server.service.list_runs(sweep_id, limit=1).runs[0].id
        calls = [
            ("GET /sweeps", f"{api}/sweeps"),
            ("GET /sweeps/ID", f"{api}/sweeps/{sweep_id}"),
            ("GET /sweeps/ID/runs", f"{api}/sweeps/{sweep_id}/runs"),
            ("GET /sweeps/ID/runs?since= (no change)", f"{api}/sweeps/{sweep_id}/runs?since={cursor}"),
            ("GET /sweeps/ID/curves", f"{api}/sweeps/{sweep_id}/curves"),
            ("GET /sweeps/ID/curves?runs=1,2,3", f"{api}/sweeps/{sweep_id}/curves?runs=1,2,3"),
            ("GET /sweeps/ID/importance", f"{api}/sweeps/{sweep_id}/importance"),
            ("GET /sweeps/ID/keys", f"{api}/sweeps/{sweep_id}/keys"),
            ("GET /sweeps/ID/curves?key=acc", f"{api}/sweeps/{sweep_id}/curves?key=acc"),
            (
                "GET /sweeps/ID/curves?key=loss&x=acc",
                f"{api}/sweeps/{sweep_id}/curves?key=loss&x=acc",
            ),
            ("GET /sweeps/ID/best?limit=5", f"{api}/sweeps/{sweep_id}/best?limit=5"),
            (
                "GET /sweeps/ID/compare?runs=(5 best)",
                f"{api}/sweeps/{sweep_id}/compare?runs={','.join(map(str, best[:5]))}",
            ),
            (
                "GET /sweeps/ID/curves?runs=(5)&alone=1",
                f"{api}/sweeps/{sweep_id}/curves?runs={','.join(map(str, best[:5]))}&alone=1",
            ),
            ("GET /sweeps/ID/agents", f"{api}/sweeps/{sweep_id}/agents"),
            ("GET /runs/ID", f"{api}/runs/{run_id}"),
            ("GET /runs/ID/history", f"{api}/runs/{run_id}/history"),
            ("GET /runs/ID/output", f"{api}/runs/{run_id}/output"),
            ("GET /sweeps/ID/export?format=csv", f"{api}/sweeps/{sweep_id}/export?format=csv"),
            ("GET /sweeps/ID/export?format=json", f"{api}/sweeps/{sweep_id}/export?format=json"),
        ]
        print("\nAPI calls on a warm server (bytes of JSON, and as sent with gzip)")
        print(f"{'call':<44}{'bytes':>12}{'gzipped':>12}{'ms':>8}")
        for name, url in calls:
            plain, sent, took = runs_full if name == "GET /sweeps/ID/runs" else fetch(url)
            print(f"{name:<44}{plain:>12,}{sent:>12,}{took * 1000:>8.0f}")
    finally:
        server.close()


if __name__ == "__main__":
    main()

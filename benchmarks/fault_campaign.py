"""A seeded fault campaign: agents work through a grid and a bayes sweep while faults are injected at
random moments, then the sweeps are finished (failed and crashed runs retried) and checked.

    python benchmarks/fault_campaign.py                      # 16 agents, 300-point grid, bayes 40 runs
    python benchmarks/fault_campaign.py --agents 4 --grid 24 --bayes 8 --faults-for 20 --seed 3

Faults (each on by default, chosen at random every 0.5-2.5 s while ``--faults-for`` lasts):
SIGKILL of an agent (a new one takes its place), SIGKILL of a run process, and the agents' run
folders' filesystem (a tmpfs this script mounts; needs root, else this fault is left out and said)
filled for 0.5-3 s and freed. Faults that would disturb other users of a shared machine are options,
off by default and not run by this script: PostgreSQL restarts (``--postgres-restarts``) and SIGSTOP
of a server (``--server-stops``) are named here so the table says they were not run.

Counted per sweep, after recovery: runs lost (grid points, or bayes runs up to run_cap, without a
finished run), duplicated (grid points with more than one finished run), values lost (rows a
finished run logged that are not stored: every run logs ``--steps`` rows), runs stuck (runs still
pending or running once every agent has ended), and the seconds from the last fault until both
sweeps are complete. The script prints a table and exits 1 if any count is not zero.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

# This folder holds a logging.py: it must not shadow the standard library's.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

TRAIN = """
    import sys, time
    import sweepkit
    run = sweepkit.init()
    x = float(run.config["x"])
    for step in range({steps}):
        sweepkit.log({{"loss": (x - 0.3) ** 2 + 1.0 / (step + 1), "step_value": step}})
        time.sleep({pause})
"""


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (a run process of an agent)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


class Campaign:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.base = Path(tempfile.mkdtemp(prefix="sweepkit-faults-"))
        self.store = self.base / "store.db"
        self.work = self.base / "work"
        self.work.mkdir()
        self.mounted = False
        self.filler = self.work / "filler"
        self.agents: list[tuple[subprocess.Popen, str]] = []
        self.faults = {"agent SIGKILL": 0, "run SIGKILL": 0, "run folder full": 0}
        self.notes: list[str] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SWEEPKIT_", "WANDB_"))}
        self.env.update(
            SWEEPKIT_DB=str(self.store),
            SWEEPKIT_INTERPRETER=sys.executable,
            SWEEPKIT_HEARTBEAT_TIMEOUT=str(args.heartbeat_timeout),
            SWEEPKIT_STORE_RETRY="5",
            SWEEPKIT_KILL_GRACE="3",
            # an agent here must not give up because faults failed its runs
            SWEEPKIT_MAX_INITIAL_FAILURES="1000000",
            SWEEPKIT_MAX_FAILURES="1000000",
        )
        os.environ["SWEEPKIT_HEARTBEAT_TIMEOUT"] = str(args.heartbeat_timeout)  # the driver reaps too

    # --- set up --------------------------------------------------------------------------------------
    def mount(self) -> None:
        if not self.args.fill_run_folder:
            return
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={self.args.run_folder_mb}m", "tmpfs", str(self.work)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            self.notes.append(f"run folder full: not run (cannot mount a tmpfs: {done.stderr.strip()})")
            self.args.fill_run_folder = False
            return
        self.mounted = True

    def sweeps(self, service) -> dict[str, str]:
        (self.work / "train.py").write_text(
            textwrap.dedent(TRAIN.format(steps=self.args.steps, pause=self.args.pause))
        )
        grid = {
            "program": "train.py",
            "method": "grid",
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {"x": {"values": [round(i / self.args.grid, 6) for i in range(self.args.grid)]}},
        }
        bayes = {
            "program": "train.py",
            "method": "bayes",
            "metric": {"name": "loss", "goal": "minimize"},
            "run_cap": self.args.bayes,
            "parameters": {"x": {"min": 0.0, "max": 1.0}},
        }
        return {"grid": service.create_sweep(grid).id, "bayes": service.create_sweep(bayes).id}

    # --- agents ----------------------------------------------------------------------------------------
    def start_agent(self, sweep_id: str) -> None:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sweepkit", "agent", sweep_id, "--quiet"],
            cwd=self.work,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.base / f"agent-{uuid.uuid4().hex[:8]}.log", "w"),  # noqa: SIM115
        )
        self.agents.append((proc, sweep_id))

    def keep_agents(self, wanted: dict[str, int]) -> None:
        """Start agents until each sweep that is not complete has its share."""
        self.agents = [(p, s) for p, s in self.agents if p.poll() is None]
        for sweep_id, count in wanted.items():
            alive = sum(1 for _p, s in self.agents if s == sweep_id)
            for _ in range(count - alive):
                self.start_agent(sweep_id)

    # --- faults -----------------------------------------------------------------------------------------
    def inject(self) -> None:
        kinds = ["agent SIGKILL", "run SIGKILL"] + (["run folder full"] if self.args.fill_run_folder else [])
        kind = self.rng.choice(kinds)
        alive = [p for p, _s in self.agents if p.poll() is None]
        if kind == "agent SIGKILL" and alive:
            victim = self.rng.choice(alive)
            for child in _children(victim.pid):
                _kill(child)  # its run dies with it (as the run's parent-death signal would do)
            _kill(victim.pid)
        elif kind == "run SIGKILL":
            runs = [c for p in alive for c in _children(p.pid)]
            if not runs:
                return
            _kill(self.rng.choice(runs))
        elif kind == "run folder full":
            _fill(self.filler)
            time.sleep(self.rng.uniform(0.5, 3.0))
            self.filler.unlink(missing_ok=True)
        else:
            return
        self.faults[kind] += 1

    # --- the campaign ---------------------------------------------------------------------------------
    def run(self) -> int:
        from sweepkit.connect import open_local

        service = None
        try:
            self.mount()
            service = open_local(str(self.store), create=True)
            ids = self.sweeps(service)
            share = {
                ids["grid"]: max(1, self.args.agents * 3 // 4),
                ids["bayes"]: max(1, self.args.agents // 4),
            }
            end_faults = time.monotonic() + self.args.faults_for
            while time.monotonic() < end_faults:
                self.keep_agents({s: n for s, n in share.items() if not self.complete(service, s)})
                time.sleep(self.rng.uniform(0.5, 2.5))
                self.inject()
            self.filler.unlink(missing_ok=True)
            last_fault = time.monotonic()
            deadline = last_fault + self.args.recover_within
            while time.monotonic() < deadline:
                pending = [s for s in ids.values() if not self.complete(service, s)]
                if not pending:
                    break
                for sweep_id in pending:
                    service.retry_runs(sweep_id)  # failed, crashed and killed runs go again
                self.keep_agents({s: share[s] for s in pending})
                time.sleep(0.5)
            recovered = time.monotonic() - last_fault
            for proc, _s in self.agents:
                try:
                    proc.wait(timeout=max(30, self.args.heartbeat_timeout * 3))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    self.notes.append(f"an agent (pid {proc.pid}) did not end once its sweep was complete")
            time.sleep(self.args.heartbeat_timeout + 1)
            rows = [self.count(service, name, sweep_id, recovered) for name, sweep_id in ids.items()]
        finally:
            if service is not None:
                service.close()
            self.cleanup()
        self.print_table(rows)
        bad = sum(r[k] for r in rows for k in ("lost", "duplicated", "values lost", "stuck"))
        return 1 if bad else 0

    def complete(self, service, sweep_id: str) -> bool:
        from sweepkit.runs import RunState

        sweep = service.get_sweep(sweep_id)
        runs = [r for r in service.all_runs(sweep_id) if r.retried_by is None]
        finished = [r for r in runs if r.state == RunState.FINISHED]
        if sweep.method == "grid":
            return len({json.dumps(r.config, sort_keys=True) for r in finished}) >= self.args.grid
        return len(finished) >= self.args.bayes

    def count(self, service, name: str, sweep_id: str, recovered: float) -> dict:
        from sweepkit.runs import RunState

        runs = service.all_runs(sweep_id)
        finished = [r for r in runs if r.state == RunState.FINISHED]
        by_point: dict[str, int] = {}
        for run in finished:
            key = json.dumps(run.config, sort_keys=True)
            by_point[key] = by_point.get(key, 0) + 1
        wanted = self.args.grid if name == "grid" else self.args.bayes
        lost = max(0, wanted - len(by_point)) if name == "grid" else max(0, wanted - len(finished))
        duplicated = sum(n - 1 for n in by_point.values()) if name == "grid" else 0
        values_lost = 0
        for run in finished:
            stored = service.full_history(run.id)
            values_lost += 2 * max(0, self.args.steps - len(stored))
        stuck = sum(1 for r in runs if r.state in (RunState.PENDING, RunState.RUNNING))
        states: dict[str, int] = {}
        for run in runs:
            states[run.state.value] = states.get(run.state.value, 0) + 1
        return {
            "sweep": f"{name} ({wanted})",
            "runs": len(runs),
            "states": ", ".join(f"{k} {v}" for k, v in sorted(states.items())),
            "lost": lost,
            "duplicated": duplicated,
            "values lost": values_lost,
            "stuck": stuck,
            "recover s": round(recovered, 1),
        }

    def print_table(self, rows: list[dict]) -> None:
        print(
            f"seed {self.args.seed}, {self.args.agents} agents, SQLite, faults for {self.args.faults_for:g} s: "
            + ", ".join(f"{k} x{v}" for k, v in self.faults.items())
        )
        for note in self.notes + [
            "not run (off by default on a shared machine): PostgreSQL restarts, server SIGSTOP",
        ]:
            print(f"  {note}")
        header = list(rows[0])
        widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in header]
        print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        print("-|-".join("-" * w for w in widths))
        for row in rows:
            print(" | ".join(str(row[h]).ljust(w) for h, w in zip(header, widths, strict=True)))

    def cleanup(self) -> None:
        for proc, _s in self.agents:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.work)], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _fill(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (65536, 512, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--agents", type=int, default=16)
    p.add_argument("--grid", type=int, default=300, help="grid points")
    p.add_argument("--bayes", type=int, default=40, help="the bayes sweep's run_cap")
    p.add_argument("--steps", type=int, default=10, help="rows each run logs")
    p.add_argument("--pause", type=float, default=0.1, help="seconds between a run's rows")
    p.add_argument("--faults-for", type=float, default=120.0, help="seconds of fault injection")
    p.add_argument(
        "--recover-within", type=float, default=1800.0, help="seconds allowed to complete afterwards"
    )
    p.add_argument("--heartbeat-timeout", type=float, default=5.0)
    p.add_argument("--run-folder-mb", type=int, default=32)
    p.add_argument("--no-fill-run-folder", dest="fill_run_folder", action="store_false")
    p.add_argument("--postgres-restarts", action="store_true", help="not run by this script (shared machine)")
    p.add_argument("--server-stops", action="store_true", help="not run by this script (shared machine)")
    args = p.parse_args(argv)
    if args.postgres_restarts or args.server_stops:
        p.error("--postgres-restarts and --server-stops are named, not run: they disturb a shared machine")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))  # stopped: clean up all the same
    return Campaign(args).run()


if __name__ == "__main__":
    sys.exit(main())

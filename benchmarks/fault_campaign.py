"""A seeded fault campaign: agents work through a grid and a bayes sweep while faults are injected at
random moments, then the sweeps are finished (failed and crashed runs retried) and checked.

    python benchmarks/fault_campaign.py                      # 16 agents, 300-point grid, bayes 40 runs
    python benchmarks/fault_campaign.py --cells sqlite --agents 4 --grid 24 --bayes 8 --faults-for 20

Each cell is a store (SQLite, or a private PostgreSQL this script starts: ``initdb`` into a temp
folder, its own port, trust auth, run as the ``postgres`` user) with or without a ``sweepkit server``
in between (agents then hold only its URL). Faults, one every 0.5-2.5 s while ``--faults-for`` lasts
(and past it, up to 60 s more or twice as long, while a kind has not happened yet), each kind once per round in a
seeded random order:

- SIGKILL of an agent (a new one takes its place) or of a run process;
- the agents' run folders' filesystem, and the store's (the SQLite file's, or the PostgreSQL data
  folder's; its write-ahead log lives elsewhere), filled for a moment and freed: tmpfs mounts made
  here, which needs root (else left out and said);
- with a server: SIGKILL of the server (started again on its port), and SIGSTOP of it for
  ``--partition-s`` seconds (a partition: agents see a server that does not answer), then SIGCONT;
- with PostgreSQL: a restart of it (stopped ``-m fast``, down 1-3 s, started);
- throughout, every second agent's host clock is 10 minutes off (one ahead, the next behind) through
  libfaketime (Debian's ``faketime`` package; else left out and said).

Counted per sweep, after recovery: runs lost (grid points, or bayes runs up to run_cap, without a
finished run), duplicated (grid points with more than one finished run), values lost (rows a
finished run logged that are not stored: every run logs ``--steps`` rows of 2 values), runs stuck
(runs still pending or running once every agent has ended), agents hung (agents that did not end
within 30 s once their sweep was complete; with py-spy at hand their stacks are kept), and the
seconds from the last fault until both sweeps are complete. The script prints a table and exits 1 if any count is not zero
(2 if ``--require-all`` is given and a fault could not be run here).
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
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

PG_BIN = Path("/usr/lib/postgresql/15/bin")
FAKETIME_LIBS = [
    Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"),
    Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1"),
    Path("/usr/lib/faketime/libfaketimeMT.so.1"),
]
CELLS = ("sqlite", "sqlite+server", "postgres", "postgres+server")


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
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


def _mount(path: Path, mb: int) -> str | None:
    """Mount a tmpfs of ``mb`` MB at ``path``; None, or why it could not be."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={mb}m", "tmpfs", str(path)], capture_output=True, text=True
    )
    return None if done.returncode == 0 else (done.stderr.strip() or f"mount exited {done.returncode}")


class Postgres:
    """A private PostgreSQL instance: its own folder and port, trust auth, run as ``postgres``."""

    def __init__(self, base: Path, data_mb: int | None) -> None:
        self.base = base
        self.port = _free_port()
        self.fs = base / "pgfs"  # the data folder's filesystem (a tmpfs when data_mb is given)
        self.data = self.fs / "data"
        self.wal = base / "pgwal"
        self.log = base / "postgres.log"
        self.mounted = False
        self.note: str | None = None
        if data_mb is not None:
            why = _mount(self.fs, data_mb)
            if why is None:
                self.mounted = True
            else:
                self.note = f"PostgreSQL's disk full: not run (cannot mount a tmpfs: {why})"
        self.fs.mkdir(parents=True, exist_ok=True)
        self.user = "postgres" if os.getuid() == 0 else None
        for folder in (self.fs, base):
            if self.user is not None:
                entry = pwd.getpwnam(self.user)
                os.chown(folder, entry.pw_uid, entry.pw_gid)
        self._as_user(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "--waldir",
                str(self.wal),
                "-A",
                "trust",
                "-U",
                "postgres",
            ]
        )
        conf = self.data / "postgresql.conf"
        with open(conf, "a") as f:
            f.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{base}'\n"
                "fsync = off\nmax_connections = 200\nshared_buffers = 16MB\n"
            )
        self.start()
        self._as_user(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "faults"]
        )
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/faults"

    def _as_user(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
        if self.user is not None:
            argv = ["runuser", "-u", self.user, "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> None:
        self._as_user(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"]
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"], check=False)

    def alive(self) -> bool:
        done = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True
        )
        return done.returncode == 0

    def close(self) -> None:
        self.stop("immediate")
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.fs)], capture_output=True)


class Server:
    """A ``sweepkit server`` over the store, on a port of its own; killed and started again at will."""

    def __init__(self, base: Path, db: str, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db, self.env, self.base = db, env, base
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sweepkit", "server", "--db", self.db, "--port", str(self.port)],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.base / f"server-{self.starts}.log", "w"),  # noqa: SIM115
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2):
                    return
            except OSError as exc:
                if getattr(exc, "code", None) is not None:  # it answers (any status)
                    return
                if self.proc.poll() is not None:
                    raise RuntimeError(f"sweepkit server exited {self.proc.returncode}") from None
                time.sleep(0.2)
        raise RuntimeError("sweepkit server did not answer within 60 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            _kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Cell:
    """One store, with or without a server: both sweeps worked through while faults are injected."""

    def __init__(self, args: argparse.Namespace, name: str, rng: random.Random) -> None:
        self.args, self.name, self.rng = args, name, rng
        self.postgres_store = name.startswith("postgres")
        self.with_server = name.endswith("+server")
        self.base = Path(tempfile.mkdtemp(prefix="sweepkit-faults-"))
        os.chmod(self.base, 0o755)
        self.work = self.base / "work"
        self.storefs = self.base / "storefs"
        self.mounts: list[Path] = []
        self.agents: list[tuple[subprocess.Popen, str]] = []
        self.skew: dict[int, str] = {}
        self.logs: dict[int, Path] = {}  # agent pid -> its FAKETIME
        self.hung: dict[str, int] = {}  # sweep id -> agents that did not end
        self.started = 0
        self.faults: dict[str, int] = {"agent SIGKILL": 0, "run SIGKILL": 0}
        self.notes: list[str] = []
        self.postgres: Postgres | None = None
        self.server: Server | None = None
        self.fillers: list[Path] = []
        self.queue: list[str] = []
        self.faketime = next((p for p in FAKETIME_LIBS if p.exists()), None)

    # --- set up --------------------------------------------------------------------------------------
    def setup(self) -> str:
        """Mount the small disks, start the store (and server); the store's URL for the driver."""
        self.work.mkdir()
        if self.args.fill_disks:
            why = _mount(self.work, self.args.run_folder_mb)
            if why is None:
                self.mounts.append(self.work)
                self.fillers.append(self.work / "filler")
                self.faults["run folder full"] = 0
            else:
                self.notes.append(f"run folder full: not run (cannot mount a tmpfs: {why})")
        if self.postgres_store:
            if not (PG_BIN / "initdb").exists():
                raise SystemExit(f"{PG_BIN / 'initdb'} is not there: the PostgreSQL cells need PostgreSQL 15")
            self.postgres = Postgres(self.base, self.args.postgres_mb if self.args.fill_disks else None)
            if self.postgres.note:
                self.notes.append(self.postgres.note)
            elif self.args.fill_disks:
                self.fillers.append(self.postgres.fs / "filler")
                self.faults["store full"] = 0
            self.faults["PostgreSQL restart"] = 0
            db = self.postgres.url
        else:
            self.storefs.mkdir()
            if self.args.fill_disks:
                why = _mount(self.storefs, self.args.store_mb)
                if why is None:
                    self.mounts.append(self.storefs)
                    self.fillers.append(self.storefs / "filler")
                    self.faults["store full"] = 0
                else:
                    self.notes.append(f"store full: not run (cannot mount a tmpfs: {why})")
            db = str(self.storefs / "store.db")
        if self.faketime is None:
            self.notes.append("clock 10 min off: not run (libfaketime not found: apt-get install faketime)")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SWEEPKIT_", "WANDB_"))}
        self.env.update(
            SWEEPKIT_INTERPRETER=sys.executable,
            SWEEPKIT_HEARTBEAT_TIMEOUT=str(self.args.heartbeat_timeout),
            SWEEPKIT_STORE_RETRY=str(self.args.store_retry),
            SWEEPKIT_KILL_GRACE="3",
            # an agent here must not give up because faults failed its runs
            SWEEPKIT_AGENT_MAX_INITIAL_FAILURES="1000000",
            SWEEPKIT_AGENT_MAX_FAILURES="1000000",
        )
        os.environ["SWEEPKIT_HEARTBEAT_TIMEOUT"] = str(self.args.heartbeat_timeout)  # the driver reaps too
        self.db = db
        from sweepkit.connect import open_local

        open_local(db, create=True).close()  # the schema, before a server or an agent opens it
        if self.with_server:
            self.server = Server(self.base, db, self.env)
            self.server.start()
            self.faults["server SIGKILL"] = 0
            self.faults[f"server SIGSTOP {self.args.partition_s:g} s"] = 0
            self.env["SWEEPKIT_URL"] = self.server.url
        else:
            self.env["SWEEPKIT_DB"] = db
        return db

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
        env = dict(self.env)
        self.started += 1
        if self.faketime is not None and self.started % 2 == 0:
            env["LD_PRELOAD"] = str(self.faketime)
            env["FAKETIME"] = "+10m" if self.started % 4 == 0 else "-10m"
            # A host's wall clock off, not its monotonic clock (a faked one makes every timed wait of
            # Python's last the offset too: an artefact of the tool, not of a clock that is off).
            env["DONT_FAKE_MONOTONIC"] = "1"
        log = self.base / f"agent-{uuid.uuid4().hex[:8]}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "sweepkit", "agent", sweep_id, "--quiet"],
            cwd=self.work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(log, "w"),  # noqa: SIM115
        )
        self.skew[proc.pid] = env.get("FAKETIME", "")
        self.logs[proc.pid] = log
        self.agents.append((proc, sweep_id))

    def run_processes(self) -> list[int]:
        """The run processes of this cell's agents: ``train.py`` processes working in its folder."""
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                continue
            if any(arg.endswith(b"train.py") for arg in cmdline) and Path(cwd) == self.work:
                found.append(int(entry))
        return found

    def keep_agents(self, wanted: dict[str, int]) -> None:
        """Start agents until each sweep that is not complete has its share."""
        self.agents = [(p, s) for p, s in self.agents if p.poll() is None]
        for sweep_id, count in wanted.items():
            alive = sum(1 for _p, s in self.agents if s == sweep_id)
            for _ in range(count - alive):
                self.start_agent(sweep_id)

    # --- faults -----------------------------------------------------------------------------------------
    def inject(self) -> None:
        if not self.queue:  # every kind once per round, in a seeded order: a short campaign has them all
            self.queue = sorted(self.faults)
            self.rng.shuffle(self.queue)
            if not any(self.faults.values()):  # first the kinds that need a run going (popped last)
                self.queue.sort(key=lambda k: k in ("agent SIGKILL", "run SIGKILL"))
        never = [k for k in self.queue if not self.faults[k]]  # a kind not seen yet goes first
        kind = never[-1] if never else self.queue[-1]
        self.queue.remove(kind)
        alive = [p for p, _s in self.agents if p.poll() is None]
        if kind == "agent SIGKILL" and alive:
            victim = self.rng.choice(alive)
            for child in _children(victim.pid):
                _kill(child)  # its run dies with it (as the run's parent-death signal would do)
            _kill(victim.pid)
        elif kind == "run SIGKILL":
            runs = self.run_processes()
            if not runs:
                self.queue.insert(max(0, len(self.queue) - 1), kind)  # none to kill now: after the next
                return
            _kill(self.rng.choice(runs))
        elif kind in ("run folder full", "store full"):
            filler = self.fillers[0] if kind == "run folder full" else self.fillers[-1]
            _fill(filler)
            time.sleep(self.rng.uniform(0.5, 3.0))
            filler.unlink(missing_ok=True)
        elif kind == "server SIGKILL":
            self.server.kill()
            time.sleep(self.rng.uniform(0.2, 2.0))
            self.server.start()
        elif kind.startswith("server SIGSTOP"):
            _kill(self.server.proc.pid, signal.SIGSTOP)
            time.sleep(self.args.partition_s)
            _kill(self.server.proc.pid, signal.SIGCONT)
        elif kind == "PostgreSQL restart":
            self.postgres.stop("fast")
            time.sleep(self.rng.uniform(1.0, 3.0))
            self.postgres.start()
        else:
            self.queue.insert(max(0, len(self.queue) - 1), kind)  # no agent alive now: after the next
            return
        self.faults[kind] += 1

    # --- the campaign ---------------------------------------------------------------------------------
    def run(self) -> list[dict]:
        from sweepkit.connect import open_local

        service = None
        try:
            db = self.setup()
            service = open_local(db)
            ids = _patient(lambda: self.sweeps(service))
            share = {
                ids["grid"]: max(1, self.args.agents * 3 // 4),
                ids["bayes"]: max(1, self.args.agents // 4),
            }
            started = time.monotonic()
            end_faults = started + self.args.faults_for
            # Past --faults-for (up to 60 s more, or twice as long) while a kind has not happened yet.
            while time.monotonic() < end_faults or (
                not all(self.faults.values())
                and time.monotonic() < end_faults + max(60.0, self.args.faults_for)
            ):
                self.keep_agents(
                    {s: n for s, n in share.items() if not _patient(lambda s=s: self.complete(service, s))}
                )
                time.sleep(self.rng.uniform(0.5, 2.5))
                self.inject()
            for filler in self.fillers:
                filler.unlink(missing_ok=True)
            last_fault = time.monotonic()
            deadline = last_fault + self.args.recover_within
            while time.monotonic() < deadline:
                pending = [s for s in ids.values() if not _patient(lambda s=s: self.complete(service, s))]
                if not pending:
                    break
                for sweep_id in pending:
                    _patient(lambda s=sweep_id: service.retry_runs(s))  # failed, crashed, killed go again
                self.keep_agents({s: share[s] for s in pending})
                time.sleep(0.5)
            recovered = time.monotonic() - last_fault
            for proc, sweep_id in self.agents:
                try:
                    proc.wait(timeout=max(30, self.args.heartbeat_timeout * 3))
                except subprocess.TimeoutExpired:
                    self.hung[sweep_id] = self.hung.get(sweep_id, 0) + 1
                    self.dump(proc)
                    proc.kill()
            time.sleep(self.args.heartbeat_timeout + 1)
            return [self.count(service, name, sweep_id, recovered) for name, sweep_id in ids.items()]
        finally:
            if service is not None:
                service.close()
            self.cleanup()

    def dump(self, proc: subprocess.Popen) -> None:
        """Say where a hung agent is (its threads' stacks, when py-spy is at hand)."""
        skew = self.skew.get(proc.pid) or "no"
        note = f"an agent (pid {proc.pid}, clock skew {skew}) did not end once its sweep was complete"
        spy = shutil.which("py-spy")
        if spy is not None:
            text = ""
            for pid in [proc.pid, *_children(proc.pid)]:
                done = subprocess.run([spy, "dump", "--pid", str(pid)], capture_output=True, text=True)
                text += done.stdout + done.stderr
            (self.base / f"hung-{proc.pid}.txt").write_text(text)
            note += f"; its stacks: {self.base / f'hung-{proc.pid}.txt'}"
        self.notes.append(note + f"; its log: {self.logs.get(proc.pid)}")

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
        for key, n in by_point.items():
            if n > 1 and name == "grid":  # what the store says of each, while it is there to ask
                for run in (r for r in runs if json.dumps(r.config, sort_keys=True) == key):
                    self.notes.append(
                        f"duplicated {key}: run {run.id} #{run.number} {run.state.value} agent {run.agent_id} "
                        f"created {run.created_at:%H:%M:%S.%f} started {run.started_at} finished "
                        f"{run.finished_at} suggestion {run.suggestion} retry_of {run.retry_of} "
                        f"error {(run.error or '').splitlines()[:1]}"
                    )
        values_lost = 0
        for run in finished:
            stored = service.full_history(run.id)
            values_lost += 2 * max(0, self.args.steps - len(stored))
        stuck = sum(1 for r in runs if r.state in (RunState.PENDING, RunState.RUNNING))
        states: dict[str, int] = {}
        for run in runs:
            states[run.state.value] = states.get(run.state.value, 0) + 1
        return {
            "cell": self.name,
            "sweep": f"{name} ({wanted})",
            "runs": len(runs),
            "states": ", ".join(f"{k} {v}" for k, v in sorted(states.items())),
            "lost": lost,
            "duplicated": duplicated,
            "values lost": values_lost,
            "stuck": stuck,
            "agents hung": self.hung.get(sweep_id, 0),
            "recover s": round(recovered, 1),
        }

    def cleanup(self) -> None:
        for proc, _s in self.agents:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if self.server is not None:
            self.server.close()
        if self.postgres is not None:
            self.postgres.close()
        for path in self.mounts:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)
        if self.args.keep:
            print(f"  kept: {self.base}")
        else:
            shutil.rmtree(self.base, ignore_errors=True)


def _patient(call, seconds: float = 120.0):
    """``call()``, tried again while the store is down or full (the driver's own reads and retries)."""
    from sweepkit.errors import SweepkitError

    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except SweepkitError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def print_table(rows: list[dict]) -> None:
    header = list(rows[0])
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in header]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(str(row[h]).ljust(w) for h, w in zip(header, widths, strict=True)))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", default=",".join(CELLS), help=f"comma-separated, of {', '.join(CELLS)}")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--agents", type=int, default=16)
    p.add_argument("--grid", type=int, default=300, help="grid points")
    p.add_argument("--bayes", type=int, default=40, help="the bayes sweep's run_cap")
    p.add_argument("--steps", type=int, default=10, help="rows each run logs")
    p.add_argument("--pause", type=float, default=0.1, help="seconds between a run's rows")
    p.add_argument("--faults-for", type=float, default=120.0, help="seconds of fault injection")
    p.add_argument("--partition-s", type=float, default=30.0, help="seconds a server stays SIGSTOPped")
    p.add_argument(
        "--recover-within", type=float, default=1800.0, help="seconds allowed to complete afterwards"
    )
    p.add_argument("--heartbeat-timeout", type=float, default=5.0)
    p.add_argument("--store-retry", type=float, default=5.0, help="SWEEPKIT_STORE_RETRY of the agents")
    p.add_argument("--run-folder-mb", type=int, default=32)
    p.add_argument("--store-mb", type=int, default=32, help="the SQLite store's tmpfs")
    p.add_argument("--postgres-mb", type=int, default=96, help="the PostgreSQL data folder's tmpfs")
    p.add_argument("--no-fill-disks", dest="fill_disks", action="store_false")
    p.add_argument("--keep", action="store_true", help="keep each cell's folder (logs) for a look")
    p.add_argument("--require-all", action="store_true", help="exit 2 when a fault cannot be run here (CI)")
    args = p.parse_args(argv)
    args.cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    for cell in args.cells:
        if cell not in CELLS:
            p.error(f"--cells: {cell!r} is not one of {', '.join(CELLS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))  # stopped: clean up all the same
    rng = random.Random(args.seed)
    rows: list[dict] = []
    notes: list[str] = []
    print(
        f"seed {args.seed}, {args.agents} agents, grid {args.grid}, bayes {args.bayes}, faults for {args.faults_for:g} s"
    )
    for name in args.cells:
        cell = Cell(args, name, rng)
        started = time.monotonic()
        cell_rows = cell.run()
        rows += cell_rows
        notes += [f"{name}: {n}" for n in cell.notes]
        print(
            f"  {name} ({time.monotonic() - started:.0f} s): "
            + ", ".join(f"{k} x{v}" for k, v in cell.faults.items())
            + (", clock 10 min off: every second agent" if cell.faketime is not None else ""),
            flush=True,
        )
    for note in notes:
        print(f"  {note}")
    print_table(rows)
    bad = sum(r[k] for r in rows for k in ("lost", "duplicated", "values lost", "stuck", "agents hung"))
    if bad:
        return 1
    if args.require_all and any("not run" in n for n in notes):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

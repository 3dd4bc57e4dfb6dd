"""How long ``sweepkit validate`` takes, and how much memory, on large generated configs.

    python benchmarks/validate.py [--repeat N] [--cases 1k,50k,200k,list-1m] [--src DIR]

Each case is a config written to a temporary directory: 1,000, 50,000 and 200,000 parameters of
mixed kinds (uniform, int_uniform, categorical, constant, log_uniform_values; every 50th a nested
group; flow and block style), each with bounds of its own, and one categorical listing 1,000,000
values in flow style. Every run is ``python -m sweepkit validate FILE`` in a fresh process, so
the time includes starting Python and the command; the peak memory is that process's maximum
resident set size (``ru_maxrss`` from ``os.wait4``). The table shows the median time and the
largest peak of ``--repeat`` runs, and the verdict the command printed. ``--src`` measures
another source tree (e.g. an older commit unpacked with ``git archive``). Target: 50,000
parameters in under 3 s and 300 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_SRC = Path(__file__).resolve().parents[1] / "src"
TARGET = ("50k", 3.0, 300.0)  # case, seconds, MB


def parameter_config(n: int) -> str:
    """A random-search config of ``n`` parameters, each with values of its own."""
    out = ["method: random", "metric: {name: loss, goal: minimize}", "program: train.py", "parameters:"]
    for i in range(n):
        name = f"p{i}"
        if i % 50 == 49:
            group = f"lr: {{min: {i * 1e-6:g}, max: 1.0}}"
            out.append(f"  {name}:\n    parameters:\n      {group}\n      act: {{value: relu}}")
        elif i % 5 == 0:
            out.append(f"  {name}: {{min: {i * 1e-4:.4f}, max: {i * 1e-4 + 1:.4f}}}")
        elif i % 5 == 1:
            out.append(f"  {name}: {{min: {i}, max: {i + 10}}}")
        elif i % 5 == 2:
            out.append(f"  {name}: {{values: [a{i}, b{i}, {i}]}}")
        elif i % 5 == 3:
            out.append(f"  {name}:\n    value: v{i}")
        else:
            out.append(
                f"  {name}:\n    distribution: log_uniform_values\n    min: 1e-5\n    max: {0.1 + i * 1e-7:g}"
            )
    return "\n".join(out) + "\n"


def list_config(n: int) -> str:
    """A grid config whose one parameter lists ``n`` values."""
    values = ", ".join(map(str, range(n)))
    return f"method: grid\nprogram: train.py\nparameters:\n  big:\n    values: [{values}]\n"


CASES = {
    "1k": lambda: parameter_config(1_000),
    "50k": lambda: parameter_config(50_000),
    "200k": lambda: parameter_config(200_000),
    "list-1m": lambda: list_config(1_000_000),
}


def run_once(path: Path, src: Path) -> tuple[float, float, str]:
    """Seconds, peak MB and the verdict line of one ``sweepkit validate`` run."""
    env = dict(os.environ, PYTHONPATH=str(src))
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "sweepkit", "validate", str(path)], env=env, stdout=output, stderr=output
        )
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except KeyboardInterrupt:
            process.kill()
            raise
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        lines = output.read().decode("utf-8", "replace").strip().splitlines() or ["(no output)"]
    verdict = lines[-1].split(": ", 1)[-1]
    if process.returncode not in (0, 1):
        verdict = f"exit {process.returncode}: {lines[-1]}"
    elif len(lines) > 1:
        verdict += f" - {lines[0].split(': ', 2)[-1][:70]}"
    return elapsed, usage.ru_maxrss / 1024, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (default 3)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--src", type=Path, default=REPO_SRC, help="the source tree to measure")
    args = parser.parse_args()
    names = [name.strip() for name in args.cases.split(",") if name.strip()]
    unknown = [name for name in names if name not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")

    print(f"sweepkit validate from {args.src}, median of {args.repeat} run(s), peak = max resident set")
    print(f"{'case':<9} {'file':>8} {'time':>8} {'peak':>8}  verdict")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            path = Path(tmp) / f"{name}.yaml"
            path.write_text(CASES[name](), encoding="utf-8")
            runs = [run_once(path, args.src) for _ in range(args.repeat)]
            seconds = statistics.median(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            size = path.stat().st_size / 1e6
            print(f"{name:<9} {size:>6.2f}MB {seconds:>7.2f}s {peak:>6.0f}MB  {runs[-1][2]}", flush=True)
            if name == TARGET[0]:
                met = seconds < TARGET[1] and peak < TARGET[2]
                print(f"{'':<9} target {TARGET[1]:g} s and {TARGET[2]:g} MB: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()

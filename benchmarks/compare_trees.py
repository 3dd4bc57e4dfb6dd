"""One benchmark in two checkouts, run interleaved (A, B, A, B, ...), summed up in one table.

A shared machine's load swings more than the difference between two versions measured one after
the other, so each round runs the benchmark once in checkout A and once in checkout B, alternating
which goes first, and the table shows the median of every number the benchmark printed, in A and
in B, and B / A. Each checkout runs its own copy of the benchmark with its own interpreter (a
virtual environment where that checkout is installed, ``pip install -e CHECKOUT``); the script
checks that each interpreter imports ``sweepkit`` from its checkout before it starts.

    python benchmarks/compare_trees.py logging BEFORE AFTER --python-a VENV_A/bin/python \\
        --python-b VENV_B/bin/python --rounds 5 -- --steps 1000,10000 --repeat 1

Everything after ``--`` is passed to the benchmark (``benchmarks/NAME.py``) in both checkouts. The
numbers are read from the benchmark's own output: every row of its tables (a case is named by the
row's words and the numbers that stay the same in every round, such as step counts), and every
number in its sentences (named by the words around it). One more row is measured here: the CPU
time (user + system) of each whole run of the benchmark and of the processes it waited for, which
other work on a busy machine sways much less than wall times. Run it under ``nice`` on a busy
machine; the load average before and after each round is printed with the table.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: The row of the table for the CPU time of a whole run of the benchmark.
CPU = "CPU s, whole benchmark (user+sys)"
NUMBER = re.compile(r"^[-+]?(\d[\d,]*\.?\d*|\.\d+)%?$")
NUMBER_IN_TEXT = re.compile(r"[-+]?\d[\d,]*\.?\d*")


def _is_number(token: str) -> bool:
    return bool(NUMBER.match(token))


def _number(token: str) -> float:
    return float(token.replace(",", "").rstrip("%"))


def _header_columns(line: str) -> list[tuple[int, str]]:
    """A table header's column names with the position where each ends (two spaces part them)."""
    return [(m.end(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", line)]


def _column_at(header: list[tuple[int, str]], end: int) -> str:
    """The column whose name ends nearest to where a (right-aligned) number ends."""
    return min(header, key=lambda col: abs(col[0] - end))[1]


def parse(output: str) -> dict[tuple[str, str], float]:
    """The numbers of one run of a benchmark, by (case, number's name).

    A table row's case is its words up to its first number (the store, the mode and the step
    count, the number of runs or of clients); its other numbers are named by the header's column
    above them. A sentence's case is what comes before its first ": " (the store), and each of its
    numbers is named by the few words around it, the number marked ``#``.
    """
    found: dict[tuple[str, str], float] = {}
    header: list[tuple[int, str]] | None = None
    for line in output.splitlines():
        tokens = list(re.finditer(r"\S+", line))
        if not tokens:
            header = None
            continue
        if not any(_is_number(t.group()) for t in tokens):
            header = _header_columns(line) if ":" not in line else None
            continue
        if header is not None and ": " not in line:
            first = next(i for i, t in enumerate(tokens) if _is_number(t.group()))
            case = " ".join(t.group() for t in tokens[: first + 1])
            for t in tokens[first + 1 :]:
                if _is_number(t.group()):
                    found[(case, _column_at(header, t.end()))] = _number(t.group())
            continue
        case, _, text = line.partition(": ") if ": " in line else ("", "", line)
        numbers = list(NUMBER_IN_TEXT.finditer(text))
        for i, match in enumerate(numbers):
            before = text[numbers[i - 1].end() if i else 0 : match.start()]
            after = text[match.end() : numbers[i + 1].start() if i + 1 < len(numbers) else None]
            before = re.split(r"[(:,]", before)[-1].split()[-4:]
            after = re.split(r"[(:,]", after)[0].split()[:3]
            found[(case.strip(), " ".join([*before, "#", *after]))] = _number(match.group())
    return found


def fold(rounds: list[dict[tuple[str, str], float]]) -> dict[tuple[str, str], list[float]]:
    """Each number's values over the rounds of one checkout (numbers every round printed)."""
    return {key: [r[key] for r in rounds] for key in rounds[0] if all(key in r for r in rounds)}


def measured(key: tuple[str, str], a: list[float], b: list[float]) -> bool:
    """Whether a number is a measurement: a sentence's number that never changes is a setting."""
    return "#" not in key[1] or len(set(a) | set(b)) > 1


def run_once(python: str, checkout: Path, bench: str, args: list[str]) -> tuple[str, float]:
    """The benchmark's output, and the CPU time (user + system) it and the processes it waited for
    took: less swayed by other work on the machine than its wall times."""
    env = dict(os.environ)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env["PATH"] = str(Path(python).parent) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(
        [python, str(checkout / "benchmarks" / f"{bench}.py"), *args],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{bench}.py failed in {checkout}:\n{done.stdout}\n{done.stderr}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return done.stdout, cpu


def check_interpreter(python: str, checkout: Path) -> None:
    where = subprocess.run(
        [python, "-c", "import sweepkit, sys; sys.stdout.write(sweepkit.__file__)"],
        capture_output=True,
        text=True,
    ).stdout
    if not where or not Path(where).resolve().is_relative_to(checkout.resolve()):
        sys.exit(
            f"{python} imports sweepkit from {where or 'nowhere'}, not from {checkout}: "
            f"install the checkout in that interpreter's environment (pip install -e {checkout})."
        )


def _show(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def _spread(values: list[float]) -> str:
    middle = statistics.median(values)
    return f"{(max(values) - min(values)) / 2 / abs(middle) * 100:.0f}" if middle else "-"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bench", help="the benchmark's name: logging, overhead, server, ...")
    parser.add_argument("a", type=Path, help="checkout A (before)")
    parser.add_argument("b", type=Path, help="checkout B (after)")
    parser.add_argument("--python-a", default=sys.executable, help="interpreter for checkout A")
    parser.add_argument("--python-b", default=sys.executable, help="interpreter for checkout B")
    parser.add_argument("--rounds", type=int, default=5, help="runs in each checkout")
    parser.epilog = "after --: the benchmark's own options, passed to it in both checkouts"
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    opts = parser.parse_args(argv[:cut])
    bench_args = argv[cut + 1 :]
    sides = {"A": (opts.python_a, opts.a), "B": (opts.python_b, opts.b)}
    for python, checkout in sides.values():
        check_interpreter(python, checkout)

    started = time.time()
    loads = [load()]
    results: dict[str, list[dict[tuple[str, str], float]]] = {"A": [], "B": []}
    for i in range(opts.rounds):
        order = ["A", "B"] if i % 2 == 0 else ["B", "A"]
        for side in order:
            python, checkout = sides[side]
            output, cpu = run_once(python, checkout, opts.bench, bench_args)
            results[side].append(parse(output) | {("", CPU): cpu})
        loads.append(load())
        print(f"round {i + 1}/{opts.rounds} done, load average {loads[-1]}", file=sys.stderr)

    a = fold(results["A"])
    b = fold(results["B"])
    rows = [key for key in a if key in b and measured(key, a[key], b[key])]
    case_width = max([len(k[0]) for k in rows] + [4])
    col_width = max([len(k[1]) for k in rows] + [6])
    print(f"benchmarks/{opts.bench}.py {' '.join(bench_args)}")
    print(f"A = {opts.a.resolve()}   B = {opts.b.resolve()}   {opts.rounds} rounds each, interleaved")
    print(
        f"{'case':<{case_width}}  {'number':<{col_width}}  {'A median':>10}  {'B median':>10}"
        f"  {'B/A':>5}  {'A ±%':>5}  {'B ±%':>5}"
    )
    for key in rows:
        ma, mb = statistics.median(a[key]), statistics.median(b[key])
        ratio = f"{mb / ma:.2f}" if ma else "-"
        print(
            f"{key[0]:<{case_width}}  {key[1]:<{col_width}}  {_show(ma):>10}  {_show(mb):>10}"
            f"  {ratio:>5}  {_spread(a[key]):>5}  {_spread(b[key]):>5}"
        )
    print("±%: half the range of the rounds, in percent of the median")
    missing = [k for k in a if k not in b] + [k for k in b if k not in a]
    if missing:
        print(f"({len(missing)} numbers printed by one checkout only, left out)")
    print(f"load average (1, 5, 15 min) at start and after each round: {' | '.join(loads)}")
    print(f"wall time {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()

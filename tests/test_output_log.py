"""A run's output log is capped on disk: its head and newest tail are kept, the middle is counted."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys

from sweepkit.agents.output_log import CappedLog, last_lines
from sweepkit.connect import open_local
from sweepkit.runs import RunState


def test_a_capped_log_keeps_the_head_and_the_newest_tail(tmp_path):
    rng = random.Random(7)
    data = b"".join(f"line {i:07d}\n".encode() for i in range(400_000))  # 5.2 MB
    path = tmp_path / "output.log"
    log = CappedLog(path, 64_000)
    pos = 0
    while pos < len(data):
        size = rng.randint(1, 65536)
        log.write(data[pos : pos + size])
        pos += size
        assert path.stat().st_size <= 64_000 + 65536
    log.close()
    text = path.read_bytes()
    head, marker, tail = re.split(rb"\n\[sweepkit: +(\d+) bytes of output left out here[^\n]*\]\n", text)[:3]
    assert data.startswith(head) and len(head) == 16_000
    assert data.endswith(tail) and len(tail) >= 32_000
    assert len(head) + int(marker) + len(tail) == len(data)
    assert last_lines(path, 2) == ["line 0399998", "line 0399999"]


def test_a_log_under_the_limit_is_kept_whole(tmp_path):
    path = tmp_path / "output.log"
    log = CappedLog(path, 1000)
    for i in range(50):
        log.write(f"{i}\n".encode())
    log.close()
    assert path.read_text() == "".join(f"{i}\n" for i in range(50))
    assert last_lines(path, 3) == ["47", "48", "49"]
    assert last_lines(tmp_path / "missing.log") == []


def test_a_run_printing_tens_of_megabytes_leaves_a_small_log(tmp_path):
    (tmp_path / "loud.py").write_text(
        "import sys\nsys.stdout.write('first line\\n')\n"
        "block = ('x' * 1023 + '\\n') * 1024\n"
        "for _ in range(30):\n    sys.stdout.write(block)\n"
        "sys.stdout.write('last line\\n')\n"
    )
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    service = open_local(store_url, create=True)
    sweep = service.create_sweep(
        {
            "program": "loud.py",
            "method": "grid",
            "command": ["${interpreter}", "${program}"],
            "parameters": {"i": {"value": 1}},
        }
    )
    env = {**os.environ, "SWEEPKIT_DB": store_url, "SWEEPKIT_INTERPRETER": sys.executable}
    env["SWEEPKIT_LOG_MAX_BYTES"] = "200000"
    done = subprocess.run(
        [sys.executable, "-m", "sweepkit", "agent", sweep.id, "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (run,) = service.all_runs(sweep.id)
    assert run.state == RunState.FINISHED
    log = tmp_path / ".sweepkit" / "runs" / run.id / "output.log"
    assert log.stat().st_size <= 200_000 + 65536
    text = log.read_text()
    assert text.startswith("first line\n") and text.endswith("last line\n")
    assert "bytes of output left out here" in text

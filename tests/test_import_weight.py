"""The agent's start-up path stays light: no numpy/scipy for grid and random sweeps, no web stack."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def test_a_random_function_agent_loads_no_numpy_scipy_or_web_stack(tmp_path):
    script = textwrap.dedent(
        f"""
        import json, sys
        import sweepkit

        def train():
            run = sweepkit.init()
            run.log({{"loss": run.config["x"]}})

        db = {str(tmp_path / "s.db")!r}
        sid = sweepkit.sweep({{"method": "random", "metric": {{"name": "loss"}},
                               "parameters": {{"x": {{"min": 0.0, "max": 1.0}}}}}}, db=db)
        sweepkit.agent(sid, function=train, count=2, db=db)
        heavy = ["numpy", "scipy", "fastapi", "uvicorn", "starlette", "matplotlib", "httpx", "rich"]
        print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_import_sweepkit_is_cheap():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, sweepkit; print(sorted(m for m in ('sqlalchemy', 'yaml', 'numpy', 'click') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"

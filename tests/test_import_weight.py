"""The agent's start-up path stays light: no numpy/scipy for grid and random sweeps, no web stack; an
agent against a server loads neither the server's web stack nor any database stack."""

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


def test_an_agent_against_a_server_loads_no_server_or_database_stack(
    tmp_path, sqlite_template, server_factory
):
    """`sweepkit agent` with SWEEPKIT_URL: the HTTP client only (no FastAPI, uvicorn, Starlette,
    pydantic, SQLAlchemy, Alembic or a database driver), for program runs and function runs alike."""
    import os
    import shutil

    from sweepkit.connect import open_local

    shutil.copyfile(sqlite_template, tmp_path / "store.db")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    local = open_local(db)
    sweep_id = local.create_sweep(
        {"program": "train.py", "method": "grid", "parameters": {"x": {"values": [1, 2]}}}
    ).id
    local.close()
    server = server_factory(db)
    (tmp_path / "train.py").write_text("import sweepkit\nsweepkit.init()\nsweepkit.log({'loss': 1.0})\n")
    heavy = [
        "fastapi",
        "uvicorn",
        "starlette",
        "pydantic",
        "sqlalchemy",
        "alembic",
        "psycopg",
        "numpy",
        "scipy",
    ]
    script = textwrap.dedent(
        f"""
        import json, sys
        import sweepkit
        from sweepkit.cli.main import main

        try:
            main(["agent", {sweep_id!r}, "--count", "1", "--quiet"])
        except SystemExit as end:
            assert not end.code, end.code
        sweepkit.agent({sweep_id!r}, function=lambda: sweepkit.init(), count=1, quiet=True)
        print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
        """
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    environ.update(SWEEPKIT_URL=server.url, SWEEPKIT_INTERPRETER=sys.executable)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=environ, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    service = open_local(db)
    assert [r.state.value for r in service.all_runs(sweep_id)] == ["finished", "finished"]
    service.close()

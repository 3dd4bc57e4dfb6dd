"""A Hydra app with nested config groups under a real agent: ${args_no_hyphens} passes dotted overrides
Hydra accepts, and run.config holds each value once (no nested dict beside its flattened copy)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import sweepkit
from sweepkit.connect import open_local
from sweepkit.runs import RunState

FILES = {
    "conf/config.yaml": """
        defaults:
          - optimizer: sgd
          - _self_
        epochs: 3
        model:
          width: 8
          depth: 2
        """,
    "conf/optimizer/sgd.yaml": """
        name: sgd
        lr: 0.1
        momentum: 0.9
        """,
    "app.py": """
        import json, os, sys
        import hydra
        from omegaconf import OmegaConf
        import wandb

        @hydra.main(version_base=None, config_path="conf", config_name="config")
        def main(cfg):
            wandb.init(project="hydra", config=OmegaConf.to_container(cfg, resolve=True))
            for epoch in range(cfg.epochs):
                wandb.log({"loss": cfg.optimizer.lr * cfg.model.width / (epoch + 1)})
            with open(os.environ["OUT"], "w") as fh:
                json.dump({"argv": sys.argv[1:], "config": dict(wandb.config),
                           "dotted": [wandb.config["optimizer.lr"], wandb.config["model.width"]]}, fh)

        main()
        """,
}


def test_a_hydra_app_with_nested_groups_gets_dotted_overrides_and_a_clean_config(tmp_path):
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    db = str(tmp_path / "store.db")
    config = {
        "program": "app.py",
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "command": ["${env}", "${interpreter}", "${program}", "${args_no_hyphens}"],
        "parameters": {
            "optimizer": {"parameters": {"lr": {"values": [0.01]}}},  # a nested group
            "model.width": {"values": [16]},  # a flat dotted name, as W&B users write for Hydra
            "epochs": {"value": 2},
        },
    }
    sweep_id = sweepkit.sweep(config, db=db)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env.update(SWEEPKIT_DB=db, SWEEPKIT_INTERPRETER=sys.executable, OUT=str(tmp_path / "seen.json"))
    ran = subprocess.run(
        [sys.executable, "-m", "sweepkit", "agent", sweep_id, "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert ran.returncode == 0, ran.stderr
    (run,) = open_local(db).all_runs(sweep_id)
    log = (Path(tmp_path) / ".sweepkit" / "runs" / run.id / "output.log").read_text()
    assert run.state == RunState.FINISHED, log
    seen = json.loads((tmp_path / "seen.json").read_text())
    # W&B would pass optimizer={'lr': 0.01}, which Hydra's grammar refuses.
    assert seen["argv"] == ["epochs=2", "model.width=16", "optimizer.lr=0.01"]
    expected = {
        "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9},
        "epochs": 2,
        "model": {"width": 16, "depth": 2},
    }
    assert seen["config"] == expected and run.config == expected
    assert seen["dotted"] == [0.01, 16]
    assert [row["loss"] for row in open_local(db).full_history(run.id)] == [0.16, 0.08]

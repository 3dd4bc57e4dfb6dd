"""The W&B run API pieces on their own: a run's value of the metric, config merging and updates,
define_metric's summaries, media files, artifacts, and the stand-in's unknown names."""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import wave
import zlib
from pathlib import Path

import pytest

import sweepkit
from sweepkit.errors import SweepkitError
from sweepkit.runs import MetricStats
from sweepkit.stopping.hyperband import stop_runs
from sweepkit.tracking import encoders, media
from sweepkit.tracking.metric_defs import MetricDefinitions
from sweepkit.tracking.run import Config, merge_sweep_config
from sweepkit.wandb_facade import NAMES

# --- a run's value of the metric (one rule: MetricStats.best) -------------------------------------


def test_a_runs_value_is_the_best_of_its_logged_values_and_the_summary_it_set():
    logged = MetricStats.from_values([0.5, 0.2, 0.9])
    assert logged.best("minimize") == 0.2 and logged.best("maximize") == 0.9
    assert logged.with_summary(0.1).best("minimize") == 0.1  # a better summary value counts
    assert logged.with_summary(0.7).best("minimize") == 0.2  # a worse one does not
    assert logged.with_summary({"min": 0.2}).best("minimize") == 0.2  # define_metric's dict: not a value
    assert MetricStats().with_summary(0.3).best("maximize") == 0.3
    assert MetricStats().best("minimize") is None
    assert logged.with_summary(0.1).best_logged("minimize") == 0.2
    assert logged.describe_best("minimize") == "the best of its 3 logged values"
    assert (
        logged.with_summary(0.1).describe_best("minimize").startswith("the summary value the run set, better")
    )
    assert MetricStats().with_summary(0.3).describe_best("minimize").endswith("it logged no value")


def test_hyperband_does_not_count_summary_values():
    from sweepkit.runs import RunState, RunView

    config = {"early_terminate": {"type": "hyperband", "min_iter": 1, "eta": 2, "strict": False}}
    config["metric"] = {"name": "loss", "goal": "minimize"}
    from sweepkit.sweep_config import load_config

    cfg = load_config({"method": "random", "parameters": {"x": {"value": 1}}, **config})
    good = [RunView(f"good{v}", RunState.RUNNING, {}, MetricStats.from_values([v])) for v in (1.0, 2.0)]
    # A run whose own summary claims 0.0 but whose logged value is poor is still judged poor.
    poor = RunView("poor", RunState.RUNNING, {}, MetricStats.from_values([5.0]).with_summary(0.0))
    assert [d.run_id for d in stop_runs(cfg, [*good, poor])] == ["poor"]


# --- config ------------------------------------------------------------------------------------------


def test_merging_keeps_a_groups_extra_keys_when_the_program_already_holds_the_sweep_values():
    init = {"optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9}, "model": {"width": 8}}
    sweep = {"optimizer": {"lr": 0.01}, "model.width": 16, "epochs": 2}
    merged = merge_sweep_config(init, sweep)
    assert merged == {
        "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9},
        "model": {"width": 16},
        "epochs": 2,
    }
    assert init["model"] == {"width": 8}  # the caller's dicts are left alone
    # A group the program holds with other values is replaced (W&B), or merged with "deep".
    assert merge_sweep_config({"optimizer": {"lr": 0.5, "m": 1}}, {"optimizer": {"lr": 0.01}}) == {
        "optimizer": {"lr": 0.01}
    }
    assert merge_sweep_config({"optimizer": {"lr": 0.5, "m": 1}}, {"optimizer": {"lr": 0.01}}, "deep") == {
        "optimizer": {"lr": 0.01, "m": 1}
    }
    # A dotted name without a parent dict stays a flat key.
    assert merge_sweep_config({}, {"a.b": 1}) == {"a.b": 1}


def test_config_updates_from_namespaces_and_absl_flags_with_swept_keys_locked():
    config = Config({"lr": 0.2, "opt": {"lr": 0.1, "m": 0.9}}, sweep={"lr": 0.2, "opt": {"lr": 0.1}})

    class Flags:  # what absl.flags.FLAGS offers
        def flag_values_dict(self):
            return {"depth": 3}

    config.update(argparse.Namespace(lr=0.2, path=Path("out"), seed=1))
    config.update(Flags())
    config.setdefaults({"seed": 7, "extra": True})
    assert config.as_dict() == {
        "lr": 0.2,
        "opt": {"lr": 0.1, "m": 0.9},
        "path": "out",
        "seed": 1,
        "depth": 3,
        "extra": True,
    }
    with pytest.warns(UserWarning, match="set by the sweep"):
        config.update({"lr": 0.5})
    config.update({"opt": {"lr": 0.1, "m": 0.5, "nesterov": True}})  # agrees with the sweep: taken
    assert config["opt.m"] == 0.5 and config.opt["nesterov"] is True
    config["opt.m"] = 0.7  # a dotted name sets the nested value
    assert config.as_dict()["opt"]["m"] == 0.7 and "opt.m" not in config.as_dict()
    with pytest.raises(SweepkitError, match="expected a dict"):
        config.update(42)


# --- define_metric -----------------------------------------------------------------------------------


def test_define_metric_decides_what_the_summary_holds():
    defs = MetricDefinitions()
    defs.define("loss", summary="min,max,mean,first,last")
    defs.define("val/*", step_metric="epoch", summary="best", goal="maximize")
    defs.define("quiet", summary="none")
    out = {}
    for row in ({"loss": 3.0, "val/acc": 0.5, "quiet": 1}, {"loss": 1.0, "val/acc": 0.7}, {"loss": 2.0}):
        out.update(defs.summaries(row))
    assert out["loss"] == {"min": 1.0, "max": 3.0, "mean": 2.0, "first": 3.0, "last": 2.0}
    assert out["val/acc"] == {"best": 0.7} and "quiet" not in out
    defs.remember({"epoch": 4})
    row = {"val/acc": 0.8}
    defs.sync_steps(row)
    assert row == {"val/acc": 0.8, "epoch": 4}
    with pytest.raises(SweepkitError, match="unknown aggregate 'median'"):
        defs.define("x", summary="median")


# --- media and files -----------------------------------------------------------------------------------


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    idat = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[idat - 4 : idat])
    return width, height, zlib.decompress(data[idat + 4 : idat + 4 + length])


def test_images_from_arrays_become_pngs_and_sounds_wavs(tmp_path):
    ref = media.Image([[0.0, 1.0], [0.5, 0.25]], caption="c").to_json(tmp_path, "x/y", 3)
    assert ref["path"].startswith("files/media/images/x_y_3_") and ref["caption"] == "c"
    width, height, raw = _png_pixels((tmp_path / ref["path"]).read_bytes())
    assert (width, height, raw) == (2, 2, bytes([0, 0, 255, 0, 128, 64]))
    chw = [[[255, 0]], [[0, 255]], [[0, 0]]]  # 3 x 1 x 2, channels first
    assert media.pixel_rows(chw) == [[(255, 0, 0), (0, 255, 0)]]
    with wave.open(
        str(tmp_path / media.Audio([0.0, 0.5, -1.0], sample_rate=8000).to_json(tmp_path, "a", 0)["path"])
    ) as w:
        assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (1, 8000, 3)
    animated = encoders.apng([[[0, 0]], [[255, 255]]], fps=2)
    assert animated.count(b"fcTL") == 2 and b"acTL" in animated
    with pytest.raises(SweepkitError, match="2 or 3 dimensions"):
        media.pixel_rows([1, 2, 3])


def test_tables_hold_media_cells_and_charts_keep_their_table(tmp_path):
    from sweepkit.tracking import plot

    table = media.Table(columns=["x", "img"])
    table.add_data(1, media.Image([[1, 2]]))
    table.add_column("y", [5])
    ref = media.Table(columns=["a"], data=[[1]]).to_json(tmp_path, "t", 0)
    assert ref["nrows"] == 1 and json.loads((tmp_path / ref["path"]).read_text()) == {
        "columns": ["a"],
        "data": [[1]],
    }
    saved = json.loads((tmp_path / table.to_json(tmp_path, "t2", 1)["path"]).read_text())
    assert saved["columns"] == ["x", "img", "y"] and saved["data"][0][1]["_type"] == "image-file"
    chart = plot.confusion_matrix(y_true=[0, 1, 1], preds=[0, 1, 0], class_names=["cat", "dog"])
    chart_ref = chart.to_json(tmp_path, "cm", 2)
    rows = json.loads((tmp_path / chart_ref["table"]["path"]).read_text())["data"]
    assert (
        chart_ref["chart"] == "confusion_matrix" and ["dog", "cat", 1] in rows and ["dog", "dog", 1] in rows
    )
    roc = plot.roc_curve([0, 1], [[0.9, 0.1], [0.2, 0.8]]).table.data
    assert ["1", 0.0, 1.0] in roc
    with pytest.raises(SweepkitError, match="expected 3 values"):
        table.add_data(1)


def test_artifacts_are_versioned_folders_later_runs_use(tmp_path):
    from sweepkit.tracking.files import Artifact, log_artifact, use_artifact

    class FakeRun:  # what log_artifact needs of a run: its id and folder
        id = "r1"
        run_dir = tmp_path / ".sweepkit" / "runs" / "r1"

    (tmp_path / "data.csv").write_text("a,b\n")
    first = Artifact("dataset", "data", metadata={"rows": 1})
    first.add_file(tmp_path / "data.csv")
    with first.new_file("notes.txt") as fh:
        fh.write("hello")
    log_artifact(FakeRun, first, name=None, type=None, aliases=["best"])
    log_artifact(FakeRun, tmp_path / "data.csv", name="dataset", type="data", aliases=None)
    assert first.version == "v1"
    latest = use_artifact(FakeRun, "team/proj/dataset:latest", type=None)
    assert latest.version == "v2" and Path(latest.download(), "data.csv").read_text() == "a,b\n"
    best = use_artifact(FakeRun, "dataset:best", type=None)
    assert best.version == "v1" and Path(best.download(), "notes.txt").read_text() == "hello"
    assert best.metadata == {"rows": 1}
    with pytest.raises(SweepkitError, match="never logged on this machine"):
        use_artifact(FakeRun, "missing:v1", type=None)


# --- the stand-in module ---------------------------------------------------------------------------------


def test_sweepkit_offers_every_stand_in_name_and_the_stand_in_notes_unknown_ones_once():
    assert set(NAMES) - {"init", "log", "finish", "config", "sweep", "agent", "Api"} == sweepkit.WANDB_NAMES
    assert sweepkit.Table is NAMES["Table"] and sweepkit.define_metric is NAMES["define_metric"]
    standin = Path(sweepkit.__file__).parent / "wandb_standin"
    script = (
        "import wandb, sys\n"
        "x = wandb.restore('model.h5')\n"
        "wandb.restore('other.h5')\n"
        "assert not x and list(x) == [] and wandb.run is None\n"
        "assert isinstance(wandb.util.generate_id(), str) and wandb.sklearn.plot_roc\n"
        "with wandb.integration_thing() as y: pass\n"
        "print(wandb.__version__, bool(wandb.login()), 'numpy' in sys.modules, 'yaml' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={"PYTHONPATH": f"{standin}:{Path(sweepkit.__file__).parents[1]}"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["0.21.0+sweepkit", "True", "False", "False"]
    assert out.stderr.count("wandb.restore is not supported") == 1
    assert "wandb.integration_thing is not supported" in out.stderr

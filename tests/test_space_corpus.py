"""Every real config of the corpus that INDEX.md accepts gives a search space that draws, maps and grids.

Reads the corpus from ``SWEEPKIT_CORPUS_DIR`` (default ``../shared/corpus/wandb-configs``) and
skips, saying why, when it is absent.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from corpus_dir import CORPUS_DIR as CORPUS
from sweepkit.search.grid import grid_size, suggest_grid
from sweepkit.space import SearchSpace


def _accepted_files() -> list[Path]:
    """The corpus files whose INDEX.md verdict is not INVALID (those must load)."""
    index = CORPUS / "INDEX.md"
    if not index.is_file():
        return []
    files = []
    for line in index.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0].isdigit() and not cells[6].startswith("INVALID"):
            files.append(CORPUS / cells[1].strip("`"))
    return files


FILES = _accepted_files()


@pytest.mark.skipif(not FILES, reason=f"corpus not found at {CORPUS} (set SWEEPKIT_CORPUS_DIR)")
@pytest.mark.parametrize("path", FILES, ids=[p.name.split("-")[0] for p in FILES])
def test_corpus_config_gives_a_working_space(path):
    config = pytest.importorskip("sweepkit.sweep_config")
    cfg = config.load_config(path)
    space = SearchSpace.from_config(cfg)
    assert len(space) > 0
    rng = random.Random(0)
    for _ in range(20):
        flat = space.draw(rng)
        assert list(flat) == list(space.names)
        assert space.flatten(space.unflatten(flat)) == flat
        for p in space.params:
            value = flat[p.name]
            if p.bounds is not None:
                assert p.bounds[0] <= value <= p.bounds[1]
                assert 0.0 <= p.to_unit(value) <= 1.0
            else:
                p.index_of(value)
    if cfg.method == "grid":
        first = suggest_grid(space, [])
        assert first.info == {"grid_index": 0, "grid_size": grid_size(space)}

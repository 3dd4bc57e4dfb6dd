"""Where the tests find the corpus of real sweep configs written by others (it is not part of the
repository): ``SWEEPKIT_CORPUS_DIR``, else ``shared/corpus/wandb-configs`` beside the checkout.
Tests that need it skip when it is absent, unless ``SWEEPKIT_REQUIRE_CORPUS`` is set (conftest)."""

from __future__ import annotations

import os
from pathlib import Path

CORPUS_DIR = Path(
    os.environ.get("SWEEPKIT_CORPUS_DIR")
    or Path(__file__).resolve().parents[2] / "shared" / "corpus" / "wandb-configs"
)

"""``wandb.sdk.lib.runid`` in sweepkit's stand-in: ``generate_id`` (a new base-36 id each call)."""

from sweepkit.tracking.wandb_util import generate_id

generate_fast_id = generate_id

__all__ = ["generate_id", "generate_fast_id"]

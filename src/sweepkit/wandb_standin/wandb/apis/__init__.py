"""``wandb.apis`` in sweepkit's stand-in: ``wandb.apis.public.Api`` is sweepkit's query API."""

from wandb.apis import public  # noqa: F401

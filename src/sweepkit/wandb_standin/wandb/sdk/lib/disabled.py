"""``wandb.sdk.lib.disabled`` in sweepkit's stand-in: W&B's disabled-run types, kept for the
integrations that name them in ``isinstance`` checks. ``init()`` never returns one: sweepkit reports
even a ``mode="disabled"`` run to its sweep."""


class RunDisabled:
    """Named by integrations (Lightning's ``WandbLogger``); no run is ever of this type."""


class SummaryDisabled(dict):
    """A dict with attribute access, as W&B's."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value

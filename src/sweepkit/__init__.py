"""sweepkit: run W&B sweep configs on your own machines, with no account and no network."""

__version__ = "0.1.0"

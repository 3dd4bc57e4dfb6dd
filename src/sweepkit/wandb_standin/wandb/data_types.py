"""``wandb.data_types`` in sweepkit's stand-in: the media types of ``sweepkit.tracking.media``."""

from sweepkit.tracking.media import (  # noqa: F401
    Audio,
    Histogram,
    Html,
    Image,
    Media,
    Object3D,
    Plotly,
    Table,
    Video,
)

WBValue = Media

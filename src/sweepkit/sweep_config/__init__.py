"""The config layer: load a W&B sweep config (YAML, JSON or dict), validate it, fill it in.

``load_config(source)`` returns a :class:`SweepConfig` or raises :class:`ConfigError` carrying every
:class:`Problem` at once; ``read_config(source)`` only reads it (a :class:`SweepSource`: its data,
text and lines), for the sweep service to validate. Pure: no database, network or subprocess; no
numpy or scipy.
"""

from __future__ import annotations

from sweepkit.sweep_config.distributions import GRID_KINDS, infer_kind, kinds
from sweepkit.sweep_config.loader import load_config, load_config_text, read_config, read_config_text
from sweepkit.sweep_config.model import Metric, SweepConfig, SweepSource
from sweepkit.sweep_config.problems import ConfigError, Problem

__all__ = [
    "GRID_KINDS",
    "ConfigError",
    "Metric",
    "Problem",
    "SweepConfig",
    "SweepSource",
    "infer_kind",
    "kinds",
    "load_config",
    "load_config_text",
    "read_config",
    "read_config_text",
]

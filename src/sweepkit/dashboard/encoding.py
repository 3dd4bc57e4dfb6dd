"""JSON as the dashboard sends it: compact, and valid even when a run logged NaN or infinity."""

from __future__ import annotations

import json
import math
from typing import Any


def json_bytes(data: Any) -> bytes:
    """Compact JSON; a number that JSON cannot hold (NaN, infinity, logged by a run) becomes text."""
    try:
        return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()
    except ValueError:
        return json.dumps(finite(data), separators=(",", ":"), allow_nan=False).encode()


def finite(value: Any) -> Any:
    """``value`` with every NaN and infinity replaced by its text ("nan", "inf", "-inf")."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value

"""What a run logged besides numbers: its media (images, tables, histograms, ...) and its long text.

The W&B stand-in (``sweepkit.tracking.media``) writes each logged image, table, video or audio clip
under the run's folder, ``<the agent's working directory>/.sweepkit/runs/<run id>/files/media/...``,
and keeps in the run's row (and summary) a small reference: ``{"_type": "image-file", "path":
"files/media/images/x_3_ab12.png", ...}``; histograms stay in the row itself. The dashboard finds a
run's folder from the working directory its agent reported, and serves a file only when all of
these hold:

* the path is relative, plain (no ``..``, no empty or hidden-by-trick parts, no backslash, no NUL)
  and under ``files/media/``;
* resolved (symbolic links followed), it is still inside that run's ``files/media`` folder;
* it is a regular file of a kind the page shows (by its extension) and of a sensible size.

Anything else is "no such file" in one sentence. Files are sent with their own type, ``nosniff``
and a sandboxing Content-Security-Policy, so that nothing in them can run in the dashboard's origin.
A dashboard on another machine than the agent's cannot read the files; the page then says where
they are.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from sweepkit.errors import NotFoundError, SweepkitError

#: Where the stand-in keeps a run's folder under its agent's working directory.
RUNS_DIR = (".sweepkit", "runs")
#: The only part of a run's folder the dashboard serves.
MEDIA_DIR = ("files", "media")
#: What the page shows or plays, by extension; anything else is only offered as a download.
SHOWN_TYPES = {
    ".png": "image/png",
    ".apng": "image/apng",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".flac": "audio/flac",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
}
#: The largest file served, and the largest table read to page through.
MAX_FILE_BYTES = 256 * 2**20
MAX_TABLE_BYTES = 64 * 2**20
#: Rows of a table per page, at most.
MAX_PAGE_ROWS = 500
#: Text longer than this is cut in the run's page (and sent whole only when asked for).
MAX_TEXT = 2000
#: Table cells longer than this are cut.
MAX_CELL_TEXT = 500
#: The marker of a value cut for the page: ``{"_type": CUT, "head": ..., "size": ..., "path": [...]}``.
CUT = "sweepkit-cut"

#: Logged value types that are media references (the stand-in's and W&B's names).
MEDIA_TYPES = frozenset(
    {
        "image-file",
        "video-file",
        "audio-file",
        "table-file",
        "joined-table",
        "partitioned-table",
        "histogram",
        "html-file",
        "object3D-file",
        "plotly-file",
        "molecule-file",
        "chart",
    }
)


#: What the page gets of a media reference (besides a histogram's bins and a chart's table).
REFERENCE_FIELDS = (
    *("_type", "path", "caption", "width", "height", "format", "nrows", "ncols", "size", "sha256"),
    *("fps", "frames", "sample_rate", "chart", "title", "fields"),
)


def is_media(value: Any) -> bool:
    """Whether a logged value is a media reference (a dict with a media ``_type``)."""
    return isinstance(value, Mapping) and value.get("_type") in MEDIA_TYPES


def is_media_list(value: Any) -> bool:
    """A list of media logged under one key (W&B shows it as a gallery)."""
    return isinstance(value, list) and bool(value) and all(is_media(v) for v in value)


def media_keys(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The run's media keys (from its summary, which holds each key's last value), by name."""
    out = []
    for key in sorted(summary):
        value = summary[key]
        if is_media(value) or is_media_list(value):
            kind = (value[0] if isinstance(value, list) else value)["_type"]
            out.append({"key": key, "type": kind, "last": reference(value)})
    return out


def reference(value: Any) -> Any:
    """A media reference as the page gets it: its fields, without anything of unbounded size but a
    histogram's bins (bounded by the stand-in to 512)."""
    if isinstance(value, list):
        return [reference(v) for v in value[:64]]
    if not isinstance(value, Mapping):
        return None
    out: dict[str, Any] = {}
    for field in REFERENCE_FIELDS:
        if field in value and _small(value[field]):
            out[field] = value[field]
    if value.get("_type") == "histogram":
        bins, values = value.get("bins"), value.get("values")
        if isinstance(bins, list) and isinstance(values, list) and len(values) <= 4096:
            out["bins"] = [_finite(b) for b in bins]
            out["values"] = [_finite(v) for v in values]
    if isinstance(value.get("table"), Mapping):
        out["table"] = reference(value["table"])
    return out


def _small(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= 1000
    if isinstance(value, Mapping):
        return len(json.dumps(value, default=str)) <= 2000
    return isinstance(value, (int, float, bool)) or value is None


def _finite(value: Any) -> Any:
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def sampled_steps(series: list[tuple[int, Any]], most: int) -> list[tuple[int, Any]]:
    """At most ``most`` of a key's (step, value) pairs, evenly spaced, the first and the last kept."""
    if len(series) <= most:
        return series
    picks = sorted({round(i * (len(series) - 1) / (most - 1)) for i in range(most)})
    return [series[i] for i in picks]


# --- files ------------------------------------------------------------------------------------------


def run_folder(workdir: str | None, run_id: str) -> Path | None:
    """The run's folder as the stand-in makes it under its agent's working directory (None when the
    agent did not report one)."""
    if not workdir:
        return None
    return Path(workdir, *RUNS_DIR, run_id)


def media_path(folder: Path | None, relative: Any) -> Path:
    """The file ``relative`` names under the run's ``files/media`` folder, checked (see the module
    docstring); NotFoundError in one sentence otherwise."""
    if not isinstance(relative, str) or not relative or len(relative) > 1000:
        raise SweepkitError("path: expected the path of a file the run logged, like files/media/images/x.png")
    if "\\" in relative or "\x00" in relative:
        raise NotFoundError(f"path: the run logged no file {relative!r}")
    parts = PurePosixPath(relative).parts
    if (
        relative.startswith("/")
        or len(parts) <= len(MEDIA_DIR)
        or parts[: len(MEDIA_DIR)] != MEDIA_DIR
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise NotFoundError(
            f"path: the run logged no file {relative!r} (only files under files/media/ are shown)"
        )
    if folder is None:
        raise NotFoundError(
            "the run's agent did not say where its files are, so this dashboard cannot show them"
        )
    try:
        base = folder.resolve(strict=True)
        root = base.joinpath(*MEDIA_DIR).resolve(strict=True)
        found = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):
        raise NotFoundError(
            f"the run's file {relative} is not on this machine (its agent kept it in {folder})"
        ) from None
    # files/media itself may not lead elsewhere, nor may any link inside it.
    if root != base.joinpath(*MEDIA_DIR) or not found.is_relative_to(root) or not found.is_file():
        raise NotFoundError(f"path: the run logged no file {relative!r}")
    if found.stat().st_size > MAX_FILE_BYTES:
        raise SweepkitError(
            f"the run's file {relative} is larger than {MAX_FILE_BYTES // 2**20} MB: not served"
        )
    return found


def content_type(path: Path) -> str | None:
    """The type a file is served as to be shown (None: only as a download)."""
    return SHOWN_TYPES.get(path.suffix.lower())


def table_page(path: Path, offset: int, limit: int) -> dict[str, Any]:
    """Rows ``offset`` to ``offset + limit`` of a logged table (``.table.json``: columns and data)."""
    if not path.name.endswith(".table.json"):
        raise SweepkitError(f"path: {path.name} is not a logged table (.table.json)")
    if path.stat().st_size > MAX_TABLE_BYTES:
        raise SweepkitError(f"the table {path.name} is larger than {MAX_TABLE_BYTES // 2**20} MB: not shown")
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
        columns = [str(c) for c in table["columns"]]
        data = table["data"]
        if not isinstance(data, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise SweepkitError(
            f"the table {path.name} cannot be read: expected JSON with columns and data"
        ) from None
    offset = max(0, offset)
    limit = max(1, min(limit, MAX_PAGE_ROWS))
    rows = data[offset : offset + limit]
    return {
        "columns": columns,
        "total": len(data),
        "offset": offset,
        "rows": [[cell(v) for v in (row if isinstance(row, list) else [row])] for row in rows],
    }


def cell(value: Any) -> Any:
    """A table cell as the page shows it: numbers and short text; media references as they are."""
    if is_media(value):
        return reference(value)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= MAX_CELL_TEXT else text[:MAX_CELL_TEXT] + f"… ({len(text):,} characters)"


# --- long text --------------------------------------------------------------------------------------


def cut_long_text(value: Any, path: tuple[Any, ...] = ()) -> Any:
    """``value`` with every text longer than ``MAX_TEXT`` replaced by its start and its size (a
    ``CUT`` marker holding where it is, so that the page can ask for it whole)."""
    if isinstance(value, str):
        if len(value) <= MAX_TEXT:
            return value
        return {"_type": CUT, "head": value[:MAX_TEXT], "size": len(value), "path": list(path)}
    if isinstance(value, Mapping):
        if is_media(value):
            return reference(value)
        return {k: cut_long_text(v, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [cut_long_text(v, (*path, i)) for i, v in enumerate(value)]
    return value


def value_at(value: Any, path: list[Any]) -> Any:
    """The value at ``path`` (keys and list indices) inside ``value``; NotFoundError when there is none."""
    for step in path:
        if (
            isinstance(value, Mapping)
            and isinstance(step, str)
            and step in value
            or isinstance(value, list)
            and isinstance(step, int)
            and 0 <= step < len(value)
        ):
            value = value[step]
        else:
            raise NotFoundError(f"path: no value at {json.dumps(path)}")
    return value

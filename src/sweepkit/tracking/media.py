"""W&B's media for ``log()``: ``Image``, ``Table``, ``Histogram``, ``Audio``, ``Video``, ``Html``, ``Object3D``.

A media value logged in a row (or set in the summary) is written under the run's folder, as
``files/media/<kind>/<key>_<step>_<hash>.<ext>``, and the row keeps a small reference to it::

    {"_type": "image-file", "path": "files/media/images/samples_3_5d41402abc.png",
     "sha256": "...", "size": 1043, "width": 28, "height": 28, "caption": "a 7"}

A histogram stays in the row itself (``{"_type": "histogram", "bins": [...], "values": [...]}``),
as in W&B. Matplotlib figures, Pillow images, plotly figures, and lists and dicts of media are
taken too. Light: nothing heavy is imported; arrays are read through their own ``tolist()``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.tracking import encoders
from sweepkit.tracking.values import jsonable

_UNSAFE = re.compile(r"[^\w.-]+")


def history_values(data: Mapping[str, Any], run_dir: Path, step: int | str) -> dict[str, Any]:
    """``data`` with every media value written to a file and replaced by its reference."""
    return {key: _convert(value, run_dir, key, step) for key, value in data.items()}


def _convert(value: Any, run_dir: Path, key: str, step: int | str) -> Any:
    media = as_media(value)
    if media is not None:
        return media.to_json(run_dir, key, step)
    if isinstance(value, Mapping):
        return {k: _convert(v, run_dir, f"{key}.{k}", step) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and any(as_media(item) is not None for item in value):
        return [_convert(item, run_dir, f"{key}_{i}", step) for i, item in enumerate(value)]
    return value


def as_media(value: Any) -> Media | None:
    """``value`` as a media object: itself, or a figure or picture W&B would turn into one."""
    if isinstance(value, Media):
        return value
    if hasattr(value, "savefig") or _is_pillow_image(value):
        return Image(value)
    if callable(getattr(value, "to_plotly_json", None)):
        return Plotly(value)
    return None


def _is_pillow_image(value: Any) -> bool:
    return callable(getattr(value, "save", None)) and hasattr(value, "mode") and hasattr(value, "size")


def _lists(data: Any) -> Any:
    """Arrays and tensors as nested lists (a torch tensor is detached and moved to the CPU first)."""
    for method in ("detach", "cpu"):
        if callable(getattr(data, method, None)):
            data = getattr(data, method)()
    tolist = getattr(data, "tolist", None)
    return tolist() if callable(tolist) else data


def _shape(data: Any) -> list[int]:
    shape = []
    while isinstance(data, (list, tuple)):
        shape.append(len(data))
        if not data:
            break
        data = data[0]
    return shape


class Media:
    """A value written to its own file when logged (subclasses say which bytes, kind and extension)."""

    kind = "media"
    type_name = "file"
    caption: str | None = None

    def payload(self, run_dir: Path, key: str, step: int | str) -> tuple[bytes, str, dict[str, Any]]:
        """The file's bytes, its extension, and what else the reference holds."""
        raise NotImplementedError

    def to_json(self, run_dir: Path, key: str, step: int | str) -> dict[str, Any]:
        data, ext, extra = self.payload(run_dir, key, step)
        digest = hashlib.sha256(data).hexdigest()
        name = f"{_UNSAFE.sub('_', key)}_{step}_{digest[:10]}{ext}"
        relative = Path("files", "media", self.kind, name)
        target = run_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(data)
        ref = {"_type": self.type_name, "path": relative.as_posix(), "sha256": digest, "size": len(data)}
        if self.caption is not None:
            ref["caption"] = str(self.caption)
        ref.update(extra)
        return ref


def _read_source(source: Any) -> tuple[bytes, str] | None:
    """The bytes and extension of a path or an open file, or None for anything else."""
    if isinstance(source, (str, Path)) and Path(source).is_file():
        return Path(source).read_bytes(), "".join(Path(source).suffixes[-2:]) or ""
    if callable(getattr(source, "read", None)):
        data = source.read()
        return (data.encode() if isinstance(data, str) else data), ""
    return None


def _to_byte(value: float, low: float, high: float) -> int:
    if low < 0:  # W&B's rule: a range below zero is stretched to 0..255
        value = (value - low) / ((high - low) or 1.0)
        return int(round(value * 255))
    if high <= 1.0 and isinstance(value, float):
        value *= 255
    return int(max(0, min(255, round(value))))


def pixel_rows(data: Any) -> list[list[Any]]:
    """An image array (H x W, H x W x C, or C x H x W with C of 1, 3 or 4) as rows of 8-bit pixels."""
    values = _lists(data)
    shape = _shape(values)
    if len(shape) == 3 and shape[0] in (1, 3, 4) and shape[2] not in (1, 3, 4):  # channels first
        values = [
            [[values[c][y][x] for c in range(shape[0])] for x in range(shape[2])] for y in range(shape[1])
        ]
        shape = [shape[1], shape[2], shape[0]]
    if len(shape) not in (2, 3) or not all(shape):
        raise SweepkitError(f"Image: expected an image array of 2 or 3 dimensions, got shape {tuple(shape)}")
    flat = [v for row in values for pixel in row for v in (pixel if len(shape) == 3 else (pixel,))]
    low, high = min(flat), max(flat)
    if len(shape) == 2 or shape[2] == 1:
        return [[_to_byte(p[0] if len(shape) == 3 else p, low, high) for p in row] for row in values]
    if shape[2] not in (2, 3, 4):
        raise SweepkitError(f"Image: expected 1, 3 or 4 channels, got {shape[2]}")
    return [[tuple(_to_byte(v, low, high) for v in pixel) for pixel in row] for row in values]


class Image(Media):
    """``wandb.Image(data_or_path, caption=...)``: an array, a file, a Pillow image or a matplotlib figure."""

    kind = "images"
    type_name = "image-file"

    def __init__(
        self, data_or_path: Any, mode: str | None = None, caption: str | None = None, **_ignored: Any
    ):
        self._data = data_or_path
        self.caption = caption

    def payload(self, run_dir: Path, key: str, step: int | str) -> tuple[bytes, str, dict[str, Any]]:
        source = self._data
        if isinstance(source, Image):
            return source.payload(run_dir, key, step)
        read = _read_source(source)
        if read is not None:
            return read[0], read[1] or ".png", {"format": (read[1] or ".png").lstrip(".")}
        if hasattr(source, "savefig"):
            import io

            buffer = io.BytesIO()
            source.savefig(buffer, format="png")
            return buffer.getvalue(), ".png", {"format": "png"}
        if _is_pillow_image(source):
            import io

            buffer = io.BytesIO()
            source.save(buffer, format="PNG")
            width, height = source.size
            return buffer.getvalue(), ".png", {"format": "png", "width": width, "height": height}
        rows = pixel_rows(source)
        return encoders.png(rows), ".png", {"format": "png", "width": len(rows[0]), "height": len(rows)}


class Histogram(Media):
    """``wandb.Histogram(sequence, num_bins=64)`` or ``Histogram(np_histogram=(counts, edges))``; kept inline."""

    def __init__(self, sequence: Any = None, np_histogram: Any = None, num_bins: int = 64):
        if np_histogram is not None:
            counts, edges = np_histogram
            self.histogram = [float(c) for c in _lists(counts)], [float(e) for e in _lists(edges)]
            return
        values = [float(v) for v in _flatten(_lists(sequence if sequence is not None else []))]
        values = [v for v in values if math.isfinite(v)]
        num_bins = max(1, min(int(num_bins), 512))
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        if low == high:
            low, high = low - 0.5, high + 0.5
        width = (high - low) / num_bins
        counts = [0] * num_bins
        for value in values:
            counts[min(int((value - low) / width), num_bins - 1)] += 1
        self.histogram = [float(c) for c in counts], [low + i * width for i in range(num_bins)] + [high]

    def to_json(self, run_dir: Path, key: str, step: int | str) -> dict[str, Any]:
        values, bins = self.histogram
        return {"_type": "histogram", "values": values, "bins": bins}


def _flatten(values: Any) -> list[Any]:
    if isinstance(values, (list, tuple)):
        return [item for value in values for item in _flatten(value)]
    return [values]


class Table(Media):
    """``wandb.Table(columns=..., data=...)`` or ``Table(dataframe=df)``; written as ``.table.json``."""

    kind = "table"
    type_name = "table-file"

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        data: Sequence[Sequence[Any]] | None = None,
        rows: Sequence[Sequence[Any]] | None = None,
        dataframe: Any = None,
        **_ignored: Any,
    ):
        if dataframe is not None:
            columns = [str(column) for column in dataframe.columns]
            data = dataframe.values.tolist()
        data = [list(row) for row in (data if data is not None else rows or [])]
        if columns is None:
            columns = [f"col{i}" for i in range(len(data[0]))] if data else ["Input", "Output", "Expected"]
        self.columns = [str(column) for column in columns]
        self.data: list[list[Any]] = []
        for row in data:
            self.add_data(*row)

    @property
    def nrows(self) -> int:
        return len(self.data)

    @property
    def ncols(self) -> int:
        return len(self.columns)

    def add_data(self, *row: Any) -> None:
        if len(row) != len(self.columns):
            raise SweepkitError(f"Table.add_data: expected {len(self.columns)} values, got {len(row)}")
        self.data.append(list(row))

    add_row = add_data

    def add_column(self, name: str, data: Sequence[Any], optional: bool = False) -> None:
        data = list(_lists(data))
        if self.data and len(data) != len(self.data):
            raise SweepkitError(f"Table.add_column: expected {len(self.data)} values, got {len(data)}")
        if not self.data:
            self.data = [[] for _ in data]
        self.columns.append(str(name))
        for row, value in zip(self.data, data, strict=True):
            row.append(value)

    def get_column(self, name: str, convert_to: str | None = None) -> list[Any]:
        index = self.columns.index(name)
        return [row[index] for row in self.data]

    def get_index(self) -> list[int]:
        return list(range(len(self.data)))

    def iterrows(self):
        yield from enumerate(self.data)

    def payload(self, run_dir: Path, key: str, step: int | str) -> tuple[bytes, str, dict[str, Any]]:
        cells = [
            [_cell(value, run_dir, f"{key}_{r}_{c}", step) for c, value in enumerate(row)]
            for r, row in enumerate(self.data)
        ]
        text = json.dumps({"columns": self.columns, "data": cells}, allow_nan=True)
        return text.encode(), ".table.json", {"ncols": len(self.columns), "nrows": len(self.data)}


def _cell(value: Any, run_dir: Path, key: str, step: int | str) -> Any:
    media = as_media(value)
    return media.to_json(run_dir, key, step) if media is not None else jsonable(value)


class Audio(Media):
    """``wandb.Audio(data_or_path, sample_rate=..., caption=...)``: a file, or samples in [-1, 1] as WAV."""

    kind = "audio"
    type_name = "audio-file"

    def __init__(self, data_or_path: Any, sample_rate: int | None = None, caption: str | None = None):
        read = _read_source(data_or_path)
        if read is None and sample_rate is None:
            raise SweepkitError("Audio: audio data needs a sample_rate")
        self._data, self._rate, self.caption = data_or_path, sample_rate, caption

    def payload(self, run_dir: Path, key: str, step: int | str) -> tuple[bytes, str, dict[str, Any]]:
        read = _read_source(self._data)
        if read is not None:
            return read[0], read[1] or ".wav", {}
        samples = _lists(self._data)
        return encoders.wav(samples, int(self._rate)), ".wav", {"sample_rate": int(self._rate)}


class Video(Media):
    """``wandb.Video(data_or_path, fps=4)``: a file, or frames (time, channel, height, width) as an animated PNG."""

    kind = "videos"
    type_name = "video-file"

    def __init__(
        self,
        data_or_path: Any,
        caption: str | None = None,
        fps: float | None = None,
        format: str | None = None,
        **_ignored: Any,
    ):
        self._data, self.caption, self._fps = data_or_path, caption, fps or 4

    def payload(self, run_dir: Path, key: str, step: int | str) -> tuple[bytes, str, dict[str, Any]]:
        read = _read_source(self._data)
        if read is not None:
            return read[0], read[1] or ".mp4", {}
        frames = _lists(self._data)
        if len(_shape(frames)) == 5:  # a batch of videos: the first one, as W&B shows the grid's first
            frames = frames[0]
        if len(_shape(frames)) != 4:
            raise SweepkitError(
                f"Video: expected frames of shape (time, channel, height, width), got {tuple(_shape(frames))}"
            )
        images = [pixel_rows(frame) for frame in frames]
        extra = {
            "fps": self._fps,
            "frames": len(images),
            "width": len(images[0][0]),
            "height": len(images[0]),
        }
        return encoders.apng(images, self._fps), ".apng", extra


class Html(Media):
    """``wandb.Html(html_text_or_file)``."""

    kind = "html"
    type_name = "html-file"

    def __init__(self, data: Any, inject: bool = True, **_ignored: Any):
        read = _read_source(data)
        self._html = read[0] if read is not None else str(data).encode()

    def payload(self, run_dir: Path, key: str, step: int | str) -> tuple[bytes, str, dict[str, Any]]:
        return self._html, ".html", {}


class Object3D(Media):
    """``wandb.Object3D(points_or_path)``: a point cloud (N x 3, 4 or 6) or a 3D file (obj, glb, gltf, stl...)."""

    kind = "object3D"
    type_name = "object3D-file"

    def __init__(
        self, data_or_path: Any, caption: str | None = None, file_type: str | None = None, **_ignored: Any
    ):
        self._data, self.caption, self._file_type = data_or_path, caption, file_type

    @classmethod
    def from_file(cls, data_or_path: Any, file_type: str | None = None) -> Object3D:
        return cls(data_or_path, file_type=file_type)

    @classmethod
    def from_numpy(cls, data: Any) -> Object3D:
        return cls(data)

    @classmethod
    def from_point_cloud(
        cls, points: Any, boxes: Any = (), vectors: Any = None, point_cloud_type: str = "lidar/beta"
    ) -> Object3D:
        scene = {"type": point_cloud_type, "points": _lists(points), "boxes": _lists(list(boxes))}
        if vectors is not None:
            scene["vectors"] = _lists(vectors)
        return cls(scene)

    def payload(self, run_dir: Path, key: str, step: int | str) -> tuple[bytes, str, dict[str, Any]]:
        read = _read_source(self._data)
        if read is not None:
            ext = f".{self._file_type}" if self._file_type else read[1]
            return read[0], ext or ".obj", {}
        data = self._data if isinstance(self._data, Mapping) else _lists(self._data)
        return json.dumps(jsonable(data)).encode(), ".pts.json", {}


class Plotly(Media):
    """A plotly figure (``wandb.Plotly(fig)``, or the figure logged as it is): its JSON."""

    kind = "plotly"
    type_name = "plotly-file"

    def __init__(self, figure: Any):
        self._figure = figure

    def payload(self, run_dir: Path, key: str, step: int | str) -> tuple[bytes, str, dict[str, Any]]:
        return json.dumps(jsonable(self._figure.to_plotly_json())).encode(), ".plotly.json", {}


class Chart(Media):
    """A ``wandb.plot.*`` chart: its data table (a file) and what to draw from it."""

    def __init__(self, kind: str, table: Table, fields: Mapping[str, str], title: str | None = None):
        self.chart, self.table, self.fields, self.title = kind, table, dict(fields), title

    def to_json(self, run_dir: Path, key: str, step: int | str) -> dict[str, Any]:
        return {
            "_type": "chart",
            "chart": self.chart,
            "fields": self.fields,
            "title": self.title,
            "table": self.table.to_json(run_dir, f"{key}_table", step),
        }

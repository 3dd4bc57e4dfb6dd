"""Where each key path of a config sits in its file: a tree of line numbers shaped like the data.

A :class:`LineMap` holds, for one mapping or list of the document, the line of each of its keys or
items, and the maps of the mappings and lists written inside it. Lists keep their item lines in a
compact array, so a list of a million numbers costs a few megabytes, not a tuple per item.
"""

from __future__ import annotations

from array import array
from typing import Any

KeyPath = tuple[Any, ...]


class LineMap:
    """The lines of one mapping (``keys``: key -> line) or list (``items``: index -> line), and the
    maps of the containers inside it (``inner``: key or index -> :class:`LineMap`)."""

    __slots__ = ("line", "keys", "items", "inner")

    def __init__(self, line: int | None = None, *, sequence: bool = False) -> None:
        self.line = line
        self.keys: dict[Any, int] | None = None if sequence else {}
        self.items: array[int] | None = array("I") if sequence else None
        self.inner: dict[Any, LineMap] = {}

    def line_of_child(self, step: Any) -> int | None:
        """The line where key or index ``step`` of this container is written, if known."""
        if self.items is not None:
            if isinstance(step, int) and 0 <= step < len(self.items):
                return self.items[step]
            return None
        try:
            return self.keys.get(step)  # type: ignore[union-attr]
        except TypeError:  # an unhashable step names nothing here
            return None

    def nearest(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of its longest non-empty prefix that has one; for ``()`` the line
        of the whole document."""
        if not path:
            return self.line
        found = None
        node: LineMap | None = self
        for step in path:
            line = node.line_of_child(step)  # type: ignore[union-attr]
            if line is None:
                break
            found = line
            try:
                node = node.inner.get(step)  # type: ignore[union-attr]
            except TypeError:
                node = None
            if node is None:
                break
        return found

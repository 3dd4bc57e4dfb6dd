"""Where each key path of a config sits in its file: a tree of line numbers shaped like the data.

A :class:`LineMap` holds, for one mapping or list of the document, the line of each of its keys or
items, and the maps of the mappings and lists written inside it. Lists keep their item lines in a
compact array, so a list of a million numbers costs a few megabytes, not a tuple per item.
``line_of_text`` finds the line of a key path written as problems write it
(``parameters.lr.values[1]``), the way a client places a problem the sweep service found.
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

    def line_of_text(self, path: str) -> int | None:
        """The line of a key path written as problems write it (``parameters.lr.values[1]``), or of
        its nearest ancestor with one; None for the empty path or a first key not in the document.

        The text is matched against the keys written here, so a key holding a dot
        (``optimizer.lr``) is found as the key it is."""
        keys = _keys_in(self, path)
        return self.nearest(keys) if keys else None


def _keys_in(node: LineMap | None, path: str) -> KeyPath:
    """The longest key path, read from the start of ``path``, that ``node`` has lines for."""
    if node is None or not path:
        return ()
    if path.startswith("["):
        close = path.find("]")
        try:
            index = int(path[1:close]) if close > 0 else None
        except ValueError:
            index = None
        if index is None or node.line_of_child(index) is None:
            return ()
        return (index,) + _keys_in(node.inner.get(index), _after(path[close + 1 :]))
    if node.keys is None:
        return ()
    best: KeyPath = ()
    for key in node.keys:
        if not isinstance(key, str) or not path.startswith(key):
            continue
        rest = path[len(key) :]
        if rest and rest[0] not in ".[":
            continue
        found = (key,) + _keys_in(node.inner.get(key), _after(rest))
        if len(found) > len(best) or (len(found) == len(best) and best and len(key) > len(best[0])):
            best = found
    return best


def _after(rest: str) -> str:
    """What follows a key in a written key path: the next key, or an index in brackets."""
    return rest[1:] if rest.startswith(".") else rest

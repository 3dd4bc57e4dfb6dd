"""Building a config's data straight from YAML parse events, in one pass and one copy.

PyYAML's own loading first composes a node, with two position marks, for every value of the file,
then builds the data from those nodes: for a file of a million values that is a gigabyte and most
of a minute. :func:`build` reads the parser's events once and keeps only the data, a
:class:`~sweepkit.sweep_config.lines.LineMap`, the repeated keys, and the text of plain scalars
that do not print back as written. Scalars are made by PyYAML's own constructors, and the rest
follows PyYAML's safe loading: anchors and aliases (shared, not copied), merge keys (``<<``; the
earlier of several merged mappings wins, as the YAML spec says), ``!!set``, ``!!omap`` and
``!!pairs``, its error messages, and its order of errors (a syntax error anywhere wins over a
value that cannot be built, which is only raised once the whole stream has parsed).

Two limits keep a small file from growing into a big one: nesting deeper than ``MAX_DEPTH`` and
merge keys that copy more than ``MAX_GROWTH`` values stop the building (the rest of the file is
still parsed for syntax errors).
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any

from sweepkit.sweep_config.jsonsafe import MAX_DEPTH, MAX_GROWTH
from sweepkit.sweep_config.lines import KeyPath, LineMap

TAG = "tag:yaml.org,2002:"
STR_TAG = TAG + "str"
INT_TAG = TAG + "int"
FLOAT_TAG = TAG + "float"
MAP_TAG = TAG + "map"
SEQ_TAG = TAG + "seq"
SET_TAG = TAG + "set"
OMAP_TAG = TAG + "omap"
PAIRS_TAG = TAG + "pairs"
MERGE_TAG = TAG + "merge"
VALUE_TAG = TAG + "value"
SCALAR_TAGS = frozenset(TAG + name for name in ("null", "bool", "int", "float", "binary", "timestamp", "str"))
PAIR_LIST_CONTEXT = {OMAP_TAG: "while constructing an ordered map", PAIRS_TAG: "while constructing pairs"}


@dataclass
class Built:
    """What :func:`build` made of one YAML stream."""

    data: Any
    lines: LineMap
    # source text of plain non-string scalars whose value prints differently (`1e-5`, `yes`, `0x10`)
    texts: dict[KeyPath, str] = field(default_factory=dict)
    # (key path, key, first line, repeated line) for each key written twice in one mapping
    duplicates: list[tuple[KeyPath, Any, int, int]] = field(default_factory=list)
    # (key path, line, message) when a limit stopped the building; ``data`` is then None
    refused: tuple[KeyPath, int | None, str] | None = None


class _Anchor:
    __slots__ = ("value", "lines", "text", "kind", "mark")

    def __init__(self, value: Any, lines: LineMap | None, text: str | None, kind: str, mark: Any) -> None:
        self.value, self.lines, self.text, self.kind, self.mark = value, lines, text, kind, mark


_NO_KEY = object()


class _Frame:
    """A mapping or list being built."""

    __slots__ = (
        "obj",
        "result",
        "lines",
        "path",
        "mark",
        "tag",
        "pairs",
        "is_map",
        "merging",
        "full",
        "key",
        "key_line",
        "merge_next",
        "merges",
        "firsts",
    )

    def __init__(self, obj: Any, lines: LineMap, path: KeyPath, mark: Any, tag: str) -> None:
        self.obj = obj
        self.result = obj  # what the container is once built (a set for !!set)
        self.lines = lines
        self.path = path
        self.mark = mark
        self.tag = tag
        self.pairs = False  # a mapping read as (key, value) pairs, inside !!omap or !!pairs
        self.is_map = isinstance(obj, dict)  # keys and values alternate, keys must be hashable
        self.merging = False  # a list of mappings given to a merge key
        self.full = len(path) >= MAX_DEPTH  # no value may go inside
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.merge_next = False
        self.merges: list[tuple[dict[Any, Any], LineMap | None]] = []
        self.firsts: dict[Any, int] | None = None


class _Stop(Exception):
    """The building stops; the rest of the stream is only parsed."""


def build(loader: Any) -> Built:
    """Read the single document of ``loader``'s stream (a PyYAML loader: parser, resolver and safe
    constructor) into data. Raises ``yaml.YAMLError`` as PyYAML's ``safe_load`` would."""
    return _Builder(loader).run()


class _Builder:
    def __init__(self, loader: Any) -> None:
        import yaml

        self.yaml = yaml
        self.loader = loader
        self.constructors = loader.yaml_constructors
        self.anchors: dict[str, _Anchor] = {}
        self.failure: Exception | None = None
        self.refused: tuple[KeyPath, int | None, str] | None = None
        self.texts: dict[KeyPath, str] = {}
        self.duplicates: list[tuple[KeyPath, Any, int, int]] = []
        self.merged = 0

    # -- the stream ---------------------------------------------------------------------------

    def run(self) -> Built:
        events = self.yaml.events
        loader = self.loader
        loader.get_event()  # stream start
        if loader.check_event(events.StreamEndEvent):
            loader.get_event()
            return Built(None, LineMap())
        loader.get_event()  # document start
        first = loader.peek_event()
        data, lines = self._document()
        loader.get_event()  # document end
        if not loader.check_event(events.StreamEndEvent):
            event = loader.get_event()
            raise self.yaml.composer.ComposerError(
                "expected a single document in the stream",
                first.start_mark,
                "but found another document",
                event.start_mark,
            )
        loader.get_event()
        if self.failure is not None:
            raise self.failure
        if lines is None:
            lines = LineMap(first.start_mark.line + 1)
        lines.line = first.start_mark.line + 1
        if self.refused is not None:
            return Built(None, lines, {}, self.duplicates, self.refused)
        return Built(data, lines, self.texts, self.duplicates)

    def _document(self) -> tuple[Any, LineMap | None]:
        """The root value and its lines; (None, None) when the building stopped."""
        events = self.yaml.events
        scalar_event, alias_event = events.ScalarEvent, events.AliasEvent
        mapping_start, sequence_start = events.MappingStartEvent, events.SequenceStartEvent
        get_event = self.loader.get_event
        stack: list[_Frame] = []
        opening = 0
        try:
            while True:
                event = get_event()
                kind = type(event)
                lines = None
                text = None
                if kind is scalar_event:
                    frame = stack[-1] if stack else None
                    is_key = frame is not None and frame.is_map and frame.key is _NO_KEY
                    value, text, is_merge = self._scalar(event, is_key)
                    node_kind = "scalar"
                    if event.anchor is not None:
                        self._anchor(event, _Anchor(value, None, text, node_kind, event.start_mark))
                    if is_key:
                        frame.key, frame.key_line, frame.merge_next = (  # type: ignore[union-attr]
                            value,
                            event.start_mark.line + 1,
                            is_merge,
                        )
                        continue
                elif kind is alias_event:
                    anchor = self.anchors.get(event.anchor)
                    if anchor is None:
                        raise self.yaml.composer.ComposerError(
                            None, None, f"found undefined alias {event.anchor!r}", event.start_mark
                        )
                    value, lines, text, node_kind = anchor.value, anchor.lines, anchor.text, anchor.kind
                    frame = stack[-1] if stack else None
                    if frame is not None and frame.is_map and frame.key is _NO_KEY:
                        self._alias_key(frame, anchor, event.start_mark.line + 1)
                        continue
                elif kind is mapping_start or kind is sequence_start:
                    opening = 1
                    stack.append(self._open(event, stack[-1] if stack else None, kind is mapping_start))
                    opening = 0
                    continue
                else:  # the end of a mapping or a list
                    done = stack.pop()
                    value, lines = self._close(done), done.lines
                    if done.pairs:
                        self._add_pair(stack[-1], done)
                        continue
                    node_kind = "mapping" if isinstance(done.obj, dict) else "sequence"
                    event = _Start(done.mark)
                if not stack:
                    return value, lines
                self._place(stack[-1], value, lines, text, node_kind, event)
        except _Stop:
            self._drain(len(stack) + opening)
            return None, None

    def _drain(self, open_containers: int) -> None:
        """Parse the rest of the document without building it (syntax and anchor errors still count)."""
        events = self.yaml.events
        get_event = self.loader.get_event
        depth = open_containers
        while depth:
            event = get_event()
            kind = type(event)
            if kind is events.AliasEvent:
                if event.anchor not in self.anchors:
                    raise self.yaml.composer.ComposerError(
                        None, None, f"found undefined alias {event.anchor!r}", event.start_mark
                    )
                continue
            if getattr(event, "anchor", None) is not None:
                self._anchor(event, _Anchor(None, None, None, "scalar", event.start_mark))
            if kind is events.MappingStartEvent or kind is events.SequenceStartEvent:
                depth += 1
            elif kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
                depth -= 1

    def _fail(self, error: Exception) -> None:
        """A value that cannot be built: raised once the stream has parsed."""
        self.failure = error
        raise _Stop

    def _refuse(self, path: KeyPath, line: int | None, message: str) -> None:
        self.refused = (path, line, message)
        raise _Stop

    def _anchor(self, event: Any, anchor: _Anchor) -> None:
        first = self.anchors.get(event.anchor)
        if first is not None:
            raise self.yaml.composer.ComposerError(
                f"found duplicate anchor {event.anchor!r}; first occurrence",
                first.mark,
                "second occurrence",
                event.start_mark,
            )
        self.anchors[event.anchor] = anchor

    # -- values -------------------------------------------------------------------------------

    def _scalar(self, event: Any, is_key: bool) -> tuple[Any, str | None, bool]:
        """The value of a scalar event, its source text if kept, and whether it is a merge key."""
        text = event.value
        tag = event.tag
        resolved = tag is None or tag == "!"
        if resolved:
            tag = self.loader.resolve(self.yaml.nodes.ScalarNode, text, event.implicit)
        if is_key:
            if tag == MERGE_TAG:
                return None, None, True
            if tag == VALUE_TAG:  # `=` as a key is the string "="
                tag = STR_TAG
        if tag == STR_TAG:
            return text, None, False
        value = self._construct(tag, event, resolved)
        kept = text if not event.style and str(value) != text else None
        return value, kept, False

    def _construct(self, tag: str, event: Any, resolved: bool) -> Any:
        """A scalar made by PyYAML's constructor for ``tag`` (or its error). A ``resolved`` tag was
        found from the text by the resolver's patterns, so the text has that tag's form."""
        text = event.value
        if resolved and tag == INT_TAG and text.isdecimal() and (text[0] != "0" or text == "0"):
            return int(text)  # what PyYAML makes of a plain decimal; `010` is octal there
        if resolved and tag == FLOAT_TAG and "_" not in text and ":" not in text and "n" not in text.lower():
            return float(text)  # what PyYAML makes of it; `1_0.5`, `1:30.5`, `.inf`, `.nan` go below
        yaml = self.yaml
        node = yaml.nodes.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        constructor = self.constructors.get(tag) or self.constructors[None]
        try:
            value = constructor(self.loader, node)
            if isinstance(value, types.GeneratorType):  # a collection tag on a scalar: fails
                made = next(value)
                for _ in value:
                    pass
                value = made
        except yaml.YAMLError as exc:
            self._fail(exc)
        except Exception as exc:  # e.g. `!!float abc`, `!!bool maybe`, `!!timestamp x`
            self._fail(
                yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"cannot read {event.value!r} as {tag.rsplit(':', 1)[-1]} ({type(exc).__name__})",
                    event.start_mark,
                )
            )
        return value

    def _open(self, event: Any, parent: _Frame | None, mapping: bool) -> _Frame:
        """A frame for a mapping or list that starts here."""
        yaml = self.yaml
        line = event.start_mark.line + 1
        if parent is not None and parent.is_map and parent.key is _NO_KEY:
            self._fail(
                yaml.constructor.ConstructorError(
                    "while constructing a mapping", parent.mark, "found unhashable key", event.start_mark
                )
            )
        path = self._child_path(parent) if parent is not None else ()
        if len(path) > MAX_DEPTH:
            self._refuse(path, line, f"nested more than {MAX_DEPTH} levels deep")
        tag = event.tag
        if tag is None or tag == "!":
            tag = MAP_TAG if mapping else SEQ_TAG
        found = "mapping" if mapping else "sequence"
        if parent is not None and parent.tag in PAIR_LIST_CONTEXT:  # an item of !!omap or !!pairs
            if not mapping:
                self._fail(
                    yaml.constructor.ConstructorError(
                        PAIR_LIST_CONTEXT[parent.tag],
                        parent.mark,
                        "expected a mapping of length 1, but found sequence",
                        event.start_mark,
                    )
                )
            frame = _Frame([], LineMap(line, sequence=True), path, event.start_mark, tag)
            frame.pairs = True
            frame.is_map = False
        else:
            self._check_tag(tag, mapping, found, event.start_mark)
            frame = _Frame(
                {} if mapping else [], LineMap(line, sequence=not mapping), path, event.start_mark, tag
            )
            if tag == SET_TAG:
                frame.result = set()
            frame.merging = parent is not None and parent.merge_next
        if event.anchor is not None:
            self._anchor(event, _Anchor(frame.result, frame.lines, None, found, event.start_mark))
        return frame

    def _check_tag(self, tag: str, mapping: bool, found: str, mark: Any) -> None:
        """Fail as PyYAML does for a collection whose tag does not fit it."""
        error = self.yaml.constructor.ConstructorError
        if tag in (MAP_TAG, SET_TAG):
            if not mapping:
                self._fail(error(None, None, "expected a mapping node, but found sequence", mark))
        elif tag == SEQ_TAG:
            if mapping:
                self._fail(error(None, None, "expected a sequence node, but found mapping", mark))
        elif tag in PAIR_LIST_CONTEXT:
            if mapping:
                self._fail(
                    error(PAIR_LIST_CONTEXT[tag], mark, "expected a sequence, but found mapping", mark)
                )
        elif tag in SCALAR_TAGS:
            self._fail(error(None, None, f"expected a scalar node, but found {found}", mark))
        else:
            self._fail(error(None, None, f"could not determine a constructor for the tag {tag!r}", mark))

    def _child_path(self, frame: _Frame) -> KeyPath:
        if isinstance(frame.obj, dict):
            return frame.path + (frame.key,)
        return frame.path + (len(frame.obj),)

    def _close(self, frame: _Frame) -> Any:
        """The finished container (merge keys applied, a !!set filled)."""
        if frame.merges:
            self._apply_merges(frame)
        if frame.result is not frame.obj:
            frame.result.update(frame.obj)
        return frame.result

    def _apply_merges(self, frame: _Frame) -> None:
        """Merged keys come first and lose to the mapping's own keys; of several merged mappings the
        earlier wins."""
        own = frame.obj
        merged: dict[Any, Any] = {}
        sources: dict[Any, LineMap | None] = {}
        for source, source_lines in frame.merges:
            for key, value in source.items():
                if key not in merged:
                    merged[key] = value
                    sources[key] = source_lines
        lines = frame.lines
        for key, source_lines in sources.items():
            if key in own or source_lines is None:
                continue
            line = source_lines.line_of_child(key)
            if line is not None:
                lines.keys[key] = line  # type: ignore[index]
            inner = source_lines.inner.get(key)
            if inner is not None:
                lines.inner[key] = inner
        merged.update(own)
        own.clear()
        own.update(merged)

    def _alias_key(self, frame: _Frame, anchor: _Anchor, line: int) -> None:
        try:
            hash(anchor.value)
        except TypeError:
            self._fail(
                self.yaml.constructor.ConstructorError(
                    "while constructing a mapping", frame.mark, "found unhashable key", anchor.mark
                )
            )
        frame.key, frame.key_line = anchor.value, line

    def _place(
        self, frame: _Frame, value: Any, lines: LineMap | None, text: str | None, kind: str, event: Any
    ) -> None:
        """Put a finished value into the mapping or list being built."""
        obj = frame.obj
        if frame.pairs:  # a mapping inside !!omap or !!pairs: keys and values alternate
            if frame.key is _NO_KEY:
                frame.key = value
            else:
                obj.append((frame.key, value))
                frame.key = _NO_KEY
            return
        if isinstance(obj, dict):
            key = frame.key
            frame.key = _NO_KEY
            if frame.merge_next:
                frame.merge_next = False
                self._merge(frame, value, lines, kind, event)
                return
            line = frame.key_line
            if frame.full:
                self._refuse(frame.path + (key,), line, f"nested more than {MAX_DEPTH} levels deep")
            keys = frame.lines.keys
            if key in obj:
                firsts = frame.firsts if frame.firsts is not None else {}
                frame.firsts = firsts
                self.duplicates.append((frame.path + (key,), key, firsts.setdefault(key, keys[key]), line))  # type: ignore[index]
                frame.lines.inner.pop(key, None)
            obj[key] = value
            keys[key] = line  # type: ignore[index]
            if lines is not None:
                frame.lines.inner[key] = lines
            if text is not None:
                self.texts[frame.path + (key,)] = text
            return
        index = len(obj)
        line = event.start_mark.line + 1
        if frame.tag in PAIR_LIST_CONTEXT:  # a scalar where !!omap or !!pairs needs a mapping
            self._fail(
                self.yaml.constructor.ConstructorError(
                    PAIR_LIST_CONTEXT[frame.tag],
                    frame.mark,
                    f"expected a mapping of length 1, but found {kind}",
                    event.start_mark,
                )
            )
        if frame.merging and not isinstance(value, (dict, set)):
            self._fail(
                self.yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    frame.mark,
                    f"expected a mapping for merging, but found {kind}",
                    event.start_mark,
                )
            )
        if frame.full:
            self._refuse(frame.path + (index,), line, f"nested more than {MAX_DEPTH} levels deep")
        obj.append(value)
        frame.lines.items.append(line)  # type: ignore[union-attr]
        if lines is not None:
            frame.lines.inner[index] = lines
        if text is not None:
            self.texts[frame.path + (index,)] = text

    def _merge(self, frame: _Frame, value: Any, lines: LineMap | None, kind: str, event: Any) -> None:
        """Remember what a merge key brings in: a mapping, or a list of mappings."""
        if isinstance(value, (dict, set)):
            sources = [(value, lines)]
        elif isinstance(value, list) and kind == "sequence":
            inner = lines.inner if lines is not None else {}
            sources = [(item, inner.get(index)) for index, item in enumerate(value)]
            for item, _ in sources:
                if not isinstance(item, (dict, set)):
                    found = "sequence" if isinstance(item, (list, tuple)) else "scalar"
                    self._fail(
                        self.yaml.constructor.ConstructorError(
                            "while constructing a mapping",
                            frame.mark,
                            f"expected a mapping for merging, but found {found}",
                            event.start_mark,
                        )
                    )
        else:
            self._fail(
                self.yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    frame.mark,
                    f"expected a mapping or list of mappings for merging, but found {kind}",
                    event.start_mark,
                )
            )
        for source, source_lines in sources:
            mapping = dict.fromkeys(source) if isinstance(source, set) else source
            self.merged += len(mapping)
            if self.merged > MAX_GROWTH:
                self._refuse(
                    frame.path,
                    frame.lines.line,
                    f"too large: merge keys (<<) copy more than {MAX_GROWTH} values",
                )
            frame.merges.append((mapping, source_lines))

    def _add_pair(self, frame: _Frame, done: _Frame) -> None:
        """A one-item mapping of !!omap or !!pairs becomes a (key, value) pair."""
        if len(done.obj) != 1:
            self._fail(
                self.yaml.constructor.ConstructorError(
                    PAIR_LIST_CONTEXT[frame.tag],
                    frame.mark,
                    f"expected a single mapping item, but found {len(done.obj)} items",
                    done.mark,
                )
            )
        frame.obj.append(done.obj[0])
        frame.lines.items.append(done.mark.line + 1)  # type: ignore[union-attr]


class _Start:
    """Stands in for the start event of a finished container (only its mark is read)."""

    __slots__ = ("start_mark",)

    def __init__(self, mark: Any) -> None:
        self.start_mark = mark

"""The typed search space of a sweep: its parameters by flat name, and flat <-> nested conversion.

Built from the normalized ``parameters`` of a config (every leaf has ``distribution`` and its
defaults filled in; nested groups are ``{"parameters": {...}}``, any depth). Search methods work
with flat dicts keyed by dotted names (``optimizer.lr``); a run sees nested dicts
(``config["optimizer"]["lr"]``). A top-level name that itself contains dots
(``optimizer.config.lr``) is one flat name and one key of the nested form.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Union

from sweepkit.space.conditions import Clause, active_names, clauses_of, parents_first
from sweepkit.space.errors import SpaceError
from sweepkit.space.param import Param, config_path

#: A nested group's children: parameter leaves and further groups, by key.
_Tree = dict[str, Union[Param, "_Tree"]]


class SearchSpace:
    """The parameters of a sweep, sorted by flat name."""

    def __init__(self, params: Iterable[Param] = (), tree: _Tree | None = None) -> None:
        """Usually built by :meth:`from_parameters`; ``tree`` (the group structure) is derived when omitted."""
        ordered = sorted(params, key=lambda p: p.name)
        self._by_name: dict[str, Param] = {}
        for param in ordered:
            if param.name in self._by_name:
                raise SpaceError(
                    f"parameters: {param.name!r} names two parameters "
                    f"({self._by_name[param.name].config_path} and {param.config_path}); rename one"
                )
            self._by_name[param.name] = param
        self.params: tuple[Param, ...] = tuple(ordered)
        self.names: tuple[str, ...] = tuple(p.name for p in ordered)
        self._tree: _Tree = tree if tree is not None else _tree_of(ordered)
        #: Some parameter exists only under a condition (``when``).
        self.conditional: bool = any(p.conditions for p in ordered)
        #: The parameters with every parent before its children (name order without conditions).
        self.order: tuple[Param, ...] = tuple(parents_first(ordered)) if self.conditional else self.params

    # --- building -------------------------------------------------------------------------------

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> SearchSpace:
        """The space of a normalized ``parameters`` dict (``SweepConfig.parameters``)."""
        if not isinstance(parameters, Mapping):
            raise SpaceError(f"parameters: expected a mapping, got {parameters!r}")
        params: list[Param] = []
        tree = _walk(parameters, (), params, ())
        return cls(params, tree)

    @classmethod
    def from_config(cls, cfg: Any) -> SearchSpace:
        """The space of a loaded config (a ``SweepConfig`` from ``sweepkit.sweep_config.load_config``;
        the space sits below the config layer and takes any object with normalized ``parameters``)."""
        return cls.from_parameters(cfg.parameters)

    # --- looking up -----------------------------------------------------------------------------

    def param(self, name: str) -> Param:
        """The parameter with this flat name (KeyError naming it when there is none)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no parameter named {name!r} in this sweep") from None

    def __iter__(self) -> Iterator[Param]:
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __repr__(self) -> str:
        return f"SearchSpace({', '.join(f'{p.name}: {p.kind}' for p in self.params)})"

    # --- drawing --------------------------------------------------------------------------------

    def draw(self, rng: random.Random) -> dict[str, Any]:
        """One value per active parameter (flat dict, in name order).

        Without conditions every parameter is drawn independently in name order (W&B's draws);
        with conditions parents are drawn first and an inactive parameter is not drawn at all.
        """
        if not self.conditional:
            return {p.name: p.draw(rng) for p in self.params}
        point: dict[str, Any] = {}
        for p in self.order:
            if self.is_active(p, point):
                point[p.name] = p.draw(rng)
        return {name: point[name] for name in self.names if name in point}

    # --- conditions -----------------------------------------------------------------------------

    @staticmethod
    def is_active(param: Param, point: Mapping[str, Any]) -> bool:
        """Whether ``param`` exists given the values of its parents in ``point`` (which must hold
        only active parameters, as :meth:`draw` builds it)."""
        return all(c.parent in point and c.holds(point[c.parent]) for c in param.conditions)

    def active(self, point: Mapping[str, Any]) -> set[str]:
        """The flat names of the parameters active at ``point`` (a flat dict; extra keys ignored)."""
        if not self.conditional:
            return set(self.names)
        return active_names(self.order, point)

    def prune(self, point: Mapping[str, Any]) -> dict[str, Any]:
        """``point`` without the parameters its own values make inactive (other keys kept)."""
        if not self.conditional:
            return dict(point)
        active = self.active(point)
        return {k: v for k, v in point.items() if k in active or k not in self._by_name}

    # --- flat <-> nested ------------------------------------------------------------------------

    def unflatten(self, flat: Mapping[str, Any]) -> dict[str, Any]:
        """Nested dicts from flat names: ``{"optimizer.lr": 0.1}`` -> ``{"optimizer": {"lr": 0.1}}``.

        Each parameter goes where its path says; a name the space does not know (or a top-level
        dotted name) stays one key.
        """
        nested: dict[str, Any] = {}
        for name, value in flat.items():
            param = self._by_name.get(name)
            path = param.path if param is not None else (name,)
            node = nested
            for depth, key in enumerate(path[:-1]):
                child = node.setdefault(key, {})
                if not isinstance(child, dict):
                    raise SpaceError(
                        f"{name}: cannot nest under {'.'.join(path[: depth + 1])!r}, which already holds {child!r}"
                    )
                node = child
            if isinstance(node.get(path[-1]), dict):
                raise SpaceError(f"{name}: the name of a nested group cannot also hold a value")
            node[path[-1]] = value
        return nested

    def flatten(self, nested: Mapping[str, Any]) -> dict[str, Any]:
        """Flat names from nested dicts, the inverse of :meth:`unflatten`.

        Only the space's nested groups are descended into: a parameter whose value is a dict stays
        one value. Keys the space does not know are kept, under their dotted path.
        """
        flat: dict[str, Any] = {}
        _flatten_into(nested, self._tree, (), flat)
        return flat


def _walk(
    parameters: Mapping[str, Any], prefix: tuple[str, ...], out: list[Param], inherited: tuple[Clause, ...]
) -> _Tree:
    """Collect the leaves of a normalized parameters mapping, returning its group tree;
    ``inherited`` holds the conditions of the groups around it."""
    tree: _Tree = {}
    for key, spec in parameters.items():
        path = (*prefix, key)
        if not isinstance(key, str):
            raise SpaceError(
                f"{config_path(prefix) if prefix else 'parameters'}: keys must be strings, got {key!r}"
            )
        if not isinstance(spec, Mapping):
            raise SpaceError(f"{config_path(path)}: expected a mapping, got {spec!r}")
        if "distribution" in spec:
            param = Param(path, spec, inherited)
            out.append(param)
            tree[key] = param
        elif "parameters" in spec:
            group = spec["parameters"]
            if not isinstance(group, Mapping):
                raise SpaceError(f"{config_path(path)}.parameters: expected a mapping, got {group!r}")
            own = clauses_of(spec["when"], config_path(path)) if "when" in spec else ()
            tree[key] = _walk(group, path, out, (*inherited, *own))
        else:
            raise SpaceError(
                f"{config_path(path)}: expected a normalized parameter (with 'distribution') or a nested "
                "group (with 'parameters'); load the config with sweepkit.sweep_config.load_config first"
            )
    return tree


def _tree_of(params: list[Param]) -> _Tree:
    tree: _Tree = {}
    for param in params:
        node = tree
        for key in param.path[:-1]:
            child = node.setdefault(key, {})
            if isinstance(child, Param):
                raise SpaceError(
                    f"{param.config_path}: {child.name!r} is both a parameter and a nested group"
                )
            node = child
        node[param.path[-1]] = param
    return tree


def _flatten_into(nested: Mapping[str, Any], tree: _Tree | None, prefix: tuple[str, ...], flat: dict) -> None:
    for key, value in nested.items():
        node = tree.get(key) if tree is not None else None
        path = (*prefix, key)
        if isinstance(node, dict):
            if not isinstance(value, Mapping):
                raise SpaceError(f"{'.'.join(path)}: expected a dict for the nested group, got {value!r}")
            _flatten_into(value, node, path, flat)
        elif isinstance(node, Param):
            flat[node.name] = value
        else:
            flat[".".join(str(k) for k in path)] = value

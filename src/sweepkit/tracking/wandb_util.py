"""W&B's helper functions that training code and integrations call (``wandb.util``,
``wandb.sdk.lib.runid``): real values, without importing numpy, torch or W&B's client.

``generate_id`` gives a run-id-shaped string (8 base-36 characters); ``json_friendly`` and
``json_dumps_safer`` turn arrays, tensors, paths and dates into JSON; ``get_module`` imports a module
by name or says which package is missing; ``add_import_hook`` calls back once a module is imported.
"""

from __future__ import annotations

import importlib
import importlib.abc
import json
import os
import secrets
import string
import sys
from collections.abc import Callable
from typing import Any

from sweepkit.tracking.values import jsonable

_ID_CHARS = string.ascii_lowercase + string.digits


def generate_id(length: int = 8) -> str:
    """A random base-36 id, as W&B makes run ids (``wandb.util.generate_id()``)."""
    return "".join(secrets.choice(_ID_CHARS) for _ in range(int(length)))


def random_string(length: int = 12) -> str:
    return generate_id(length)


def json_friendly(obj: Any) -> tuple[Any, bool]:
    """``(value as JSON data, whether it changed)``, as W&B's ``json_friendly`` answers."""
    converted = jsonable(obj)
    return converted, converted is not obj


def json_friendly_val(obj: Any) -> Any:
    return jsonable(obj)


def json_dumps_safer(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` that also takes arrays, tensors, paths, dates and sets."""
    return json.dumps(jsonable(obj), **kwargs)


def json_dump_safer(obj: Any, fp: Any, **kwargs: Any) -> None:
    fp.write(json_dumps_safer(obj, **kwargs))


def make_safe_for_json(obj: Any) -> Any:
    return jsonable(obj)


def get_module(name: str, required: Any = None, lazy: bool = True) -> Any:
    """Import ``name``; when it is missing, None, or (with ``required``) an ImportError saying so."""
    try:
        return importlib.import_module(name)
    except ImportError:
        if required:
            message = required if isinstance(required, str) else f"this needs the {name!r} package"
            raise ImportError(message) from None
        return None


def get_optional_module(name: str) -> Any:
    return get_module(name)


def import_module_lazy(name: str) -> Any:
    return importlib.import_module(name)


_import_hooks: dict[str, list[Callable[..., Any]]] = {}


def add_import_hook(fullname: str, on_import: Callable[..., Any]) -> None:
    """Call ``on_import()`` once ``fullname`` is imported (now, if it already is)."""
    if fullname in sys.modules:
        on_import()
        return
    if not any(isinstance(finder, _ImportWatcher) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ImportWatcher())
    _import_hooks.setdefault(fullname, []).append(on_import)


class _ImportWatcher(importlib.abc.MetaPathFinder):
    """Finds a watched module through the other finders, and runs its hooks once it has loaded."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in _import_hooks:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _HookedLoader(spec.loader, _import_hooks.pop(fullname))
                return spec
        return None


class _HookedLoader(importlib.abc.Loader):
    def __init__(self, loader: Any, hooks: list[Callable[..., Any]]) -> None:
        self._loader = loader
        self._hooks = hooks

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        for hook in self._hooks:
            hook()


def mkdir_exists_ok(path: str | os.PathLike[str]) -> bool:
    os.makedirs(path, exist_ok=True)
    return True


def to_forward_slash_path(path: str) -> str:
    return str(path).replace(os.sep, "/") if os.sep != "/" else str(path)


def to_native_slash_path(path: str) -> str:
    return str(path).replace("/", os.sep)


def get_full_typename(obj: Any) -> str:
    kind = obj if isinstance(obj, type) else type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def is_numpy_array(obj: Any) -> bool:
    return get_full_typename(obj) == "numpy.ndarray"


def is_pytorch_tensor(obj: Any) -> bool:
    return get_full_typename(obj).startswith("torch.") and hasattr(obj, "detach")


def is_pandas_data_frame(obj: Any) -> bool:
    return get_full_typename(obj) == "pandas.core.frame.DataFrame"


def isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False

"""Files a run keeps: ``save()`` copies files into ``run.dir``; artifacts are versioned folders later runs use.

An artifact logged by a run is copied to ``.sweepkit/artifacts/<name>/v<N>/`` (beside the
``runs`` folder that holds the run's own folder), with a ``manifest.json``: its name, type,
description, metadata, aliases, the run that logged it, its files and its references.
``use_artifact("name:alias")`` finds a version on the same machine: ``latest`` (the highest),
``vN``, or an alias given when it was logged; ``entity/project/`` in front is ignored.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.tracking.values import jsonable

MANIFEST = "manifest.json"


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def save_files(glob_str: str, base_path: str | None, target_dir: Path) -> list[str]:
    """Copy the files matching ``glob_str`` into ``target_dir``; returns the copies' paths.

    As in W&B, a relative glob keeps its folders (``checkpoints/*.pt`` lands in
    ``files/checkpoints/``), ``base_path`` is cut from the front, and an absolute glob keeps only
    file names. Files already inside ``target_dir`` stay where they are.
    """
    target_dir = target_dir.resolve()
    copies = []
    for match in sorted(glob.glob(glob_str, recursive=True)):
        source = Path(match)
        if not source.is_file():
            continue
        resolved = source.resolve()
        if resolved.is_relative_to(target_dir):
            copies.append(str(resolved))
            continue
        if base_path is not None:
            relative = Path(os.path.relpath(source, base_path))
        elif source.is_absolute():
            relative = Path(source.name)
        else:
            relative = source
        target = target_dir / relative
        _copy(source, target)
        copies.append(str(target))
    return copies


class Artifact:
    """``wandb.Artifact(name, type)``: files and references to keep as one versioned folder."""

    def __init__(
        self,
        name: str,
        type: str = "unspecified",
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        **_ignored: Any,
    ):
        self.name = str(name)
        self.type = str(type)
        self.description = description
        self.metadata = dict(metadata or {})
        self.version: str | None = None
        self.aliases: list[str] = []
        self._entries: dict[str, Path] = {}
        self._references: dict[str, str] = {}
        self._staging: Path | None = None
        self._dir: Path | None = None

    def add_file(self, local_path: str | os.PathLike[str], name: str | None = None, **_ignored: Any) -> str:
        source = Path(local_path)
        if not source.is_file():
            raise SweepkitError(f"Artifact.add_file: {source} is not a file")
        entry = name or source.name
        self._entries[entry] = source
        return entry

    def add_dir(self, local_path: str | os.PathLike[str], name: str | None = None, **_ignored: Any) -> None:
        root = Path(local_path)
        if not root.is_dir():
            raise SweepkitError(f"Artifact.add_dir: {root} is not a folder")
        for path in sorted(root.rglob("*")):
            if path.is_file():
                relative = path.relative_to(root).as_posix()
                self._entries[f"{name}/{relative}" if name else relative] = path

    def add_reference(self, uri: str, name: str | None = None, **_ignored: Any) -> None:
        self._references[name or str(uri).rstrip("/").rsplit("/", 1)[-1]] = str(uri)

    @contextlib.contextmanager
    def new_file(self, name: str, mode: str = "x", encoding: str | None = None):
        path = self._staging_dir() / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, mode.replace("x", "w"), encoding=encoding if "b" not in mode else None) as handle:
            yield handle
        self._entries[name] = path

    def add(self, obj: Any, name: str) -> None:
        """A table or other media object, written as its JSON or file."""
        from sweepkit.tracking.media import as_media

        media = as_media(obj)
        if media is None:
            raise SweepkitError(
                f"Artifact.add: expected a wandb media object such as a Table, got {type(obj).__name__}"
            )
        data, ext, _extra = media.payload(self._staging_dir(), name, "artifact")
        path = self._staging_dir() / f"{name}{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self._entries[f"{name}{ext}"] = path

    def _staging_dir(self) -> Path:
        if self._staging is None:
            self._staging = Path(tempfile.mkdtemp(prefix="sweepkit-artifact-"))
        return self._staging

    def files(self) -> list[str]:
        return sorted(self._entries)

    def get_path(self, name: str) -> str:
        return str(self._folder() / name)

    get_entry = get_path

    def download(self, root: str | None = None, **_ignored: Any) -> str:
        """The folder holding the artifact's files (copied to ``root`` when given)."""
        folder = self._folder()
        if root is None:
            return str(folder)
        shutil.copytree(folder, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(MANIFEST))
        return str(root)

    def file(self, root: str | None = None) -> str:
        names = [n for n in self._entries]
        if len(names) != 1:
            raise SweepkitError(f"Artifact.file: artifact {self.name!r} holds {len(names)} files, not one")
        return str(Path(self.download(root)) / names[0])

    def _folder(self) -> Path:
        if self._dir is None:
            raise SweepkitError(
                f"artifact {self.name!r} has not been logged yet: call run.log_artifact() first"
            )
        return self._dir

    def save(self, *args: Any, **kwargs: Any) -> Artifact:
        return self

    def wait(self, *args: Any, **kwargs: Any) -> Artifact:
        return self

    def __repr__(self) -> str:
        return f"<Artifact {self.name}:{self.version or 'unlogged'}>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        from sweepkit.tracking.unsupported import unsupported

        return unsupported(f"wandb.Artifact.{name}")


def artifacts_root(run_dir: Path) -> Path:
    """``.sweepkit/artifacts`` beside the ``runs`` folder that holds ``run_dir``."""
    return run_dir.resolve().parent.parent / "artifacts"


def log_artifact(
    run: Any, artifact_or_path: Any, *, name: str | None, type: str | None, aliases: Any
) -> Artifact:
    if isinstance(artifact_or_path, Artifact):
        artifact = artifact_or_path
    else:
        path = Path(artifact_or_path)
        artifact = Artifact(name or path.name, type or "unspecified")
        if path.is_dir():
            artifact.add_dir(path)
        else:
            artifact.add_file(path)
    folder = artifacts_root(run.run_dir) / artifact.name
    folder.mkdir(parents=True, exist_ok=True)
    number = max((_version_number(p.name) for p in folder.iterdir()), default=0) + 1
    while True:  # another run may take the same number at the same moment
        target = folder / f"v{number}"
        try:
            target.mkdir()
            break
        except FileExistsError:
            number += 1
    for entry, source in artifact._entries.items():
        _copy(source, target / entry)
    extra = [aliases] if isinstance(aliases, str) else list(aliases or [])
    artifact.version, artifact.aliases, artifact._dir = f"v{number}", ["latest", *extra], target
    manifest = {
        "name": artifact.name,
        "type": artifact.type,
        "version": artifact.version,
        "description": artifact.description,
        "metadata": jsonable(artifact.metadata),
        "aliases": extra,
        "run_id": run.id,
        "files": artifact.files(),
        "references": artifact._references,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if artifact._staging is not None:
        shutil.rmtree(artifact._staging, ignore_errors=True)
        artifact._staging = None
        artifact._entries = {entry: target / entry for entry in artifact._entries}
    return artifact


def _version_number(folder_name: str) -> int:
    return int(folder_name[1:]) if folder_name.startswith("v") and folder_name[1:].isdigit() else 0


def use_artifact(run: Any, artifact_or_name: Any, *, type: str | None) -> Artifact:
    if isinstance(artifact_or_name, Artifact):
        return artifact_or_name
    full = str(artifact_or_name).rsplit("/", 1)[-1]
    name, _, alias = full.partition(":")
    alias = alias or "latest"
    folder = artifacts_root(run.run_dir) / name
    versions = (
        sorted(
            (p for p in folder.iterdir() if _version_number(p.name) and (p / MANIFEST).is_file()),
            key=lambda p: _version_number(p.name),
            reverse=True,
        )
        if folder.is_dir()
        else []
    )
    for version in versions:
        manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
        if alias in ("latest", version.name) or alias in manifest.get("aliases", []):
            artifact = Artifact(
                name,
                manifest.get("type", "unspecified"),
                manifest.get("description"),
                manifest.get("metadata"),
            )
            artifact.version, artifact._dir = version.name, version
            artifact.aliases = (
                ["latest", *manifest.get("aliases", [])]
                if version == versions[0]
                else manifest.get("aliases", [])
            )
            artifact._entries = {entry: version / entry for entry in manifest.get("files", [])}
            artifact._references = dict(manifest.get("references", {}))
            return artifact
    raise SweepkitError(
        f"artifact {full!r} was never logged on this machine (looked in {folder}); sweepkit keeps the "
        "artifacts that runs log with log_artifact() there"
    )

"""Room on the run folders' disk, made sure of before a program run is claimed.

A program run's first act is writing its files into its folder (``program_run.write_run_files``);
on a full disk that failed at once, after the claim, so the run ended ``failed`` and used up its point
(a grid walked on, and the run needed a retry). So before each claim the agent's slot writes a small
reserve file next to the run folders (``RESERVE_BYTES``) and deletes it just before the run's files
are written: a run is claimed only when its files have room. Writing, rather than asking the
filesystem how much is free, also sees quotas and root's reserved blocks as the run will.

When the disk is full (``ENOSPC``, or the user's quota: ``EDQUOT``) the agent claims nothing, says so
once, and looks again after a pause that doubles up to ``MAX_PAUSE_S``, until there is room or it is
stopped. Any other error (a read-only or unwritable folder) is not a matter of room: the claim goes
ahead and the run fails saying why, as before. A reserve file is named by the agent's process and
slot; ones left by agents that no longer exist are removed.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

#: The room a run's files are made sure of (its assignment, parameter files, empty report files).
RESERVE_BYTES = 256 * 1024
#: The errors that mean the disk (or the user's quota) is full.
FULL_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: The first pause before looking again, and the longest.
FIRST_PAUSE_S = 0.5
MAX_PAUSE_S = 5.0
PREFIX = ".room-"


class RunRoom:
    """Reserve files under ``root`` (the folder holding the run folders), one per slot."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._swept = False

    def _path(self, slot: int) -> Path:
        return self.root / f"{PREFIX}{os.getpid()}-{slot}"

    def reserve(self, slot: int) -> OSError | None:
        """Take ``RESERVE_BYTES`` for the next run of ``slot``; the error when the disk is full, else
        None (reserved, or an error that is not a matter of room)."""
        path = self._path(slot)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if not self._swept:
                self._swept = True
                _remove_stale(self.root)
            with open(path, "wb") as f:
                f.write(bytes(RESERVE_BYTES))
        except OSError as exc:
            self.release(slot)
            return exc if exc.errno in FULL_ERRORS else None
        return None

    def release(self, slot: int) -> None:
        """Give the reserve of ``slot`` back (to the run's files)."""
        try:
            self._path(slot).unlink(missing_ok=True)
        except OSError:
            pass


def _remove_stale(root: Path) -> None:
    """Reserve files of agents whose process is gone (killed before they released them)."""
    for path in root.glob(f"{PREFIX}*"):
        try:
            pid = int(path.name[len(PREFIX) :].split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass
        except (ValueError, OSError):  # not a reserve file, or a process of another user
            continue

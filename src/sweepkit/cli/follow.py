"""Following a sweep to its end: a live view when standard error is a terminal, plain lines otherwise.

``sweepkit run`` and ``sweepkit watch`` both poll a ``SweepProgress`` every second or so. In a
terminal (and without ``--no-progress``) the rich view in ``live_view`` is redrawn in place; in a
pipe, a log file or CI, the progress line is printed whenever it changes, with the messages about
runs that ended above it, and no terminal escape ever.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from sweepkit.cli.common import is_terminal, say
from sweepkit.cli.sweep_progress import SweepProgress


def live_wanted(no_progress: bool) -> bool:
    """Whether to draw the live view: standard error is a capable terminal and not ``--no-progress``."""
    return not no_progress and is_terminal(sys.stderr)


def follow(
    progress: SweepProgress,
    *,
    live: bool,
    location: str,
    interval_s: float,
    keep_going: Callable[[], bool],
    on_ended: Callable[[list[Any]], list[str]],
) -> None:
    """Poll and show ``progress`` until ``keep_going()`` says no (asked before each poll, so the last
    view shows the state after the no); ``on_ended`` turns the runs that ended into messages."""
    if live:
        from sweepkit.cli.live_view import watch_live

        watch_live(
            progress, location=location, interval_s=interval_s, keep_going=keep_going, on_ended=on_ended
        )
        return
    last = None
    while True:
        going = keep_going()
        for message in on_ended(progress.poll()):
            say(message)
        line = progress.line()
        if line != last:
            say(line)
            last = line
        if not going:
            return
        time.sleep(interval_s)

"""Text from users and programs made safe to print on a terminal: one function, used by every command.

Run names, config values, metric keys and error sentences come from whoever wrote the sweep config
or the training script. Printed as they are, ``\\x1b]0;title\\x07`` retitles the terminal, ``\\x1b[2J``
clears it, ``\\r`` overwrites what was printed, and an OSC 8 link or a bidi override hides what a
line really says. :func:`printable` drops every escape sequence (CSI, OSC, DCS, SOS, PM, APC and the
two-byte ones, in their 7-bit and 8-bit forms), every other C0 and C1 control character and the
Unicode bidi overrides; tabs and newlines become spaces unless the caller keeps them (output lines
keep tabs; multi-line text keeps newlines).
"""

from __future__ import annotations

import re

# An escape sequence, whole: CSI (ESC [ or 0x9b, parameters, intermediates, final byte), or OSC, DCS, SOS,
# PM or APC (ESC ] P X ^ _ or 0x9d 0x90 0x98 0x9e 0x9f) up to its BEL or ST, or ESC and what follows it
# in a two-byte sequence. An unfinished sequence loses only its introducer, so that it cannot swallow
# the text after it.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
# What is left to drop: C0 but tab and newline, DEL, C1, and the bidi embeddings, overrides and isolates.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: object, *, newlines: bool = False, tabs: bool = False) -> str:
    """``text`` (made a ``str``) without terminal control sequences (see the module docstring)."""
    text = text if isinstance(text, str) else str(text)
    if text.isprintable():  # the common case: nothing to do
        return text
    text = _CONTROL.sub("", _SEQUENCE.sub("", text))
    if not tabs:
        text = text.replace("\t", " ")
    if not newlines:
        text = text.replace("\n", " ")
    return text

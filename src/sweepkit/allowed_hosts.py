"""Which ``Host`` and ``Origin`` a request may carry: the defence against DNS rebinding and other sites' pages.

A page on ``evil.example`` whose name is made to resolve to 127.0.0.1 reaches a server on this
machine with ``Host: evil.example``; a page on another site that sends a request here carries its
own site in ``Origin``. :class:`HostPolicy` answers both: a host is allowed when it is a loopback
name, an address literal (a rebinding needs a name), this machine's name, or a name the operator
allowed (``sweepkit server --allowed-host``, ``SWEEPKIT_ALLOWED_HOSTS``; ``*`` allows every name and
``.example.com`` every name under it). An ``Origin`` is allowed when it names the same host and port
as ``Host`` (scheme aside: behind a TLS proxy the page is https and the request may be http) or a
name the operator allowed (a proxy that rewrites ``Host``). ``sweepkit ui`` (no tokens) answers only to loopback names (``sweepkit.dashboard.auth``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an address or a host name, without port) names this machine's loopback."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The host part of a ``Host`` header, lower case (``[::1]:8080`` -> ``::1``, ``A:80`` -> ``a``)."""
    host_header = host_header.strip().lower()
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")] if "]" in host_header else host_header
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def is_address(host: str) -> bool:
    """Whether ``host`` is an IP address literal (not a name that DNS could point anywhere)."""
    try:
        ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


class HostPolicy:
    """The names a server answers to (see the module docstring)."""

    def __init__(
        self, allowed: Iterable[str] = (), *, own: Iterable[str] = (), own_names: bool = True
    ) -> None:
        """``allowed``: the operator's names (for ``Host`` and ``Origin``); ``own``: the server's own
        names (``--host``), and with ``own_names`` this machine's, for ``Host`` only."""
        given = {n.strip().lower().rstrip(".") for n in allowed if n and n.strip()}
        self.any = "*" in given
        self.suffixes = tuple(n for n in given if n.startswith("."))
        self.given = {n for n in given if not n.startswith(".") and n != "*"}
        self.own = {n.strip().lower().rstrip(".") for n in own if n and n.strip()}
        if own_names:
            machine = socket.gethostname().lower()
            self.own |= {machine, machine.split(".")[0]}

    def given_name(self, name: str) -> bool:
        """Whether the operator allowed ``name`` (by name, by a ``.suffix``, or with ``*``)."""
        name = name.rstrip(".")
        return (
            self.any
            or name in self.given
            or any(name.endswith(suffix) or name == suffix[1:] for suffix in self.suffixes)
        )

    def allows_name(self, name: str) -> bool:
        """Whether ``name`` (a host without port) may be this server's name."""
        name = name.rstrip(".")
        return is_loopback(name) or is_address(name) or name in self.own or self.given_name(name)

    def allows_host(self, host_header: str | None) -> bool:
        """Whether a request with this ``Host`` header (None: none sent) is for this server."""
        return host_header is None or self.allows_name(host_name(host_header))

    def allows_origin(self, origin: str | None, host_header: str | None) -> bool:
        """Whether a request with this ``Origin`` (None: not a browser's cross-check) may be answered."""
        if origin is None:
            return True
        parts = urlsplit(origin.strip().lower())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # "null" (a sandboxed frame, a file) or nonsense
        if host_header is not None and parts.netloc == host_header.strip().lower():
            return True
        return self.given_name(parts.hostname or "")

"""sweepkit's version: the package's ``__version__``, the HTTP client's User-Agent, the server's."""

__version__ = "0.1.0"

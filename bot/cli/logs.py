"""Logging for one `responder` command: warnings only, unless `-v`.

Without `-v` only warnings and errors reach stderr, from anyone. With `-v` our own packages log down to
DEBUG and libraries (alembic, chromadb, httpx, bm25s, …) down to INFO. The rule is a filter on our handler,
not logger levels alone, because some libraries set their own: bm25s sets its logger to DEBUG when imported,
which can happen after this runs.
"""

from __future__ import annotations

import logging
import sys

#: The top-level packages whose DEBUG lines `-v` shows.
OURS = frozenset({"bot", "retrieval", "drafting", "tracker", "prompts", "corpus"})
FORMAT = "%(levelname)s %(name)s: %(message)s"


class _Gate(logging.Filter):
    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        if not self.verbose:
            return False
        return record.name.split(".", 1)[0] in OURS or record.levelno >= logging.INFO


class _CommandHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when the command starts (a test runner swaps it per invocation)."""

    def __init__(self, verbose: bool) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(logging.Formatter(FORMAT))
        self.addFilter(_Gate(verbose))
        self.levels = {name: logging.getLogger(name or None).level for name in ("", *OURS)}


def configure_logging(verbose: bool) -> None:
    """Route log records to stderr by the rule above, until `remove_logging`."""
    remove_logging()
    handler = _CommandHandler(verbose)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    for name in OURS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.NOTSET)


def remove_logging() -> None:
    """Take our handler off the root logger and put the levels back (when the command ends)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _CommandHandler)]:
        root.removeHandler(handler)
        for name, level in handler.levels.items():
            logging.getLogger(name or None).setLevel(level)

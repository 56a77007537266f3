"""The precedent index cannot be read: one error with the path and the store's own reason, in plain words.

Raised by `retrieval.index` in place of whatever Chroma raised (an InternalError, an OSError, or on a second
attempt an AttributeError from its half-built client), so the surfaces can say what to do.
"""

from __future__ import annotations

REBUILD_HINT = "Run `responder ingest` (or `make run`) to rebuild it, or check its permissions."


class IndexUnavailable(Exception):
    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"The precedent index at {where} cannot be read ({reason}).")

"""The durable drafting queue (filled in next)."""

from __future__ import annotations

from tracker.store import Store


class Jobs:
    def __init__(self, store: Store) -> None:
        self._store = store

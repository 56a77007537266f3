"""Per-channel settings: the classification ceiling of what may be posted in each channel (built in issue 10)."""

from __future__ import annotations

from collections.abc import Mapping

from retrieval.models import Classification
from tracker.store import Store


class Channels:
    def __init__(self, store: Store, configured: Mapping[str, Classification] | None = None) -> None:
        self._store = store
        self._configured = dict(configured or {})

    def ceiling(self, channel: str) -> Classification:
        """The highest marking a draft posted in `channel` may quote: OFFICIAL unless the office set more."""
        return self._configured.get(channel, Classification.OFFICIAL)

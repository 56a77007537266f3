"""Exactly-once keys for Slack deliveries: an event id (or file id) is acted on by one instance, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from tracker import schema
from tracker.db import insert_ignore
from tracker.errors import InvalidInput
from tracker.store import Store, required

MAX_EVENT_KEY = 255
#: Slack gives up retrying a delivery after about an hour; keys older than this can never be repeated.
EVENT_RETENTION = timedelta(hours=2)


class Events:
    def __init__(self, store: Store) -> None:
        self._store = store

    def claim(self, key: str) -> bool:
        """True the first time a Slack event id / retry key is seen; False for every repeat (any instance)."""
        key = required(key, "The event key")
        if len(key) > MAX_EVENT_KEY:
            raise InvalidInput(f"Event keys are at most {MAX_EVENT_KEY} characters.")
        with self._store.transaction() as session:
            values = {"key": key, "created_at": self._store.now()}
            return insert_ignore(session, schema.ProcessedEvent.__table__, values, ["key"])

    def prune(self, older_than: datetime | None = None) -> int:
        """Forget event keys Slack can no longer retry, so the table stays small; returns how many went."""
        cutoff = older_than or self._store.now() - EVENT_RETENTION
        table = schema.ProcessedEvent.__table__
        with self._store.transaction() as session:
            return session.execute(table.delete().where(table.c.created_at < cutoff)).rowcount  # type: ignore[attr-defined]

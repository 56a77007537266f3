"""Reading the append-only audit log (every aggregate writes it through `Store.audit`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tracker import schema
from tracker.store import Store
from tracker.views import AuditEvent


class AuditLog:
    def __init__(self, store: Store) -> None:
        self._store = store

    def record(self, actor: str, action: str, entity: str, entity_id: int | str, after: dict[str, Any]) -> None:
        """An event that changes no row but must be on the record (a final pack exported, and on what terms)."""
        with self._store.transaction() as session:
            self._store.audit(session, actor, action, entity, entity_id, None, after)

    def events(self, entity: str, entity_id: int | str) -> list[AuditEvent]:
        with self._store.transaction() as session:
            rows = session.scalars(
                select(schema.AuditEntry)
                .where(schema.AuditEntry.entity == entity, schema.AuditEntry.entity_id == str(entity_id))
                .order_by(schema.AuditEntry.id)
            ).all()
            return [AuditEvent.of(row) for row in rows]

"""Reading the append-only audit log (every aggregate writes it through `Store.audit`)."""

from __future__ import annotations

from sqlalchemy import select

from tracker import schema
from tracker.store import Store
from tracker.views import AuditEvent


class AuditLog:
    def __init__(self, store: Store) -> None:
        self._store = store

    def events(self, entity: str, entity_id: int | str) -> list[AuditEvent]:
        with self._store.transaction() as session:
            rows = session.scalars(
                select(schema.AuditEntry)
                .where(schema.AuditEntry.entity == entity, schema.AuditEntry.entity_id == str(entity_id))
                .order_by(schema.AuditEntry.id)
            ).all()
            return [AuditEvent.of(row) for row in rows]

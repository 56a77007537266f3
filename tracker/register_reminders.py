"""Owner reminders for register items: once before the due date, once when it is overdue, each exactly once.

A slot is (item, kind, the item's due date). Claiming is an INSERT that the unique key lets only one sweep win,
as for inspection reminders (tracker.reminders), so a reminder fires once however many instances sweep and
however often they restart. A due date set again by hand is a new date and gets its own two reminders.

    due soon   from `days_before` days before the due date until the due date, for an owned item still live
    overdue    from the day after the due date, for an owned item whose work is not reported done

An item the owner has reported implemented (or awaiting evidence) is not chased as overdue: the next step is
the office's, not theirs. Time is always passed in; nothing here reads the clock or sleeps.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import schema
from tracker.clock import UK
from tracker.register import ENDINGS, OUTSTANDING, Rag, RegisterItemView, RegisterStatus, item_views
from tracker.reminders import DEFAULT_LEASE, DEFAULT_NOT_BEFORE, claim_slot, mark_posted, release
from tracker.store import Store

#: How long before the due date the owner is first reminded.
DEFAULT_DAYS_BEFORE = 14


class OwnerReminderKind(StrEnum):
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


class OwnerReminder(BaseModel):
    """A claimed owner reminder: send it to the owner, then `RegisterReminders.mark_posted(reminder_id)`."""

    model_config = ConfigDict(frozen=True)

    reminder_id: int
    item_id: int
    kind: OwnerReminderKind
    owner: str
    due: date
    today: date
    #: Days from today to the due date: negative once overdue.
    days: int
    inspection_id: int
    inspection_title: str
    finding_label: str
    finding_text: str
    status: RegisterStatus
    rag: Rag | None


def owner_slot(item: RegisterItemView, today: date, days_before: int) -> OwnerReminderKind | None:
    """Which reminder, if any, the item's owner is due today."""
    if item.owner is None or item.due is None or item.status in ENDINGS:
        return None
    if today > item.due:
        return OwnerReminderKind.OVERDUE if item.status in OUTSTANDING else None
    if today >= item.due - timedelta(days=days_before):
        return OwnerReminderKind.DUE_SOON
    return None


class RegisterReminders:
    """Exactly-once claims on owner reminders, for any number of sweeping bot instances."""

    def __init__(self, store: Store, days_before: int = DEFAULT_DAYS_BEFORE) -> None:
        if days_before < 0:
            raise ValueError("days_before must be zero or more")
        self._store = store
        self.days_before = days_before

    def claim_due(
        self,
        instance_id: str,
        now: datetime | None = None,
        *,
        not_before: time | None = DEFAULT_NOT_BEFORE,
        lease: timedelta = DEFAULT_LEASE,
    ) -> list[OwnerReminder]:
        """Claim every owner reminder due now that nobody has claimed; each is returned to exactly one caller."""
        now = now or self._store.now()
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware (e.g. datetime.now(UTC))")
        local = now.astimezone(UK)
        if not_before is not None and local.time() < not_before:
            return []
        today = local.date()
        table = schema.RegisterItem
        live = [s.value for s in RegisterStatus if s not in ENDINGS]
        with self._store.transaction() as session:
            window = today + timedelta(days=self.days_before)  # due soon or overdue: nothing later is due yet
            items = item_views(session, table.owner.is_not(None), table.due <= window, table.status.in_(live))
            # One query, so a sweep with nothing new (every minute) tries no claim at all.
            sent = _sent(session, [item.id for item in items])
            claimed = []
            for item in items:
                kind = owner_slot(item, today, self.days_before)
                if kind is None or (item.id, kind.value, item.due) in sent:
                    continue
                if reminder_id := _claim(session, item, kind, instance_id, now, lease):
                    claimed.append(_to_send(reminder_id, item, kind, today))
            return claimed

    def mark_posted(self, reminder_id: int, now: datetime | None = None) -> None:
        mark_posted(self._store, schema.RegisterReminder.__table__, reminder_id, now)

    def release(self, reminder_id: int) -> None:
        """Give a claimed reminder back (sending failed) so the next sweep, on any instance, tries again."""
        release(self._store, schema.RegisterReminder.__table__, reminder_id)


def _sent(session: Session, item_ids: list[int]) -> set[tuple[int, str, date]]:
    """The reminders already sent for these items: (item, kind, due date)."""
    if not item_ids:
        return set()
    table = schema.RegisterReminder.__table__
    rows = session.execute(
        select(table.c.item_id, table.c.kind, table.c.due_on).where(
            table.c.posted_at.is_not(None), table.c.item_id.in_(item_ids)
        )
    )
    return {(item_id, kind, due_on) for item_id, kind, due_on in rows}


def _claim(
    session: Session,
    item: RegisterItemView,
    kind: OwnerReminderKind,
    instance_id: str,
    now: datetime,
    lease: timedelta,
) -> int | None:
    key = {"item_id": item.id, "kind": kind.value, "due_on": item.due}
    return claim_slot(session, schema.RegisterReminder.__table__, key, {}, instance_id, now, lease)


def _to_send(reminder_id: int, item: RegisterItemView, kind: OwnerReminderKind, today: date) -> OwnerReminder:
    assert item.owner is not None and item.due is not None
    return OwnerReminder(
        reminder_id=reminder_id,
        item_id=item.id,
        kind=kind,
        owner=item.owner,
        due=item.due,
        today=today,
        days=(item.due - today).days,
        inspection_id=item.inspection_id,
        inspection_title=item.inspection_title,
        finding_label=item.finding_label,
        finding_text=item.finding_text,
        status=item.status,
        rag=item.rag,
    )

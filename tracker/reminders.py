"""Reminder slots for open inspections, and exactly-once claims on them.

A slot is (inspection, kind, date). Claiming is an INSERT that the UNIQUE(inspection_id, kind, due_on) key
lets only one sweep win, inside a transaction, so a slot fires once however many bot instances sweep and
however often they restart. Time is always passed in (`now`); nothing here reads the clock or sleeps.

Missed slots (the bot was down): only the most recent slot of each kind that is due today or earlier is
offered. Posting "28 days left", "14 days left" and "7 days left" together after an outage would be noise and
two of them would be wrong; the latest one, worded with the real days left, says everything that matters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Table, and_, func, or_, select, update
from sqlalchemy.orm import Session

from tracker import schema
from tracker.clock import UK
from tracker.db import insert_ignore
from tracker.deadlines import DEFAULT_REMINDER_DAYS, STATUTORY_PERIOD_DAYS, days_remaining
from tracker.errors import InvalidInput
from tracker.findings import approval_progress

if TYPE_CHECKING:
    from tracker.store import Store
#: No reminder is posted before this UK time: slots are dates, and a 00:01 ping helps nobody.
DEFAULT_NOT_BEFORE = time(8, 0)
#: A claim not marked posted within this long is considered abandoned (the instance died) and may be retaken.
DEFAULT_LEASE = timedelta(minutes=10)


class ReminderKind(StrEnum):
    DEADLINE = "deadline"
    CC_COMMENTS = "cc_comments"
    OVERDUE = "overdue"


class ReminderSubject(Protocol):
    """What slot computation needs from an inspection (an ORM row or an InspectionView both fit)."""

    @property
    def last_day(self) -> date: ...
    @property
    def cc_comments_due(self) -> date: ...
    @property
    def reminder_days(self) -> Sequence[int]: ...
    @property
    def status(self) -> str: ...


@dataclass(frozen=True)
class ReminderSlot:
    kind: ReminderKind
    due_on: date
    offset_days: int  # days before the last day; negative once overdue


class ReminderToPost(BaseModel):
    """A claimed reminder: post it to the channel, then `Reminders.mark_posted(reminder_id)`."""

    model_config = ConfigDict(frozen=True)

    reminder_id: int
    inspection_id: int
    title: str
    published: date
    channel_id: str | None
    thread_ts: str | None
    kind: ReminderKind
    due_on: date
    offset_days: int
    last_day: date
    days_left: int
    today: date = Field(..., description="The UK day the reminder was claimed on")
    first_overdue: bool = False
    findings_total: int = 0
    findings_approved: int = 0


def normalise_reminder_days(days: Sequence[int]) -> tuple[int, ...]:
    """Distinct offsets, largest first; each a whole number of days within the 56-day period."""
    cleaned = set()
    for value in days:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < STATUTORY_PERIOD_DAYS:
            raise InvalidInput(
                f"Reminder offsets are whole days before the last day, 0–{STATUTORY_PERIOD_DAYS - 1}; "
                f"{value!r} is not. Example: 28,14,7,3,1,0."
            )
        cleaned.add(value)
    if not cleaned:
        raise InvalidInput(f"Give at least one reminder offset, e.g. {','.join(map(str, DEFAULT_REMINDER_DAYS))}.")
    return tuple(sorted(cleaned, reverse=True))


def due_reminders(inspection: ReminderSubject, today: date) -> list[ReminderSlot]:
    """The slots that should have fired by `today`: at most one per kind (the most recent)."""
    if inspection.status != "open":
        return []
    last_day = inspection.last_day
    if today > last_day:
        # One slot per day once overdue: the first is the clear overdue notice, later ones at most daily.
        return [ReminderSlot(ReminderKind.OVERDUE, today, days_remaining(last_day, today))]
    # An inspection added late gets its latest passed slot at once, worded with the real days left: one
    # timely nudge rather than silence until the next offset.
    slots = []
    deadline_days = [last_day - timedelta(days=offset) for offset in inspection.reminder_days]
    if passed := [day for day in deadline_days if day <= today]:
        latest = max(passed)
        slots.append(ReminderSlot(ReminderKind.DEADLINE, latest, (last_day - latest).days))
    cc_due = inspection.cc_comments_due
    if cc_due <= today:
        slots.append(ReminderSlot(ReminderKind.CC_COMMENTS, cc_due, (last_day - cc_due).days))
    return slots


class Reminders:
    """Exactly-once claims on reminder slots, for any number of sweeping bot instances."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def claim_due(
        self,
        instance_id: str,
        now: datetime | None = None,
        *,
        tz: ZoneInfo = UK,
        not_before: time | None = DEFAULT_NOT_BEFORE,
        lease: timedelta = DEFAULT_LEASE,
    ) -> list[ReminderToPost]:
        """Claim every due slot nobody has claimed yet; each slot is returned to exactly one caller."""
        return _claim_due(self._store, now or self._store.now(), instance_id, tz, not_before, lease)

    def mark_posted(self, reminder_id: int, now: datetime | None = None) -> None:
        mark_posted(self._store, schema.Reminder.__table__, reminder_id, now)

    def release(self, reminder_id: int) -> None:
        """Give a claimed slot back (posting failed) so the next sweep, on any instance, tries again."""
        release(self._store, schema.Reminder.__table__, reminder_id)


# ── exactly-once slots, for any table with claimed_by / claimed_at / posted_at and a unique key ─────────────


def claim_slot(
    session: Session,
    table: Table,
    key: dict[str, Any],
    extra: dict[str, Any],
    instance_id: str,
    now: datetime,
    lease: timedelta,
) -> int | None:
    """Claim the slot `key` (its unique key's columns → values) for `instance_id`; its id, or None if another
    instance holds it. `extra`: the other columns a new slot row needs."""
    values = {**key, **extra, "claimed_by": instance_id, "claimed_at": now}
    won = insert_ignore(session, table, values, list(key))
    where = and_(*(table.c[column] == value for column, value in key.items()))
    if not won:
        # Someone holds the slot. Take it over only if it was released, or claimed and never posted for
        # longer than the lease (that instance died mid-post): at-least-once beats a silently lost reminder.
        abandoned = or_(table.c.claimed_by.is_(None), table.c.claimed_at < now - lease)
        retake = update(table).where(where, table.c.posted_at.is_(None), abandoned)
        won = session.execute(retake.values(claimed_by=instance_id, claimed_at=now)).rowcount == 1  # type: ignore[attr-defined]
    return session.scalar(select(table.c.id).where(where)) if won else None


def mark_posted(store: Store, table: Table, slot_id: int, now: datetime | None = None) -> None:
    with store.transaction() as session:
        session.execute(update(table).where(table.c.id == slot_id).values(posted_at=now or store.now()))


def release(store: Store, table: Table, slot_id: int) -> None:
    with store.transaction() as session:
        session.execute(
            update(table)
            .where(table.c.id == slot_id, table.c.posted_at.is_(None))
            .values(claimed_by=None, claimed_at=None)
        )


def _claim_due(
    store: Store,
    now: datetime,
    instance_id: str,
    tz: ZoneInfo,
    not_before: time | None,
    lease: timedelta,
) -> list[ReminderToPost]:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (e.g. datetime.now(UTC))")
    local = now.astimezone(tz)
    if not_before is not None and local.time() < not_before:
        return []
    today = local.date()
    with store.transaction() as session:
        inspections = session.scalars(
            select(schema.Inspection)
            .where(schema.Inspection.status == "open")
            .order_by(schema.Inspection.last_day, schema.Inspection.id)
        ).all()
        won: list[tuple[schema.Inspection, ReminderSlot, int]] = []
        for inspection in inspections:
            for slot in due_reminders(inspection, today):
                reminder_id = _claim(session, inspection.id, slot, instance_id, now, lease)
                if reminder_id is not None:
                    won.append((inspection, slot, reminder_id))
        # One progress query for every slot won (none when nothing is due): claiming does not change approvals.
        progress = approval_progress(session, list(dict.fromkeys(inspection.id for inspection, _, _ in won)))
        return [
            _to_post(session, inspection, slot, reminder_id, today, progress.get(inspection.id, (0, 0)))
            for inspection, slot, reminder_id in won
        ]


def _claim(
    session: Session,
    inspection_id: int,
    slot: ReminderSlot,
    instance_id: str,
    now: datetime,
    lease: timedelta,
) -> int | None:
    key = {"inspection_id": inspection_id, "kind": slot.kind.value, "due_on": slot.due_on}
    return claim_slot(
        session, schema.Reminder.__table__, key, {"offset_days": slot.offset_days}, instance_id, now, lease
    )


def _to_post(
    session: Session,
    inspection: schema.Inspection,
    slot: ReminderSlot,
    reminder_id: int,
    today: date,
    progress: tuple[int, int],
) -> ReminderToPost:
    first_overdue = slot.kind is ReminderKind.OVERDUE and not session.scalar(
        select(func.count())
        .select_from(schema.Reminder)
        .where(
            schema.Reminder.inspection_id == inspection.id,
            schema.Reminder.kind == ReminderKind.OVERDUE.value,
            schema.Reminder.due_on < slot.due_on,
        )
    )
    total, approved = progress
    return ReminderToPost(
        reminder_id=reminder_id,
        inspection_id=inspection.id,
        title=inspection.title,
        published=inspection.published,
        channel_id=inspection.channel_id,
        thread_ts=inspection.thread_ts,
        kind=slot.kind,
        due_on=slot.due_on,
        offset_days=slot.offset_days,
        last_day=inspection.last_day,
        days_left=days_remaining(inspection.last_day, today),
        today=today,
        first_overdue=first_overdue,
        findings_total=total,
        findings_approved=approved,
    )

"""Inspections and their deadlines: what is tracked against the s.55 period, and the comments for the pack.

An inspection stays on the open list until every statutory step is ticked: the response published (s.55(5A))
and sent to HMICFRS and to the Home Secretary. Marking it published can be made to need a finding on record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from retrieval.dates import format_date
from retrieval.loaders import safe_text
from retrieval.models import InspectionType
from tracker import schema
from tracker.clock import UK
from tracker.deadlines import (
    DEFAULT_CC_DAYS,
    DEFAULT_FIRST_DRAFTS_DAYS,
    DEFAULT_REMINDER_DAYS,
    DEFAULT_REVIEWS_DAYS,
    RECIPIENT_MARKS,
    milestones,
)
from tracker.errors import IllegalTransition, InvalidInput, TrackerError
from tracker.findings import approval_progress
from tracker.register import add_published_answers
from tracker.reminders import normalise_reminder_days
from tracker.store import Store, enum_value, get_row
from tracker.views import InspectionComments, InspectionSummary, InspectionView

MAX_COMMENTS_CHARS = 20_000
#: The title column's length (schema.Inspection.title); a longer title is refused, never cut or stored as is.
MAX_TITLE_CHARS: int = schema.Inspection.__table__.c.title.type.length
MAX_FORCE_CHARS: int = schema.Inspection.__table__.c.force.type.length


class DuplicateInspection(TrackerError):
    """The same inspection (title ignoring case and spacing, and publication date) is already tracked."""

    def __init__(self, existing: InspectionView) -> None:
        self.existing = existing
        super().__init__(
            f"“{existing.title}” (published {format_date(existing.published)}) is already tracked as inspection "
            f"#{existing.id}; nothing was added."
        )


def same_title(a: str, b: str) -> bool:
    """Titles compared as people read them: case and runs of whitespace do not matter."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


class Inspections:
    def __init__(self, store: Store) -> None:
        self._store = store

    def create(
        self,
        title: str,
        published: date,
        inspection_type: InspectionType | str,
        force: str,
        channel: str | None,
        actor: str,
        cc_days: int = DEFAULT_CC_DAYS,
        reminder_days: Sequence[int] = DEFAULT_REMINDER_DAYS,
        thread_ts: str | None = None,
        first_drafts_days: int = DEFAULT_FIRST_DRAFTS_DAYS,
        reviews_days: int = DEFAULT_REVIEWS_DAYS,
        unique: bool = False,
    ) -> InspectionView:
        """A new inspection; with `unique`, DuplicateInspection if the same one (see `same_title`) exists."""
        title = checked_title(title)
        force = _checked_force(force)
        kind = enum_value(InspectionType, inspection_type, "inspection type")
        plan = milestones(published, cc_days, first_drafts_days, reviews_days)
        offsets = normalise_reminder_days(reminder_days)
        with self._store.transaction() as session:
            if unique and (first := _duplicate_of(session, title, plan.published)) is not None:
                raise DuplicateInspection(_with_progress(session, first))
            row = schema.Inspection(
                title=title,
                inspection_type=kind.value,
                force=force,
                published=plan.published,
                last_day=plan.last_day,
                cc_comments_due=plan.cc_comments_due,
                first_drafts_due=plan.first_drafts_due,
                reviews_complete_due=plan.reviews_complete_due,
                reminder_days=list(offsets),
                channel_id=channel,
                thread_ts=thread_ts,
                status="open",
                created_by=actor,
                created_at=self._store.now(),
            )
            session.add(row)
            session.flush()
            view = InspectionView.of(row)
            self._store.audit(session, actor, "create", "inspection", row.id, None, _audit(view))
            return view

    def get(self, inspection_id: int) -> InspectionView:
        with self._store.transaction() as session:
            return _with_progress(session, get_row(session, schema.Inspection, inspection_id, "inspection"))

    def list_open(self, today: date) -> list[InspectionSummary]:
        """Inspections with a step outstanding, soonest last day first, with days left and approvals progress.

        One published but not yet sent to HMICFRS or to the Home Secretary stays listed; its line says so.
        """
        table = schema.Inspection
        outstanding = or_(table.status == "open", table.sent_hmicfrs_at.is_(None), table.sent_home_office_at.is_(None))
        with self._store.transaction() as session:
            rows = session.scalars(select(table).where(outstanding).order_by(table.last_day, table.id)).all()
            progress = approval_progress(session, [row.id for row in rows])
            views = [_view(row, progress.get(row.id, (0, 0))) for row in rows]
        return [
            InspectionSummary(
                inspection=view,
                days_left=view.days_left(today),
                status=view.deadline_status(today),
                deadline_line=_summary_line(view, today),
            )
            for view in views
        ]

    def find_duplicate(self, title: str, published: date) -> InspectionView | None:
        with self._store.transaction() as session:
            row = _duplicate_of(session, title, published)
            return _with_progress(session, row) if row else None

    def by_thread(self, channel: str, thread_ts: str) -> InspectionView | None:
        with self._store.transaction() as session:
            row = session.scalars(
                select(schema.Inspection).where(
                    schema.Inspection.channel_id == channel, schema.Inspection.thread_ts == thread_ts
                )
            ).first()
            return _with_progress(session, row) if row else None

    def has_thread(self, channel: str, thread_ts: str) -> bool:
        """Whether an inspection's summary starts this thread: an existence check, without its progress."""
        with self._store.transaction() as session:
            found = session.scalar(
                select(schema.Inspection.id)
                .where(schema.Inspection.channel_id == channel, schema.Inspection.thread_ts == thread_ts)
                .limit(1)
            )
            return found is not None

    def set_thread(self, inspection_id: int, channel: str, thread_ts: str, actor: str) -> InspectionView:
        """Where the inspection's summary message lives; its findings' drafts are threaded under it."""
        return self._update(inspection_id, actor, "set_thread", channel_id=channel, thread_ts=thread_ts)

    def set_reminder_days(self, inspection_id: int, days: Sequence[int], actor: str) -> InspectionView:
        offsets = list(normalise_reminder_days(days))
        return self._update(inspection_id, actor, "set_reminders", reminder_days=offsets)

    def mark_recipient(
        self, inspection_id: int, which: str, actor: str, require_findings: bool = False
    ) -> InspectionView:
        """Tick off 'published', 'sent-hmicfrs' or 'sent-home-office'; marking twice keeps the first time.

        With `require_findings`, 'published' is refused while no finding is recorded: there is no response.
        """
        column = RECIPIENT_MARKS.get(which.strip().lower())
        if column is None:
            raise InvalidInput(f"Unknown step {which!r}: use one of {', '.join(RECIPIENT_MARKS)}.")
        with self._store.transaction() as session:
            row = get_row(session, schema.Inspection, inspection_id, "inspection")
            if column == "published_at" and require_findings and row.published_at is None:
                total, _approved = approval_progress(session, [row.id]).get(row.id, (0, 0))
                if not total:
                    raise IllegalTransition(no_findings_message(row.id, row.title))
            if getattr(row, column) is None:
                before = _audit(InspectionView.of(row))
                setattr(row, column, self._store.now())
                if column == "published_at":
                    row.status = "published"
                session.flush()
                self._store.audit(session, actor, f"mark_{which}", "inspection", row.id, before, _audit(_view(row)))
            if column == "published_at":
                # Every mark, not only the first: answers approved since the last one join the register too.
                add_published_answers(self._store, session, row, actor)
            return _with_progress(session, row)

    # ── the PCC's and the chief constable's comments (the pack's opening sections) ──────────────────────

    def comments(self, inspection_id: int) -> InspectionComments:
        with self._store.transaction() as session:
            row = get_row(session, schema.Inspection, inspection_id, "inspection")
            return InspectionComments(pcc=row.pcc_comments, chief_constable=row.cc_comments)

    def set_comments(
        self, inspection_id: int, actor: str, pcc: str | None = None, chief_constable: str | None = None
    ) -> InspectionComments:
        """Store either or both texts (None leaves one unchanged); audited like every other change."""
        if pcc is None and chief_constable is None:
            raise InvalidInput("Give the PCC's comments, the chief constable's comments, or both.")
        values = {"pcc_comments": pcc, "cc_comments": chief_constable}
        updates = {column: _comment_text(text, column) for column, text in values.items() if text is not None}
        with self._store.transaction() as session:
            row = get_row(session, schema.Inspection, inspection_id, "inspection")
            before = {column: getattr(row, column) for column in updates}
            for column, text in updates.items():
                setattr(row, column, text)
            self._store.audit(session, actor, "set_comments", "inspection", inspection_id, before, updates)
            return InspectionComments(pcc=row.pcc_comments, chief_constable=row.cc_comments)

    def _update(self, inspection_id: int, actor: str, action: str, **values: Any) -> InspectionView:
        with self._store.transaction() as session:
            row = get_row(session, schema.Inspection, inspection_id, "inspection")
            before = _audit(InspectionView.of(row))
            for name, value in values.items():
                setattr(row, name, value)
            session.flush()
            view = _with_progress(session, row)
            self._store.audit(session, actor, action, "inspection", row.id, before, _audit(view))
            return view


def checked_title(title: str) -> str:
    """An inspection title as stored: unsafe characters removed, runs of whitespace one space, within the column.

    InvalidInput when it is empty or longer than the column, saying how long it is and what is allowed.
    """
    cleaned = " ".join(safe_text(title or "").split())
    if not cleaned:
        raise InvalidInput("The inspection title is empty.")
    if len(cleaned) > MAX_TITLE_CHARS:
        raise InvalidInput(
            f"The title is {len(cleaned):,} characters; the longest allowed is {MAX_TITLE_CHARS:,} — shorten it."
        )
    return cleaned


def _checked_force(force: str) -> str:
    cleaned = " ".join(safe_text(force or "").split())
    if len(cleaned) > MAX_FORCE_CHARS:
        raise InvalidInput(
            f"The force name is {len(cleaned):,} characters; the longest allowed is {MAX_FORCE_CHARS:,} — shorten it."
        )
    return cleaned


def no_findings_message(inspection_id: int, title: str) -> str:
    return (
        f"Inspection #{inspection_id} “{title}” has no findings recorded, so there is no response to mark "
        "published. Upload the report in the inspection's thread, or attach one already uploaded: "
        f"`/hmicfrs attach {inspection_id}` in Slack, `responder deadlines attach {inspection_id} --report FILE` "
        "on the command line."
    )


def _duplicate_of(session: Session, title: str, published: date) -> schema.Inspection | None:
    rows = session.scalars(
        select(schema.Inspection).where(schema.Inspection.published == published).order_by(schema.Inspection.id)
    ).all()
    return next((row for row in rows if same_title(row.title, title)), None)


def _summary_line(view: InspectionView, today: date) -> str:
    """Before publication the last day and its rule; after it, when it was published and what is still to do."""
    if view.published_at is None:
        return view.deadline_line(today)
    when = format_date(view.published_at.astimezone(UK).date())
    next_step = view.next_step
    rest = f"next: {next_step}" if next_step else "every step is done"
    return f"Response published on {when}; {rest}."


def _view(row: schema.Inspection, progress: tuple[int, int] = (0, 0)) -> InspectionView:
    total, approved = progress
    return InspectionView.of(row, findings_total=total, findings_approved=approved)


def _with_progress(session: Session, row: schema.Inspection) -> InspectionView:
    return _view(row, approval_progress(session, [row.id]).get(row.id, (0, 0)))


def _audit(view: InspectionView) -> dict[str, Any]:
    return view.model_dump(mode="json", exclude={"findings_total", "findings_approved"})


def _comment_text(text: str, column: str) -> str:
    who = "PCC's" if column == "pcc_comments" else "chief constable's"
    cleaned = safe_text(text).strip()
    if not cleaned:
        raise InvalidInput(f"The {who} comments are empty; give the text (or a file holding it).")
    if len(cleaned) > MAX_COMMENTS_CHARS:
        raise InvalidInput(f"The {who} comments are {len(cleaned):,} characters; the limit is {MAX_COMMENTS_CHARS:,}.")
    return cleaned

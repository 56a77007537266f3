"""Findings and their drafts: what each report asks, where its answer is shown, and every version of that answer.

A finding belongs to an inspection (in report order) or, for a recommendation pasted on its own, to none. Each
new version of its answer (the engine's draft or redraft) moves it through the review state machine; a
person's edit is stored by the reviews aggregate, which shares `store_version` with this one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from retrieval.loaders import safe_text
from retrieval.models import Finding
from tracker import schema
from tracker.errors import ConcurrentChange, InvalidInput
from tracker.people import person
from tracker.review import BOT_AUTHOR, ReviewAction, ReviewSnapshot, ReviewState, current_approvers, transition
from tracker.store import Store, get_row
from tracker.views import AnswerView, DraftView, FindingView, NewDraft


@dataclass(frozen=True)
class ReportThread:
    """A thread holding findings that belong to no inspection: a report uploaded without a publication date."""

    channel_id: str
    thread_ts: str
    findings: int
    first_label: str
    last_added: datetime


@dataclass(frozen=True)
class AttachResult:
    """What attaching a report's findings to an inspection did: those added, and how many were already there."""

    inspection_id: int
    added: tuple[FindingView, ...]
    skipped: int
    thread_adopted: bool = False


class Findings:
    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, inspection_id: int, findings: Sequence[Finding], actor: str = BOT_AUTHOR) -> list[FindingView]:
        """Append the report's findings in report order (positions continue after any already stored)."""
        with self._store.transaction() as session:
            inspection = get_row(session, schema.Inspection, inspection_id, "inspection")
            last = session.scalar(
                select(func.coalesce(func.max(schema.Finding.position), -1)).where(
                    schema.Finding.inspection_id == inspection_id
                )
            )
            start = int(last if last is not None else -1) + 1
            rows = [
                self._new_row(finding, inspection.channel_id, inspection.thread_ts, actor, inspection_id, position)
                for position, finding in enumerate(findings, start=start)
            ]
            session.add_all(rows)
            session.flush()
            views = [FindingView.of(row, latest_version=0) for row in rows]
            for view in views:
                self._store.audit(session, actor, "add", "finding", view.id, None, _audit(view))
            return views

    def add_request(self, finding: Finding, channel: str | None, thread_ts: str | None, actor: str) -> FindingView:
        """A one-off pasted recommendation: a finding that belongs to no inspection."""
        with self._store.transaction() as session:
            row = self._new_row(finding, channel, thread_ts, actor, None, 0)
            session.add(row)
            session.flush()
            view = FindingView.of(row, latest_version=0)
            self._store.audit(session, actor, "add", "finding", view.id, None, _audit(view))
            return view

    def _new_row(
        self,
        finding: Finding,
        channel: str | None,
        thread_ts: str | None,
        actor: str,
        inspection_id: int | None,
        position: int,
    ) -> schema.Finding:
        now = self._store.now()
        return schema.Finding(
            inspection_id=inspection_id,
            position=position,
            number=_bounded(finding.number, _NUMBER_CHARS),
            kind=finding.kind.value,
            text=finding_text(finding.text),
            addressees=[addressee.value for addressee in finding.addressees],
            due=_bounded(finding.due, _DUE_CHARS),
            channel_id=channel,
            thread_ts=thread_ts,
            state=ReviewState.AWAITING_DRAFT.value,
            requested_by=actor,
            created_at=now,
            updated_at=now,
        )

    # ── attaching a report's findings to an inspection tracked separately ────────────────────────────────

    def unattached_threads(self, channel: str) -> list[ReportThread]:
        """Threads in `channel` whose findings belong to no inspection, the most recently added first."""
        table = schema.Finding
        with self._store.transaction() as session:
            rows = session.scalars(
                select(table)
                .where(table.inspection_id.is_(None), table.channel_id == channel, table.thread_ts.is_not(None))
                .order_by(table.position, table.id)
            ).all()
            threads: dict[str, list[schema.Finding]] = {}
            for row in rows:
                threads.setdefault(str(row.thread_ts), []).append(row)
            found = [
                ReportThread(
                    channel_id=channel,
                    thread_ts=ts,
                    findings=len(group),
                    first_label=FindingView.of(group[0], latest_version=0).label,
                    last_added=max(row.created_at for row in group),
                )
                for ts, group in threads.items()
            ]
        return sorted(found, key=lambda thread: (thread.last_added, thread.thread_ts), reverse=True)

    def attach_thread(self, inspection_id: int, channel: str, thread_ts: str, actor: str) -> AttachResult:
        """Give the unattached findings asked in this thread to the inspection, after its own, in report order.

        A finding the inspection already holds (same text, or the same numbered label) is skipped and left as it
        is. The thread becomes the inspection's thread when it has none (and no other inspection owns it), so a
        later upload there lands in the inspection too. Each change is audited.
        """
        table = schema.Finding
        with self._store.transaction() as session:
            inspection = get_row(session, schema.Inspection, inspection_id, "inspection")
            rows = session.scalars(
                select(table)
                .where(table.inspection_id.is_(None), table.channel_id == channel, table.thread_ts == thread_ts)
                .order_by(table.position, table.id)
            ).all()
            if not rows:
                raise InvalidInput(_nothing_to_attach(session, channel, thread_ts))
            existing = _keys(session.scalars(select(table).where(table.inspection_id == inspection_id)).all())
            position = _next_position(session, inspection_id)
            added = []
            for row in rows:
                key = _key(row.kind, row.number, row.text)
                if key & existing:
                    continue
                existing |= key
                before = {"inspection_id": None, "position": row.position}
                # A plain UPDATE like set_message's: attaching is not a review decision, so version_id stays and
                # a reviewer clicking on the draft at this moment is not told someone changed it.
                session.execute(
                    update(table.__table__)
                    .where(table.__table__.c.id == row.id)
                    .values(inspection_id=inspection_id, position=position)
                )
                after = {"inspection_id": inspection_id, "position": position, "thread_ts": thread_ts}
                self._store.audit(session, actor, "attach", "finding", row.id, before, after)
                added.append(row.id)
                position += 1
            adopted = inspection.thread_ts is None and not _thread_owned(session, channel, thread_ts)
            if adopted:
                before = {"channel_id": inspection.channel_id, "thread_ts": None}
                inspection.channel_id, inspection.thread_ts = channel, thread_ts
                after = {"channel_id": channel, "thread_ts": thread_ts}
                self._store.audit(session, actor, "attach_thread", "inspection", inspection_id, before, after)
            session.flush()
            for row in rows:
                session.expire(row)  # the plain UPDATEs bypassed the identity map
            views = finding_views(session, table.id.in_(added)) if added else []
            return AttachResult(inspection_id, tuple(views), len(rows) - len(added), adopted)

    def add_new(self, inspection_id: int, findings: Sequence[Finding], actor: str, source: str) -> AttachResult:
        """A report's findings added to an inspection, skipping those it already holds (as `attach_thread`)."""
        with self._store.transaction() as session:
            inspection = get_row(session, schema.Inspection, inspection_id, "inspection")
            existing = _keys(
                session.scalars(select(schema.Finding).where(schema.Finding.inspection_id == inspection_id)).all()
            )
            position = _next_position(session, inspection_id)
            rows = []
            for finding in findings:
                key = _key(finding.kind.value, finding.number, finding.text)
                if key & existing:
                    continue
                existing |= key
                rows.append(
                    self._new_row(finding, inspection.channel_id, inspection.thread_ts, actor, inspection_id, position)
                )
                position += 1
            session.add_all(rows)
            session.flush()
            views = [FindingView.of(row, latest_version=0) for row in rows]
            for view in views:
                after = {**_audit(view), "source": source}
                self._store.audit(session, actor, "attach", "finding", view.id, None, after)
            return AttachResult(inspection_id, tuple(views), len(findings) - len(views))

    def get(self, finding_id: int) -> FindingView:
        with self._store.transaction() as session:
            row = get_row(session, schema.Finding, finding_id, "finding")
            return FindingView.of(row, latest_version=latest_versions(session, [row.id]).get(row.id, 0))

    def of_inspection(self, inspection_id: int) -> list[FindingView]:
        with self._store.transaction() as session:
            get_row(session, schema.Inspection, inspection_id, "inspection")
            return finding_views(session, schema.Finding.inspection_id == inspection_id)

    def set_message(self, finding_id: int, channel: str, ts: str, actor: str = BOT_AUTHOR) -> FindingView:
        """Record the Slack message that shows this finding's draft (so a button click finds its finding).

        A plain UPDATE that leaves version_id alone: posting the message is not a review decision and must not
        make a reviewer's concurrent click look stale.
        """
        with self._store.transaction() as session:
            row = get_row(session, schema.Finding, finding_id, "finding")
            before = {"channel_id": row.channel_id, "message_ts": row.message_ts}
            table = schema.Finding.__table__
            session.execute(update(table).where(table.c.id == finding_id).values(channel_id=channel, message_ts=ts))
            session.refresh(row)
            after = {"channel_id": channel, "message_ts": ts}
            self._store.audit(session, actor, "set_message", "finding", finding_id, before, after)
            return FindingView.of(row, latest_version=latest_versions(session, [finding_id]).get(finding_id, 0))

    def by_message(self, channel: str, ts: str) -> FindingView | None:
        with self._store.transaction() as session:
            views = finding_views(session, schema.Finding.channel_id == channel, schema.Finding.message_ts == ts)
            return views[0] if views else None

    def in_thread(self, channel: str, thread_ts: str) -> list[FindingView]:
        """Findings asked in a thread, or belonging to the inspection whose summary starts the thread."""
        with self._store.transaction() as session:
            inspection_ids = select(schema.Inspection.id).where(
                schema.Inspection.channel_id == channel, schema.Inspection.thread_ts == thread_ts
            )
            return finding_views(
                session,
                or_(
                    (schema.Finding.channel_id == channel) & (schema.Finding.thread_ts == thread_ts),
                    schema.Finding.inspection_id.in_(inspection_ids),
                ),
            )

    def answers(self, inspection_id: int) -> list[AnswerView]:
        """Each finding in report order with its latest draft; `approved` only when that draft is approved."""
        with self._store.transaction() as session:
            get_row(session, schema.Inspection, inspection_id, "inspection")
            answers = []
            for finding in finding_views(session, schema.Finding.inspection_id == inspection_id):
                latest = latest_draft_row(session, finding.id)
                draft = DraftView.of(latest) if latest else None
                answers.append(AnswerView(finding=finding, draft=draft, approved=finding.approved))
            return answers


class Drafts:
    """Every version of every answer. A new engine version is one DRAFT transition of its finding."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(
        self,
        finding_id: int,
        draft: NewDraft,
        author: str = BOT_AUTHOR,
        instruction: str | None = None,
        requested_by: str | None = None,
        expected_version: int | None = None,
    ) -> DraftView:
        """Store the next version (drafted the first time, redrafted after). Refused while approved."""
        with self._store.transaction() as session:
            finding = get_row(session, schema.Finding, finding_id, "finding")
            latest = latest_draft_row(session, finding_id)
            check_expected(latest, expected_version)
            snapshot = snapshot_of(session, finding, latest)
            new_state = transition(snapshot, ReviewAction.DRAFT)
            row = store_version(self._store, session, finding, latest, draft, author, instruction, requested_by)
            finding.state = new_state.value
            finding.updated_at = self._store.now()
            session.flush()
            self._store.audit(
                session,
                author,
                ReviewAction.DRAFT.value,
                "finding",
                finding_id,
                {"state": snapshot.state.value, "version": snapshot.version},
                {
                    "state": new_state.value,
                    "version": row.version,
                    "engine": row.engine,
                    "instruction": instruction,
                    "marking": row.marking,
                },
            )
            return DraftView.of(row)

    def latest(self, finding_id: int) -> DraftView | None:
        with self._store.transaction() as session:
            get_row(session, schema.Finding, finding_id, "finding")
            row = latest_draft_row(session, finding_id)
            return DraftView.of(row) if row else None

    def all(self, finding_id: int) -> list[DraftView]:
        """Every version, oldest first."""
        with self._store.transaction() as session:
            rows = session.scalars(
                select(schema.Draft).where(schema.Draft.finding_id == finding_id).order_by(schema.Draft.version)
            ).all()
            return [DraftView.of(row) for row in rows]


# ── shared by the findings, drafts, reviews and inspections aggregates ──────────────────────────────────


def store_version(
    store: Store,
    session: Session,
    finding: schema.Finding,
    latest: schema.Draft | None,
    draft: NewDraft,
    author: str,
    instruction: str | None,
    requested_by: str | None,
) -> schema.Draft:
    row = schema.Draft(
        finding_id=finding.id,
        version=(latest.version if latest else 0) + 1,
        text=safe_text(draft.text),
        engine=draft.engine,
        sources=list(draft.sources),
        guard_findings=list(draft.guard_findings),
        placeholders=list(draft.placeholders),
        notes=list(draft.notes),
        rationale=draft.rationale,
        author=author,
        requested_by=requested_by,
        instruction=safe_text(instruction) if instruction is not None else None,
        created_at=store.now(),
        plan=draft.plan,
        marking=draft.marking.value,
    )
    session.add(row)
    session.flush()
    return row


_NUMBER_CHARS: int = schema.Finding.__table__.c.number.type.length
_DUE_CHARS: int = schema.Finding.__table__.c.due.type.length


def finding_text(text: str) -> str:
    """A finding's text as stored: unsafe characters removed (`safe_text`); InvalidInput if nothing is left."""
    cleaned = safe_text(text or "").strip()
    if not cleaned:
        raise InvalidInput("The finding's text is empty; paste the recommendation itself.")
    return cleaned


def _bounded(value: str | None, limit: int) -> str | None:
    """A label or due phrase the parser derived, made safe and cut (with "…") to its column."""
    if value is None:
        return None
    cleaned = " ".join(safe_text(value).split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def check_expected(latest: schema.Draft | None, expected_version: int | None) -> None:
    """The version the person saw must still be the latest, or their decision is about other text."""
    current = latest.version if latest else 0
    if expected_version is not None and expected_version != current:
        by = f" by {person(latest.author)}" if latest else ""
        raise ConcurrentChange(
            f"Someone else just changed this answer (you saw v{expected_version}; it is now v{current}{by}); "
            "refresh and try again."
        )


def snapshot_of(session: Session, finding: schema.Finding, latest: schema.Draft | None) -> ReviewSnapshot:
    """State plus who did what on the latest version: what the state machine and its refusals need."""
    if latest is None:
        return ReviewSnapshot(state=ReviewState(finding.state))
    reviews = session.scalars(
        select(schema.Review).where(schema.Review.draft_id == latest.id).order_by(schema.Review.id)
    ).all()
    state = ReviewState(finding.state)
    last = reviews[-1] if reviews else None
    return ReviewSnapshot(
        state=state,
        version=latest.version,
        approvers=current_approvers(state, reviews),
        last_actor=last.reviewer if last else latest.author,
        last_at=last.created_at if last else latest.created_at,
    )


def latest_draft_row(session: Session, finding_id: int) -> schema.Draft | None:
    return session.scalars(
        select(schema.Draft).where(schema.Draft.finding_id == finding_id).order_by(schema.Draft.version.desc()).limit(1)
    ).first()


def latest_versions(session: Session, finding_ids: list[int]) -> dict[int, int]:
    if not finding_ids:
        return {}
    rows = session.execute(
        select(schema.Draft.finding_id, func.max(schema.Draft.version))
        .where(schema.Draft.finding_id.in_(finding_ids))
        .group_by(schema.Draft.finding_id)
    ).all()
    return {finding_id: version for finding_id, version in rows}


def finding_views(session: Session, *where: Any) -> list[FindingView]:
    rows = session.scalars(
        select(schema.Finding).where(*where).order_by(schema.Finding.position, schema.Finding.id)
    ).all()
    versions = latest_versions(session, [row.id for row in rows])
    return [FindingView.of(row, latest_version=versions.get(row.id, 0)) for row in rows]


def _next_position(session: Session, inspection_id: int) -> int:
    last = session.scalar(
        select(func.coalesce(func.max(schema.Finding.position), -1)).where(
            schema.Finding.inspection_id == inspection_id
        )
    )
    return int(last if last is not None else -1) + 1


def _key(kind: str, number: str | None, text: str) -> set[tuple[str, ...]]:
    """What makes two findings the same one: the same text (ignoring case and spacing), or the same numbered
    label (e.g. Recommendation 2). An unnumbered label (every "Area for improvement") says nothing."""
    keys = {("text", " ".join(safe_text(text).split()).casefold())}
    if number:
        keys.add(("label", kind, number.strip().casefold()))
    return keys


def _keys(rows: Iterable[schema.Finding]) -> set[tuple[str, ...]]:
    return set().union(*(_key(row.kind, row.number, row.text) for row in rows))


def _thread_owned(session: Session, channel: str, thread_ts: str) -> bool:
    found = session.scalar(
        select(schema.Inspection.id)
        .where(schema.Inspection.channel_id == channel, schema.Inspection.thread_ts == thread_ts)
        .limit(1)
    )
    return found is not None


def _nothing_to_attach(session: Session, channel: str, thread_ts: str) -> str:
    owner = session.scalar(
        select(schema.Finding.inspection_id)
        .where(
            schema.Finding.channel_id == channel,
            schema.Finding.thread_ts == thread_ts,
            schema.Finding.inspection_id.is_not(None),
        )
        .limit(1)
    )
    if owner is not None:
        return f"The findings in that thread are already attached to inspection #{owner}; nothing was changed."
    return "That thread holds no findings waiting for an inspection (was the report uploaded there?)."


def approval_progress(session: Session, inspection_ids: list[int]) -> dict[int, tuple[int, int]]:
    """inspection id → (findings total, findings approved)."""
    if not inspection_ids:
        return {}
    approved = func.sum(case((schema.Finding.state == ReviewState.APPROVED.value, 1), else_=0))
    rows = session.execute(
        select(schema.Finding.inspection_id, func.count(), approved)
        .where(schema.Finding.inspection_id.in_(inspection_ids))
        .group_by(schema.Finding.inspection_id)
    ).all()
    return {inspection_id: (total, int(done or 0)) for inspection_id, total, done in rows}


def _audit(view: FindingView) -> dict[str, Any]:
    return view.model_dump(mode="json", include={"inspection_id", "position", "number", "kind", "state", "due"})

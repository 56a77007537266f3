"""Findings and their drafts: what each report asks, where its answer is shown, and every version of that answer.

A finding belongs to an inspection (in report order) or, for a recommendation pasted on its own, to none. Each
new version of its answer (the engine's draft or redraft) moves it through the review state machine; a
person's edit is stored by the reviews aggregate, which shares `store_version` with this one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from retrieval.models import Finding
from tracker import schema
from tracker.errors import ConcurrentChange
from tracker.people import person
from tracker.review import BOT_AUTHOR, ReviewAction, ReviewSnapshot, ReviewState, current_approvers, transition
from tracker.store import Store, get_row
from tracker.views import AnswerView, DraftView, FindingView, NewDraft


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
            number=finding.number,
            kind=finding.kind.value,
            text=finding.text,
            addressees=[addressee.value for addressee in finding.addressees],
            due=finding.due,
            channel_id=channel,
            thread_ts=thread_ts,
            state=ReviewState.AWAITING_DRAFT.value,
            requested_by=actor,
            created_at=now,
            updated_at=now,
        )

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
                {"state": new_state.value, "version": row.version, "engine": row.engine, "instruction": instruction},
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
        text=draft.text,
        engine=draft.engine,
        sources=list(draft.sources),
        guard_findings=list(draft.guard_findings),
        placeholders=list(draft.placeholders),
        notes=list(draft.notes),
        rationale=draft.rationale,
        author=author,
        requested_by=requested_by,
        instruction=instruction,
        created_at=store.now(),
        plan=draft.plan,
    )
    session.add(row)
    session.flush()
    return row


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

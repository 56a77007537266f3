"""The small repository API the bot and the CLI call. Every method is one transaction and returns plain views.

Every change writes an audit row (before → after) in the same transaction as the change itself, so the log
can never disagree with the data. Review decisions are checked twice against concurrent clicks: against the
draft version the person saw (`expected_version`), and by the findings row's version_id column, which makes
the UPDATE fail for whoever commits second (mapped to ConcurrentChange, a "refresh and try again" message).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from retrieval.models import Addressee, Finding, FindingKind, InspectionType
from tracker import schema
from tracker.db import insert_ignore, make_engine, migrate, session_factory
from tracker.deadlines import (
    DEFAULT_CC_DAYS,
    DEFAULT_FIRST_DRAFTS_DAYS,
    DEFAULT_REMINDER_DAYS,
    DEFAULT_REVIEWS_DAYS,
)
from tracker.deadlines import milestones as compute_milestones
from tracker.errors import ConcurrentChange, IllegalTransition, InvalidInput, NotAllowed, NotFound
from tracker.reminders import (
    ReminderToPost,
    claim_due_reminders,
    mark_reminder_posted,
    normalise_reminder_days,
    release_reminder,
)
from tracker.review import (
    BOT_AUTHOR,
    REVIEWER_ACTIONS,
    ApprovalPolicy,
    ReviewAction,
    ReviewSnapshot,
    ReviewState,
    drafter_of,
    mention,
    transition,
)
from tracker.views import (
    AnswerView,
    AuditEvent,
    DraftView,
    FindingView,
    InspectionSummary,
    InspectionView,
    NewDraft,
    ReviewOutcome,
    ReviewView,
    placeholders_in,
)

Clock = Callable[[], datetime]
E = TypeVar("E", InspectionType, ReviewAction)
T = TypeVar("T")

#: `/hmicfrs done <id> <what>` → the column that records it.
RECIPIENT_MARKS = {
    "published": "published_at",
    "sent-hmicfrs": "sent_hmicfrs_at",
    "sent-home-office": "sent_home_office_at",
}
EDIT_ENGINE = "edit"
MAX_EVENT_KEY = 255


def utc_now() -> datetime:
    return datetime.now(UTC)


class Repository:
    def __init__(
        self, sessions: sessionmaker[Session], policy: ApprovalPolicy | None = None, clock: Clock = utc_now
    ) -> None:
        self._sessions = sessions
        self.policy = policy or ApprovalPolicy()
        self._clock = clock

    @classmethod
    def connect(
        cls, url_or_engine: str | Engine, policy: ApprovalPolicy | None = None, clock: Clock = utc_now
    ) -> Repository:
        """Open (and migrate to head) the database at a URL: the one-call set-up for the bot and the CLI."""
        engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        migrate(engine)
        return cls(session_factory(engine), policy, clock)

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self._sessions

    # ── inspections ──────────────────────────────────────────────────────────────────────────────────────

    def create_inspection(
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
    ) -> InspectionView:
        title = _required(title, "The inspection title")
        kind = _enum(InspectionType, inspection_type, "inspection type")
        plan = compute_milestones(published, cc_days, first_drafts_days, reviews_days)
        offsets = normalise_reminder_days(reminder_days)
        with self._sessions.begin() as session:
            row = schema.Inspection(
                title=title,
                inspection_type=kind.value,
                force=force.strip(),
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
                created_at=self._clock(),
            )
            session.add(row)
            session.flush()
            view = _inspection_view(row)
            self._audit(session, actor, "create", "inspection", row.id, None, _inspection_audit(view))
            return view

    def get_inspection(self, inspection_id: int) -> InspectionView:
        with self._sessions.begin() as session:
            row = _get(session, schema.Inspection, inspection_id, "inspection")
            return self._inspection_with_progress(session, row)

    def list_open_inspections(self, today: date) -> list[InspectionSummary]:
        """Open inspections, soonest last day first, each with days left and approvals progress."""
        with self._sessions.begin() as session:
            rows = session.scalars(
                select(schema.Inspection)
                .where(schema.Inspection.status == "open")
                .order_by(schema.Inspection.last_day, schema.Inspection.id)
            ).all()
            progress = _progress(session, [row.id for row in rows])
            views = [_inspection_view(row, *progress.get(row.id, (0, 0))) for row in rows]
        return [
            InspectionSummary(
                inspection=view,
                days_left=view.days_left(today),
                status=view.deadline_status(today),
                deadline_line=view.deadline_line(today),
            )
            for view in views
        ]

    def find_inspection_by_thread(self, channel: str, thread_ts: str) -> InspectionView | None:
        with self._sessions.begin() as session:
            row = session.scalars(
                select(schema.Inspection).where(
                    schema.Inspection.channel_id == channel, schema.Inspection.thread_ts == thread_ts
                )
            ).first()
            return self._inspection_with_progress(session, row) if row else None

    def set_inspection_thread(self, inspection_id: int, channel: str, thread_ts: str, actor: str) -> InspectionView:
        """Where the inspection's summary message lives; its findings' drafts are threaded under it."""
        return self._update_inspection(inspection_id, actor, "set_thread", channel_id=channel, thread_ts=thread_ts)

    def set_reminder_days(self, inspection_id: int, days: Sequence[int], actor: str) -> InspectionView:
        offsets = list(normalise_reminder_days(days))
        return self._update_inspection(inspection_id, actor, "set_reminders", reminder_days=offsets)

    def mark_recipient(self, inspection_id: int, which: str, actor: str) -> InspectionView:
        """Tick off 'published', 'sent-hmicfrs' or 'sent-home-office'; marking twice keeps the first time."""
        column = RECIPIENT_MARKS.get(which.strip().lower())
        if column is None:
            raise InvalidInput(f"Unknown step {which!r}: use one of {', '.join(RECIPIENT_MARKS)}.")
        with self._sessions.begin() as session:
            row = _get(session, schema.Inspection, inspection_id, "inspection")
            if getattr(row, column) is None:
                before = _inspection_audit(_inspection_view(row))
                setattr(row, column, self._clock())
                if column == "published_at":
                    row.status = "published"
                session.flush()
                after = _inspection_audit(_inspection_view(row))
                self._audit(session, actor, f"mark_{which}", "inspection", row.id, before, after)
            return self._inspection_with_progress(session, row)

    def _update_inspection(self, inspection_id: int, actor: str, action: str, **values: Any) -> InspectionView:
        with self._sessions.begin() as session:
            row = _get(session, schema.Inspection, inspection_id, "inspection")
            before = _inspection_audit(_inspection_view(row))
            for name, value in values.items():
                setattr(row, name, value)
            session.flush()
            view = self._inspection_with_progress(session, row)
            self._audit(session, actor, action, "inspection", row.id, before, _inspection_audit(view))
            return view

    def _inspection_with_progress(self, session: Session, row: schema.Inspection) -> InspectionView:
        return _inspection_view(row, *_progress(session, [row.id]).get(row.id, (0, 0)))

    # ── findings ─────────────────────────────────────────────────────────────────────────────────────────

    def add_findings(
        self, inspection_id: int, findings: Sequence[Finding], actor: str = BOT_AUTHOR
    ) -> list[FindingView]:
        """Append the report's findings in report order (positions continue after any already stored)."""
        with self._sessions.begin() as session:
            inspection = _get(session, schema.Inspection, inspection_id, "inspection")
            last = session.scalar(
                select(func.coalesce(func.max(schema.Finding.position), -1)).where(
                    schema.Finding.inspection_id == inspection_id
                )
            )
            rows = [
                self._new_finding(finding, inspection.channel_id, inspection.thread_ts, actor, inspection_id, pos)
                for pos, finding in enumerate(findings, start=int(last if last is not None else -1) + 1)
            ]
            session.add_all(rows)
            session.flush()
            views = [_finding_view(row, 0) for row in rows]
            for view in views:
                self._audit(session, actor, "add", "finding", view.id, None, _finding_audit(view))
            return views

    def create_request_finding(
        self, finding: Finding, channel: str | None, thread_ts: str | None, actor: str
    ) -> FindingView:
        """A one-off pasted recommendation: a finding that belongs to no inspection."""
        with self._sessions.begin() as session:
            row = self._new_finding(finding, channel, thread_ts, actor, None, 0)
            session.add(row)
            session.flush()
            view = _finding_view(row, 0)
            self._audit(session, actor, "add", "finding", view.id, None, _finding_audit(view))
            return view

    def _new_finding(
        self,
        finding: Finding,
        channel: str | None,
        thread_ts: str | None,
        actor: str,
        inspection_id: int | None,
        position: int,
    ) -> schema.Finding:
        now = self._clock()
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

    def get_finding(self, finding_id: int) -> FindingView:
        with self._sessions.begin() as session:
            row = _get(session, schema.Finding, finding_id, "finding")
            return _finding_view(row, _latest_version(session, row.id))

    def findings(self, inspection_id: int) -> list[FindingView]:
        with self._sessions.begin() as session:
            _get(session, schema.Inspection, inspection_id, "inspection")
            return self._finding_views(session, schema.Finding.inspection_id == inspection_id)

    def set_message_ref(self, finding_id: int, channel: str, ts: str, actor: str = BOT_AUTHOR) -> FindingView:
        """Record the Slack message that shows this finding's draft (so a button click finds its finding).

        A plain UPDATE that leaves version_id alone: posting the message is not a review decision and must
        not make a reviewer's concurrent click look stale.
        """
        with self._sessions.begin() as session:
            row = _get(session, schema.Finding, finding_id, "finding")
            before = {"channel_id": row.channel_id, "message_ts": row.message_ts}
            table = schema.Finding.__table__
            session.execute(update(table).where(table.c.id == finding_id).values(channel_id=channel, message_ts=ts))
            session.refresh(row)
            self._audit(
                session,
                actor,
                "set_message",
                "finding",
                finding_id,
                before,
                {"channel_id": channel, "message_ts": ts},
            )
            return _finding_view(row, _latest_version(session, finding_id))

    def find_finding_by_message(self, channel: str, ts: str) -> FindingView | None:
        with self._sessions.begin() as session:
            views = self._finding_views(session, schema.Finding.channel_id == channel, schema.Finding.message_ts == ts)
            return views[0] if views else None

    def find_findings_by_thread(self, channel: str, thread_ts: str) -> list[FindingView]:
        """Findings asked in a thread, or belonging to the inspection whose summary starts the thread."""
        with self._sessions.begin() as session:
            inspection_ids = select(schema.Inspection.id).where(
                schema.Inspection.channel_id == channel, schema.Inspection.thread_ts == thread_ts
            )
            return self._finding_views(
                session,
                or_(
                    (schema.Finding.channel_id == channel) & (schema.Finding.thread_ts == thread_ts),
                    schema.Finding.inspection_id.in_(inspection_ids),
                ),
            )

    def _finding_views(self, session: Session, *where: Any) -> list[FindingView]:
        rows = session.scalars(
            select(schema.Finding).where(*where).order_by(schema.Finding.position, schema.Finding.id)
        ).all()
        versions = _latest_versions(session, [row.id for row in rows])
        return [_finding_view(row, versions.get(row.id, 0)) for row in rows]

    # ── drafts and reviews ───────────────────────────────────────────────────────────────────────────────

    def add_draft(
        self,
        finding_id: int,
        draft: NewDraft,
        author: str = BOT_AUTHOR,
        instruction: str | None = None,
        requested_by: str | None = None,
        expected_version: int | None = None,
    ) -> DraftView:
        """Store the next version (drafted the first time, redrafted after). Refused while approved."""
        return self._guarded(
            lambda session: self._add_draft(
                session, finding_id, draft, author, instruction, requested_by, expected_version
            )
        )

    def _add_draft(
        self,
        session: Session,
        finding_id: int,
        draft: NewDraft,
        author: str,
        instruction: str | None,
        requested_by: str | None,
        expected_version: int | None,
    ) -> DraftView:
        finding = _get(session, schema.Finding, finding_id, "finding")
        latest = _latest_draft(session, finding_id)
        _check_expected(latest, expected_version)
        snapshot = _snapshot(session, finding, latest)
        new_state = transition(snapshot, ReviewAction.DRAFT)
        row = self._store_draft(session, finding, latest, draft, author, instruction, requested_by)
        finding.state = new_state.value
        finding.updated_at = self._clock()
        session.flush()
        self._audit(
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
            },
        )
        return _draft_view(row)

    def _store_draft(
        self,
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
            created_at=self._clock(),
        )
        session.add(row)
        session.flush()
        return row

    def latest_draft(self, finding_id: int) -> DraftView | None:
        with self._sessions.begin() as session:
            _get(session, schema.Finding, finding_id, "finding")
            row = _latest_draft(session, finding_id)
            return _draft_view(row) if row else None

    def drafts(self, finding_id: int) -> list[DraftView]:
        """Every version, oldest first."""
        with self._sessions.begin() as session:
            rows = session.scalars(
                select(schema.Draft).where(schema.Draft.finding_id == finding_id).order_by(schema.Draft.version)
            ).all()
            return [_draft_view(row) for row in rows]

    def reviews(self, finding_id: int) -> list[ReviewView]:
        with self._sessions.begin() as session:
            rows = session.execute(
                select(schema.Review, schema.Draft.version)
                .join(schema.Draft, schema.Draft.id == schema.Review.draft_id)
                .where(schema.Review.finding_id == finding_id)
                .order_by(schema.Review.id)
            ).all()
            return [_review_view(review, version) for review, version in rows]

    def record_review(
        self,
        finding_id: int,
        reviewer: str,
        groups: Iterable[str] = (),
        action: ReviewAction | str = ReviewAction.APPROVE,
        comment: str | None = None,
        expected_version: int | None = None,
        new_text: str | None = None,
    ) -> ReviewOutcome:
        """Apply one reviewer's click. `expected_version` is the draft version the reviewer was shown.

        Raises IllegalTransition (state forbids it), NotAllowed (policy), ConcurrentChange (someone else got
        there first), InvalidInput (missing comment or text) or NotFound; nothing is stored when it raises.
        """
        act = _enum(ReviewAction, action, "review action")
        if act not in REVIEWER_ACTIONS:
            raise InvalidInput(
                f"{act.value!r} is not a reviewer's action; use approve, request_changes, edit or reopen."
            )
        groups = tuple(groups)
        return self._guarded(
            lambda session: self._review(
                session, finding_id, reviewer, groups, act, comment, expected_version, new_text
            )
        )

    def _review(
        self,
        session: Session,
        finding_id: int,
        reviewer: str,
        groups: tuple[str, ...],
        action: ReviewAction,
        comment: str | None,
        expected_version: int | None,
        new_text: str | None,
    ) -> ReviewOutcome:
        finding = _get(session, schema.Finding, finding_id, "finding")
        latest = _latest_draft(session, finding_id)
        _check_expected(latest, expected_version)
        snapshot = _snapshot(session, finding, latest)
        new_state = transition(snapshot, action, self.policy.required_approvals)
        assert latest is not None  # transition() refuses every reviewer action before the first draft
        comment = (comment or "").strip() or None
        self._check_allowed(action, reviewer, groups, latest, snapshot, comment, new_text)
        target = latest
        if action is ReviewAction.EDIT:
            edited = NewDraft(
                text=(new_text or "").strip(),
                engine=EDIT_ENGINE,
                sources=latest.sources,
                placeholders=placeholders_in(new_text or ""),
                rationale=f"Edited by {mention(reviewer)} from v{latest.version}.",
            )
            target = self._store_draft(session, finding, latest, edited, reviewer, comment, None)
        now = self._clock()
        session.add(
            schema.Review(
                finding_id=finding_id,
                draft_id=target.id,
                reviewer=reviewer,
                action=action.value,
                comment=comment,
                created_at=now,
            )
        )
        finding.state = new_state.value
        finding.updated_at = now
        session.flush()
        approvers = _approvers_after(snapshot, action, reviewer)
        self._audit(
            session,
            reviewer,
            action.value,
            "finding",
            finding_id,
            {"state": snapshot.state.value, "version": latest.version, "approvers": list(snapshot.approvers)},
            {
                "state": new_state.value,
                "version": target.version,
                "approvers": list(approvers),
                "comment": comment,
            },
        )
        return ReviewOutcome(
            finding=_finding_view(finding, target.version),
            draft=_draft_view(target),
            action=action,
            state_before=snapshot.state,
            state_after=new_state,
            approvers=approvers,
            required_approvals=self.policy.required_approvals,
            message=self._outcome_message(action, reviewer, latest.version, target.version, approvers, new_state),
        )

    def _check_allowed(
        self,
        action: ReviewAction,
        reviewer: str,
        groups: tuple[str, ...],
        latest: schema.Draft,
        snapshot: ReviewSnapshot,
        comment: str | None,
        new_text: str | None,
    ) -> None:
        if action is ReviewAction.APPROVE:
            allowed, reason = self.policy.can_approve(reviewer, groups, drafter_of(latest.author, latest.requested_by))
            if not allowed:
                raise NotAllowed(reason)
            if reviewer in snapshot.approvers:
                missing = self.policy.required_approvals - len(snapshot.approvers)
                raise IllegalTransition(
                    f"You have already approved v{latest.version}; it needs {missing} more approval"
                    f"{'s' if missing != 1 else ''} from someone else."
                )
        elif action is ReviewAction.REOPEN:
            allowed, reason = self.policy.can_reopen(reviewer, groups)
            if not allowed:
                raise NotAllowed(reason.replace("approve answers", "reopen an approved answer"))
        elif action is ReviewAction.REQUEST_CHANGES and not comment:
            raise InvalidInput("Say what should change: the comment is what the redraft will follow.")
        elif action is ReviewAction.EDIT and not (new_text or "").strip():
            raise InvalidInput("The edited answer is empty; type the full text you want to keep.")

    def _outcome_message(
        self,
        action: ReviewAction,
        reviewer: str,
        seen: int,
        version: int,
        approvers: tuple[str, ...],
        state: ReviewState,
    ) -> str:
        who, required = mention(reviewer), self.policy.required_approvals
        match action:
            case ReviewAction.APPROVE if state is ReviewState.APPROVED:
                return f"Approved v{version} by {', '.join(mention(a) for a in approvers)}."
            case ReviewAction.APPROVE:
                return f"{who} approved v{version}: {len(approvers)} of {required} approvals; waiting for more."
            case ReviewAction.REQUEST_CHANGES:
                return f"{who} asked for changes to v{version}."
            case ReviewAction.EDIT:
                return f"{who} saved v{version} (edited from v{seen})."
        return f"{who} reopened v{version}; it needs a new version and approval again."

    def _guarded(self, work: Callable[[Session], Any]) -> Any:
        """Run `work` in one transaction; a lost optimistic race becomes a clear ConcurrentChange."""
        try:
            with self._sessions.begin() as session:
                return work(session)
        except StaleDataError as error:
            raise ConcurrentChange() from error
        except IntegrityError as error:
            # A unique key (one approval per reviewer per version; one row per draft version) lost to a
            # racer. Any other integrity failure is a bug and must not be dressed up as a conflict.
            if not _is_unique_violation(error):
                raise
            raise ConcurrentChange() from error

    # ── completeness, answers, audit ─────────────────────────────────────────────────────────────────────

    def completeness(self, inspection_id: int) -> list[FindingView]:
        """Findings still lacking an approved answer (s.55(5B)); empty means the response is complete."""
        return [answer.finding for answer in self.answers(inspection_id) if not answer.approved]

    def answers(self, inspection_id: int) -> list[AnswerView]:
        """Each finding in report order with its latest draft; `approved` only when that draft is approved."""
        with self._sessions.begin() as session:
            _get(session, schema.Inspection, inspection_id, "inspection")
            findings = self._finding_views(session, schema.Finding.inspection_id == inspection_id)
            answers = []
            for finding in findings:
                latest = _latest_draft(session, finding.id)
                answers.append(
                    AnswerView(
                        finding=finding,
                        draft=_draft_view(latest) if latest else None,
                        approved=finding.approved,
                    )
                )
            return answers

    def audit_events(self, entity: str, entity_id: int | str) -> list[AuditEvent]:
        with self._sessions.begin() as session:
            rows = session.scalars(
                select(schema.AuditEntry)
                .where(schema.AuditEntry.entity == entity, schema.AuditEntry.entity_id == str(entity_id))
                .order_by(schema.AuditEntry.id)
            ).all()
            return [AuditEvent.model_validate(row, from_attributes=True) for row in rows]

    def _audit(
        self,
        session: Session,
        actor: str,
        action: str,
        entity: str,
        entity_id: int | str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        # The only write the repository makes to audit_log is this INSERT (there is no update/delete API).
        session.add(
            schema.AuditEntry(
                at=self._clock(),
                actor=actor,
                action=action,
                entity=entity,
                entity_id=str(entity_id),
                before=before,
                after=after,
            )
        )

    # ── Slack retries and reminders ──────────────────────────────────────────────────────────────────────

    def claim_event(self, key: str) -> bool:
        """True the first time a Slack event id / retry key is seen; False for every repeat (any instance)."""
        key = _required(key, "The event key")
        if len(key) > MAX_EVENT_KEY:
            raise InvalidInput(f"Event keys are at most {MAX_EVENT_KEY} characters.")
        with self._sessions.begin() as session:
            values = {"key": key, "created_at": self._clock()}
            return insert_ignore(session, schema.ProcessedEvent.__table__, values, ["key"])

    def prune_events(self, older_than: datetime) -> int:
        """Forget event keys Slack can no longer retry (it gives up after about an hour)."""
        with self._sessions.begin() as session:
            table = schema.ProcessedEvent.__table__
            return session.execute(table.delete().where(table.c.created_at < older_than)).rowcount  # type: ignore[attr-defined]

    def claim_due_reminders(self, instance_id: str, now: datetime | None = None) -> list[ReminderToPost]:
        return claim_due_reminders(self._sessions, now or self._clock(), instance_id)

    def mark_reminder_posted(self, reminder_id: int, now: datetime | None = None) -> None:
        mark_reminder_posted(self._sessions, reminder_id, now or self._clock())

    def release_reminder(self, reminder_id: int) -> None:
        release_reminder(self._sessions, reminder_id)


# ── helpers: rows → views, small queries ─────────────────────────────────────────────────────────────────


def _required(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{what} is empty.")
    return value


def _enum(kind: type[E], value: E | str, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InvalidInput(f"Unknown {what} {value!r}: use one of {choices}.") from None


def _get(session: Session, model: type[T], key: int, what: str) -> T:
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"There is no {what} with id {key}.")
    return row


def _is_unique_violation(error: IntegrityError) -> bool:
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code == "23505" or "UNIQUE constraint failed" in str(error.orig)


def _latest_draft(session: Session, finding_id: int) -> schema.Draft | None:
    return session.scalars(
        select(schema.Draft).where(schema.Draft.finding_id == finding_id).order_by(schema.Draft.version.desc()).limit(1)
    ).first()


def _latest_version(session: Session, finding_id: int) -> int:
    return _latest_versions(session, [finding_id]).get(finding_id, 0)


def _latest_versions(session: Session, finding_ids: list[int]) -> dict[int, int]:
    if not finding_ids:
        return {}
    rows = session.execute(
        select(schema.Draft.finding_id, func.max(schema.Draft.version))
        .where(schema.Draft.finding_id.in_(finding_ids))
        .group_by(schema.Draft.finding_id)
    ).all()
    return {finding_id: version for finding_id, version in rows}


def _progress(session: Session, inspection_ids: list[int]) -> dict[int, tuple[int, int]]:
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


def _snapshot(session: Session, finding: schema.Finding, latest: schema.Draft | None) -> ReviewSnapshot:
    """State plus who did what on the latest version: what a refusal needs to quote."""
    if latest is None:
        return ReviewSnapshot(state=ReviewState(finding.state))
    reviews = session.scalars(
        select(schema.Review).where(schema.Review.draft_id == latest.id).order_by(schema.Review.id)
    ).all()
    state = ReviewState(finding.state)
    # Approvals count only while the version they were given on is still the one under review.
    counting = state in {ReviewState.DRAFTED, ReviewState.REDRAFTED, ReviewState.APPROVED}
    approvals = [review for review in reviews if counting and review.action == ReviewAction.APPROVE.value]
    last = reviews[-1] if reviews else None
    return ReviewSnapshot(
        state=state,
        version=latest.version,
        approvers=tuple(dict.fromkeys(review.reviewer for review in approvals)),
        last_actor=last.reviewer if last else latest.author,
        last_at=last.created_at if last else latest.created_at,
    )


def _check_expected(latest: schema.Draft | None, expected_version: int | None) -> None:
    current = latest.version if latest else 0
    if expected_version is not None and expected_version != current:
        by = f" by {mention(latest.author)}" if latest else ""
        raise ConcurrentChange(
            f"Someone else just changed this answer (you saw v{expected_version}; it is now v{current}{by}); "
            "refresh and try again."
        )


def _approvers_after(snapshot: ReviewSnapshot, action: ReviewAction, reviewer: str) -> tuple[str, ...]:
    # Approvals belong to the version they were given on; any other decision leaves none that still count.
    return (*snapshot.approvers, reviewer) if action is ReviewAction.APPROVE else ()


def _inspection_view(row: schema.Inspection, total: int = 0, approved: int = 0) -> InspectionView:
    return InspectionView(
        id=row.id,
        title=row.title,
        inspection_type=InspectionType(row.inspection_type),
        force=row.force,
        published=row.published,
        last_day=row.last_day,
        cc_comments_due=row.cc_comments_due,
        first_drafts_due=row.first_drafts_due,
        reviews_complete_due=row.reviews_complete_due,
        reminder_days=tuple(row.reminder_days),
        channel_id=row.channel_id,
        thread_ts=row.thread_ts,
        status=row.status,
        published_at=row.published_at,
        sent_hmicfrs_at=row.sent_hmicfrs_at,
        sent_home_office_at=row.sent_home_office_at,
        created_by=row.created_by,
        created_at=row.created_at,
        findings_total=total,
        findings_approved=approved,
    )


def _inspection_audit(view: InspectionView) -> dict[str, Any]:
    return view.model_dump(mode="json", exclude={"findings_total", "findings_approved"})


def _finding_view(row: schema.Finding, latest_version: int) -> FindingView:
    return FindingView(
        id=row.id,
        inspection_id=row.inspection_id,
        position=row.position,
        number=row.number,
        kind=FindingKind(row.kind),
        text=row.text,
        addressees=tuple(Addressee(value) for value in row.addressees),
        due=row.due,
        channel_id=row.channel_id,
        thread_ts=row.thread_ts,
        message_ts=row.message_ts,
        state=ReviewState(row.state),
        version_id=row.version_id,
        latest_version=latest_version,
        requested_by=row.requested_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _finding_audit(view: FindingView) -> dict[str, Any]:
    return view.model_dump(mode="json", include={"inspection_id", "position", "number", "kind", "state", "due"})


def _draft_view(row: schema.Draft) -> DraftView:
    return DraftView.model_validate(row, from_attributes=True)


def _review_view(row: schema.Review, draft_version: int) -> ReviewView:
    return ReviewView(
        id=row.id,
        finding_id=row.finding_id,
        draft_id=row.draft_id,
        draft_version=draft_version,
        reviewer=row.reviewer,
        action=ReviewAction(row.action),
        comment=row.comment,
        created_at=row.created_at,
    )

"""The durable drafting queue: every drafting job is a row, claimed under a lease, so no crash loses one.

A job is `pending` while its placeholder is posted, then `queued`. A worker claims the oldest claimable job
(row locks: `FOR UPDATE SKIP LOCKED` on PostgreSQL, where every transaction also takes the store's advisory
lock; SQLite's BEGIN IMMEDIATE serialises writers) and holds it
`running` under a lease its heartbeat extends. A job whose lease runs out (its process died) is claimable
again, and one interrupted or failed `MAX_ATTEMPTS` times is `failed` with the reason. At most one job per
finding is active, by a partial unique index, whichever instance asks. Uploaded reports are rows too: their
progress is counted from their jobs, so it is right after any crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from tracker import schema
from tracker.errors import TrackerError
from tracker.store import Store, get_row, is_unique_violation

#: A job is tried at most this often (a crash counts as a try): a second failure is shown with Regenerate.
MAX_ATTEMPTS = 2
#: Posting an outcome Slack refused is retried this often by the repair sweep before it is left as failed.
MAX_POST_ATTEMPTS = 5
ACTIVE = ("pending", "queued", "running")


@dataclass(frozen=True)
class JobSpec:
    """What to draft and where to show it; `message_ts` None means "post a new reply in the thread"."""

    finding_id: int
    channel: str
    thread_ts: str
    user: str
    message_ts: str | None = None
    expected_version: int = 0
    instruction: str | None = None
    note_ts: str | None = None
    assistant: bool = False
    first: bool = True
    report_id: int | None = None


@dataclass(frozen=True)
class JobView(JobSpec):
    id: int = 0
    state: str = "queued"
    attempts: int = 0
    error: str | None = None
    shown: bool = False
    post_error: str | None = None
    post_attempts: int = 0
    seconds: float | None = None

    @classmethod
    def of(cls, row: schema.DraftJob) -> JobView:
        return cls(
            finding_id=row.finding_id,
            channel=row.channel_id,
            thread_ts=row.thread_ts,
            user=row.requested_by,
            message_ts=row.message_ts,
            expected_version=row.expected_version,
            instruction=row.instruction,
            note_ts=row.note_ts,
            assistant=row.assistant,
            first=row.first,
            report_id=row.report_id,
            id=row.id,
            state=row.state,
            attempts=row.attempts,
            error=row.error,
            shown=row.shown,
            post_error=row.post_error,
            post_attempts=row.post_attempts,
            seconds=row.seconds,
        )


@dataclass(frozen=True)
class ReportRunView:
    id: int
    channel: str
    thread_ts: str
    summary_ts: str | None
    user: str
    title: str
    inspection_type: str
    published: date | None
    file_name: str
    inspection_id: int | None
    assistant: bool
    created_at: datetime

    @classmethod
    def of(cls, row: schema.ReportRun) -> ReportRunView:
        return cls(
            row.id,
            row.channel_id,
            row.thread_ts,
            row.summary_ts,
            row.requested_by,
            row.title,
            row.inspection_type,
            row.published,
            row.file_name,
            row.inspection_id,
            row.assistant,
            row.created_at,
        )


@dataclass(frozen=True)
class NewReport:
    channel: str
    thread_ts: str
    user: str
    title: str
    inspection_type: str
    published: date | None
    file_name: str
    inspection_id: int | None
    content_hash: str
    assistant: bool = False


@dataclass(frozen=True)
class ReportJobs:
    """A report's first-draft jobs, counted: what its summary shows."""

    finding_ids: tuple[int, ...]
    done: int
    failed: int
    measured: tuple[float, ...]

    @property
    def total(self) -> int:
        return len(self.finding_ids)

    @property
    def finished(self) -> bool:
        return self.done + self.failed == self.total


class DuplicateReport(TrackerError):
    """The same report text was already uploaded in this channel: its findings are in `earlier`'s thread."""

    def __init__(self, earlier: ReportRunView) -> None:
        super().__init__(f"This report was already uploaded in this channel (report #{earlier.id}).")
        self.earlier = earlier


class Jobs:
    def __init__(self, store: Store) -> None:
        self._store = store

    # ── adding work ──────────────────────────────────────────────────────────────────────────────────────

    def enqueue(self, spec: JobSpec, *, ready: bool = True) -> JobView | None:
        """Add a job (`pending` unless `ready`); None when the finding already has one queued or running."""
        now = self._store.now()
        row = _new_row(spec, "queued" if ready else "pending", now)
        try:
            with self._store.sessions.begin() as session:
                session.add(row)
                session.flush()
                return JobView.of(row)
        except IntegrityError as error:  # the partial unique index: another job for this finding is active
            if not is_unique_violation(error):
                raise
            return None

    def ready(self, job_id: int, message_ts: str | None) -> None:
        """Its placeholder is posted (or could not be): the job may be claimed now."""
        self._set(job_id, {"state": "queued", "message_ts": message_ts}, only_state="pending")

    def set_message(self, job_id: int, message_ts: str) -> None:
        self._set(job_id, {"message_ts": message_ts})

    def set_note(self, job_id: int, note_ts: str) -> None:
        """The "redrafting…" note in the conversation, updated when the job ends."""
        self._set(job_id, {"note_ts": note_ts})

    # ── claiming and running ─────────────────────────────────────────────────────────────────────────────

    def claim(self, owner: str, lease_seconds: float) -> JobView | None:
        """Take the oldest claimable job for `owner`: queued, pending past a lease (its poster died), or running
        with its lease run out (its worker died). Row-locked, so two workers never take the same job."""
        now = self._store.now()
        stale = now - timedelta(seconds=lease_seconds)
        table = schema.DraftJob
        with self._store.transaction() as session:
            row = session.scalars(
                select(table)
                .where(
                    table.attempts < MAX_ATTEMPTS,
                    or_(
                        table.state == "queued",
                        and_(table.state == "pending", table.created_at < stale),
                        and_(table.state == "running", table.lease_until < now),
                    ),
                )
                .order_by(table.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                return None
            row.state, row.lease_owner = "running", owner
            row.lease_until = now + timedelta(seconds=lease_seconds)
            row.attempts += 1
            row.started_at = now
            return JobView.of(row)

    def heartbeat(self, job_ids: list[int], owner: str, lease_seconds: float) -> int:
        """Extend the leases `owner` still holds; returns how many it still held."""
        if not job_ids:
            return 0
        table = schema.DraftJob.__table__
        until = self._store.now() + timedelta(seconds=lease_seconds)
        with self._store.transaction() as session:
            result = session.execute(
                update(table)
                .where(table.c.id.in_(job_ids), table.c.state == "running", table.c.lease_owner == owner)
                .values(lease_until=until)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def finish(self, job_id: int, seconds: float) -> None:
        done = {"state": "done", "seconds": seconds, "finished_at": self._store.now()}
        self._set(job_id, {**done, "lease_owner": None, "lease_until": None})

    def fail(self, job_id: int, reason: str, *, retry: bool) -> JobView:
        """Record a failure; `retry` puts it back in the queue unless it has had its attempts."""
        with self._store.transaction() as session:
            row = get_row(session, schema.DraftJob, job_id, "drafting job")
            row.error = reason[:1000]
            if retry and row.attempts < MAX_ATTEMPTS:
                row.state, row.lease_owner, row.lease_until = "queued", None, None
            else:
                row.state, row.finished_at = "failed", self._store.now()
            return JobView.of(row)

    def give_up_interrupted(self) -> list[JobView]:
        """Jobs whose worker died on their last attempt: failed now, so their threads can say so."""
        now = self._store.now()
        table = schema.DraftJob
        with self._store.transaction() as session:
            rows = session.scalars(
                select(table)
                .where(table.state == "running", table.lease_until < now, table.attempts >= MAX_ATTEMPTS)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.state, row.finished_at = "failed", now
                row.error = row.error or "The drafting process stopped twice while writing this draft."
            return [JobView.of(row) for row in rows]

    # ── showing the outcome in Slack ─────────────────────────────────────────────────────────────────────

    def shown(self, job_id: int) -> None:
        self._set(job_id, {"shown": True, "post_error": None})

    def post_failed(self, job_id: int, reason: str) -> None:
        table = schema.DraftJob.__table__
        with self._store.transaction() as session:
            session.execute(
                update(table)
                .where(table.c.id == job_id)
                .values(post_error=reason[:200], post_attempts=table.c.post_attempts + 1)
            )

    def unshown(self, limit: int = 20, grace_seconds: float = 30.0) -> list[JobView]:
        """Finished jobs whose outcome Slack has not shown yet and that are worth another try: Slack refused it,
        or its worker died between finishing and showing it (finished over `grace_seconds` ago, so a worker
        showing it right now is not raced)."""
        table = schema.DraftJob
        before = self._store.now() - timedelta(seconds=grace_seconds)
        with self._store.transaction() as session:
            rows = session.scalars(
                select(table)
                .where(
                    table.state.in_(("done", "failed")),
                    table.shown.is_(False),
                    or_(table.post_attempts > 0, table.finished_at < before),
                    table.post_attempts < MAX_POST_ATTEMPTS,
                )
                .order_by(table.id)
                .limit(limit)
            ).all()
            return [JobView.of(row) for row in rows]

    # ── reading ──────────────────────────────────────────────────────────────────────────────────────────

    def get(self, job_id: int) -> JobView:
        with self._store.transaction() as session:
            return JobView.of(get_row(session, schema.DraftJob, job_id, "drafting job"))

    def active(self, finding_id: int) -> bool:
        """Whether a draft of this finding is queued or running (on any instance)."""
        table = schema.DraftJob
        with self._store.transaction() as session:
            found = session.scalar(
                select(table.id).where(table.finding_id == finding_id, table.state.in_(ACTIVE)).limit(1)
            )
            return found is not None

    def place(self, job_id: int) -> tuple[int, int]:
        """(claimable jobs older than this one, jobs running): its place in the queue. Both are counts on the
        (state, id) index, so they stay cheap however many finished jobs the table holds."""
        table = schema.DraftJob
        with self._store.transaction() as session:
            ahead = session.scalar(
                select(func.count()).where(table.id < job_id, table.state.in_(("pending", "queued")))
            )
            running = session.scalar(select(func.count()).where(table.state == "running"))
            return int(ahead or 0), int(running or 0)

    def counts(self) -> dict[str, int]:
        """Jobs by state, every state present (for wait_idle, health and metrics)."""
        table = schema.DraftJob
        with self._store.transaction() as session:
            rows = session.execute(select(table.state, func.count()).group_by(table.state)).all()
        counts = dict.fromkeys(schema.JOB_STATES, 0)
        counts.update({state: int(n) for state, n in rows})
        return counts

    # ── uploaded reports ─────────────────────────────────────────────────────────────────────────────────

    def add_report(self, report: NewReport) -> ReportRunView:
        """Record an upload; the same text uploaded again in the channel raises DuplicateReport."""
        with self._store.sessions.begin() as session:
            earlier = session.scalars(
                select(schema.ReportRun).where(
                    schema.ReportRun.channel_id == report.channel,
                    schema.ReportRun.content_hash == report.content_hash,
                )
            ).first()
            if earlier is not None:
                raise DuplicateReport(ReportRunView.of(earlier))
            row = _report_row(report, self._store.now())
            session.add(row)
            session.flush()
            self._store.audit(session, report.user, "upload", "report", row.id, None, {"file": report.file_name})
            return ReportRunView.of(row)

    def forget_report(self, report_id: int) -> None:
        """An upload whose findings could not be stored: forgotten, so the same file may be uploaded again."""
        table = schema.ReportRun.__table__
        with self._store.transaction() as session:
            session.execute(table.delete().where(table.c.id == report_id))

    def set_report_inspection(self, report_id: int, inspection_id: int | None, summary_ts: str) -> None:
        table = schema.ReportRun.__table__
        with self._store.transaction() as session:
            session.execute(
                update(table).where(table.c.id == report_id).values(inspection_id=inspection_id, summary_ts=summary_ts)
            )

    def report(self, report_id: int) -> ReportRunView:
        with self._store.transaction() as session:
            return ReportRunView.of(get_row(session, schema.ReportRun, report_id, "report"))

    def report_jobs(self, report_id: int) -> ReportJobs:
        table = schema.DraftJob
        with self._store.transaction() as session:
            rows = session.scalars(select(table).where(table.report_id == report_id).order_by(table.id)).all()
        measured = tuple(row.seconds for row in rows if row.state == "done" and row.seconds is not None)
        return ReportJobs(
            finding_ids=tuple(row.finding_id for row in rows),
            done=sum(row.state == "done" for row in rows),
            failed=sum(row.state == "failed" for row in rows),
            measured=measured,
        )

    # ── helpers ──────────────────────────────────────────────────────────────────────────────────────────

    def _set(self, job_id: int, values: dict[str, object], only_state: str | None = None) -> None:
        table = schema.DraftJob.__table__
        where = [table.c.id == job_id] + ([table.c.state == only_state] if only_state else [])
        with self._store.transaction() as session:
            session.execute(update(table).where(*where).values(**values))


def _new_row(spec: JobSpec, state: str, now: datetime) -> schema.DraftJob:
    return schema.DraftJob(
        finding_id=spec.finding_id,
        report_id=spec.report_id,
        state=state,
        channel_id=spec.channel,
        thread_ts=spec.thread_ts,
        message_ts=spec.message_ts,
        requested_by=spec.user,
        expected_version=spec.expected_version,
        instruction=spec.instruction,
        note_ts=spec.note_ts,
        assistant=spec.assistant,
        first=spec.first,
        attempts=0,
        shown=False,
        post_attempts=0,
        created_at=now,
    )


def _report_row(report: NewReport, now: datetime) -> schema.ReportRun:
    return schema.ReportRun(
        channel_id=report.channel,
        thread_ts=report.thread_ts,
        requested_by=report.user,
        title=report.title[:500],
        inspection_type=report.inspection_type,
        published=report.published,
        file_name=report.file_name[:255],
        inspection_id=report.inspection_id,
        content_hash=report.content_hash,
        assistant=report.assistant,
        created_at=now,
    )

"""A report uploaded in Slack: fetch it, parse its findings, store them, and draft every one in order.

The file is claimed first (a message event and a `file_shared` event may both announce it). One threaded reply
per finding is posted before any drafting starts, in report order, and the summary at the top of the thread
shows progress, with an estimate of the time left from the drafts measured so far; reviewers may act on each
answer as soon as it is drafted. When every finding is drafted (or has failed), one message in the thread calls
the reviewers, exactly once per report.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from slack_sdk.errors import SlackApiError

from bot.services.draft_queue import DraftQueue
from bot.services.errors import describe_error
from bot.services.permalinks import Permalinks
from bot.services.poster import SlackPoster, slack_error
from bot.services.slack_files import FileFetchError, check_supported, download, file_info
from bot.services.threads import is_ours
from bot.services.workers import JobRunner
from bot.slack.inbound import Inbound, SlackFile, Surface, published_from_text
from bot.slack.ui.common import MessagePayload, error_message, progress_message
from bot.slack.ui.draft_card import drafting_placeholder
from bot.slack.ui.report import (
    Progress,
    ReportSummary,
    already_uploaded,
    report_summary,
    review_ready,
    reviewer_mentions,
)
from drafting.report import Report, parse_report
from retrieval.loaders import read_text
from retrieval.models import InspectionType
from tracker.clock import Clock, uk_today
from tracker.jobs import DuplicateReport, JobSpec, JobView, NewReport, ReportRunView
from tracker.repository import Repository
from tracker.views import FindingView, placeholders_in

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeSettings:
    """Where uploads are read, which Web API host may receive the token, and the office's force."""

    uploads_dir: Path
    api_url: str | None
    force: str


class ReportIntake:
    def __init__(
        self,
        store: Repository,
        poster: SlackPoster,
        drafts: DraftQueue,
        jobs: JobRunner,
        settings: IntakeSettings,
        clock: Clock,
        links: Permalinks | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.poster = poster
        self.drafts = drafts
        self.jobs = jobs
        self.settings = settings
        self.clock = clock
        self.links = links
        self.monotonic = monotonic
        #: Called once a report's drafts are all done (the App Home dashboard listens here).
        self.on_drafted: list[Callable[[], None]] = []
        self._report_locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()
        drafts.on_settled.append(self.settled)

    def start(self, msg: Inbound, file: SlackFile, extra: int = 0) -> None:
        """Claim the file, say it is being read, and read it on the background pool."""
        if not self.store.events.claim(f"file:{file.id}"):
            return
        name = file.name or "the report"
        text = f"Reading {name}…" + (" (I read one report per thread; upload others in new threads.)" if extra else "")
        if msg.surface is Surface.ASSISTANT:
            self.poster.assistant_status(msg.channel, msg.thread_ts, "is reading the report…")
        ts = self.poster.reply(msg.channel, msg.thread_ts, progress_message(text))
        self.jobs.submit(self.run, msg, file, ts)

    def file_shared(self, file_id: str, channel: str, user: str) -> None:
        """A `file_shared` event: only reports shared in a DM or in one of our threads are ours."""
        self.jobs.submit(self._file_shared, file_id, channel, user)

    def _file_shared(self, file_id: str, channel: str, user: str) -> None:
        try:
            shared = file_info(self.poster.client, file_id)
        except FileFetchError:
            log.info("file %s: files.info refused; ignoring the file_shared event", file_id)
            return
        share = shared.share_in(channel)
        if share is None:
            return
        thread_ts = share.get("thread_ts") or share["ts"]
        direct = channel.startswith("D")
        if not direct and not is_ours(self.store, channel, thread_ts):
            return
        msg = Inbound(
            channel=channel,
            thread_ts=thread_ts,
            ts=share["ts"],
            user=user,
            text="",
            surface=Surface.DM if direct else Surface.THREAD,
            files=(SlackFile(shared.id, shared.name),),
            in_thread=bool(share.get("thread_ts")),
        )
        self.start(msg, msg.files[0])

    def run(self, msg: Inbound, file: SlackFile, summary_ts: str) -> None:
        try:
            report, name, digest = self._read(file)
            run = self._record(msg, report, name, digest)
        except DuplicateReport as duplicate:
            self.poster.update(msg.channel, summary_ts, self._duplicate(duplicate.earlier))
            return
        except Exception as error:
            problem, todo = describe_error(error, file.name)
            log.info("report %s could not be read: %s", file.id, type(error).__name__)
            self.poster.update(msg.channel, summary_ts, error_message(problem, todo))
            if msg.surface is Surface.ASSISTANT:
                self.poster.assistant_status(msg.channel, msg.thread_ts, "")
            return
        try:
            findings, summary = self._store(msg, report, name)
        except Exception:
            self.store.jobs.forget_report(run.id)  # nothing was stored, so the same file may be uploaded again
            raise
        self.store.jobs.set_report_inspection(run.id, summary.inspection_id, summary_ts)
        self._queue_all(msg, run.id, findings, summary, summary_ts)

    def _queue_all(
        self, msg: Inbound, report_id: int, findings: list[FindingView], summary: ReportSummary, summary_ts: str
    ) -> None:
        """One threaded reply per finding, in report order; each job is queued as soon as its placeholder is up.

        A placeholder Slack refuses does not stop the report: that finding's draft is posted as a new reply when
        it is ready. The workers draft in report order; each finished job recomputes the summary."""
        assistant = msg.surface is Surface.ASSISTANT
        held = []  # (finding, its job), kept in pairs: a finding already being drafted has no new job
        for view in findings:
            spec = JobSpec(view.id, msg.channel, msg.thread_ts, msg.user, assistant=assistant, report_id=report_id)
            if (job := self.drafts.hold(spec)) is not None:
                held.append((view, job))
        self._show_summary(msg.channel, summary_ts, summary, Progress(total=len(findings)))
        for view, job in held:
            ts = None
            try:
                ts = self.poster.reply(msg.channel, msg.thread_ts, drafting_placeholder(view.to_finding(), "Waiting…"))
                self.store.findings.set_message(view.id, msg.channel, ts)
            except SlackApiError as error:
                log.warning("placeholder for finding %s not posted: %s", view.id, slack_error(error))
            self.drafts.release(job, ts)

    def settled(self, job: JobView) -> None:
        """A job ended: if it belongs to a report, show the report's progress, and call the reviewers at the end."""
        if job.report_id is None:
            return
        with self._lock_for(job.report_id):
            run = self.store.jobs.report(job.report_id)
            counted = self.store.jobs.report_jobs(job.report_id)
            if run.summary_ts is None:
                return
            findings = [self.store.findings.get(finding_id) for finding_id in counted.finding_ids]
            summary = _summary_of(run, findings)
            msg = _inbound_of(run)
            progress = Progress(
                total=counted.total,
                done=counted.done + counted.failed,
                failed=counted.failed,
                measured=counted.measured,
            )
            if counted.finished:
                try:  # before the summary's last update, so whoever sees "posted" can already see the call
                    self.tell_reviewers(msg, findings, summary.title, run.summary_ts)
                except SlackApiError as error:  # the drafts are posted and stored: a missed nudge is only logged
                    log.warning("report %s: reviewers not told: %s", run.id, slack_error(error))
                progress = progress.model_copy(update={"finished": True})
            try:
                self._show_summary(run.channel, run.summary_ts, summary, progress)
            except SlackApiError as error:
                log.warning("report %s: summary not updated: %s", run.id, slack_error(error))
        if counted.finished:
            for hook in self.on_drafted:
                hook()

    def _duplicate(self, earlier: ReportRunView) -> MessagePayload:
        link = self._link(earlier.channel, earlier.summary_ts or earlier.thread_ts, earlier.thread_ts)
        return already_uploaded(earlier.created_at.date(), link)

    def _lock_for(self, report_id: int) -> threading.Lock:
        with self._guard:
            return self._report_locks.setdefault(report_id, threading.Lock())

    def tell_reviewers(self, msg: Inbound, findings: list[FindingView], title: str, summary_ts: str) -> bool:
        """Once every finding is drafted or failed: one message in the thread calling the reviewers to it.

        Claimed in the store first (keyed by the report's summary message), so it is posted once per report
        whichever drafts finish last, on whichever instance, however often this is called. True if posted.
        """
        latest = [self.store.drafts.latest(view.id) for view in findings]
        # Drafted and not approved already (a reviewer may have approved one while the rest were drafting).
        drafted = [
            draft
            for view, draft in zip(findings, latest, strict=True)
            if draft is not None and not self.store.findings.get(view.id).approved
        ]
        if not drafted or not self.store.events.claim(f"review-ready:{msg.channel}:{summary_ts}"):
            return False
        to_confirm = sum(bool(placeholders_in(draft.text)) for draft in drafted)
        mentions = reviewer_mentions(sorted(self.store.policy.reviewers), msg.user)
        link = self._link(msg.channel, summary_ts, msg.thread_ts)
        self.poster.reply(msg.channel, msg.thread_ts, review_ready(mentions, title, len(drafted), to_confirm, link))
        return True

    def _link(self, channel: str, ts: str, thread_ts: str) -> str | None:
        link = self.links.message(channel, ts) if self.links else None
        if link and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel}"  # a reply's permalink opens its thread
        return link

    def _show_summary(self, channel: str, ts: str, summary: ReportSummary, progress: Progress) -> None:
        self.poster.update(channel, ts, report_summary(summary, progress, uk_today(self.clock)))

    def _record(self, msg: Inbound, report: Report, name: str, digest: str) -> ReportRunView:
        return self.store.jobs.add_report(
            NewReport(
                channel=msg.channel,
                thread_ts=msg.thread_ts,
                user=msg.user,
                title=report.title or Path(name).stem,
                inspection_type=report.inspection_type.value,
                published=report.published,
                file_name=name,
                inspection_id=None,
                content_hash=digest,
                assistant=msg.surface is Surface.ASSISTANT,
            )
        )

    def _read(self, file: SlackFile) -> tuple[Report, str, str]:
        shared = file_info(self.poster.client, file.id)
        check_supported(shared)
        folder = self.settings.uploads_dir
        folder.mkdir(parents=True, exist_ok=True)
        path = download(shared, self.poster.token, self.settings.api_url, folder)
        try:
            text = read_text(path)
            digest = hashlib.sha256(" ".join(text.split()).encode()).hexdigest()  # layout changes alone are the same
            return parse_report(text, name=shared.name), shared.name, digest
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)  # the stored findings are the record, not the file

    def _store(self, msg: Inbound, report: Report, name: str) -> tuple[list[FindingView], ReportSummary]:
        title = report.title or Path(name).stem
        published: date | None = report.published or published_from_text(msg.text)
        existing = self.store.inspections.by_thread(msg.channel, msg.thread_ts)
        inspection_id = None
        if existing is not None:  # e.g. `/hmicfrs add` made the inspection; the report lands in its thread
            findings = self.store.findings.add(existing.id, report.findings, actor=msg.user)
            title, published, inspection_id = existing.title, existing.published, existing.id
        elif published is not None:
            inspection = self.store.inspections.create(
                title,
                published,
                report.inspection_type,
                self.settings.force,
                msg.channel,
                msg.user,
                thread_ts=msg.thread_ts,
            )
            findings = self.store.findings.add(inspection.id, report.findings, actor=msg.user)
            inspection_id = inspection.id
        else:  # no date: no deadline to track, but the drafts are still stored and reviewed
            findings = [
                self.store.findings.add_request(f, msg.channel, msg.thread_ts, msg.user) for f in report.findings
            ]
        log.info("report %s: %d findings, inspection %s", name, len(findings), inspection_id)
        summary = ReportSummary(
            title=title,
            inspection_type=report.inspection_type,
            published=published,
            findings=[f.to_finding() for f in findings],
            file_name=name,
            inspection_id=inspection_id,
        )
        return findings, summary


def _summary_of(run: ReportRunView, findings: list[FindingView]) -> ReportSummary:
    return ReportSummary(
        title=run.title,
        inspection_type=InspectionType(run.inspection_type),
        published=run.published,
        findings=[f.to_finding() for f in findings],
        file_name=run.file_name,
        inspection_id=run.inspection_id,
    )


def _inbound_of(run: ReportRunView) -> Inbound:
    surface = Surface.ASSISTANT if run.assistant else Surface.THREAD
    return Inbound(
        channel=run.channel,
        thread_ts=run.thread_ts,
        ts=run.summary_ts or run.thread_ts,
        user=run.user,
        text="",
        surface=surface,
    )

"""The service between Slack listeners and the drafting engine / system of record.

Listeners stay thin: they ack, then call one method here. Each method does only the quick part in the
listener's thread (store the request, post a "Drafting…" placeholder, record a click) and hands drafting to
the background `JobRunner`. Results replace the placeholder in place (chat.update). Every failure is
reported in the thread with what to do next; nothing already stored is changed by a failure.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks
from bot.cards import load_card
from bot.inbound import Inbound, SlackFile, Surface, looks_like_finding, pick_follow_up, published_from_text
from bot.jobs import JobRunner
from bot.reviewers import ReviewerDirectory
from bot.slack_files import FileFetchError, check_supported, download, file_info
from drafting.models import MAX_RECOMMENDATION_CHARS, DraftRequest
from retrieval.findings import make_finding
from retrieval.models import Finding
from tracker.errors import TrackerError
from tracker.repository import Repository
from tracker.review import UK, ReviewAction, ReviewSnapshot, transition
from tracker.views import FindingView, NewDraft

if TYPE_CHECKING:
    from bot.settings import Settings
    from drafting.chain import DraftingService

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
HELP_TEXT = (
    "Paste a recommendation after mentioning me and I will draft the office's response, or upload an "
    "inspection report (PDF, Word or text) in a thread and I will draft an answer to every finding. "
    'In a thread with a draft, tell me what to change ("make it shorter") and I will redraft it.'
)


@dataclass(frozen=True)
class Click:
    """A button press on a draft message."""

    finding_id: int
    version: int
    user: str
    channel: str
    message_ts: str
    thread_ts: str | None = None
    trigger_id: str = ""


@dataclass(frozen=True)
class DraftJob:
    finding_id: int
    channel: str
    thread_ts: str
    message_ts: str
    user: str
    expected_version: int = 0
    instruction: str | None = None
    previous_text: str | None = None
    note_ts: str | None = None
    assistant: bool = False
    first: bool = True


@dataclass(frozen=True)
class Submitted:
    """A modal submission: `error` goes back into the modal; otherwise ack, then run `then`."""

    error: str | None = None
    then: Callable[[], None] | None = None


class Workflow:
    def __init__(
        self,
        *,
        client: WebClient,
        store: Repository,
        drafter: Callable[[], DraftingService],
        settings: Settings,
        reviewers: ReviewerDirectory,
        jobs: JobRunner,
        clock: Clock,
    ) -> None:
        self.client = client
        self.store = store
        self.settings = settings
        self.reviewers = reviewers
        self.jobs = jobs
        self.clock = clock
        self._drafter_factory = drafter
        self._drafter_lock = threading.Lock()
        self._card_locks: dict[int, threading.Lock] = {}
        self._drafting: set[int] = set()  # findings with a draft queued or running in this process
        self._locks_guard = threading.Lock()
        #: Called after a review decision changes what is approved (the App Home dashboard listens here).
        self.on_change: list[Callable[[], None]] = []

    # ── messages ─────────────────────────────────────────────────────────────────────────────────────────

    def handle_message(self, msg: Inbound) -> None:
        """A mention, a DM, an assistant-panel message or a reply in one of our threads."""
        if msg.files:
            self.start_report(msg, msg.files[0], extra=len(msg.files) - 1)
            return
        findings = self.store.find_findings_by_thread(msg.channel, msg.thread_ts) if msg.in_thread else []
        if findings and msg.text and not looks_like_finding(msg.text):
            self.follow_up(msg, findings)
        elif looks_like_finding(msg.text):
            self.start_request(msg)
        else:
            self._reply(msg.channel, msg.thread_ts, blocks.notice(HELP_TEXT))

    def knows_thread(self, channel: str, thread_ts: str) -> bool:
        """Whether a plain channel reply is for us: a thread holding our drafts or an inspection's summary."""
        return bool(self.store.find_findings_by_thread(channel, thread_ts)) or (
            self.store.find_inspection_by_thread(channel, thread_ts) is not None
        )

    def start_request(self, msg: Inbound) -> None:
        text = " ".join(msg.text.split())
        if len(text) > MAX_RECOMMENDATION_CHARS:
            self._reply(
                msg.channel,
                msg.thread_ts,
                blocks.error_message(
                    f"That is {len(text):,} characters; one recommendation is at most {MAX_RECOMMENDATION_CHARS:,}.",
                    "For a whole report, upload the file in this thread and I will draft every finding.",
                ),
            )
            return
        finding = make_finding(text)
        view = self.store.create_request_finding(finding, msg.channel, msg.thread_ts, msg.user)
        log.info("request finding %s from %s in %s", view.id, msg.user, msg.channel)
        assistant = msg.surface is Surface.ASSISTANT
        if assistant:
            self._assistant_status(msg.channel, msg.thread_ts, "is drafting a response…")
            self._assistant_title(msg.channel, msg.thread_ts, f"{finding.label}: {text[:60]}")
        ts = self._reply(msg.channel, msg.thread_ts, blocks.drafting_placeholder(finding))
        self.store.set_message_ref(view.id, msg.channel, ts)
        job = DraftJob(view.id, msg.channel, msg.thread_ts, ts, msg.user, assistant=assistant)
        self._queue(job)

    def follow_up(self, msg: Inbound, findings: list[FindingView]) -> None:
        pick = pick_follow_up(findings, msg.text)
        if pick.finding is None:
            self._reply(msg.channel, msg.thread_ts, blocks.notice(pick.problem))
            return
        if not pick.instruction:
            self._reply(msg.channel, msg.thread_ts, blocks.notice("Say what should change, e.g. 'make it shorter'."))
            return
        self.start_redraft(
            pick.finding,
            msg.user,
            pick.instruction,
            reply_to=msg.thread_ts,
            assistant=msg.surface is Surface.ASSISTANT,
        )

    # ── redrafts (follow-ups, change requests, Regenerate) ──────────────────────────────────────────────

    def start_redraft(
        self,
        finding: FindingView,
        user: str,
        instruction: str | None,
        *,
        reply_to: str | None = None,
        assistant: bool = False,
        refuse: Callable[[str], None] | None = None,
        check: bool = True,
    ) -> None:
        """Queue a new version of `finding`'s answer; `instruction` None means draft afresh (Regenerate)."""
        channel, ts = finding.channel_id or "", finding.message_ts or ""
        thread_ts = finding.thread_ts or ts
        refuse = refuse or (lambda text: self._reply(channel, reply_to or thread_ts, blocks.notice(text)))
        problem = self._redraft_refusal(finding) if check else None
        if problem or not self._claim(finding.id):
            refuse(problem or self.busy_message(finding))
            return
        latest = self.store.latest_draft(finding.id)
        if latest is None:
            job = DraftJob(finding.id, channel, thread_ts, ts, user, 0, assistant=assistant)
            self._show_placeholder(job, finding.to_finding(), "Drafting…")
            self._queue(job, claimed=True)
            return
        busy = f"Redrafting v{latest.version}" + (f" with “{instruction}”…" if instruction else " afresh…")
        self.show(finding.id, channel, ts, busy=busy)
        note_ts = None
        if reply_to:
            note_ts = self._reply(channel, reply_to, blocks.progress_message(f"{finding.label}: {busy}"))
        if assistant:
            self._assistant_status(channel, reply_to or thread_ts, "is redrafting…")
        job = DraftJob(
            finding.id,
            channel,
            thread_ts,
            ts,
            user,
            latest.version,
            instruction=instruction,
            previous_text=latest.text if instruction else None,
            note_ts=note_ts,
            assistant=assistant,
            first=False,
        )
        self._queue(job, claimed=True)

    def busy_message(self, finding: FindingView) -> str:
        return f"A new version of {finding.label} is being drafted right now; wait for it, then try again."

    def _claim(self, finding_id: int) -> bool:
        """One draft at a time per answer (a double click or a follow-up must not race the first draft)."""
        with self._locks_guard:
            if finding_id in self._drafting:
                return False
            self._drafting.add(finding_id)
            return True

    def _release(self, finding_id: int) -> None:
        with self._locks_guard:
            self._drafting.discard(finding_id)

    def is_drafting(self, finding_id: int) -> bool:
        with self._locks_guard:
            return finding_id in self._drafting

    def _queue(self, job: DraftJob, claimed: bool = False) -> None:
        if not claimed:
            self._claim(job.finding_id)

        def draft_then_release() -> None:
            try:
                self.run_draft(job)
            finally:
                self._release(job.finding_id)

        try:
            self.jobs.submit(draft_then_release)
        except RuntimeError:
            self._release(job.finding_id)
            raise

    def _redraft_refusal(self, finding: FindingView) -> str | None:
        if not finding.message_ts or not finding.channel_id:
            return "I cannot find the message for this answer any more; paste the recommendation again."
        try:
            transition(ReviewSnapshot(state=finding.state, version=finding.latest_version), ReviewAction.DRAFT)
        except TrackerError as refusal:
            return str(refusal)
        return None

    def run_draft(self, job: DraftJob) -> bool:
        """Draft one version and show it; runs in the job pool. True when a version was stored."""
        try:
            finding = self.store.get_finding(job.finding_id)
            request = self._request(finding, job.instruction, job.previous_text)
            on_status = (lambda text: self._placeholder_status(job, finding, text)) if job.first else None
            draft = self._drafter().draft(request, on_status=on_status)
            self.store.add_draft(
                job.finding_id,
                NewDraft.from_draft(draft),
                instruction=job.instruction,
                requested_by=job.user,
                expected_version=job.expected_version,
            )
        except Exception as error:
            self._draft_failed(job, error)
            return False
        finally:
            if job.assistant:
                self._assistant_status(job.channel, job.thread_ts, "")
        log.info("finding %s drafted by %s in %.1f s", job.finding_id, draft.engine, draft.seconds)
        self.show(job.finding_id, job.channel, job.message_ts, seconds=draft.seconds, upload_to=job.thread_ts)
        if job.note_ts:
            card = load_card(self.store, job.finding_id)
            version = f"v{card.version}" if card else "a new version"
            note = f":white_check_mark: {finding.label} is now {version}: the message above is updated."
            self._update(job.channel, job.note_ts, blocks.notice(note))
        return True

    def _request(self, finding: FindingView, instruction: str | None, previous: str | None) -> DraftRequest:
        title, published = "", None
        if finding.inspection_id is not None:
            inspection = self.store.get_inspection(finding.inspection_id)
            title, published = inspection.title, inspection.published
        return DraftRequest(
            finding=finding.to_finding(),
            inspection_title=title,
            published=published,
            force=self.settings.force,
            instruction=instruction,
            previous_text=previous,
            max_classification=self.settings.max_classification,
        )

    def _drafter(self) -> DraftingService:
        with self._drafter_lock:  # the first call loads the index and the model: once, not once per job
            return self._drafter_factory()

    def _draft_failed(self, job: DraftJob, error: Exception) -> None:
        problem, todo = describe_error(error)
        # A timeout or a refusal is an outcome to report, not a bug: a traceback only for the unexpected.
        trace = error if not is_expected(error) else None
        log.warning("drafting finding %s failed: %s", job.finding_id, type(error).__name__, exc_info=trace)
        try:
            if job.first and self.store.latest_draft(job.finding_id) is None:
                retry = blocks.ButtonRef(job.finding_id, job.expected_version)
                self._update(job.channel, job.message_ts, blocks.error_message(problem, todo, retry=retry))
            else:
                self.show(job.finding_id, job.channel, job.message_ts)
                target = job.note_ts
                payload = blocks.error_message(problem, todo)
                if target:
                    self._update(job.channel, target, payload)
                else:
                    self._reply(job.channel, job.thread_ts, payload)
        except SlackApiError:
            log.exception("could not report a drafting failure for finding %s", job.finding_id)

    # ── buttons ──────────────────────────────────────────────────────────────────────────────────────────

    def approve(self, click: Click) -> None:
        self._review(click, ReviewAction.APPROVE)

    def reopen(self, click: Click) -> None:
        self._review(click, ReviewAction.REOPEN)

    def _review(self, click: Click, action: ReviewAction, **kwargs: Any) -> bool:
        try:
            groups = (
                self.reviewers.groups_of(click.user) if action in (ReviewAction.APPROVE, ReviewAction.REOPEN) else ()
            )
            outcome = self.store.record_review(
                click.finding_id, click.user, groups, action, expected_version=click.version, **kwargs
            )
        except TrackerError as refusal:
            self.ephemeral(click, str(refusal))
            return False
        log.info("finding %s: %s by %s (%s)", click.finding_id, action.value, click.user, outcome.state_after)
        self.show(click.finding_id, click.channel, click.message_ts)
        self._changed()
        return True

    def _changed(self) -> None:
        for hook in self.on_change:
            try:
                hook()
            except Exception:  # a listener's failure (e.g. the dashboard) must not undo a recorded decision
                log.exception("change hook failed")

    def regenerate(self, click: Click) -> None:
        finding = self._current(click)
        if finding is None:
            return
        self.start_redraft(finding, click.user, None, refuse=lambda text: self.ephemeral(click, text))

    def open_request_changes(self, click: Click) -> None:
        finding = self._current(click, ReviewAction.REQUEST_CHANGES)
        if finding is None:
            return
        ctx = blocks.ModalContext(f=click.finding_id, v=click.version, c=click.channel, ts=click.message_ts)
        self.client.views_open(trigger_id=click.trigger_id, view=blocks.request_changes_modal(ctx, finding.label))

    def open_edit(self, click: Click) -> None:
        finding = self._current(click, ReviewAction.EDIT)
        latest = self.store.latest_draft(click.finding_id) if finding else None
        if finding is None or latest is None:
            return
        ctx = blocks.ModalContext(f=click.finding_id, v=click.version, c=click.channel, ts=click.message_ts)
        try:
            view = blocks.edit_modal(ctx, finding.label, latest.text)
        except blocks.TooLongToEdit as problem:
            self.ephemeral(click, str(problem))
            return
        self.client.views_open(trigger_id=click.trigger_id, view=view)

    def _current(self, click: Click, action: ReviewAction = ReviewAction.DRAFT) -> FindingView | None:
        """The finding if the click is on its latest version and `action` is allowed now; else say why."""
        try:
            finding = self.store.get_finding(click.finding_id)
        except TrackerError as problem:
            self.ephemeral(click, str(problem))
            return None
        if finding.latest_version != click.version:
            self.ephemeral(
                click,
                f"This message shows v{click.version}, but {finding.label} is now at "
                f"v{finding.latest_version}; use the buttons on the updated message.",
            )
            return None
        try:
            transition(ReviewSnapshot(state=finding.state, version=finding.latest_version), action)
        except TrackerError as refusal:
            self.ephemeral(click, str(refusal))
            return None
        return finding

    # ── modal submissions ────────────────────────────────────────────────────────────────────────────────

    def submit_request_changes(self, ctx: blocks.ModalContext, user: str, comment: str) -> Submitted:
        if not comment:
            return Submitted("Say what should change: the redraft follows your comment.")
        if self.is_drafting(ctx.finding_id):
            return Submitted("A new version is being drafted right now; wait for it, then ask for changes on it.")
        try:
            outcome = self.store.record_review(
                ctx.finding_id,
                user,
                (),
                ReviewAction.REQUEST_CHANGES,
                comment=comment,
                expected_version=ctx.version,
            )
        except TrackerError as refusal:
            return Submitted(str(refusal))

        def redraft() -> None:
            log.info("finding %s: changes requested by %s", ctx.finding_id, user)
            self.start_redraft(outcome.finding, user, comment, check=False)

        return Submitted(then=redraft)

    def submit_edit(self, ctx: blocks.ModalContext, user: str, text: str) -> Submitted:
        if not text:
            return Submitted("The text is empty; type the full answer you want to keep.")
        try:
            self.store.record_review(
                ctx.finding_id, user, (), ReviewAction.EDIT, expected_version=ctx.version, new_text=text
            )
        except TrackerError as refusal:
            return Submitted(str(refusal))

        def show_and_notify() -> None:
            self.show(ctx.finding_id, ctx.channel, ctx.message_ts, upload_to="")
            self._changed()

        return Submitted(then=show_and_notify)

    # ── reports ──────────────────────────────────────────────────────────────────────────────────────────

    def start_report(self, msg: Inbound, file: SlackFile, extra: int = 0) -> None:
        """Claim the file (a message event and a file_shared event may both announce it), then read it."""
        if not self.store.claim_event(f"file:{file.id}"):
            return
        name = file.name or "the report"
        text = f"Reading {name}…" + (" (I read one report per thread; upload others in new threads.)" if extra else "")
        if msg.surface is Surface.ASSISTANT:
            self._assistant_status(msg.channel, msg.thread_ts, "is reading the report…")
        ts = self._reply(msg.channel, msg.thread_ts, blocks.progress_message(text))
        self.jobs.submit(self.run_report, msg, file, ts)

    def handle_file_shared(self, file_id: str, channel: str, user: str) -> None:
        """A `file_shared` event: only reports shared in a DM or in one of our threads are ours."""
        self.jobs.submit(self._file_shared, file_id, channel, user)

    def _file_shared(self, file_id: str, channel: str, user: str) -> None:
        try:
            shared = file_info(self.client, file_id)
        except FileFetchError:
            log.info("file %s: files.info refused; ignoring the file_shared event", file_id)
            return
        share = shared.share_in(channel)
        if share is None:
            return
        thread_ts = share.get("thread_ts") or share["ts"]
        direct = channel.startswith("D")
        if not direct and not self.knows_thread(channel, thread_ts):
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
        self.start_report(msg, msg.files[0])

    def run_report(self, msg: Inbound, file: SlackFile, summary_ts: str) -> None:
        try:
            report, name = self._read_report(file)
        except Exception as error:
            problem, todo = describe_error(error, file.name)
            log.info("report %s could not be read: %s", file.id, type(error).__name__)
            self._update(msg.channel, summary_ts, blocks.error_message(problem, todo))
            if msg.surface is Surface.ASSISTANT:
                self._assistant_status(msg.channel, msg.thread_ts, "")
            return
        findings, summary = self._store_report(msg, report, name)
        for view in findings:
            self._claim(view.id)
        try:
            self._draft_report(msg, findings, summary, summary_ts)
        except Exception as error:  # e.g. Slack refusing a post: say so; the stored findings stay
            log.exception("report %s: drafting stopped", file.id)
            problem, todo = describe_error(error, name)
            self._reply(msg.channel, msg.thread_ts, blocks.error_message(problem, todo))
        finally:
            for view in findings:
                self._release(view.id)

    def _draft_report(
        self, msg: Inbound, findings: list[FindingView], summary: blocks.ReportSummary, summary_ts: str
    ) -> None:
        """One threaded reply per finding (all posted first, in report order), then drafted one by one."""
        progress = blocks.Progress(total=len(findings))
        self._update(msg.channel, summary_ts, blocks.report_summary(summary, progress, self._today()))
        messages = []
        for view in findings:
            ts = self._reply(msg.channel, msg.thread_ts, blocks.drafting_placeholder(view.to_finding(), "Waiting…"))
            self.store.set_message_ref(view.id, msg.channel, ts)
            messages.append(ts)
        assistant = msg.surface is Surface.ASSISTANT
        for i, (view, ts) in enumerate(zip(findings, messages, strict=True)):
            progress = progress.model_copy(update={"done": i})
            self._update(msg.channel, summary_ts, blocks.report_summary(summary, progress, self._today()))
            job = DraftJob(view.id, msg.channel, msg.thread_ts, ts, msg.user, assistant=assistant)
            if not self.run_draft(job):
                progress = progress.model_copy(update={"failed": progress.failed + 1})
            self._release(view.id)  # reviewers may act on this one while the rest draft
        progress = progress.model_copy(update={"done": len(findings), "finished": True})
        self._update(msg.channel, summary_ts, blocks.report_summary(summary, progress, self._today()))

    def _read_report(self, file: SlackFile) -> tuple[Any, str]:
        from drafting.report import parse_report
        from retrieval.loaders import read_text

        shared = file_info(self.client, file.id)
        check_supported(shared)
        folder = self.settings.data_dir / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        path = download(shared, self._token(), self.settings.slack_api_url, folder)
        try:
            return parse_report(read_text(path), name=shared.name), shared.name
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)  # the stored findings are the record, not the file

    def _store_report(self, msg: Inbound, report: Any, name: str) -> tuple[list[FindingView], blocks.ReportSummary]:
        title = report.title or Path(name).stem
        published: date | None = report.published or published_from_text(msg.text)
        existing = self.store.find_inspection_by_thread(msg.channel, msg.thread_ts)
        inspection_id = None
        if existing is not None:  # e.g. `/hmicfrs add` made the inspection; the report lands in its thread
            findings = self.store.add_findings(existing.id, report.findings, actor=msg.user)
            title, published, inspection_id = existing.title, existing.published, existing.id
        elif published is not None:
            inspection = self.store.create_inspection(
                title,
                published,
                report.inspection_type,
                self.settings.force,
                msg.channel,
                msg.user,
                thread_ts=msg.thread_ts,
            )
            findings = self.store.add_findings(inspection.id, report.findings, actor=msg.user)
            inspection_id = inspection.id
        else:  # no date: no deadline to track, but the drafts are still stored and reviewed
            findings = [
                self.store.create_request_finding(f, msg.channel, msg.thread_ts, msg.user) for f in report.findings
            ]
        log.info("report %s: %d findings, inspection %s", name, len(findings), inspection_id)
        summary = blocks.ReportSummary(
            title=title,
            inspection_type=report.inspection_type,
            published=published,
            findings=[f.to_finding() for f in findings],
            file_name=name,
            inspection_id=inspection_id,
        )
        return findings, summary

    # ── Slack output ─────────────────────────────────────────────────────────────────────────────────────

    def show(
        self,
        finding_id: int,
        channel: str,
        ts: str,
        *,
        seconds: float = 0.0,
        busy: str | None = None,
        upload_to: str | None = None,
    ) -> None:
        """Rebuild the card from the store and replace the message; `upload_to` attaches an over-long text.

        Serialised per finding and always read fresh, so the last update Slack gets shows the latest state.
        """
        with self._lock_for(finding_id):
            card = load_card(self.store, finding_id, seconds=seconds, busy=busy)
            if card is None:
                return
            payload = blocks.draft_message(card)
            self._update(channel, ts, payload)
        if upload_to is not None and payload.attachment:
            finding = self.store.get_finding(finding_id)
            self.client.files_upload_v2(
                channel=channel,
                thread_ts=upload_to or finding.thread_ts or ts,
                content=payload.attachment,
                filename=payload.attachment_name,
                title=f"{card.finding.label}, draft v{card.version} (full text)",
                initial_comment=f"Full text of {card.finding.label} v{card.version} (too long to show).",
            )

    def ephemeral(self, click: Click, text: str) -> None:
        payload = blocks.notice(f":no_entry_sign: {text}")
        self.client.chat_postEphemeral(
            channel=click.channel,
            user=click.user,
            text=payload.text,
            blocks=payload.blocks,
            thread_ts=click.thread_ts,
        )

    def _reply(self, channel: str, thread_ts: str, payload: blocks.MessagePayload) -> str:
        response = self.client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=payload.text,
            blocks=payload.blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(response["ts"])

    def _update(self, channel: str, ts: str, payload: blocks.MessagePayload) -> None:
        self.client.chat_update(channel=channel, ts=ts, text=payload.text, blocks=payload.blocks)

    def _show_placeholder(self, job: DraftJob, finding: Finding, status: str) -> None:
        self._update(job.channel, job.message_ts, blocks.drafting_placeholder(finding, status))

    def _placeholder_status(self, job: DraftJob, finding: FindingView, text: str) -> None:
        try:
            self._show_placeholder(job, finding.to_finding(), text)
        except SlackApiError:
            log.debug("progress update failed for finding %s", job.finding_id)

    def _assistant_status(self, channel: str, thread_ts: str, status: str) -> None:
        """Best effort: the status only exists in assistant threads, and a refusal must not stop drafting."""
        try:
            self.client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status=status)
        except SlackApiError as error:
            log.debug("assistant status not set: %s", error.response.get("error"))

    def _assistant_title(self, channel: str, thread_ts: str, title: str) -> None:
        try:
            self.client.assistant_threads_setTitle(channel_id=channel, thread_ts=thread_ts, title=title)
        except SlackApiError as error:
            log.debug("assistant title not set: %s", error.response.get("error"))

    def _lock_for(self, finding_id: int) -> threading.Lock:
        with self._locks_guard:
            return self._card_locks.setdefault(finding_id, threading.Lock())

    def _token(self) -> str:
        return self.client.token or ""

    def _today(self) -> date:
        return self.clock().astimezone(UK).date()


def is_expected(error: Exception) -> bool:
    """Failures with a known cause and a message for the user (as opposed to bugs)."""
    from drafting.llm import ChatModelError, ModelTimeoutError
    from drafting.report import NoFindingsError
    from retrieval.loaders import DocumentError

    known = (ModelTimeoutError, ChatModelError, FileFetchError, DocumentError, NoFindingsError, TrackerError)
    return isinstance(error, known)


def describe_error(error: Exception, file_name: str = "") -> tuple[str, str]:
    """(what went wrong, what to do) for the thread; never a stack trace, never the user's text."""
    from drafting.llm import ChatModelError, ModelTimeoutError
    from drafting.report import NoFindingsError
    from retrieval.loaders import DocumentError

    where = file_name or "the report"
    if isinstance(error, ModelTimeoutError):
        return (
            "The drafting model did not answer in time.",
            "Press Regenerate to try again. If it keeps happening, an admin can raise RESPONDER_LLM_TIMEOUT "
            "or set RESPONDER_LLM=composer for model-free drafts.",
        )
    if isinstance(error, ChatModelError):
        return "The drafting model cannot run.", f"{error} An admin can check it with `responder model`."
    if isinstance(error, FileFetchError | DocumentError):
        return f"I could not read {where}.", str(error)
    if isinstance(error, NoFindingsError):
        return f"I found no findings in {where}.", str(error) + "."
    if isinstance(error, TrackerError):
        return "The answer was not updated.", str(error)
    return (
        f"Something went wrong ({type(error).__name__}).",
        "Nothing already stored was lost. Try again; if it keeps happening, check the bot's log.",
    )


def utc_now() -> datetime:
    return datetime.now(UTC)

"""The drafting queue: one draft at a time per answer, run on the background pool, shown in its message.

Callers (a new request, a report, a follow-up, a change request, Regenerate) do only the quick part in the
listener's thread: claim the answer, post or update a placeholder, and queue a `DraftJob`. The job drafts,
stores the version and replaces the placeholder in place (chat.update). A failure is told in the thread with
what to do next; nothing already stored is changed by a failure. While the model writes a first draft, its
placeholder shows the words so far (`DraftStream`), updated at most every `stream_interval` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.services.cards import load_card
from bot.services.errors import describe_error, is_expected
from bot.services.poster import SlackPoster
from bot.services.workers import JobRunner
from bot.slack.ui.common import ButtonRef, error_message, notice, progress_message, refusal_text
from bot.slack.ui.draft_card import DraftCard, draft_message, drafting_placeholder
from bot.slack.ui.report import writing_placeholder
from drafting.chain import Drafter
from drafting.models import DraftRequest
from retrieval.models import Classification, Finding
from tracker.errors import TrackerError
from tracker.repository import Repository
from tracker.review import ReviewAction, ReviewSnapshot, transition
from tracker.views import FindingView, NewDraft

log = logging.getLogger(__name__)

#: Seconds between two updates of a placeholder while the model writes (chat.update is Tier 3: ~50 a minute).
STREAM_INTERVAL_SECONDS = 2.0


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
class DraftingScope:
    """What every draft of this office is asked with: its force, and the highest marking it may quote."""

    force: str
    max_classification: Classification = Classification.OFFICIAL


class DraftQueue:
    def __init__(
        self,
        store: Repository,
        poster: SlackPoster,
        drafter: Callable[[], Drafter],
        scope: DraftingScope,
        jobs: JobRunner,
        *,
        stream_interval: float = STREAM_INTERVAL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.poster = poster
        self.scope = scope
        self.jobs = jobs
        self.stream_interval = stream_interval
        self.monotonic = monotonic
        self._drafter_factory = drafter
        self._drafter_lock = threading.Lock()
        self._card_locks: dict[int, threading.Lock] = {}
        self._drafting: set[int] = set()  # findings with a draft queued or running in this process
        self._guard = threading.Lock()

    # ── one draft at a time per answer ───────────────────────────────────────────────────────────────────

    def claim(self, finding_id: int) -> bool:
        """A double click or a follow-up must not race the draft already running for the same answer."""
        with self._guard:
            if finding_id in self._drafting:
                return False
            self._drafting.add(finding_id)
            return True

    def release(self, finding_id: int) -> None:
        with self._guard:
            self._drafting.discard(finding_id)

    def is_drafting(self, finding_id: int) -> bool:
        with self._guard:
            return finding_id in self._drafting

    def busy_message(self, finding: FindingView) -> str:
        return f"A new version of {finding.label} is being drafted right now; wait for it, then try again."

    def queue(self, job: DraftJob, claimed: bool = False) -> None:
        """Run `job` on the pool; the answer stays claimed until it has finished."""
        if not claimed:
            self.claim(job.finding_id)

        def draft_then_release() -> None:
            try:
                self.run(job)
            finally:
                self.release(job.finding_id)

        try:
            self.jobs.submit(draft_then_release)
        except RuntimeError:
            self.release(job.finding_id)
            raise

    # ── redrafts (follow-ups, change requests, Regenerate) ──────────────────────────────────────────────

    def redraft(
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
        refuse = refuse or (lambda text: self.poster.reply(channel, reply_to or thread_ts, notice(text)))
        if not self.claim(finding.id):  # first: while a draft runs, "being drafted" is the true reason
            refuse(self.busy_message(finding))
            return
        if problem := _redraft_refusal(finding) if check else None:
            self.release(finding.id)
            refuse(problem)
            return
        latest = self.store.drafts.latest(finding.id)
        if latest is None:
            job = DraftJob(finding.id, channel, thread_ts, ts, user, 0, assistant=assistant)
            self.poster.update(channel, ts, drafting_placeholder(finding.to_finding(), "Drafting…"))
            self.queue(job, claimed=True)
            return
        busy = f"Redrafting v{latest.version}" + (f" with “{instruction}”…" if instruction else " afresh…")
        self.show(finding.id, channel, ts, busy=busy)
        note_ts = None
        if reply_to:
            note_ts = self.poster.reply(channel, reply_to, progress_message(f"{finding.label}: {busy}"))
        if assistant:
            self.poster.assistant_status(channel, reply_to or thread_ts, "is redrafting…")
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
        self.queue(job, claimed=True)

    # ── running a job ────────────────────────────────────────────────────────────────────────────────────

    def run(self, job: DraftJob) -> bool:
        """Draft one version and show it; runs in the job pool. True when a version was stored."""
        try:
            finding = self.store.findings.get(job.finding_id)
            request = self._request(finding, job.instruction, job.previous_text)
            on_status = (lambda text: self._placeholder_status(job, finding.to_finding(), text)) if job.first else None
            stream = self.stream_for(job, finding.to_finding()) if job.first else None
            try:
                draft = self._drafter().draft(request, on_status=on_status, on_text=stream.push if stream else None)
            finally:
                if stream is not None:
                    stream.close()  # an abandoned generation's late words must not cover the draft or the error
            self.store.drafts.add(
                job.finding_id,
                NewDraft.from_draft(draft),
                instruction=job.instruction,
                requested_by=job.user,
                expected_version=job.expected_version,
            )
        except Exception as error:
            self._failed(job, error)
            return False
        finally:
            if job.assistant:
                self.poster.assistant_status(job.channel, job.thread_ts, "")
        log.info("finding %s drafted by %s in %.1f s", job.finding_id, draft.engine, draft.seconds)
        card = self.show(job.finding_id, job.channel, job.message_ts, seconds=draft.seconds, upload_to=job.thread_ts)
        if job.note_ts:
            version = f"v{card.version}" if card else "a new version"
            note = f":white_check_mark: {finding.label} is now {version}: the message above is updated."
            self.poster.update(job.channel, job.note_ts, notice(note))
        return True

    def _request(self, finding: FindingView, instruction: str | None, previous: str | None) -> DraftRequest:
        title, published = "", None
        if finding.inspection_id is not None:
            inspection = self.store.inspections.get(finding.inspection_id)
            title, published = inspection.title, inspection.published
        return DraftRequest(
            finding=finding.to_finding(),
            inspection_title=title,
            published=published,
            force=self.scope.force,
            instruction=instruction,
            previous_text=previous,
            max_classification=self.scope.max_classification,
        )

    def _drafter(self) -> Drafter:
        with self._drafter_lock:  # the first call loads the index and the model: once, not once per job
            return self._drafter_factory()

    def _failed(self, job: DraftJob, error: Exception) -> None:
        problem, todo = describe_error(error)
        # A timeout or a refusal is an outcome to report, not a bug: a traceback only for the unexpected.
        trace = error if not is_expected(error) else None
        log.warning("drafting finding %s failed: %s", job.finding_id, type(error).__name__, exc_info=trace)
        try:
            if job.first and self.store.drafts.latest(job.finding_id) is None:
                retry = ButtonRef(job.finding_id, job.expected_version)
                self.poster.update(job.channel, job.message_ts, error_message(problem, todo, retry=retry))
            else:
                self.show(job.finding_id, job.channel, job.message_ts)
                payload = error_message(problem, todo)
                if job.note_ts:
                    self.poster.update(job.channel, job.note_ts, payload)
                else:
                    self.poster.reply(job.channel, job.thread_ts, payload)
        except SlackApiError:
            log.exception("could not report a drafting failure for finding %s", job.finding_id)

    # ── the message that shows an answer ─────────────────────────────────────────────────────────────────

    def show(
        self,
        finding_id: int,
        channel: str,
        ts: str,
        *,
        seconds: float = 0.0,
        busy: str | None = None,
        upload_to: str | None = None,
    ) -> DraftCard | None:
        """Rebuild the card from the store and replace the message; `upload_to` attaches an over-long text.

        Serialised per finding and always read fresh, so the last update Slack gets shows the latest state.
        Returns the card shown (None before the first draft), so a caller need not read it again.
        """
        with self._lock_for(finding_id):
            card = load_card(self.store, finding_id, seconds=seconds, busy=busy)
            if card is None:
                return None
            payload = draft_message(card)
            self.poster.update(channel, ts, payload)
        if upload_to is not None and payload.attachment:
            finding = self.store.findings.get(finding_id)
            self.poster.upload_text(
                channel,
                upload_to or finding.thread_ts or ts,
                payload.attachment,
                payload.attachment_name,
                title=f"{card.finding.label}, draft v{card.version} (full text)",
                comment=f"Full text of {card.finding.label} v{card.version} (too long to show).",
            )
        return card

    def stream_for(self, job: DraftJob, finding: Finding) -> DraftStream:
        return DraftStream(self.poster, job.channel, job.message_ts, finding, self.stream_interval, self.monotonic)

    def _placeholder_status(self, job: DraftJob, finding: Finding, text: str) -> None:
        try:
            self.poster.update(job.channel, job.message_ts, drafting_placeholder(finding, text))
        except SlackApiError:
            log.debug("progress update failed for finding %s", job.finding_id)

    def _lock_for(self, finding_id: int) -> threading.Lock:
        with self._guard:
            return self._card_locks.setdefault(finding_id, threading.Lock())


class DraftStream:
    """A first draft's placeholder showing the model's words so far, updated at most every `interval` seconds.

    `push` is called from the model's thread at every token; `close` (after drafting) waits for an update in
    flight and makes later pushes no-ops, so the finished card or the error is always the last thing shown.
    """

    def __init__(
        self,
        poster: SlackPoster,
        channel: str,
        ts: str,
        finding: Finding,
        interval: float = STREAM_INTERVAL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.poster = poster
        self.channel = channel
        self.ts = ts
        self.finding = finding
        self.interval = interval
        self._now = monotonic
        self._last = monotonic()  # the "Writing with …" status was just shown: the first words wait a turn
        self._closed = False
        self._lock = threading.Lock()
        self.updates = 0

    def push(self, text: str) -> None:
        if self._closed or self._now() - self._last < self.interval or not text.strip():
            return
        with self._lock:
            now = self._now()
            if self._closed or now - self._last < self.interval:
                return
            self._last = now
            try:
                self.poster.update(self.channel, self.ts, writing_placeholder(self.finding, text))
                self.updates += 1
            except SlackApiError as error:
                log.debug("writing update failed: %s", error.response.get("error"))

    def close(self) -> None:
        with self._lock:
            self._closed = True


def _redraft_refusal(finding: FindingView) -> str | None:
    if not finding.message_ts or not finding.channel_id:
        return "I cannot find the message for this answer any more; paste the recommendation again."
    return refusal_of(finding, ReviewAction.DRAFT)


def refusal_of(finding: FindingView, action: ReviewAction) -> str | None:
    """Why the state machine would refuse `action` on this answer now, or None: asked before the quick reply
    (a modal, a placeholder) so the person is not shown a form or a spinner for something the store will refuse."""
    try:
        transition(ReviewSnapshot(state=finding.state, version=finding.latest_version), action)
    except TrackerError as refusal:
        return refusal_text(refusal)
    return None

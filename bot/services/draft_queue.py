"""The drafting queue: every draft is a job in the database, run by a worker, shown in its own message.

Callers (a new request, a report, a follow-up, a change request, Regenerate) do only the quick part in the
listener's thread: add the job (at most one per answer, whichever instance asks), post or update a placeholder,
and wake a worker. The worker drafts, stores the version and replaces the placeholder in place. Nothing is lost
on the way: a crash leaves the job in the database for another worker once its lease runs out; a draft stored
by an attempt that died before it was shown is shown, not drafted again; a job that fails twice is shown failed
with Regenerate; an outcome Slack refuses is posted shorter, or recorded and posted again by the housekeeping.
While the model writes a first draft, its placeholder shows the words so far (`DraftStream`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from slack_sdk.errors import SlackApiError

from bot.metrics import Metrics
from bot.services.cards import load_card
from bot.services.draft_workers import DraftWorkers
from bot.services.errors import describe_error, is_expected
from bot.services.poster import SlackPoster, slack_error
from bot.slack.ui.common import ButtonRef, MessagePayload, error_message, notice, progress_message, refusal_text
from bot.slack.ui.draft_card import DraftCard, Linker, draft_message, drafting_placeholder
from bot.slack.ui.report import writing_placeholder
from drafting.chain import Drafter
from drafting.models import DraftRequest
from retrieval.models import Classification, Finding
from tracker.errors import ConcurrentChange, TrackerError
from tracker.jobs import MAX_ATTEMPTS, JobSpec, JobView
from tracker.repository import Repository
from tracker.review import BOT_AUTHOR, ReviewAction, ReviewSnapshot, transition
from tracker.views import DraftView, FindingView, NewDraft

log = logging.getLogger(__name__)

#: Seconds between two updates of a placeholder while the model writes (chat.update is Tier 3: ~50 a minute).
STREAM_INTERVAL_SECONDS = 2.0


@dataclass(frozen=True)
class DraftingScope:
    """What every draft of this office is asked with: its force. The classification ceiling is the channel's."""

    force: str


@dataclass(frozen=True)
class QueueSettings:
    workers: int = 2
    lease_seconds: float = 30.0
    poll_seconds: float = 1.0
    housekeeping_seconds: float = 15.0


class DraftQueue:
    def __init__(
        self,
        store: Repository,
        poster: SlackPoster,
        drafter: Callable[[], Drafter],
        scope: DraftingScope,
        queue: QueueSettings | None = None,
        *,
        metrics: Metrics | None = None,
        stream_interval: float = STREAM_INTERVAL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.poster = poster
        self.scope = scope
        self.metrics = metrics
        self.stream_interval = stream_interval
        self.monotonic = monotonic
        #: Links a card gives to other answers' messages (set by the composition root; None: no links).
        self.link: Linker | None = None
        self._drafter_factory = drafter
        self._drafter_lock = threading.Lock()
        self._card_locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()
        #: Called with each job once it is done or has failed for good (a report's summary listens here).
        self.on_settled: list[Callable[[JobView], None]] = []
        q = queue or QueueSettings()
        self.workers = DraftWorkers(
            store,
            self.run,
            self.housekeep,
            workers=q.workers,
            lease_seconds=q.lease_seconds,
            poll_seconds=q.poll_seconds,
            housekeeping_seconds=q.housekeeping_seconds,
        )

    def start(self) -> DraftQueue:
        self.workers.start()
        return self

    # ── adding jobs ──────────────────────────────────────────────────────────────────────────────────────

    def is_drafting(self, finding_id: int) -> bool:
        return self.store.jobs.active(finding_id)

    def busy_message(self, finding: FindingView) -> str:
        return f"A new version of {finding.label} is being drafted right now; wait for it, then try again."

    def hold(self, spec: JobSpec) -> JobView | None:
        """Add a job that waits for its placeholder (`release`); None when the answer is already being drafted."""
        return self.store.jobs.enqueue(spec, ready=False)

    def release(self, job: JobView, message_ts: str | None) -> None:
        """The placeholder is posted (`message_ts`), or could not be (None: the outcome is posted as a reply)."""
        self.store.jobs.ready(job.id, message_ts)
        self.workers.wake()

    def queue_note(self, job: JobView) -> str | None:
        """The person's place in the queue ("3 drafts ahead of this one") when every worker is busy."""
        ahead, running = self.store.jobs.place(job.id)
        if running < self.workers.size and ahead == 0:
            return None
        waiting = ahead + max(0, running - self.workers.size + 1)
        return f"Queued: {waiting} draft{'s' if waiting != 1 else ''} ahead of this one."

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
        if self.is_drafting(finding.id):  # first: while a draft runs, "being drafted" is the true reason
            refuse(self.busy_message(finding))
            return
        if problem := _redraft_refusal(finding) if check else None:
            refuse(problem)
            return
        latest = self.store.drafts.latest(finding.id)
        version = latest.version if latest else 0
        spec = JobSpec(
            finding.id,
            channel,
            thread_ts,
            user,
            ts,
            version,
            instruction=instruction if latest else None,
            assistant=assistant,
            first=latest is None,
        )
        job = self.hold(spec)
        if job is None:
            refuse(self.busy_message(finding))
            return
        try:
            self._show_redrafting(job, finding, version, instruction, reply_to)
        finally:  # the job runs even when Slack refused the "redrafting…" notes
            self.release(job, ts)

    def _show_redrafting(
        self, job: JobView, finding: FindingView, version: int, instruction: str | None, reply_to: str | None
    ) -> None:
        place = self.queue_note(job)
        if version == 0:
            status = place or "Drafting…"
            self.poster.update(job.channel, job.message_ts or "", drafting_placeholder(finding.to_finding(), status))
            return
        busy = f"Redrafting v{version}" + (f" with “{instruction}”…" if instruction else " afresh…")
        self.show(finding.id, job.channel, job.message_ts or "", busy=busy + (f" {place}" if place else ""))
        if reply_to:
            note_ts = self.poster.reply(job.channel, reply_to, progress_message(f"{finding.label}: {busy}"))
            self.store.jobs.set_note(job.id, note_ts)
        if job.assistant:
            self.poster.assistant_status(job.channel, reply_to or job.thread_ts, "is redrafting…")

    # ── running a job (on a worker) ──────────────────────────────────────────────────────────────────────

    def run(self, job: JobView) -> None:
        """Draft one version and show it. Every ending is recorded on the job: done, queued again, or failed."""
        job = self._with_message(self.store.jobs.get(job.id))  # its note and message may be newer than the claim
        started = self.monotonic()
        try:
            engine = None if self._already_drafted(job) else self._draft(job)
        except Exception as error:
            self._failed(job, error)
            return
        finally:
            if job.assistant:
                self.poster.assistant_status(job.channel, job.thread_ts, "")
        seconds = self.monotonic() - started
        # Done before it is shown, so a follow-up typed the moment the card appears is taken, not refused as
        # busy; a crash in between leaves it done and unshown, and the housekeeping shows it.
        self.store.jobs.finish(job.id, seconds)
        self._show_outcome(job, seconds)
        if self.metrics is not None:
            self.metrics.drafts_finished.labels("done").inc()
            if engine is not None:
                self.metrics.draft_seconds.labels(engine).observe(seconds)
        self._settled(job)

    def _with_message(self, job: JobView) -> JobView:
        """A job whose poster died after posting the placeholder but before releasing the job: use that message
        (the finding knows it), rather than leave it "Waiting…" and post the draft as a new reply."""
        if job.message_ts is not None:
            return job
        finding = self.store.findings.get(job.finding_id)
        if not finding.message_ts or finding.channel_id != job.channel:
            return job
        self.store.jobs.set_message(job.id, finding.message_ts)
        return replace(job, message_ts=finding.message_ts)

    def _already_drafted(self, job: JobView) -> bool:
        """An earlier attempt stored this version and then died before it was shown: show it, do not redraft."""
        latest = self.store.drafts.latest(job.finding_id)
        return latest is not None and latest.version > job.expected_version and latest.author == BOT_AUTHOR

    def _draft(self, job: JobView) -> str:
        """Draft and store one version; the engine that wrote it."""
        finding = self.store.findings.get(job.finding_id)
        latest = self.store.drafts.latest(job.finding_id) if job.instruction else None
        same = latest is not None and latest.version == job.expected_version
        request = self._request(finding, job, latest if same else None)
        live = job.first and job.message_ts is not None
        on_status = (lambda text: self._try_update(job, text, finding.to_finding())) if live else None
        stream = self.stream_for(job, finding.to_finding()) if live else None
        try:
            draft = self._drafter().draft(request, on_status=on_status, on_text=stream.push if stream else None)
        finally:
            if stream is not None:
                stream.close()  # an abandoned generation's late words must not cover the draft or the error
        try:
            self.store.drafts.add(
                job.finding_id,
                NewDraft.from_draft(draft),
                instruction=job.instruction,
                requested_by=job.user,
                expected_version=job.expected_version,
            )
        except ConcurrentChange:
            if not self._already_drafted(job):  # a person changed the answer meanwhile: that is the outcome
                raise
        log.info("finding %s drafted by %s in %.1f s", job.finding_id, draft.engine, draft.seconds)
        return draft.engine

    def _request(self, finding: FindingView, job: JobView, previous: DraftView | None) -> DraftRequest:
        title, published = "", None
        if finding.inspection_id is not None:
            inspection = self.store.inspections.get(finding.inspection_id)
            title, published = inspection.title, inspection.published
        return DraftRequest(
            finding=finding.to_finding(),
            inspection_title=title,
            published=published,
            force=self.scope.force,
            instruction=job.instruction,
            previous_text=previous.text if previous else None,
            # A redraft keeps the marking of the version it rewrites: its wording may carry over.
            previous_marking=previous.marking if previous else Classification.OFFICIAL,
            max_classification=self.store.channels.ceiling(job.channel),
        )

    def _drafter(self) -> Drafter:
        with self._drafter_lock:  # the first call loads the index and the model: once, not once per job
            return self._drafter_factory()

    def _failed(self, job: JobView, error: Exception) -> None:
        problem, todo = describe_error(error)
        expected = is_expected(error)
        # A timeout or a refusal is an outcome to report, not a bug: a traceback only for the unexpected.
        log.warning(
            "drafting finding %s failed: %s", job.finding_id, type(error).__name__, exc_info=None if expected else error
        )
        reason = f"{problem} {todo}"
        # Only the unexpected is tried again: a timeout would only time out again, a refusal refuse again.
        if not expected and job.attempts < MAX_ATTEMPTS:
            self.store.jobs.fail(job.id, reason, retry=True)
            self._try_update(job, f"Drafting failed ({type(error).__name__}); trying once more…")
            self.workers.wake()
            return
        ended = self.store.jobs.fail(job.id, reason, retry=False)  # first: Regenerate on the error card is taken
        self._show_failure(job, problem, todo)
        self._settled(ended)
        if self.metrics is not None:
            self.metrics.drafts_finished.labels("failed").inc()

    # ── showing outcomes ─────────────────────────────────────────────────────────────────────────────────

    def _show_outcome(self, job: JobView, seconds: float = 0.0) -> None:
        """The stored card in the job's message (a new reply when it has none); a refusal is recorded."""
        try:
            card, _ = self._show_card(job, seconds)
            if job.note_ts:
                version = f"v{card.version}" if card else "a new version"
                note = f":white_check_mark: {card.finding.label if card else 'The answer'} is now {version}: "
                self.poster.update(job.channel, job.note_ts, notice(note + "the message above is updated."))
        except SlackApiError as error:
            self._post_failed(job, error)
            return
        self.store.jobs.shown(job.id)

    def _show_card(self, job: JobView, seconds: float) -> tuple[DraftCard | None, str]:
        if job.message_ts is not None:
            card = self.show(job.finding_id, job.channel, job.message_ts, seconds=seconds, upload_to=job.thread_ts)
            return card, job.message_ts
        with self._lock_for(job.finding_id):
            card = load_card(self.store, job.finding_id, seconds=seconds, link=self.link)
            if card is None:
                raise RuntimeError(f"finding {job.finding_id} has no draft to show")
            payload = draft_message(card)
            ts, short = self.poster.show(job.channel, None, job.thread_ts, payload)
            self._record_message(job, ts)
        self._attach(job.channel, job.thread_ts, card, payload, short)
        return card, ts

    def _show_failure(self, job: JobView, problem: str, todo: str) -> None:
        try:
            if job.first and self.store.drafts.latest(job.finding_id) is None:
                retry = ButtonRef(job.finding_id, job.expected_version)
                ts, _ = self.poster.show(
                    job.channel, job.message_ts, job.thread_ts, error_message(problem, todo, retry=retry)
                )
                if job.message_ts is None:
                    self._record_message(job, ts)
            else:
                if job.message_ts:
                    self.show(job.finding_id, job.channel, job.message_ts)
                payload = error_message(problem, todo)
                if job.note_ts:
                    self.poster.update(job.channel, job.note_ts, payload)
                else:
                    self.poster.reply(job.channel, job.thread_ts, payload)
        except SlackApiError as error:
            self._post_failed(job, error, drafted=False)
            return
        self.store.jobs.shown(job.id)

    def _post_failed(self, job: JobView, error: SlackApiError, *, drafted: bool = True) -> None:
        """Slack refused even the shorter card: recorded on the job, posted again by the housekeeping."""
        code = slack_error(error)
        log.warning("could not show drafting job %s in Slack: %s", job.id, code)
        self.store.jobs.post_failed(job.id, code)
        try:  # a note in the thread, if Slack takes that much: the draft is stored and will be shown
            what = "The draft is stored" if drafted else "The drafting failed"
            text = f":warning: {what}, but Slack refused to show it ({code}). I will try again in a minute."
            self.poster.reply(job.channel, job.thread_ts, notice(text))
        except SlackApiError:
            pass

    def housekeep(self) -> None:
        """Between jobs: fail jobs interrupted twice (in their threads) and post outcomes Slack refused."""
        for job in self.store.jobs.give_up_interrupted():
            problem = "The drafting stopped twice before this draft was finished (the service restarted)."
            self._show_failure(job, problem, "Press Regenerate to try again.")
            self._settled(job)
        for job in self.store.jobs.unshown(grace_seconds=self.workers.lease_seconds):
            if job.state == "done":
                self._show_outcome(job)
            else:
                problem, _, todo = (job.error or "Drafting failed. Press Regenerate.").partition(". ")
                self._show_failure(job, problem + ".", todo or "Press Regenerate to try again.")

    def _settled(self, job: JobView) -> None:
        for hook in self.on_settled:
            try:
                hook(job)
            except Exception:
                log.exception("after drafting job %s", job.id)

    def _record_message(self, job: JobView, ts: str) -> None:
        self.store.jobs.set_message(job.id, ts)
        self.store.findings.set_message(job.finding_id, job.channel, ts)

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
            card = load_card(self.store, finding_id, seconds=seconds, busy=busy, link=self.link)
            if card is None:
                return None
            payload = draft_message(card)
            _, short = self.poster.show(channel, ts, ts, payload)
        if upload_to is not None or short:
            thread = upload_to or self.store.findings.get(finding_id).thread_ts or ts
            self._attach(channel, thread, card, payload, short)
        return card

    def _attach(self, channel: str, thread_ts: str, card: DraftCard, payload: MessagePayload, short: bool) -> None:
        """The full text as a file when the card could not hold it (or Slack took only the shorter card)."""
        text = payload.attachment or (draft_text_of(card) if short else None)
        if not text:
            return
        self.poster.upload_text(
            channel,
            thread_ts,
            text,
            payload.attachment_name,
            title=f"{card.finding.label}, draft v{card.version} (full text)",
            comment=f"Full text of {card.finding.label} v{card.version} (too long to show).",
        )

    def stream_for(self, job: JobView, finding: Finding) -> DraftStream:
        ts = job.message_ts or ""
        return DraftStream(self.poster, job.channel, ts, finding, self.stream_interval, self.monotonic)

    def _try_update(self, job: JobView, status: str, finding: Finding | None = None) -> None:
        if not job.message_ts:
            return
        try:
            finding = finding or self.store.findings.get(job.finding_id).to_finding()
            self.poster.update(job.channel, job.message_ts, drafting_placeholder(finding, status))
        except SlackApiError:
            log.debug("progress update failed for finding %s", job.finding_id)

    def _lock_for(self, finding_id: int) -> threading.Lock:
        with self._guard:
            return self._card_locks.setdefault(finding_id, threading.Lock())

    def close(self, wait: bool = True, cancel_queued: bool = False) -> None:
        self.workers.stop(wait=wait, cancel_queued=cancel_queued)


def draft_text_of(card: DraftCard) -> str:
    return f"{card.finding.label} v{card.version}\n\n{card.text}"


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


__all__ = ["MAX_ATTEMPTS", "DraftQueue", "DraftStream", "DraftingScope", "QueueSettings", "refusal_of"]

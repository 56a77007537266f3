"""A person's message to the bot (a mention, a DM, the assistant panel, a reply in one of our threads).

It is a report to read (a file), a change to the answer it follows up ("make it shorter"), a recommendation to
draft, or none of these, which gets the help text. The quick part runs here; drafting goes to the queue.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.services.draft_queue import DraftQueue
from bot.services.inputs import RecommendationTooLong, looks_like_recommendation, recommendation
from bot.services.poster import SlackPoster, slack_error
from bot.services.report_intake import ReportIntake
from bot.slack.inbound import FollowUp, Inbound, Surface, pick_follow_up
from bot.slack.ui.common import error_message, notice
from bot.slack.ui.draft_card import drafting_placeholder
from retrieval.models import Finding
from tracker.jobs import JobSpec
from tracker.repository import Repository
from tracker.views import FindingView

log = logging.getLogger(__name__)

HELP_TEXT = (
    "Paste a recommendation after mentioning me and I will draft the office's response, or upload an "
    "inspection report (PDF, Word or text) in a thread and I will draft an answer to every finding. "
    'In a thread with a draft, tell me what to change ("make it shorter") and I will redraft it.'
)


class Conversations:
    def __init__(self, store: Repository, poster: SlackPoster, drafts: DraftQueue, reports: ReportIntake) -> None:
        self.store = store
        self.poster = poster
        self.drafts = drafts
        self.reports = reports

    def handle(self, msg: Inbound, thread: list[FindingView] | None = None) -> None:
        """`thread`: the thread's findings when the caller has already read them (routing a reply does)."""
        if msg.files:
            self.reports.start(msg, msg.files[0], extra=len(msg.files) - 1)
            return
        findings = thread if thread is not None else self._thread_findings(msg)
        pick = pick_follow_up(findings, msg.text) if findings and msg.text else None
        # A label comes first: "Recommendation 3: say the custody lead should be named" is long and says
        # "should", yet it changes answer 3. Only an unlabelled paste that reads as a finding is a new one.
        if pick is not None and (pick.labelled or not looks_like_recommendation(msg.text)):
            self.follow_up(msg, findings, pick)
        elif looks_like_recommendation(msg.text):
            self.request(msg)
        else:
            self.poster.reply(msg.channel, msg.thread_ts, notice(HELP_TEXT))

    def _thread_findings(self, msg: Inbound) -> list[FindingView]:
        return self.store.findings.in_thread(msg.channel, msg.thread_ts) if msg.in_thread else []

    def request(self, msg: Inbound) -> None:
        """A pasted recommendation: store it, post a placeholder at once, queue its draft."""
        try:
            finding = recommendation(msg.text)
        except RecommendationTooLong as too_long:
            problem = f"That is {too_long}."
            todo = "For a whole report, upload the file in this thread and I will draft every finding."
            self.poster.reply(msg.channel, msg.thread_ts, error_message(problem, todo))
            return
        view = self.store.findings.add_request(finding, msg.channel, msg.thread_ts, msg.user)
        log.info("request finding %s from %s in %s", view.id, msg.user, msg.channel)
        # The job exists before its placeholder: a follow-up typed at once is told "being drafted", not "lost".
        spec = JobSpec(view.id, msg.channel, msg.thread_ts, msg.user, assistant=msg.surface is Surface.ASSISTANT)
        job = self.drafts.hold(spec)
        if job is None:  # cannot happen for a finding just added; say so rather than draft twice
            raise RuntimeError(f"finding {view.id} already has a drafting job")
        ts = None
        try:
            # Busy: the placeholder says where in the queue it stands (before release, so it never covers the card).
            ts = self._placeholder(msg, finding, self.drafts.queue_note(job) or "Drafting…")
            self.store.findings.set_message(view.id, msg.channel, ts)
        except SlackApiError as error:  # the draft is still made, and posted as a reply when it is ready
            log.warning("placeholder for finding %s not posted: %s", view.id, slack_error(error))
        finally:
            self.drafts.release(job, ts)

    def _placeholder(self, msg: Inbound, finding: Finding, status: str) -> str:
        if msg.surface is Surface.ASSISTANT:
            self.poster.assistant_status(msg.channel, msg.thread_ts, "is drafting a response…")
            self.poster.assistant_title(msg.channel, msg.thread_ts, f"{finding.label}: {finding.text[:60]}")
        return self.poster.reply(msg.channel, msg.thread_ts, drafting_placeholder(finding, status))

    def follow_up(self, msg: Inbound, findings: list[FindingView], pick: FollowUp | None = None) -> None:
        """Redraft the answer the message names (or the thread's only one); else say which ones there are."""
        pick = pick or pick_follow_up(findings, msg.text)
        if pick.finding is None:
            self.poster.reply(msg.channel, msg.thread_ts, notice(pick.problem))
            return
        if not pick.instruction:
            self.poster.reply(msg.channel, msg.thread_ts, notice("Say what should change, e.g. 'make it shorter'."))
            return
        assistant = msg.surface is Surface.ASSISTANT
        self.drafts.redraft(pick.finding, msg.user, pick.instruction, reply_to=msg.thread_ts, assistant=assistant)

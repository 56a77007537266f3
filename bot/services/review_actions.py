"""Reviewers' buttons and modals on a draft: approve, reopen, regenerate, request changes, edit, confirm, reuse.

Each decision is recorded through the tracker (which checks the state, the policy and the version the person
saw); a refusal comes back to that person alone, ephemerally. After a decision the message is rebuilt from the
store, and the `on_change` hooks (the App Home dashboard) hear that approvals moved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.services.draft_queue import DraftQueue, refusal_of
from bot.services.poster import SlackPoster
from bot.services.reviewers import ReviewerDirectory
from bot.slack.ui.common import notice, refusal_text
from bot.slack.ui.draft_card import stored_sources
from bot.slack.ui.modals import ModalContext, TooLongToEdit, confirm_modal, edit_modal, request_changes_modal
from drafting.decisions import Decision, with_decision
from drafting.rules import decide_shape
from tracker.errors import TrackerError
from tracker.repository import Repository
from tracker.review import ReviewAction
from tracker.views import FindingView, placeholders_in

log = logging.getLogger(__name__)

NOT_THIS_MESSAGE = "This button does not belong to this message; use the buttons on the answer's own message."
NOT_THIS_FORM = "This form does not belong to this message; close it and use the answer's own message."


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
class Submitted:
    """A modal submission: `error` goes back into the modal; otherwise ack, then run `then`."""

    error: str | None = None
    then: Callable[[], None] | None = None


class ReviewActions:
    def __init__(
        self, store: Repository, poster: SlackPoster, drafts: DraftQueue, reviewers: ReviewerDirectory, force: str
    ) -> None:
        self.force = force
        self.store = store
        self.poster = poster
        self.drafts = drafts
        self.reviewers = reviewers
        #: Called after a review decision changes what is approved (the App Home dashboard listens here).
        self.on_change: list[Callable[[], None]] = []

    # ── buttons ──────────────────────────────────────────────────────────────────────────────────────────

    def approve(self, click: Click) -> None:
        self._decide(click, ReviewAction.APPROVE)

    def reopen(self, click: Click) -> None:
        self._decide(click, ReviewAction.REOPEN)

    def regenerate(self, click: Click) -> None:
        finding = self._current(click)
        if finding is None:
            return
        self.drafts.redraft(finding, click.user, None, refuse=lambda text: self.tell(click, text))

    def open_request_changes(self, click: Click) -> None:
        finding = self._current(click, ReviewAction.REQUEST_CHANGES)
        if finding is None:
            return
        self.poster.open_modal(click.trigger_id, request_changes_modal(_context(click), finding.label))

    def open_edit(self, click: Click) -> None:
        finding = self._current(click, ReviewAction.EDIT)
        latest = self.store.drafts.latest(click.finding_id) if finding else None
        if finding is None or latest is None:
            return
        try:
            sources = stored_sources(latest.sources)
            view = edit_modal(_context(click), finding.label, latest.text, finding.text, sources)
        except TooLongToEdit as problem:
            self.tell(click, str(problem))
            return
        self.poster.open_modal(click.trigger_id, view)

    def open_confirm(self, click: Click) -> None:
        finding = self._current(click, ReviewAction.CONFIRM)
        latest = self.store.drafts.latest(click.finding_id) if finding else None
        if finding is None or latest is None:
            return
        markers = placeholders_in(latest.text)
        if not markers:
            self.tell(click, f"v{click.version} of {finding.label} has nothing left to confirm; approve it.")
            return
        self.poster.open_modal(click.trigger_id, confirm_modal(_context(click), finding.label, markers))

    def decide(self, click: Click, decision: Decision) -> None:
        """The reviewer's decision on the recommendation: a new version opening with its sentence, by them."""
        finding = self._current(click, ReviewAction.EDIT)
        latest = self.store.drafts.latest(click.finding_id) if finding else None
        if finding is None or latest is None:
            return
        shape = decide_shape(finding.to_finding()).shape
        text = with_decision(latest.text, decision, shape, self.force, finding.kind)
        try:
            self.store.reviews.record(
                click.finding_id, click.user, (), ReviewAction.EDIT, expected_version=click.version, new_text=text
            )
        except TrackerError as refusal:
            self.tell(click, refusal_text(refusal))
            return
        log.info("finding %s: decision %s by %s", click.finding_id, decision.value, click.user)
        self.drafts.show(click.finding_id, click.channel, click.message_ts)
        self.changed()

    def reuse(self, click: Click, earlier_id: int) -> None:
        """Another inspection's approved answer copied in as this one's next version, by the person who clicked:
        an edit in all but its words' origin, so it still needs approval by the chain."""
        finding = self._current(click, ReviewAction.EDIT)
        if finding is None:
            return
        try:
            self.store.reviews.record(
                click.finding_id,
                click.user,
                self.reviewers.groups_of(click.user),
                ReviewAction.EDIT,
                expected_version=click.version,
                reuse_of=earlier_id,
            )
        except TrackerError as refusal:
            self.tell(click, refusal_text(refusal))
            return
        log.info("finding %s: reused the answer to finding %s by %s", click.finding_id, earlier_id, click.user)
        self.drafts.show(click.finding_id, click.channel, click.message_ts)
        self.changed()

    def tell(self, click: Click, text: str) -> None:
        """A refusal or note for the person who clicked, and no one else."""
        self.poster.ephemeral(click.channel, click.user, notice(f":no_entry_sign: {text}"), click.thread_ts)

    def _decide(self, click: Click, action: ReviewAction) -> None:
        try:
            finding = self.store.findings.get(click.finding_id)
        except TrackerError as refusal:
            self.tell(click, refusal_text(refusal))
            return
        if not _belongs(finding, click.channel, click.message_ts):
            self._refuse_stranger(click)
            return
        try:
            outcome = self.store.reviews.record(
                click.finding_id,
                click.user,
                self.reviewers.groups_of(click.user),
                action,
                expected_version=click.version,
            )
        except TrackerError as refusal:
            self.tell(click, refusal_text(refusal))
            return
        log.info("finding %s: %s by %s (%s)", click.finding_id, action.value, click.user, outcome.state_after)
        self.drafts.show(click.finding_id, click.channel, click.message_ts)
        self.changed()

    def changed(self) -> None:
        for hook in self.on_change:
            try:
                hook()
            except Exception:  # a listener's failure (e.g. the dashboard) must not undo a recorded decision
                log.exception("change hook failed")

    def _current(self, click: Click, action: ReviewAction = ReviewAction.DRAFT) -> FindingView | None:
        """The finding if the click is on its latest version and `action` is allowed now; else say why."""
        try:
            finding = self.store.findings.get(click.finding_id)
        except TrackerError as problem:
            self.tell(click, refusal_text(problem))
            return None
        if not _belongs(finding, click.channel, click.message_ts):
            self._refuse_stranger(click)
            return None
        if finding.latest_version != click.version:
            self.tell(
                click,
                f"This message shows v{click.version}, but {finding.label} is now at "
                f"v{finding.latest_version}; use the buttons on the updated message.",
            )
            return None
        if problem := refusal_of(finding, action):
            self.tell(click, problem)
            return None
        return finding

    def _refuse_stranger(self, click: Click) -> None:
        """A click whose channel or message is not the finding's own: refused, and nothing is written anywhere."""
        log.warning(
            "finding %s: click by %s from %s/%s refused (not its message)",
            click.finding_id,
            click.user,
            click.channel,
            click.message_ts,
        )
        self.tell(click, NOT_THIS_MESSAGE)

    def _stranger_form(self, ctx: ModalContext, user: str) -> Submitted | None:
        """A refusal when the modal's message is not the finding's own (or the finding is gone), else None."""
        try:
            finding = self.store.findings.get(ctx.finding_id)
        except TrackerError as refusal:
            return Submitted(refusal_text(refusal))
        if _belongs(finding, ctx.channel, ctx.message_ts):
            return None
        log.warning("finding %s: form by %s from %s/%s refused", ctx.finding_id, user, ctx.channel, ctx.message_ts)
        return Submitted(NOT_THIS_FORM)

    # ── modal submissions ────────────────────────────────────────────────────────────────────────────────

    def submit_request_changes(self, ctx: ModalContext, user: str, comment: str) -> Submitted:
        if not comment:
            return Submitted("Say what should change: the redraft follows your comment.")
        if stranger := self._stranger_form(ctx, user):
            return stranger
        if self.drafts.is_drafting(ctx.finding_id):
            # Inside the modal: the words say what to do there, after the new version is posted.
            return Submitted("A new version is being drafted right now; wait for it, then ask for changes on it.")
        try:
            outcome = self.store.reviews.record(
                ctx.finding_id, user, (), ReviewAction.REQUEST_CHANGES, comment=comment, expected_version=ctx.version
            )
        except TrackerError as refusal:
            return Submitted(refusal_text(refusal))

        def redraft() -> None:
            log.info("finding %s: changes requested by %s", ctx.finding_id, user)
            self.drafts.redraft(outcome.finding, user, comment, check=False)

        return Submitted(then=redraft)

    def submit_confirm(self, ctx: ModalContext, user: str, index: int | None, note: str) -> Submitted:
        """One placeholder vouched for as written: a new version without it, the note in the audit log."""
        if index is None:
            return Submitted("Choose the placeholder you have confirmed.")
        if stranger := self._stranger_form(ctx, user):
            return stranger
        latest = self.store.drafts.latest(ctx.finding_id)
        markers = placeholders_in(latest.text) if latest else []
        if latest is None or latest.version != ctx.version or index >= len(markers):
            return Submitted("This form is out of date: the answer has changed. Close it and use the new message.")
        try:
            self.store.reviews.record(
                ctx.finding_id,
                user,
                self.reviewers.groups_of(user),
                ReviewAction.CONFIRM,
                comment=note,
                expected_version=ctx.version,
                marker=markers[index],
            )
        except TrackerError as refusal:
            return Submitted(refusal_text(refusal))

        def show_and_notify() -> None:
            log.info("finding %s: placeholder confirmed by %s", ctx.finding_id, user)
            self.drafts.show(ctx.finding_id, ctx.channel, ctx.message_ts, upload_to="")
            self.changed()

        return Submitted(then=show_and_notify)

    def submit_edit(self, ctx: ModalContext, user: str, text: str) -> Submitted:
        if not text:
            return Submitted("The text is empty; type the full answer you want to keep.")
        if stranger := self._stranger_form(ctx, user):
            return stranger
        try:
            self.store.reviews.record(
                ctx.finding_id, user, (), ReviewAction.EDIT, expected_version=ctx.version, new_text=text
            )
        except TrackerError as refusal:
            return Submitted(refusal_text(refusal))

        def show_and_notify() -> None:
            self.drafts.show(ctx.finding_id, ctx.channel, ctx.message_ts, upload_to="")
            self.changed()

        return Submitted(then=show_and_notify)


def _belongs(finding: FindingView, channel: str, message_ts: str) -> bool:
    """Whether a click or form came from the finding's own stored message (channel and ts both)."""
    return bool(finding.channel_id and finding.message_ts) and (channel, message_ts) == (
        finding.channel_id,
        finding.message_ts,
    )


def _context(click: Click) -> ModalContext:
    return ModalContext(f=click.finding_id, v=click.version, c=click.channel, ts=click.message_ts)

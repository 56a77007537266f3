"""The App Home dashboard; re-published to everyone who has opened it whenever the data changes.

Each viewer sees their own "Awaiting my review": the drafts they may approve under the approval policy (a
configured reviewer or a member of a reviewer group, or anyone when none is configured; never their own
requested draft when self-approval is off) that they have not approved yet, each linked to its message.
Once anything is in the recommendation register, it also shows each inspection's open / overdue / closed items
and "Assigned to you": the viewer's live items with their due dates and Add update.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from slack_sdk.errors import SlackApiError

from bot.services.inspection_desk import InspectionDesk
from bot.services.permalinks import Permalinks
from bot.services.poster import SlackPoster
from bot.services.register_desk import assigned_to, inspection_counts
from bot.services.reviewers import ReviewerDirectory
from bot.slack.ui.home import AwaitingDraft, HomeRow, home_view
from bot.slack.ui.register import AssignedItem, InspectionCounts
from tracker.errors import TrackerError
from tracker.register import RegisterItemView
from tracker.review import (
    ReviewAction,
    ReviewSnapshot,
    ReviewState,
    current_approvers,
    drafter_of,
    transition,
)
from tracker.views import placeholders_in

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reviewable:
    """A draft someone may approve now, with who already has and who asked for it (viewer-independent)."""

    draft: AwaitingDraft
    approvers: tuple[str, ...]
    drafter: str | None
    requester: str | None = None


@dataclass(frozen=True)
class RegisterSnapshot:
    """The register as one refresh read it: every item (for each viewer's own) and the counts (for everyone)."""

    items: tuple[RegisterItemView, ...] = ()
    counts: tuple[InspectionCounts, ...] = ()

    def assigned(self, user: str, today: date) -> list[AssignedItem] | None:
        """The viewer's live items; None while the register is empty (App Home leaves the section out)."""
        return assigned_to(user, self.items, today) if self.items else None


def approvable(state: ReviewState) -> bool:
    """Whether the state machine lets an answer in `state` be approved (drafted, redrafted, …)."""
    try:
        transition(ReviewSnapshot(state=state), ReviewAction.APPROVE)
    except TrackerError:
        return False
    return True


def reply_link(links: Permalinks, channel: str | None, ts: str | None, thread_ts: str | None) -> str | None:
    """A message's permalink; a reply's carries its thread, so Slack opens the thread on it."""
    link = links.message(channel, ts) if ts else None
    if link and thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link


class HomeTab:
    def __init__(
        self,
        desk: InspectionDesk,
        poster: SlackPoster,
        links: Permalinks,
        reviewers: ReviewerDirectory | None = None,
    ) -> None:
        self.desk = desk
        self.poster = poster
        self.links = links
        self.reviewers = reviewers
        self._viewers: set[str] = set()
        self._fingerprints: dict[str, str] = {}
        self._lock = threading.Lock()

    def rows(self) -> list[HomeRow]:
        return [
            HomeRow(summary=s, link=self.links.message(s.inspection.channel_id, s.inspection.thread_ts))
            for s in self.desk.open_inspections()
        ]

    def reviewable(self, rows: Sequence[HomeRow]) -> list[Reviewable]:
        """Every draft of an open inspection that may be approved now, soonest inspection first, report order."""
        repo = self.desk.repo
        found = []
        for row in rows:
            view = row.summary.inspection
            if not view.findings_total:
                continue
            for answer in repo.findings.answers(view.id):
                finding, draft = answer.finding, answer.draft
                if draft is None or not approvable(finding.state):
                    continue
                on_latest = [r for r in repo.reviews.of(finding.id) if r.draft_version == draft.version]
                awaiting = AwaitingDraft(
                    finding_id=finding.id,
                    label=finding.label,
                    version=draft.version,
                    inspection_id=view.id,
                    inspection_title=view.title,
                    to_confirm=len(placeholders_in(draft.text)),
                    link=reply_link(self.links, finding.channel_id, finding.message_ts, finding.thread_ts),
                )
                approvers = current_approvers(finding.state, on_latest)
                drafter = drafter_of(draft.author, draft.requested_by)
                found.append(Reviewable(awaiting, approvers, drafter, finding.requested_by))
        return found

    def awaiting(self, user: str, reviewable: Sequence[Reviewable]) -> list[AwaitingDraft]:
        """The drafts `user` may approve and has not approved yet."""
        policy = self.desk.repo.policy
        if not reviewable:
            return []
        # A named reviewer needs no group lookup, unless a later stage of the chain is signed by a group.
        named = user in policy.reviewers and len(policy.chain) == 1
        groups = self.reviewers.groups_of(user) if self.reviewers and not named else ()
        return [
            item.draft
            for item in reviewable
            if user not in item.approvers
            and policy.can_approve(user, groups, item.drafter, item.requester, signed=item.approvers)[0]
        ]

    def publish(self, user: str) -> None:
        """Show the dashboard to one person (on app_home_opened) and remember them for later refreshes."""
        with self._lock:
            rows = self.rows()
            self._viewers.add(user)
            self._publish_to(user, rows, self.reviewable(rows), only_if_changed=False, register=self.register())

    def refresh(self, only_if_changed: bool = False) -> int:
        """Re-publish for every known viewer; with `only_if_changed`, only to those whose dashboard moved."""
        # Read and publish under one lock: a refresh that read the data earlier must not publish after a
        # newer one and leave viewers (and the change fingerprints) on stale rows.
        with self._lock:
            if not self._viewers:
                return 0
            rows = self.rows()
            reviewable = self.reviewable(rows)
            register = self.register()
            return sum(
                self._publish_to(user, rows, reviewable, only_if_changed, register) for user in sorted(self._viewers)
            )

    def register(self) -> RegisterSnapshot:
        """Read once per refresh, for every viewer: a register of a few hundred items is one query."""
        items = tuple(self.desk.repo.register.items())
        return RegisterSnapshot(items, tuple(inspection_counts(items, self.desk.today())))

    def refresh_quietly(self) -> None:
        """After a change elsewhere: the dashboard is a convenience, so a failure here is only logged."""
        try:
            self.refresh(only_if_changed=True)
        except Exception:
            log.exception("App Home refresh failed")

    def _publish_to(
        self,
        user: str,
        rows: list[HomeRow],
        reviewable: Sequence[Reviewable],
        only_if_changed: bool,
        register: RegisterSnapshot,
    ) -> bool:
        awaiting = self.awaiting(user, reviewable)
        assigned = register.assigned(user, self.desk.today())
        data = {
            "rows": [row.model_dump(mode="json") for row in rows],
            "awaiting": [item.model_dump(mode="json") for item in awaiting],
            "counts": [row.model_dump(mode="json") for row in register.counts],
            "assigned": None if assigned is None else [item.model_dump(mode="json") for item in assigned],
        }
        fingerprint = json.dumps(data, sort_keys=True)
        if only_if_changed and fingerprint == self._fingerprints.get(user):
            return False
        self._fingerprints[user] = fingerprint
        return self._send(user, rows, awaiting, register.counts, assigned)

    def _send(
        self,
        user: str,
        rows: list[HomeRow],
        awaiting: list[AwaitingDraft],
        counts: Sequence[InspectionCounts],
        assigned: list[AssignedItem] | None,
    ) -> bool:
        view = home_view(rows, self.desk.clock(), awaiting, register=counts, assigned=assigned)
        try:
            self.poster.publish_home(user, view)
        except SlackApiError as error:
            log.warning("views.publish for %s failed: %s", user, error.response.get("error"))
            return False
        return True

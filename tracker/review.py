"""The review state machine and the approval policy: pure functions the repository applies in a transaction.

    awaiting_draft ─draft→ drafted ─request_changes→ changes_requested ─draft/edit/confirm→ redrafted
    drafted / redrafted ─approve (N distinct people)→ approved ─reopen→ reopened
    reopened ─draft/edit/confirm→ redrafted (or ─request_changes→ changes_requested) … approved
    reopened ─approve (N people, after the reopening)→ approved   (a mistaken Reopen undone, audited)

A new version (the engine's redraft, a reviewer's edit, or a placeholder confirmed as written) always lands in
`redrafted`. Approval needs N approvals by distinct people on the *latest* version, given since anyone last
questioned it, and text with no `[CONFIRM: …]` left in it: nothing unconfirmed is ever final.

Approval runs through the office's sign-off chain (`ApprovalPolicy.chain`: ordered stages, each with its approvers
and count; by default one "Review" stage). The approvals on the latest version fill the stages in order, so the
answer is approved only when the last stage signs, and a new version starts the chain again at the first stage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from tracker.clock import format_when
from tracker.errors import IllegalTransition, InvalidInput, NotAllowed
from tracker.people import people, person

BOT_AUTHOR = "responder"


class ReviewState(StrEnum):
    AWAITING_DRAFT = "awaiting_draft"
    DRAFTED = "drafted"
    CHANGES_REQUESTED = "changes_requested"
    REDRAFTED = "redrafted"
    APPROVED = "approved"
    REOPENED = "reopened"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class ReviewAction(StrEnum):
    """What can happen to an answer. DRAFT is the engine storing a new version; the others are reviewers'."""

    DRAFT = "draft"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    EDIT = "edit"
    REOPEN = "reopen"
    #: A reviewer vouches for the text around one `[CONFIRM: …]` as it stands: a new version without that marker.
    CONFIRM = "confirm"


REVIEWER_ACTIONS = frozenset(
    {ReviewAction.APPROVE, ReviewAction.REQUEST_CHANGES, ReviewAction.EDIT, ReviewAction.REOPEN, ReviewAction.CONFIRM}
)
NEW_VERSION = frozenset({ReviewAction.DRAFT, ReviewAction.EDIT, ReviewAction.CONFIRM})

_S, _A = ReviewState, ReviewAction
_REVIEWABLE = (_S.DRAFTED, _S.REDRAFTED)
_TRANSITIONS: dict[tuple[ReviewState, ReviewAction], ReviewState] = {
    (_S.AWAITING_DRAFT, _A.DRAFT): _S.DRAFTED,
    **{
        (state, action): _S.REDRAFTED
        for state in (*_REVIEWABLE, _S.CHANGES_REQUESTED, _S.REOPENED)
        for action in NEW_VERSION
    },
    **{
        (state, _A.REQUEST_CHANGES): _S.CHANGES_REQUESTED for state in (*_REVIEWABLE, _S.CHANGES_REQUESTED, _S.REOPENED)
    },
    **{(state, _A.APPROVE): _S.APPROVED for state in (*_REVIEWABLE, _S.REOPENED)},
    (_S.APPROVED, _A.REOPEN): _S.REOPENED,
}


#: While an answer is in one of these states approvals on its latest version can stand. A change request
#: questions that text for good (a new version follows); a reopening questions the approvals given before it.
APPROVALS_STAND = frozenset({ReviewState.DRAFTED, ReviewState.REDRAFTED, ReviewState.APPROVED, ReviewState.REOPENED})


class Decided(Protocol):
    """One review as the approval count reads it: a stored row or a ReviewView both fit."""

    @property
    def reviewer(self) -> str: ...
    @property
    def action(self) -> str: ...


def current_approvers(state: ReviewState, reviews_on_latest: Iterable[Decided]) -> tuple[str, ...]:
    """Who has approved the latest version and still counts, once each in the order they approved.

    The one rule behind the state machine's count, the draft card's "1 of 2 approvals" and the pack's
    "approved by", so what is shown can never differ from what is counted.
    """
    return tuple(user for user, _ in _standing(state, reviews_on_latest))


class DecidedAt(Decided, Protocol):
    """A review with its time: what the stage lines on the card and in the pack need."""

    @property
    def created_at(self) -> datetime: ...


def current_signatures(state: ReviewState, reviews_on_latest: Iterable[DecidedAt]) -> tuple[Signature, ...]:
    """`current_approvers` with when each one approved (their first approval of this round)."""
    return tuple(Signature(user, at) for user, at in _standing(state, reviews_on_latest))


def _standing(state: ReviewState, reviews: Iterable[Decided]) -> list[tuple[str, datetime | None]]:
    if state not in APPROVALS_STAND:
        return []
    standing: dict[str, datetime | None] = {}
    for review in reviews:
        if review.action == ReviewAction.APPROVE:
            standing.setdefault(review.reviewer, getattr(review, "created_at", None))
        else:  # a reopening withdrew what came before it; only approvals given since then count
            standing.clear()
    return list(standing.items())


@dataclass(frozen=True)
class ReviewSnapshot:
    """What the state machine needs to know, and what its refusals quote back to the user."""

    state: ReviewState
    version: int = 0
    approvers: tuple[str, ...] = ()
    last_actor: str | None = None
    last_at: datetime | None = None


def transition(snapshot: ReviewSnapshot, action: ReviewAction, required_approvals: int = 1) -> ReviewState:
    """The state after `action`, or IllegalTransition saying why not and what to do instead.

    `required_approvals` is every approval the sign-off chain needs (`ApprovalPolicy.total_approvals`): the
    answer is approved only when the last stage signs."""
    target = _TRANSITIONS.get((snapshot.state, action))
    if target is None:
        raise IllegalTransition(_refusal(snapshot, action))
    if action is ReviewAction.APPROVE and len(snapshot.approvers) + 1 < required_approvals:
        return snapshot.state  # an approval is recorded, but the answer waits for more
    return target


def _refusal(snapshot: ReviewSnapshot, action: ReviewAction) -> str:
    version, who = f"v{snapshot.version}", _who_when(snapshot)
    match snapshot.state:
        case ReviewState.AWAITING_DRAFT:
            return "There is no draft to review yet; wait for the draft to be posted."
        case ReviewState.APPROVED:
            approvers = people(snapshot.approvers) or "a reviewer"
            when = f" at {format_when(snapshot.last_at)}" if snapshot.last_at else ""
            return f"This answer is already approved ({version} by {approvers}{when}); reopen it first."
        case ReviewState.CHANGES_REQUESTED if action is ReviewAction.APPROVE:
            return (
                f"Changes were requested on {version}{who}; approve the redraft once it is posted "
                "(or edit the text yourself)."
            )
    return f"Only an approved answer can be reopened; this one is {snapshot.state.label} ({version})."


def _who_when(snapshot: ReviewSnapshot) -> str:
    parts = []
    if snapshot.last_actor:
        parts.append(f" by {person(snapshot.last_actor)}")
    if snapshot.last_at:
        parts.append(f" at {format_when(snapshot.last_at)}")
    return "".join(parts)


class OfficeAction(StrEnum):
    """What a person does to an inspection on the office's behalf: each one reviewers-only, like approving."""

    PCC_COMMENTS = "pcc_comments"
    CC_COMMENTS = "cc_comments"
    EXPORT_PACK = "export_pack"
    ATTACH = "attach"
    MARK_DONE = "mark_done"

    @property
    def phrase(self) -> str:
        return _OFFICE_PHRASES[self]


_OFFICE_PHRASES = {
    OfficeAction.PCC_COMMENTS: "set the PCC's comments",
    OfficeAction.CC_COMMENTS: "set the chief constable's comments",
    OfficeAction.EXPORT_PACK: "export the final pack",
    OfficeAction.ATTACH: "attach a report to an inspection",
    OfficeAction.MARK_DONE: "mark a step done",
}


DEFAULT_STAGE = "Review"


@dataclass(frozen=True)
class Stage:
    """One step of the sign-off chain: who may sign it and how many of them must.

    `approvers` are Slack user ids (U…) or user-group ids (S…); empty means any reviewer under the policy.
    """

    name: str
    approvers: frozenset[str] = frozenset()
    required: int = 1

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a sign-off stage needs a name")
        if self.required < 1:
            raise ValueError(f"stage {self.name!r} must require at least 1 approval")


@dataclass(frozen=True)
class Signature:
    """One standing approval: who, and when they gave it."""

    user: str
    at: datetime | None = None


@dataclass(frozen=True)
class StageSignature:
    """Where one stage stands on the latest version: its name, who signed it and when."""

    name: str
    required: int
    signers: tuple[Signature, ...] = ()

    @property
    def signed(self) -> bool:
        return len(self.signers) >= self.required


def stage_signatures(chain: Sequence[Stage], approvals: Sequence[Signature | str]) -> tuple[StageSignature, ...]:
    """The standing approvals, in the order given, filling the stages in order: stage i is signed once it has
    its `required` signers. The one reading of the approvals behind the count, the card and the pack."""
    signatures = [a if isinstance(a, Signature) else Signature(a) for a in approvals]
    out, taken = [], 0
    for stage in chain:
        signers = tuple(signatures[taken : taken + stage.required])
        taken += len(signers)
        out.append(StageSignature(stage.name, stage.required, signers))
    return tuple(out)


@dataclass(frozen=True)
class ApprovalPolicy:
    """Who may approve, and in what stages. An empty reviewer set means any person in the channel may (never the
    bot itself). Without `stages` the chain is one stage ("Review") of `required_approvals` reviewers.

    `reviewers` always holds everyone a stage names as well (folded in on construction), so the office's other
    reviewer-only actions (comments, the pack, reopening, confirming) are open to every signatory.
    """

    reviewers: frozenset[str] = frozenset()
    drafter_may_approve: bool = True
    required_approvals: int = 1
    stages: tuple[Stage, ...] = ()

    def __post_init__(self) -> None:
        if self.required_approvals < 1:
            raise ValueError("required_approvals must be at least 1")
        names = [stage.name.casefold() for stage in self.stages]
        if len(set(names)) != len(names):
            raise ValueError("each sign-off stage needs its own name")
        named = frozenset().union(*(stage.approvers for stage in self.stages))
        if named - self.reviewers:  # frozen: set once here, so the reviewer set is the union everywhere
            object.__setattr__(self, "reviewers", self.reviewers | named)

    @classmethod
    def of(
        cls,
        reviewers: Iterable[str] = (),
        drafter_may_approve: bool = True,
        required_approvals: int = 1,
        stages: Iterable[Stage] = (),
    ) -> ApprovalPolicy:
        cleaned = frozenset(r.strip() for r in reviewers if r.strip())
        return cls(cleaned, drafter_may_approve, required_approvals, tuple(stages))

    @property
    def chain(self) -> tuple[Stage, ...]:
        """The stages in order: the configured ones, or the single reviewer stage every office starts with."""
        return self.stages or (Stage(DEFAULT_STAGE, frozenset(), self.required_approvals),)

    @property
    def total_approvals(self) -> int:
        """Approvals by distinct people the whole chain needs: the answer is final after the last stage."""
        return sum(stage.required for stage in self.chain)

    @property
    def staged(self) -> bool:
        return len(self.chain) > 1

    def stage_to_sign(self, signed: Sequence[str]) -> Stage:
        """The stage the next approval signs, given who has already signed (in order); the last when all are."""
        progress = stage_signatures(self.chain, signed)
        return next((self.chain[i] for i, s in enumerate(progress) if not s.signed), self.chain[-1])

    def stage_signed_by(self, user: str, signed: Sequence[str]) -> Stage | None:
        for stage, progress in zip(self.chain, stage_signatures(self.chain, signed), strict=True):
            if any(s.user == user for s in progress.signers):
                return stage
        return None

    def is_reviewer(self, user: str, groups: Iterable[str] = ()) -> tuple[bool, str]:
        if not user or user == BOT_AUTHOR:
            return False, "Only a person can approve an answer."
        if not self.reviewers:
            return True, "Any member may approve (no reviewers are configured)."
        if user in self.reviewers:
            return True, "You are a configured reviewer."
        if matched := sorted(self.reviewers.intersection(groups)):
            return True, f"You are in the reviewer group {person(matched[0])}."
        named = people(sorted(self.reviewers))
        return False, f"Only the configured reviewers can approve answers ({named}); ask one of them."

    def can_approve(
        self,
        user: str,
        groups: Iterable[str] = (),
        draft_author: str | None = None,
        requester: str | None = None,
        *,
        signed: Sequence[str] = (),
    ) -> tuple[bool, str]:
        """`draft_author`: who is responsible for the latest version; `requester`: who asked for the finding;
        `signed`: who has already approved it, in order (which says the stage this approval would sign).

        Without `drafter_may_approve`, neither may sign any stage: the person who asked for an answer never
        approves any version of it, however many times someone else redrafts it (four eyes). Nobody signs two
        stages of one version.
        """
        groups = tuple(groups)
        stage = self.stage_to_sign(signed)
        if user and user in signed:  # said before eligibility: "you signed already" is the reason that helps
            return False, self._signed_already(user, stage, signed)
        allowed, reason = self._may_sign(stage, user, groups)
        if allowed and not self.drafter_may_approve:
            if requester and requester == user:
                return False, "You asked for this answer; someone else must approve any version of it."
            if draft_author == user:
                return False, "You wrote or requested this version; someone else must approve it."
        return allowed, reason

    def _may_sign(self, stage: Stage, user: str, groups: tuple[str, ...]) -> tuple[bool, str]:
        """Whether `user` is one of the people `stage` names (or, naming none, a reviewer at all)."""
        if not stage.approvers or not user or user == BOT_AUTHOR:
            allowed, reason = self.is_reviewer(user, groups)
            return allowed, (reason if allowed or not self.staged else f"{stage.name} signs next. {reason}")
        if user in stage.approvers:
            return True, f"You sign as {stage.name}."
        if matched := sorted(stage.approvers.intersection(groups)):
            return True, f"You sign as {stage.name} (in {person(matched[0])})."
        named = people(sorted(stage.approvers))
        return False, f"This answer waits for {stage.name} to sign, which only {named} can do; ask one of them."

    def _signed_already(self, user: str, stage: Stage, signed: Sequence[str]) -> str:
        earlier = self.stage_signed_by(user, signed)
        if earlier is not None and earlier != stage:
            return f"You signed as {earlier.name}; {stage.name} must be someone else."
        return f"You have already signed as {stage.name}; someone else must give the next approval."

    def may(self, action: OfficeAction, user: str, groups: Iterable[str] = ()) -> tuple[bool, str]:
        """Whether `user` may take an office action (comments, the final pack, attach, any `done` step):
        reviewers only, by the same rule as approving (anyone when no reviewers are configured; never the bot)."""
        allowed, reason = self.is_reviewer(user, groups)
        if allowed:
            return True, reason
        if not user or user == BOT_AUTHOR:
            return False, f"Only a person can {action.phrase}."
        named = people(sorted(self.reviewers))
        return False, f"Only the configured reviewers can {action.phrase} ({named}); ask one of them."

    def can_reopen(self, user: str, groups: Iterable[str] = ()) -> tuple[bool, str]:
        """Reopening withdraws an approval, so it needs the same standing as giving one."""
        return self.is_reviewer(user, groups)


def drafter_of(author: str, requested_by: str | None) -> str | None:
    """The person responsible for a version: its human author, or whoever asked the engine for it."""
    return requested_by if author == BOT_AUTHOR else author


def check_allowed(
    policy: ApprovalPolicy,
    action: ReviewAction,
    reviewer: str,
    groups: tuple[str, ...],
    drafter: str | None,
    snapshot: ReviewSnapshot,
    comment: str | None,
    new_text: str | None,
    unconfirmed: tuple[str, ...] = (),
    marker: str | None = None,
    requester: str | None = None,
) -> None:
    """Whether this person may take this action on this version now; raises what to tell them if not.

    `drafter`: who is responsible for the latest version; `requester`: who asked for the finding.
    `unconfirmed`: the `[CONFIRM: …]` markers left in the latest version's text; `marker`: the one to confirm.
    """
    if action is ReviewAction.APPROVE:
        _check_approve(policy, reviewer, groups, drafter, snapshot, unconfirmed, requester)
    elif action is ReviewAction.REOPEN:
        allowed, reason = policy.can_reopen(reviewer, groups)
        if not allowed:
            raise NotAllowed(reason.replace("approve answers", "reopen an approved answer"))
    elif action is ReviewAction.REQUEST_CHANGES and not comment:
        raise InvalidInput("Say what should change: the comment is what the redraft will follow.")
    elif action is ReviewAction.EDIT and not (new_text or "").strip():
        raise InvalidInput("The edited answer is empty; type the full text you want to keep.")
    elif action is ReviewAction.CONFIRM:
        _check_confirm(policy, reviewer, groups, comment, marker, unconfirmed)


def _check_approve(
    policy: ApprovalPolicy,
    reviewer: str,
    groups: tuple[str, ...],
    drafter: str | None,
    snapshot: ReviewSnapshot,
    unconfirmed: tuple[str, ...],
    requester: str | None,
) -> None:
    signed = snapshot.approvers
    stage = policy.stage_to_sign(signed)
    if reviewer in signed and policy.stage_signed_by(reviewer, signed) == stage:
        # A second click by the same person on the same stage: the state, not the policy, refuses it.
        missing = policy.total_approvals - len(signed)
        as_stage = f" as {stage.name}" if policy.staged else ""
        raise IllegalTransition(
            f"You have already approved v{snapshot.version}{as_stage}; it needs {missing} more approval"
            f"{'s' if missing != 1 else ''} from someone else."
        )
    allowed, reason = policy.can_approve(reviewer, groups, drafter, requester, signed=signed)
    if not allowed:
        raise NotAllowed(reason)
    if unconfirmed:
        raise Unconfirmed(snapshot.version, unconfirmed)


def _check_confirm(
    policy: ApprovalPolicy,
    reviewer: str,
    groups: tuple[str, ...],
    note: str | None,
    marker: str | None,
    unconfirmed: tuple[str, ...],
) -> None:
    allowed, reason = policy.is_reviewer(reviewer, groups)
    if not allowed:
        raise NotAllowed(reason.replace("approve answers", "confirm a placeholder"))
    if marker not in unconfirmed:
        left = ", ".join(unconfirmed) or "none"
        raise InvalidInput(f"{marker or 'That placeholder'} is not in the latest text (placeholders left: {left}).")
    if not note:
        raise InvalidInput("Say how you confirmed it (who, or which document): the note is kept in the audit log.")


class Unconfirmed(IllegalTransition):
    """Approval asked for while the text still holds `[CONFIRM: …]` markers; says which, and what to do."""

    def __init__(self, version: int, markers: tuple[str, ...]) -> None:
        self.markers = markers
        listed = "; ".join(markers)
        count = f"{len(markers)} placeholder{'s' if len(markers) != 1 else ''}"
        super().__init__(
            f"v{version} still holds {count} to confirm: {listed}. Nothing unconfirmed can be approved: edit "
            "the text to replace them, or use Confirm as written (with a note saying how you checked)."
        )


def without_marker(text: str, marker: str) -> str:
    """The text with every occurrence of one `[CONFIRM: …]` marker removed, and the spacing around it tidied."""
    out = text.replace(marker, "")
    out = re.sub(r"[ \t]+([.,;:])", r"\1", out)
    out = re.sub(r"([.!?])\.+", r"\1", out)  # "… 2023 [CONFIRM: …]." leaves "2023 ." → "2023."
    out = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", out)  # "A, [CONFIRM: …], B" leaves "A,, B" → "A, B"
    out = re.sub(r"[ \t]{2,}", " ", out)
    return "\n".join(line.rstrip() for line in out.splitlines()).strip()

"""The draft card: one finding, the latest version of its answer, its sources and where its review stands.

Pure functions from a `DraftCard` to a message; `build_card` makes the card from the store's views.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from bot.slack import constants as c
from bot.slack.ui.common import (
    BadPayload,
    Block,
    ButtonRef,
    MessagePayload,
    bullet_list,
    button,
    button_value,
    context,
    escape,
    mention,
    parse_button_value,
    section,
    slack_time,
    split_text,
    truncate,
)
from drafting.decisions import Decision
from drafting.fact_check import PLACEHOLDER
from drafting.models import AnswerShape, GuardFinding, Plan, SourceRef, is_grounded
from drafting.render import source_line
from retrieval.models import Finding
from tracker.review import BOT_AUTHOR, ReviewAction, ReviewState, current_approvers, drafter_of
from tracker.views import DraftView, FindingView, ReviewView

T = TypeVar("T", bound=BaseModel)

_STATE_WORDS = {
    ReviewState.AWAITING_DRAFT: "awaiting a draft",
    ReviewState.DRAFTED: "awaiting review",
    ReviewState.CHANGES_REQUESTED: "changes requested",
    ReviewState.REDRAFTED: "redrafted",
    ReviewState.APPROVED: "approved",
    ReviewState.REOPENED: "reopened",
}


class DraftCard(BaseModel):
    """Everything a draft message shows: one finding, its latest version, and where its review stands."""

    finding_id: int
    version: int = Field(..., ge=1)
    finding: Finding
    inspection_title: str = ""
    text: str
    sources: list[SourceRef] = Field(default_factory=list)
    guard: list[GuardFinding] = Field(default_factory=list)
    placeholders: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    engine: str = ""
    seconds: float = 0.0
    grounded: bool = True
    state: ReviewState = ReviewState.DRAFTED
    actor: str | None = Field(None, description="Who made the last decision, or asked for this version")
    acted_at: datetime | None = None
    comment: str | None = Field(None, description="The pending change request, shown while it is redrafted")
    approvers: list[str] = Field(default_factory=list, description="Who approved this version")
    required_approvals: int = 1
    author: str = Field(BOT_AUTHOR, description="Who wrote this version: the engine or a person (user id)")
    instruction: str | None = Field(None, description="The instruction this version followed")
    busy: str | None = Field(None, description="Work in progress on this answer: 'Redrafting…'")
    plan: Plan | None = Field(None, description="The asks, each with its evidence or placeholder")


def highlight(text: str) -> str:
    """Escaped mrkdwn with every [CONFIRM: …] in bold, so the reviewer's eye lands on it."""
    return PLACEHOLDER.sub(lambda m: f"*{m.group(0)}*", escape(text))


def status_line(card: DraftCard) -> str:
    """`Draft v2 · changes requested by <@U1> at 14:02`: version, state, who acted and when."""
    when = f" at {slack_time(card.acted_at)}" if card.acted_at else ""
    who = f" by {mention(card.actor)}" if card.actor else ""
    match card.state:
        case ReviewState.APPROVED:
            names = ", ".join(mention(a) for a in card.approvers) or (mention(card.actor) if card.actor else "")
            state = f"approved by {names}{when}" if names else f"approved{when}"
        case ReviewState.CHANGES_REQUESTED | ReviewState.REOPENED:
            state = f"{_STATE_WORDS[card.state]}{who}{when}"
        case ReviewState.REDRAFTED if card.author and card.author != BOT_AUTHOR:
            state = f"edited by {mention(card.author)}{when}"
        case ReviewState.REDRAFTED:
            state = f"redrafted for {mention(card.actor)}{when}" if card.actor else f"redrafted{when}"
        case _:
            state = _STATE_WORDS[card.state]
    parts = [f"Draft v{card.version}", state]
    if card.state is not ReviewState.APPROVED and (card.approvers or card.required_approvals > 1):
        names = f" ({', '.join(mention(a) for a in card.approvers)})" if card.approvers else ""
        parts.append(f"{len(card.approvers)} of {card.required_approvals} approvals{names}")
    return " · ".join(parts)


def draft_message(card: DraftCard) -> MessagePayload:
    finding = card.finding
    blocks: list[Block] = [_finding_block(card)]
    if card.comment and card.state is ReviewState.CHANGES_REQUESTED:
        blocks.append(context([f":speech_balloon: Changes requested: _{escape(card.comment)}_"]))
    elif card.instruction:
        blocks.append(context([f":speech_balloon: This version follows: _{escape(card.instruction)}_"]))
    text_blocks, complete = _draft_text_blocks(card.text)
    blocks += text_blocks
    if not complete:
        blocks.append(
            section(
                f":paperclip: This draft is {len(card.text):,} characters, more than a Slack message shows; "
                "the full text is attached as a file in this thread.",
                c.BLOCK_TRUNCATED,
            )
        )
    if card.placeholders:
        head = ":warning: *To confirm before approval*"
        items = [escape(p) for p in card.placeholders]
        blocks.append(section(bullet_list(items, head=head), c.BLOCK_PLACEHOLDERS))
    if not card.grounded:
        blocks.append(
            section(
                ":no_entry: *Not grounded:* some of this text is not borne out by the evidence found (see the "
                "checks below). Treat it as wording only.",
                c.BLOCK_UNGROUNDED,
            )
        )
    if card.plan is not None and card.plan.asks:
        blocks.append(_plan_block(card.plan))
    blocks.append(_sources_block(card.sources))
    if card.guard:
        items = [f"*{g.kind.value}*: {escape(g.detail)}" for g in card.guard]
        blocks.append(section(bullet_list(items, head=":shield: *Guard*"), c.BLOCK_GUARD))
    if card.notes:
        blocks.append(context([escape(n) for n in card.notes], c.BLOCK_NOTES))
    status = [status_line(card), _engine_line(card)]
    if card.busy:
        status.insert(0, f":hourglass_flowing_sand: {escape(card.busy)}")
    blocks.append(context(status, c.BLOCK_STATUS))
    blocks.append(_actions_block(card))
    fallback = truncate(f"{status_line(card)} for {finding.label}: {card.text}", c.MAX_FALLBACK_TEXT)
    attachment = None if complete else _attachment_text(card)
    blocks = _fit_block_budget(blocks)
    return MessagePayload(fallback, blocks, attachment, f"{_slug(finding.label)}-v{card.version}.md")


def _finding_block(card: DraftCard) -> Block:
    finding = card.finding
    meta = [f"Due: {escape(finding.due)}"] if finding.due else []
    meta.append("Addressed to: " + (", ".join(a.value for a in finding.addressees) or "not stated"))
    where = f" — {escape(card.inspection_title)}" if card.inspection_title else ""
    head = f"*{finding.label}*{where}\n"
    tail = f"\n_{' · '.join(meta)}_"
    quote = truncate(escape(" ".join(finding.text.split())), c.MAX_SECTION_TEXT - len(head) - len(tail) - 2)
    return section(f"{head}>{quote}{tail}", c.BLOCK_FINDING)


def _draft_text_blocks(text: str) -> tuple[list[Block], bool]:
    """Sections of at most 3,000 characters, at most 12,000 in all (Slack's markdown-block budget, and
    the most a reviewer reads comfortably in one message). Returns (blocks, whether the text is complete)."""
    marked = highlight(text.strip()) or "_(empty draft)_"
    pieces = split_text(marked, c.MAX_SECTION_TEXT)
    blocks: list[Block] = []
    used = 0
    for i, (piece, _joiner) in enumerate(pieces):
        if used + len(piece) > c.MAX_MARKDOWN_BLOCK:
            return blocks, False
        blocks.append(section(piece, f"{c.BLOCK_DRAFT_PREFIX}{i}"))
        used += len(piece)
    return blocks, True


def _plan_block(plan: Plan) -> Block:
    """Each ask with what answers it: the evidence (by id, with its date) or what the office must supply."""
    items = []
    for ask_plan in plan.asks:
        ask = escape(ask_plan.ask.text)
        if ask_plan.evidence:
            found = "; ".join(f"{e.id} ({escape(e.month)}{', dated' if e.stale else ''})" for e in ask_plan.evidence)
            items.append(f":white_check_mark: {ask}: {found}")
        elif plan.shape is AnswerShape.OTHER_BODY:
            items.append(f":arrow_right: {ask}: addressed to another body")
        else:
            items.append(f":grey_question: {ask}: nothing found, left to confirm")
    items += [
        f":newspaper: context only, not the force's position ({escape(e.month)}): _{escape(e.text)}_"
        for e in plan.context
    ]
    return section(bullet_list(items, head="*Plan*: what each ask rests on"), c.BLOCK_PLAN)


def _sources_block(sources: list[SourceRef]) -> Block:
    if not sources:
        return context([":mag: Sources: none retrieved"], c.BLOCK_SOURCES)
    lines = [f":mag: *Sources* ({sum(s.cited for s in sources)} cited of {len(sources)})"]
    lines += [
        escape(source_line(s)) + (f"\n> _{escape(truncate(s.excerpt, 400))}_" if s.excerpt else "") for s in sources
    ]
    return context(lines, c.BLOCK_SOURCES)


def _engine_line(card: DraftCard) -> str:
    seconds = f" · {card.seconds:.1f} s" if card.seconds else ""
    return f"Engine: {escape(card.engine or 'unknown')}{seconds}"


def _actions_block(card: DraftCard) -> Block:
    value = button_value(card.finding_id, card.version)
    if card.state is ReviewState.APPROVED:
        elements = [button("Reopen", c.ACTION_REOPEN, value)]
    else:
        elements = [
            button("Approve", c.ACTION_APPROVE, value, "primary"),
            button("Request changes", c.ACTION_REQUEST_CHANGES, value),
            button("Edit", c.ACTION_EDIT, value),
            button("Regenerate", c.ACTION_REGENERATE, value),
            decision_menu(card),
        ]
    return {"type": "actions", "block_id": c.BLOCK_ACTIONS, "elements": elements}


def decision_menu(card: DraftCard) -> Block:
    """The office's decision on the recommendation: the reviewer's to take; choosing one adds its sentence."""
    options = [
        {"text": {"type": "plain_text", "text": d.label}, "value": decision_value(card.finding_id, card.version, d)}
        for d in Decision
    ]
    return {
        "type": "static_select",
        "action_id": c.ACTION_DECISION,
        "placeholder": {"type": "plain_text", "text": "Office's decision…"},
        "options": options,
    }


def decision_value(finding_id: int, version: int, decision: Decision) -> str:
    return f"{button_value(finding_id, version)}:{decision.value}"


def parse_decision_value(value: str) -> tuple[ButtonRef, Decision]:
    ref, _, decision = value.rpartition(":")
    try:
        return parse_button_value(ref), Decision(decision)
    except ValueError as exc:
        raise BadPayload(f"unrecognised decision {value!r}") from exc


def _attachment_text(card: DraftCard) -> str:
    finding = card.finding
    head = f"# {finding.label}" + (f" — {card.inspection_title}" if card.inspection_title else "")
    quote = " ".join(finding.text.split())
    return f"{head}\n\n> {quote}\n\n## Draft v{card.version}\n\n{card.text.strip()}\n"


def _fit_block_budget(blocks: list[Block]) -> list[Block]:
    """Our builders stay far below 50 blocks; if that ever changes, keep the head and the buttons."""
    if len(blocks) <= c.MAX_BLOCKS_PER_MESSAGE:
        return blocks
    keep = blocks[: c.MAX_BLOCKS_PER_MESSAGE - 2]
    return [*keep, section("_Some details were left out to fit Slack's 50-block limit._"), blocks[-1]]


def _slug(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split()) or "draft"


def drafting_placeholder(finding: Finding, status: str = "Drafting…") -> MessagePayload:
    """Posted within a second of the request, then replaced in place by the draft."""
    quote = truncate(escape(" ".join(finding.text.split())), 600)
    text = f":hourglass_flowing_sand: *{finding.label}*: {escape(status)}\n>{quote}"
    return MessagePayload(f"{finding.label}: {status}", [section(text, c.BLOCK_PROGRESS)])


def build_card(
    finding: FindingView,
    draft: DraftView,
    reviews: list[ReviewView],
    required_approvals: int,
    inspection_title: str = "",
    seconds: float = 0.0,
    busy: str | None = None,
) -> DraftCard:
    approvers = list(current_approvers(finding.state, (r for r in reviews if r.draft_version == draft.version)))
    actor, at, comment = None, None, None
    last = reviews[-1] if reviews else None
    if finding.state in (ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED, ReviewState.REOPENED) and last:
        actor, at = last.reviewer, last.created_at
        if last.action is ReviewAction.REQUEST_CHANGES:
            comment = last.comment
    elif finding.state is ReviewState.REDRAFTED:
        actor = drafter_of(draft.author, draft.requested_by)
        at = draft.created_at
    sources = _valid(SourceRef, draft.sources)
    guard = _valid(GuardFinding, draft.guard_findings)
    grounded = is_grounded(guard)
    return DraftCard(
        finding_id=finding.id,
        version=draft.version,
        finding=finding.to_finding(),
        inspection_title=inspection_title,
        text=draft.text,
        sources=sources,
        guard=guard,
        placeholders=draft.placeholders,
        notes=draft.notes,
        engine=draft.engine,
        seconds=seconds,
        grounded=grounded,
        state=finding.state,
        actor=actor,
        acted_at=at,
        comment=comment,
        approvers=approvers,
        required_approvals=required_approvals,
        author=draft.author,
        instruction=draft.instruction,
        busy=busy,
        plan=_plan(draft.plan),
    )


def _plan(stored: dict[str, Any] | None) -> Plan | None:
    try:
        return Plan.model_validate(stored) if stored else None
    except ValidationError:
        return None


def _valid(model: type[T], items: list[dict[str, Any]]) -> list[T]:
    """Stored JSON read back leniently: a record from an older release is skipped, not fatal to the card."""
    out = []
    for item in items:
        try:
            out.append(model.model_validate(item))
        except ValidationError:
            continue
    return out

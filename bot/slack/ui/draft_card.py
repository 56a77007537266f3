"""The draft card: one finding, the latest version of its answer, its sources and where its review stands.

Pure functions from a `DraftCard` to a message; `build_card` makes the card from the store's views.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    mention,
    parse_button_value,
    plain,
    sanitise,
    section,
    slack_time,
    split_text,
    truncate,
)
from drafting.decisions import Decision
from drafting.fact_check import PLACEHOLDER
from drafting.models import (
    INSTRUCTION_NOTES,
    MODEL_DID_NOT_FOLLOW,
    SAME_TEXT,
    UNGROUNDED,
    AnswerShape,
    GuardFinding,
    Plan,
    SourceRef,
    composer_could_not_follow,
    instruction_followed,
    is_grounded,
)
from drafting.render import (
    MAX_PASSAGES,
    grounded_line,
    listed_checks,
    source_facts,
    source_mark,
    source_passages,
    source_role,
    source_role_why,
)
from retrieval.models import Classification, Finding
from tracker.answered import HMICFRS_NOTE, EarlierAnswer
from tracker.clock import format_when
from tracker.review import (
    BOT_AUTHOR,
    ReviewAction,
    ReviewState,
    Stage,
    StageSignature,
    current_signatures,
    drafter_of,
    stage_signatures,
)
from tracker.views import DraftView, FindingView, ReviewView

#: A message's link from its channel and ts (bot/services/permalinks.py), or None when there is none to give.
Linker = Callable[[str | None, str | None], str | None]

T = TypeVar("T", bound=BaseModel)

_STATE_WORDS = {
    ReviewState.AWAITING_DRAFT: "awaiting a draft",
    ReviewState.DRAFTED: "awaiting review",
    ReviewState.CHANGES_REQUESTED: "changes requested",
    ReviewState.REDRAFTED: "redrafted",
    ReviewState.APPROVED: "approved",
    ReviewState.REOPENED: "reopened",
}


class AlreadyAnswered(BaseModel):
    """An approved answer to a finding this one repeats, as the card names it (tracker.answered)."""

    finding_id: int
    label: str
    inspection_title: str
    version: int
    approvers: list[str] = Field(default_factory=list)
    approved_at: datetime | None = None
    register_item_id: int | None = None
    link: str | None = None
    force_specific_note: bool = False
    reused: bool = Field(False, description="The latest version already holds its text")
    differences: list[tuple[str, str]] = Field(
        default_factory=list, description="Where the two findings read differently: (this one says, that said)"
    )


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
    instruction: str | None = Field(None, description="The instruction this version was drafted to (see its notes)")
    busy: str | None = Field(None, description="Work in progress on this answer: 'Redrafting…'")
    confirmed: list[str] = Field(
        default_factory=list, description="Placeholders vouched for as written in this version (mrkdwn lines)"
    )
    plan: Plan | None = Field(None, description="The asks, each with its evidence or placeholder")
    marking: Classification = Field(Classification.OFFICIAL, description="The version's protective marking")
    stages: list[StageSignature] = Field(
        default_factory=list, description="Each stage of a multi-stage sign-off chain; empty for one stage"
    )
    sent_back: str | None = Field(None, description="Why the chain starts again: an edit after a stage signed")
    already: list[AlreadyAnswered] = Field(default_factory=list, description="Approved answers this one repeats")


def marking_block(marking: Classification) -> Block:
    """The protective marking, first on the card: bold above OFFICIAL, a small line at OFFICIAL, never absent."""
    if marking is Classification.OFFICIAL:
        return context([f"*{marking.value}*"], c.BLOCK_MARKING)
    return section(f"*{marking.value}*", c.BLOCK_MARKING)


def highlight(text: str) -> str:
    """Escaped mrkdwn with every [CONFIRM: …] in bold, so the reviewer's eye lands on it."""
    return PLACEHOLDER.sub(lambda m: f"*{m.group(0)}*", sanitise(text))


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
    blocks: list[Block] = [marking_block(card.marking), _finding_block(card), *_already_blocks(card)]
    if (asked := _instruction_block(card)) is not None:
        blocks.append(asked)
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
    if card.confirmed:
        blocks.append(context([f":ballot_box_with_check: {line}" for line in card.confirmed]))
    if card.placeholders:
        blocks.append(_placeholders_block(card))
    blocks.append(_checks_block(card))
    if card.plan is not None and card.plan.asks:
        blocks.append(_plan_block(card.plan))
    blocks.append(_sources_block(card.sources, finding.text))
    # A note about the instruction is said once, by the line above the text; the rest are shown as they are.
    if notes := [n for n in card.notes if n not in INSTRUCTION_NOTES]:
        blocks.append(context([sanitise(n) for n in notes], c.BLOCK_NOTES))
    status = [status_line(card), _engine_line(card)]
    if card.busy:
        status.insert(0, f":hourglass_flowing_sand: {sanitise(card.busy)}")
    blocks.append(context(status, c.BLOCK_STATUS))
    if card.stages:
        blocks.append(signoff_block(card))
    blocks.append(_actions_block(card))
    # The status line is the bot's own markup (mentions, date tokens); the label and the text are not.
    # The marking leads the fallback too: it is what a notification and a shortened card show.
    fallback = truncate(
        f"{card.marking.value} · {status_line(card)} for {plain(finding.label)}: {plain(card.text)}",
        c.MAX_FALLBACK_TEXT,
    )
    attachment = None if complete else _attachment_text(card)
    blocks = _fit_block_budget(blocks)
    return MessagePayload(fallback, blocks, attachment, f"{_slug(finding.label)}-v{card.version}.md")


def signoff_block(card: DraftCard) -> Block:
    """Every stage of the chain in order: ✓ who signed and when, or waiting; and why it started again."""
    lines = [_stage_line(stage) for stage in card.stages]
    if card.sent_back:
        lines.append(f":leftwards_arrow_with_hook: {sanitise(card.sent_back)}")
    return context(["*Sign-off*\n" + "\n".join(lines)], c.BLOCK_SIGNOFF)


def _stage_line(stage: StageSignature) -> str:
    signed = ", ".join(f"{mention(s.user)}{f' at {slack_time(s.at)}' if s.at else ''}" for s in stage.signers)
    name = sanitise(stage.name)
    if stage.signed:
        return f":white_check_mark: *{name}*: {signed}"
    if stage.signers:
        return f":hourglass_flowing_sand: *{name}*: {len(stage.signers)} of {stage.required} ({signed}), waiting"
    count = f" ({stage.required} approvals)" if stage.required > 1 else ""
    return f":white_circle: *{name}*: waiting{count}"


def signing_stage(card: DraftCard) -> str | None:
    """The stage the next approval signs, when the chain has more than one."""
    return next((stage.name for stage in card.stages if not stage.signed), None)


def _already_blocks(card: DraftCard) -> list[Block]:
    """Each approved answer this finding repeats, with a Reuse button; and HMICFRS's note when it applies."""
    blocks = [_already_block(card, earlier) for earlier in card.already]
    if any(earlier.force_specific_note for earlier in card.already):
        blocks.append(context([f":information_source: {HMICFRS_NOTE}"], c.BLOCK_ANSWERED_NOTE))
    return blocks


def _already_block(card: DraftCard, earlier: AlreadyAnswered) -> Block:
    where = f"{sanitise(earlier.label)} of {sanitise(earlier.inspection_title)}"
    if earlier.link:
        where = f"<{earlier.link}|{where}>"
    who = f" by {', '.join(mention(a) for a in earlier.approvers)}" if earlier.approvers else ""
    when = f" on {_slack_day(earlier.approved_at)}" if earlier.approved_at else ""
    parts = [f":recycle: *Already answered*: {where} — approved v{earlier.version}{who}{when}", _reads(earlier)]
    if earlier.register_item_id is not None:
        parts.append(f"register item #{earlier.register_item_id}")
    if earlier.reused:
        parts.append(f"v{card.version} reuses it")
    block = section(" · ".join(parts), f"{c.BLOCK_ANSWERED_PREFIX}{earlier.finding_id}")
    if card.state is not ReviewState.APPROVED and not earlier.reused:
        block["accessory"] = button("Reuse", c.ACTION_REUSE, reuse_value(card.finding_id, card.version, earlier))
    return block


def _slack_day(moment: datetime) -> str:
    """A date token showing the day alone (`3 Mar 2025` in UK time where Slack cannot render it)."""
    return f"<!date^{int(moment.timestamp())}^{{date_short}}|{format_when(moment).rsplit(' ', 1)[0]}>"


def _reads(earlier: AlreadyAnswered) -> str:
    """How the two findings differ, so nobody reuses an answer to a recommendation that only sounds the same."""
    if not earlier.differences:
        return "same wording"
    said = "; ".join(f"“{sanitise(mine) or '—'}” where it said “{sanitise(theirs) or '—'}”"
                     for mine, theirs in earlier.differences)  # fmt: skip
    return f"reads differently: {said}"


def reuse_value(finding_id: int, version: int, earlier: AlreadyAnswered) -> str:
    return f"{button_value(finding_id, version)}:{earlier.finding_id}"


def parse_reuse_value(value: str) -> tuple[ButtonRef, int]:
    ref, _, earlier = value.rpartition(":")
    try:
        return parse_button_value(ref), int(earlier)
    except ValueError as exc:
        raise BadPayload(f"unrecognised reuse value {value!r}") from exc


def _placeholders_block(card: DraftCard) -> Block:
    """What stops approval: every `[CONFIRM: …]` left, and the way to vouch for one as written."""
    count = len(card.placeholders)
    head = (
        f":warning: *{count} to confirm before approval* (approval is refused until none is left: edit the text, "
        "or confirm one as written)"
    )
    block = section(bullet_list([sanitise(p) for p in card.placeholders], head=head), c.BLOCK_PLACEHOLDERS)
    if card.state is not ReviewState.APPROVED:
        value = button_value(card.finding_id, card.version)
        block["accessory"] = button("Confirm as written…", c.ACTION_CONFIRM, value)
    return block


def _instruction_block(card: DraftCard) -> Block | None:
    """The change asked for, and whether this version follows it: only an engine that took the instruction
    is said to follow it. The composer writes the plan out and cannot take a free-text instruction."""
    if card.comment and card.state is ReviewState.CHANGES_REQUESTED:
        return context([f":speech_balloon: Changes requested: _{sanitise(card.comment)}_"])
    if not card.instruction:
        return None
    asked = sanitise(card.instruction)
    if instruction_followed(card.notes):
        return context([f":speech_balloon: This version follows: _{asked}_"])
    this, before = f"v{card.version}", f"v{card.version - 1}" if card.version > 1 else "the version before"
    if composer_could_not_follow(card.notes):
        why, again = "The fallback composer cannot rewrite to an instruction", "when the local model is available"
    elif MODEL_DID_NOT_FOLLOW in card.notes:
        why, again = "The model's rewrite could not be used (see the notes)", "later"
    else:
        why, again = "The model's rewrite did not change the text", "in other words"
    if SAME_TEXT in card.notes:
        outcome = f"{this} is unchanged, the same text as {before}"
    else:
        outcome = f"{this} was written from the plan again and does not follow it"
    return context(
        [
            f":speech_balloon: Asked for: _{asked}_",
            f":information_source: {why}; {outcome}. Edit it yourself, or ask again {again}.",
        ]
    )


def _checks_block(card: DraftCard) -> Block:
    """The one line on whether the text is borne out by the evidence, with what the checks found under it."""
    if card.author != BOT_AUTHOR and not card.guard:
        head = ":pencil2: *Written by a person*: not checked against the evidence; read it against the sources."
        return context([head], c.BLOCK_GUARD)
    icon = ":white_check_mark:" if card.grounded else ":no_entry:"
    verdict, _, rest = grounded_line(card.guard, card.grounded).partition(": ")
    head = f"{icon} *{verdict}*: {sanitise(rest)}"
    # An unsupported sentence is listed by its words alone: the head line already says what that means.
    items = [
        f"_“{sanitise(g.span)}”_" if g.kind in UNGROUNDED else f"*{g.kind.value}*: {sanitise(g.detail)}"
        for g in listed_checks(card.guard)
    ]
    if not items:
        return context([head], c.BLOCK_GUARD)
    return section(bullet_list(items, head=head), c.BLOCK_GUARD)


def _finding_block(card: DraftCard) -> Block:
    finding = card.finding
    meta = [f"Due: {sanitise(finding.due)}"] if finding.due else []
    meta.append("Addressed to: " + (", ".join(a.value for a in finding.addressees) or "not stated"))
    where = f" — {sanitise(card.inspection_title)}" if card.inspection_title else ""
    head = f"*{sanitise(finding.label)}*{where}\n"
    tail = f"\n_{' · '.join(meta)}_"
    quote = truncate(sanitise(" ".join(finding.text.split())), c.MAX_SECTION_TEXT - len(head) - len(tail) - 2)
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
        ask = sanitise(ask_plan.ask.text)
        if ask_plan.evidence:
            found = "; ".join(f"{e.id} ({sanitise(e.month)}{', dated' if e.stale else ''})" for e in ask_plan.evidence)
            items.append(f":white_check_mark: {ask}: {found}")
        elif plan.shape is AnswerShape.OTHER_BODY:
            items.append(f":arrow_right: {ask}: addressed to another body")
        else:
            items.append(f":grey_question: {ask}: nothing found, left to confirm")
    items += [
        f":newspaper: context only, not the force's position ({sanitise(e.month)}): _{sanitise(e.text)}_"
        for e in plan.context
    ]
    return section(bullet_list(items, head="*Plan*: what each ask rests on"), c.BLOCK_PLAN)


def _sources_block(sources: list[SourceRef], about: str = "") -> Block:
    if not sources:
        return context([":mag: Sources: none retrieved"], c.BLOCK_SOURCES)
    evidence = sum(s.is_evidence for s in sources)
    head = (
        f":mag: *Sources* ({sum(s.cited for s in sources)} cited of {len(sources)}: {evidence} evidence, "
        f"{len(sources) - evidence} wording only)"
    )
    return context([head, *(source_text(s, about) for s in sources)], c.BLOCK_SOURCES)


def source_text(source: SourceRef, about: str = "", passage_chars: int = 300, passages: int = MAX_PASSAGES) -> str:
    """One source in mrkdwn: its id, evidence or wording only, force, kind, date and document, then the passages
    it gave (a few lines: what the plan took from it, not the start of the chunk)."""
    role = f"*{source_role(source)}* ({source_role_why(source)})"
    facts = sanitise(" · ".join(source_facts(source)))
    quoted = "".join(f"\n> _{sanitise(truncate(p, passage_chars))}_" for p in source_passages(source, about, passages))
    return f"*{source.ref}* ({source_mark(source)}) {role} · {facts}{quoted}"


def stored_sources(items: list[dict[str, Any]]) -> list[SourceRef]:
    """A stored draft's sources, read leniently (for the card and the Edit modal)."""
    return _valid(SourceRef, items)


def _engine_line(card: DraftCard) -> str:
    seconds = f" · {card.seconds:.1f} s" if card.seconds else ""
    return f"Engine: {sanitise(card.engine or 'unknown')}{seconds}"


def _actions_block(card: DraftCard) -> Block:
    value = button_value(card.finding_id, card.version)
    if card.state is ReviewState.APPROVED:
        elements = [button("Reopen", c.ACTION_REOPEN, value)]
    else:
        stage = signing_stage(card)
        elements = [
            button(f"Approve as {stage}" if stage else "Approve", c.ACTION_APPROVE, value, "primary"),
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
    return f"**{card.marking.value}**\n\n{head}\n\n> {quote}\n\n## Draft v{card.version}\n\n{card.text.strip()}\n"


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
    quote = truncate(sanitise(" ".join(finding.text.split())), 600)
    text = f":hourglass_flowing_sand: *{sanitise(finding.label)}*: {sanitise(status)}\n>{quote}"
    return MessagePayload(plain(f"{finding.label}: {status}"), [section(text, c.BLOCK_PROGRESS)])


def build_card(
    finding: FindingView,
    draft: DraftView,
    reviews: list[ReviewView],
    required_approvals: int,
    inspection_title: str = "",
    seconds: float = 0.0,
    busy: str | None = None,
    *,
    chain: Sequence[Stage] = (),
    earlier: Sequence[EarlierAnswer] = (),
    link: Linker | None = None,
) -> DraftCard:
    """`chain`: the sign-off stages (more than one: each is shown); `earlier`: approved answers it repeats."""
    on_latest = [r for r in reviews if r.draft_version == draft.version]
    signatures = current_signatures(finding.state, on_latest)
    actor, at, comment = None, None, None
    last = reviews[-1] if reviews else None
    if finding.state in (ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED, ReviewState.REOPENED) and last:
        actor, at = last.reviewer, last.created_at
        if last.action is ReviewAction.REQUEST_CHANGES:
            comment = last.comment
    elif finding.state is ReviewState.REDRAFTED:
        actor = drafter_of(draft.author, draft.requested_by)
        at = draft.created_at
    sources = stored_sources(draft.sources)
    confirmed = [_confirmation(draft, r) for r in on_latest if r.action is ReviewAction.CONFIRM]
    guard = _valid(GuardFinding, draft.guard_findings)
    grounded = is_grounded(guard)
    staged = len(chain) > 1
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
        approvers=[s.user for s in signatures],
        required_approvals=required_approvals,
        author=draft.author,
        instruction=draft.instruction,
        busy=busy,
        plan=_plan(draft.plan),
        confirmed=confirmed,
        marking=draft.marking,
        stages=list(stage_signatures(chain, signatures)) if staged else [],
        sent_back=_sent_back(chain, draft, reviews) if staged else None,
        already=[_already(e, draft, link) for e in earlier],
    )


def _sent_back(chain: Sequence[Stage], draft: DraftView, reviews: list[ReviewView]) -> str | None:
    """ "Edited after Policy lead signed v2: back to Policy lead." when this version came while a stage's signatures
    on the version before still stood: a new version withdraws them all, so the chain starts again."""
    if draft.version < 2:
        return None
    before = [r for r in reviews if r.draft_version == draft.version - 1]
    # A new version is refused while approved, so the approvals on the one before stood as they do while drafted
    # (a reopening or a change request on it has already withdrawn those before it).
    signed = [s for s in stage_signatures(chain, current_signatures(ReviewState.DRAFTED, before)) if s.signed]
    if not signed:
        return None
    verb = "Redrafted" if draft.author == BOT_AUTHOR else "Edited"
    return f"{verb} after {signed[-1].name} signed v{draft.version - 1}: back to {chain[0].name}."


def _already(earlier: EarlierAnswer, draft: DraftView, link: Linker | None) -> AlreadyAnswered:
    return AlreadyAnswered(
        finding_id=earlier.finding_id,
        label=earlier.label,
        inspection_title=earlier.inspection_title,
        version=earlier.version,
        approvers=list(earlier.approvers),
        approved_at=earlier.approved_at,
        register_item_id=earlier.register_item_id,
        link=link(earlier.channel_id, earlier.message_ts) if link else None,
        force_specific_note=earlier.force_specific_note,
        reused=draft.text.strip() == earlier.text.strip(),
        differences=list(earlier.differences),
    )


def _confirmation(draft: DraftView, review: ReviewView) -> str:
    """`[CONFIRM: …] confirmed as written by @U: note` as mrkdwn (the marker is named in the version's rationale)."""
    marker = next(iter(PLACEHOLDER.findall(draft.rationale)), "A placeholder")
    note = f": “{sanitise(review.comment)}”" if review.comment else ""
    return f"{sanitise(marker)} confirmed as written by {mention(review.reviewer)}{note}"


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

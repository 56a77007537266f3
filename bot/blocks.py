"""Block Kit builders: pure functions from plain records to Slack message and modal payloads (no I/O).

Every builder respects Slack's limits (3,000 characters per section, 2,000 per context element, 50 blocks
per message, 75 per button label, 3,000 per input value). Text that cannot fit is never dropped silently: a
draft too long for one message comes back with `MessagePayload.attachment` set, and the caller must upload
that full text as a file in the thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from bot import constants as c
from drafting.guard import PLACEHOLDER
from drafting.models import GuardFinding, SourceRef
from drafting.render import source_line
from retrieval.models import Finding, FindingKind, InspectionType
from tracker.deadlines import explain_deadline
from tracker.review import BOT_AUTHOR, ReviewState, format_when, mention

Block = dict[str, Any]

_STATE_WORDS = {
    ReviewState.AWAITING_DRAFT: "awaiting a draft",
    ReviewState.DRAFTED: "awaiting review",
    ReviewState.CHANGES_REQUESTED: "changes requested",
    ReviewState.REDRAFTED: "redrafted",
    ReviewState.APPROVED: "approved",
    ReviewState.REOPENED: "reopened",
}
_ELLIPSIS = "…"


# --- records the builders read ---------------------------------------------------------------------------


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


class ReportSummary(BaseModel):
    title: str
    inspection_type: InspectionType = InspectionType.UNKNOWN
    published: date | None = None
    findings: list[Finding]
    file_name: str = ""
    inspection_id: int | None = None


class Progress(BaseModel):
    done: int = 0
    total: int = 0
    failed: int = 0
    finished: bool = False


@dataclass(frozen=True)
class MessagePayload:
    """`text` is the notification fallback; `attachment` (when set) must be uploaded as a file."""

    text: str
    blocks: list[Block]
    attachment: str | None = None
    attachment_name: str = "draft.md"


class ModalContext(BaseModel):
    """Carried in a modal's private_metadata so the submission knows which message and version it is about."""

    finding_id: int = Field(..., alias="f")
    version: int = Field(..., alias="v")
    channel: str = Field("", alias="c")
    message_ts: str = Field("", alias="ts")
    joiners: list[str] = Field(default_factory=list, alias="j")

    model_config = {"populate_by_name": True}

    def dump(self) -> str:
        return json.dumps(self.model_dump(by_alias=True), separators=(",", ":"))


class BadPayload(ValueError):
    """A button value or modal metadata we did not write (or from an older, incompatible release)."""


@dataclass(frozen=True)
class ButtonRef:
    finding_id: int
    version: int


# --- small pure helpers ----------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters; everything else in mrkdwn is left alone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]  # never leave half an escape like "&am"
    return cut.rstrip() + _ELLIPSIS


def split_text(text: str, limit: int) -> list[tuple[str, str]]:
    """Split into pieces of at most `limit` characters as (piece, whitespace that followed it).

    `"".join(piece + joiner for piece, joiner in split_text(t, n)) == t`, so nothing is lost or changed.
    Breaks prefer a paragraph, then a line, then a sentence, then a word; only a word longer than `limit`
    is cut inside.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[tuple[str, str]] = []
    rest = text
    while len(rest) > limit:
        cut = _break_point(rest, limit)
        piece = rest[:cut]
        after = rest[cut:]
        joiner = after[: len(after) - len(after.lstrip())]
        pieces.append((piece, joiner))
        rest = after[len(joiner) :]
    pieces.append((rest, ""))
    return pieces


def _break_point(text: str, limit: int) -> int:
    floor = limit // 2
    for sep, keep in (("\n\n", 0), ("\n", 0), (". ", 1), (" ", 0)):
        idx = text.rfind(sep, 0, limit)
        if idx >= floor or (sep == " " and idx > 0):
            return idx + keep
    cut = limit
    amp = text.rfind("&", max(0, limit - 5), limit)
    if amp > 0 and ";" not in text[amp:limit]:
        cut = amp
    return cut


def button_value(finding_id: int, version: int) -> str:
    return f"{finding_id}:{version}"


def parse_button_value(value: str) -> ButtonRef:
    try:
        finding, version = value.split(":")
        return ButtonRef(int(finding), int(version))
    except (ValueError, AttributeError) as exc:
        raise BadPayload(f"unrecognised button value {value!r}") from exc


def parse_modal_context(private_metadata: str) -> ModalContext:
    try:
        return ModalContext.model_validate(json.loads(private_metadata))
    except (ValueError, ValidationError) as exc:
        raise BadPayload("unrecognised modal metadata") from exc


def highlight(text: str) -> str:
    """Escaped mrkdwn with every [CONFIRM: …] in bold, so the reviewer's eye lands on it."""
    return PLACEHOLDER.sub(lambda m: f"*{m.group(0)}*", escape(text))


def slack_time(moment: datetime) -> str:
    """A Slack date token: each reader sees their own time zone; the fallback is UK time."""
    return f"<!date^{int(moment.timestamp())}^{{date_short}} {{time}}|{format_when(moment)}>"


def section(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, c.MAX_SECTION_TEXT)}}
    if block_id:
        block["block_id"] = block_id
    return block


def context(texts: list[str], block_id: str | None = None) -> Block:
    kept = texts[: c.MAX_CONTEXT_ELEMENTS]
    if len(texts) > c.MAX_CONTEXT_ELEMENTS:
        kept[-1] = f"… and {len(texts) - c.MAX_CONTEXT_ELEMENTS + 1} more"
    elements = [{"type": "mrkdwn", "text": truncate(t, c.MAX_CONTEXT_ELEMENT)} for t in kept]
    block: Block = {"type": "context", "elements": elements}
    if block_id:
        block["block_id"] = block_id
    return block


def button(label: str, action_id: str, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(label, c.MAX_BUTTON_TEXT), "emoji": True},
        "action_id": action_id,
        "value": value[: c.MAX_BUTTON_VALUE],
    }
    if style:
        element["style"] = style
    return element


def bullet_list(items: list[str], limit: int = c.MAX_SECTION_TEXT, head: str = "") -> str:
    """As many `• item` lines as fit in `limit`, then '… and N more' so a reader knows some were left out."""
    reserve = len("\n… and 99999 more")
    lines = [head] if head else []
    used = len(head)
    for i, item in enumerate(items):
        room = limit - used - reserve - 1
        line = truncate(f"• {item}", room) if room > 40 else ""
        if not line or used + len(line) + 1 + reserve > limit:
            lines.append(f"… and {len(items) - i} more")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


# --- the draft message -----------------------------------------------------------------------------------


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
                ":no_entry: *Not grounded:* this draft cites no retrieved source. Treat it as wording only.",
                c.BLOCK_UNGROUNDED,
            )
        )
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


def _sources_block(sources: list[SourceRef]) -> Block:
    if not sources:
        return context([":mag: Sources: none retrieved"], c.BLOCK_SOURCES)
    lines = [f":mag: *Sources* ({sum(s.cited for s in sources)} cited of {len(sources)})"]
    lines += [escape(source_line(s)) for s in sources]
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
        ]
    return {"type": "actions", "block_id": c.BLOCK_ACTIONS, "elements": elements}


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


# --- other messages --------------------------------------------------------------------------------------


def drafting_placeholder(finding: Finding, status: str = "Drafting…") -> MessagePayload:
    """Posted within a second of the request, then replaced in place by the draft."""
    quote = truncate(escape(" ".join(finding.text.split())), 600)
    text = f":hourglass_flowing_sand: *{finding.label}*: {escape(status)}\n>{quote}"
    return MessagePayload(f"{finding.label}: {status}", [section(text, c.BLOCK_PROGRESS)])


def error_message(problem: str, todo: str, detail: str = "", retry: ButtonRef | None = None) -> MessagePayload:
    """What went wrong and what to do; nothing the user already has is lost. `retry` adds Regenerate."""
    text = f":warning: *{escape(problem)}*\n{escape(todo)}"
    blocks = [section(text, c.BLOCK_ERROR)]
    if detail:
        blocks.append(context([escape(detail)]))
    if retry is not None:
        value = button_value(retry.finding_id, retry.version)
        blocks.append(
            {
                "type": "actions",
                "block_id": c.BLOCK_ACTIONS,
                "elements": [button("Regenerate", c.ACTION_REGENERATE, value)],
            }
        )
    return MessagePayload(truncate(f"{problem} {todo}", c.MAX_FALLBACK_TEXT), blocks)


def progress_message(text: str) -> MessagePayload:
    """A placeholder such as 'Reading report.pdf…', replaced in place when the work is done."""
    return MessagePayload(
        truncate(text, c.MAX_FALLBACK_TEXT),
        [section(f":hourglass_flowing_sand: {escape(text)}", c.BLOCK_PROGRESS)],
    )


def notice(text: str) -> MessagePayload:
    """A one-line reply (already mrkdwn); used for ephemeral refusals and acknowledgements."""
    return MessagePayload(truncate(text, c.MAX_FALLBACK_TEXT), [section(text)])


def report_summary(summary: ReportSummary, progress: Progress, today: date) -> MessagePayload:
    """Title, findings found, the statutory last day with its one-line rule, and drafting progress."""
    counts = _kind_counts(summary.findings)
    head = f":page_facing_up: *{escape(summary.title)}*"
    facts = [f"Type: {summary.inspection_type.value}"]
    if summary.published:
        facts.append(f"Published: {summary.published.day} {summary.published:%b %Y}")
    if summary.file_name:
        facts.append(f"File: {escape(summary.file_name)}")
    if summary.inspection_id is not None:
        facts.append(f"Inspection #{summary.inspection_id}")
    lead = f"{head}\n{' · '.join(facts)}\n*Findings found:* {counts}"
    blocks: list[Block] = [section(lead, c.BLOCK_SUMMARY)]
    if summary.published:
        deadline = f":calendar: {escape(explain_deadline(summary.published, today))}"
    else:
        deadline = (
            ":calendar: The report's publication date was not found, so no deadline is tracked yet: "
            "add it with `/hmicfrs add <published date> <title>`."
        )
    blocks.append(section(deadline, c.BLOCK_SUMMARY_DEADLINE))
    items = [f"*{f.label}*: {escape(truncate(' '.join(f.text.split()), 160))}" for f in summary.findings]
    blocks.append(section(bullet_list(items), f"{c.BLOCK_SUMMARY_FINDINGS_PREFIX}0"))
    blocks.append(context([progress_line(progress)], c.BLOCK_PROGRESS))
    text = f"{summary.title}: {counts}. {progress_line(progress)}"
    return MessagePayload(truncate(text, c.MAX_FALLBACK_TEXT), blocks)


def progress_line(progress: Progress) -> str:
    failed = f" ({progress.failed} could not be drafted; see the replies)" if progress.failed else ""
    if progress.finished:
        posted = progress.done - progress.failed
        return f":white_check_mark: {posted} of {progress.total} drafts posted below{failed}."
    if progress.done >= progress.total:
        return f":hourglass_flowing_sand: Finishing {progress.total} drafts…{failed}"
    return f":hourglass_flowing_sand: Drafting {progress.done + 1} of {progress.total}…{failed}"


def _kind_counts(findings: list[Finding]) -> str:
    if not findings:
        return "none"
    names = {
        FindingKind.RECOMMENDATION: ("recommendation", "recommendations"),
        FindingKind.AREA_FOR_IMPROVEMENT: ("area for improvement", "areas for improvement"),
        FindingKind.CAUSE_OF_CONCERN: ("cause of concern", "causes of concern"),
    }
    parts = []
    for kind, (one, many) in names.items():
        n = sum(f.kind is kind for f in findings)
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts)


# --- modals ----------------------------------------------------------------------------------------------


def request_changes_modal(ctx: ModalContext, label: str) -> Block:
    return {
        "type": "modal",
        "callback_id": c.VIEW_REQUEST_CHANGES,
        "private_metadata": ctx.dump(),
        "title": {"type": "plain_text", "text": truncate("Request changes", c.MAX_MODAL_TITLE)},
        "submit": {"type": "plain_text", "text": "Redraft"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"What should change in *{escape(label)}*, v{ctx.version}? The redraft will follow it."),
            {
                "type": "input",
                "block_id": c.INPUT_COMMENT_BLOCK,
                "label": {"type": "plain_text", "text": "Your comment"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": c.INPUT_COMMENT_ACTION,
                    "multiline": True,
                    "max_length": c.MAX_INPUT_INITIAL_VALUE,
                    "placeholder": {"type": "plain_text", "text": "e.g. Mention the MASH audit; shorter"},
                },
            },
        ],
    }


class TooLongToEdit(ValueError):
    """The draft needs more input boxes than a modal can hold."""


def edit_modal(ctx: ModalContext, label: str, text: str) -> Block:
    """The text prefilled, split across several inputs when longer than Slack's 3,000-character initial_value.

    The whitespace between parts is kept in private_metadata, so saving without changes gives back the same
    text exactly.
    """
    parts = split_text(text, c.MAX_INPUT_INITIAL_VALUE)
    if len(parts) > c.MAX_MODAL_BLOCKS - 1:
        raise TooLongToEdit(
            f"This draft is {len(text):,} characters: too long to edit in Slack. Download it, edit it, "
            "and paste the new text as a reply in the thread."
        )
    ctx = ctx.model_copy(update={"joiners": [joiner for _, joiner in parts[:-1]]})
    metadata = ctx.dump()
    if len(metadata) > c.MAX_PRIVATE_METADATA:
        raise TooLongToEdit("This draft has too many parts to edit in Slack; paste the new text in the thread")
    intro = f"Edit *{escape(label)}*, v{ctx.version}. Saving stores a new version for review."
    if len(parts) > 1:
        intro += f" The text is in {len(parts)} parts because Slack limits each box to 3,000 characters."
    blocks: list[Block] = [section(intro)]
    for i, (piece, _) in enumerate(parts):
        label_text = "Draft" if len(parts) == 1 else f"Draft, part {i + 1} of {len(parts)}"
        blocks.append(
            {
                "type": "input",
                "block_id": f"{c.INPUT_EDIT_BLOCK_PREFIX}{i}",
                "label": {"type": "plain_text", "text": label_text},
                "element": {
                    "type": "plain_text_input",
                    "action_id": c.INPUT_EDIT_ACTION,
                    "multiline": True,
                    "max_length": c.MAX_INPUT_INITIAL_VALUE,
                    "initial_value": piece,
                },
                "optional": len(parts) > 1,
            }
        )
    return {
        "type": "modal",
        "callback_id": c.VIEW_EDIT,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": truncate("Edit the draft", c.MAX_MODAL_TITLE)},
        "submit": {"type": "plain_text", "text": "Save version"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def comment_from_view(view: Block) -> str:
    values = view.get("state", {}).get("values", {})
    return (values.get(c.INPUT_COMMENT_BLOCK, {}).get(c.INPUT_COMMENT_ACTION, {}).get("value") or "").strip()


def edited_text_from_view(view: Block, ctx: ModalContext) -> str:
    """Re-join the parts with the whitespace that separated them; a part left empty is dropped."""
    values = view.get("state", {}).get("values", {})
    pieces = []
    i = 0
    while (block := values.get(f"{c.INPUT_EDIT_BLOCK_PREFIX}{i}")) is not None:
        pieces.append(block.get(c.INPUT_EDIT_ACTION, {}).get("value") or "")
        i += 1
    out = ""
    for i, piece in enumerate(pieces):
        if not piece:
            continue
        joiner = ctx.joiners[i - 1] if 0 < i <= len(ctx.joiners) else "\n\n"
        out += (joiner if out else "") + piece
    return out.strip()

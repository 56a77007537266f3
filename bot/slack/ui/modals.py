"""The modals on a draft: request changes (a comment the redraft follows), edit (the text itself), and confirm
a placeholder as written (which one, and how the reviewer checked it)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import BaseModel, Field, ValidationError

from bot.slack import constants as c
from bot.slack.ui.common import BadPayload, Block, sanitise, section, split_text, truncate
from bot.slack.ui.draft_card import source_text
from drafting.models import SourceRef

#: What the Edit modal shows above the text box, all in its first section (3,000 characters): the recommendation
#: (cut at this length) and each source with at most two passages of this length.
MODAL_RECOMMENDATION_CHARS = 1000
MODAL_PASSAGE_CHARS = 240
MODAL_PASSAGES = 2


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


def parse_modal_context(private_metadata: str) -> ModalContext:
    try:
        return ModalContext.model_validate(json.loads(private_metadata))
    except (ValueError, ValidationError) as exc:
        raise BadPayload("unrecognised modal metadata") from exc


def request_changes_modal(ctx: ModalContext, label: str) -> Block:
    intro = f"What should change in *{sanitise(label)}*, v{ctx.version}? The redraft will follow it."
    comment = text_input(
        c.INPUT_COMMENT_BLOCK, c.INPUT_COMMENT_ACTION, "Your comment", "e.g. Mention the MASH audit; shorter"
    )
    return modal(c.VIEW_REQUEST_CHANGES, ctx.dump(), "Request changes", "Redraft", [section(intro), comment])


def modal(callback_id: str, metadata: str, title: str, submit: str, blocks: list[Block]) -> Block:
    """A review modal: its submission finds its answer and version again through `metadata`."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": truncate(title, c.MAX_MODAL_TITLE)},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def text_input(
    block_id: str,
    action_id: str,
    label: str,
    placeholder: str | None = None,
    initial: str | None = None,
    optional: bool = False,
) -> Block:
    """A multi-line text box of at most Slack's 3,000 characters."""
    element: Block = {
        "type": "plain_text_input",
        "action_id": action_id,
        "multiline": True,
        "max_length": c.MAX_INPUT_INITIAL_VALUE,
    }
    if placeholder:
        element["placeholder"] = {"type": "plain_text", "text": placeholder}
    if initial is not None:
        element["initial_value"] = initial
    block: Block = {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label}}
    block["element"] = element
    if optional:
        block["optional"] = True
    return block


class TooLongToEdit(ValueError):
    """The draft needs more input boxes than a modal can hold."""


def edit_modal(
    ctx: ModalContext, label: str, text: str, recommendation: str = "", sources: Sequence[SourceRef] = ()
) -> Block:
    """The text prefilled, split across several inputs when longer than Slack's 3,000-character initial_value,
    below what the reviewer edits against: the recommendation and the sources, each with the passages it gave.

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
    intro = f"Edit *{sanitise(label)}*, v{ctx.version}. Saving stores a new version for review."
    if len(parts) > 1:
        intro += f" The text is in {len(parts)} parts because Slack limits each box to 3,000 characters."
    blocks: list[Block] = [section(_edit_head(intro, label, recommendation, sources))]
    for i, (piece, _) in enumerate(parts):
        label_text = "Draft" if len(parts) == 1 else f"Draft, part {i + 1} of {len(parts)}"
        blocks.append(
            text_input(
                f"{c.INPUT_EDIT_BLOCK_PREFIX}{i}",
                c.INPUT_EDIT_ACTION,
                label_text,
                initial=piece,
                optional=len(parts) > 1,
            )
        )
    return modal(c.VIEW_EDIT, metadata, "Edit the draft", "Save version", blocks)


def _edit_head(intro: str, label: str, recommendation: str, sources: Sequence[SourceRef]) -> str:
    """One section above the text box (so the box stays the modal's second block): the intro, the recommendation,
    then as many sources as fit in Slack's 3,000 characters, and how many more the draft's message lists."""
    parts = [intro]
    if recommendation:
        quote = sanitise(truncate(" ".join(recommendation.split()), MODAL_RECOMMENDATION_CHARS))
        parts.append(f"*{sanitise(label)}*\n>{quote}")
    if sources:
        lines = [":mag: *Sources*: *evidence* is the force's own statement; *wording only* is never its position"]
        budget = c.MAX_SECTION_TEXT - sum(len(p) + 2 for p in parts) - len("\n… and 999 more: see the draft's message")
        for i, source in enumerate(sources):
            line = source_text(source, recommendation, MODAL_PASSAGE_CHARS, MODAL_PASSAGES)
            if sum(len(x) + 1 for x in lines) + len(line) > budget:
                lines.append(f"… and {len(sources) - i} more: see the draft's message")
                break
            lines.append(line)
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


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


def confirm_modal(ctx: ModalContext, label: str, markers: list[str]) -> Block:
    """Pick one `[CONFIRM: …]` and say how it was checked: the marker goes, the text around it stands as written."""
    options = [
        {"text": {"type": "plain_text", "text": truncate(marker, c.MAX_OPTION_TEXT)}, "value": str(i)}
        for i, marker in enumerate(markers[: c.MAX_OPTIONS])
    ]
    intro = (
        f"Confirm a placeholder in *{sanitise(label)}*, v{ctx.version}, as written: the text around it stays as it "
        "is and the marker is removed in a new version. Your note is kept in the audit log. To change the words "
        "instead, use Edit."
    )
    choice: Block = {
        "type": "input",
        "block_id": c.INPUT_MARKER_BLOCK,
        "label": {"type": "plain_text", "text": "Placeholder"},
        "element": {
            "type": "radio_buttons",
            "action_id": c.INPUT_MARKER_ACTION,
            "options": options,
            **({"initial_option": options[0]} if len(options) == 1 else {}),
        },
    }
    note = text_input(
        c.INPUT_NOTE_BLOCK, c.INPUT_NOTE_ACTION, "How you confirmed it", "e.g. Checked with the custody lead, 3 Dec"
    )
    return modal(c.VIEW_CONFIRM, ctx.dump(), "Confirm as written", "Confirm", [section(intro), choice, note])


def confirmation_from_view(view: Block) -> tuple[int | None, str]:
    """(the chosen placeholder's index, the note) from a submitted confirm modal."""
    values = view.get("state", {}).get("values", {})
    chosen = values.get(c.INPUT_MARKER_BLOCK, {}).get(c.INPUT_MARKER_ACTION, {}).get("selected_option") or {}
    note = (values.get(c.INPUT_NOTE_BLOCK, {}).get(c.INPUT_NOTE_ACTION, {}).get("value") or "").strip()
    value = str(chosen.get("value", ""))
    return (int(value) if value.isdigit() else None), note

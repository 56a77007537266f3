"""Block Kit basics every surface builds with: payloads, escaping, limits, small blocks, people and errors.

Pure functions (no I/O). Every builder respects Slack's limits (3,000 characters per section, 2,000 per context
element, 50 blocks per message, 75 per button label). Text that cannot fit is never dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.slack import constants as c
from retrieval.loaders import safe_text
from tracker.clock import format_when
from tracker.errors import TrackerError

Block = dict[str, Any]
_ELLIPSIS = "…"


@dataclass(frozen=True)
class MessagePayload:
    """`text` is the notification fallback; `attachment` (when set) must be uploaded as a file."""

    text: str
    blocks: list[Block]
    attachment: str | None = None
    attachment_name: str = "draft.md"


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


#: `@channel`, `@here`, `@everyone` written as bare words (any case): Slack can turn them into a broadcast.
_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone))", re.IGNORECASE)


def sanitise(text: str, limit: int | None = None) -> str:
    """Untrusted text (titles, file names, finding and draft text, model output, comments) made safe for mrkdwn.

    1. Control and bidi characters are removed (`retrieval.loaders.safe_text`, the store's own rule); newlines
       and tabs stay.
    2. `&`, `<`, `>` are escaped, so `<!channel>`, `<!here>`, `<@U…>`, `<#C…>`, `<!subteam^…>` and `<url|label>`
       show as written and never become a mention or a link.
    3. A bare `@channel` / `@here` / `@everyone` gets a visible space, `@ channel`: readable, never a broadcast,
       and safe under any Unicode normalisation (an invisible joiner would be a format character, stripped above).
       The cost is cosmetic: `ops@hereford.example` reads `ops@ hereford.example`.

    With `limit`, the result is at most that long, cut with an ellipsis but never inside an escape.
    """
    if limit is not None and limit < 1:
        raise ValueError("limit must be positive")
    if isinstance(text, Mrkdwn):  # built safe (a refusal naming people): escaping again would break its mentions
        return truncate(text, limit) if limit is not None else text
    safe = _BROADCAST.sub("@ ", escape(safe_text(text)))
    return truncate(safe, limit) if limit is not None else safe


def plain(text: str, limit: int = c.MAX_FALLBACK_TEXT) -> str:
    """Untrusted text for a message's `text` fallback (the notification): Slack parses it for `<!channel>`,
    `<@U…>` and `@here` as it does a block, so it is neutralised the same way, and capped at `limit`."""
    return sanitise(text, limit)


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


# --- people and refusals ------------------------------------------------------------------------------------


def mention(slack_id: str) -> str:
    """Slack markup for a user (U…/W…) or user group (S…); anything else is shown as written."""
    if slack_id.startswith("S"):
        return f"<!subteam^{slack_id}>"
    if slack_id[:1] in {"U", "W"}:
        return f"<@{slack_id}>"
    return slack_id


class Mrkdwn(str):
    """Text already made safe for mrkdwn, with our own mentions live: `sanitise` passes it through unchanged."""

    __slots__ = ()


#: Private-use delimiters marking a person inside a refusal while its words are sanitised.
_PERSON = re.compile("\ue000([^\ue000\ue001]+)\ue001")


def refusal_text(error: TrackerError) -> Mrkdwn:
    """A refusal's words sanitised (they may quote a title or a comment), the people it names as live mentions."""
    marked = error.describe(lambda user: f"\ue000{user}\ue001")
    return Mrkdwn(_PERSON.sub(lambda m: mention(m.group(1)), sanitise(marked)))


# --- small messages ---------------------------------------------------------------------------------------


def error_message(problem: str, todo: str, detail: str = "", retry: ButtonRef | None = None) -> MessagePayload:
    """What went wrong and what to do; nothing the user already has is lost. `retry` adds Regenerate."""
    text = f":warning: *{sanitise(problem)}*\n{sanitise(todo)}"
    blocks = [section(text, c.BLOCK_ERROR)]
    if detail:
        blocks.append(context([sanitise(detail)]))
    if retry is not None:
        value = button_value(retry.finding_id, retry.version)
        blocks.append(
            {
                "type": "actions",
                "block_id": c.BLOCK_ACTIONS,
                "elements": [button("Regenerate", c.ACTION_REGENERATE, value)],
            }
        )
    return MessagePayload(plain(f"{problem} {todo}"), blocks)


def progress_message(text: str) -> MessagePayload:
    """A placeholder such as 'Reading report.pdf…', replaced in place when the work is done."""
    return MessagePayload(plain(text), [section(f":hourglass_flowing_sand: {sanitise(text)}", c.BLOCK_PROGRESS)])


def notice(text: str) -> MessagePayload:
    """A one-line reply (already mrkdwn); used for ephemeral refusals and acknowledgements."""
    return MessagePayload(truncate(text, c.MAX_FALLBACK_TEXT), [section(text)])


def refusal(text: str) -> MessagePayload:
    return MessagePayload(plain(text), [section(f":no_entry_sign: {sanitise(text)}")])


#: The notice a shorter card carries when Slack refused the full one (too long, or blocks it would not take).
SHORTER_NOTE = "Slack would not show the full message, so this is a shorter version; the full text is attached."


def shorter(payload: MessagePayload, keep_buttons: bool = True) -> MessagePayload:
    """A fallback Slack will take when it refused `payload` (`msg_too_long`, `invalid_blocks`): the text in one
    section, the buttons kept (`keep_buttons`), and the full text as the attachment so nothing is lost."""
    full = payload.attachment or "\n\n".join(_block_texts(payload.blocks)) or payload.text
    blocks: list[Block] = [section(sanitise(truncate(payload.text, 1500))), context([SHORTER_NOTE])]
    if keep_buttons:
        blocks += [block for block in payload.blocks if block.get("type") == "actions"][:1]
    return MessagePayload(truncate(payload.text, 1500), blocks, attachment=full, attachment_name="message.md")


def _block_texts(blocks: list[Block]) -> list[str]:
    texts = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict) and text.get("text"):
            texts.append(str(text["text"]))
        for element in block.get("elements", []):
            if isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text"):
                texts.append(str(element.get("text", "")))
    return texts

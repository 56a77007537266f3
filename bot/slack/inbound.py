"""What arrives from Slack, reduced to what the services need; and reading intent from a message's text.

Pure functions: Slack markup is removed before the text reaches drafting, a follow-up names (or implies)
the finding it is about, and a date typed beside an uploaded report is read as its publication date.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from retrieval.dates import DateParseError, parse_date
from tracker.views import FindingView


class Surface(StrEnum):
    MENTION = "mention"
    DM = "dm"
    ASSISTANT = "assistant"
    THREAD = "thread"


@dataclass(frozen=True)
class SlackFile:
    id: str
    name: str = ""


@dataclass(frozen=True)
class Inbound:
    """One person's message to the bot. Replies go to `thread_ts` (the message's own ts at top level)."""

    channel: str
    thread_ts: str
    ts: str
    user: str
    text: str
    surface: Surface
    files: tuple[SlackFile, ...] = field(default=())
    in_thread: bool = False

    @classmethod
    def from_event(cls, event: dict[str, Any], surface: Surface, bot_user_id: str | None = None) -> Inbound:
        files = tuple(
            SlackFile(id=f["id"], name=f.get("name") or f.get("title") or "") for f in event.get("files") or ()
        )
        return cls(
            channel=event.get("channel", ""),
            thread_ts=event.get("thread_ts") or event.get("ts", ""),
            ts=event.get("ts", ""),
            user=event.get("user", ""),
            text=clean_slack_text(event.get("text") or "", bot_user_id),
            surface=surface,
            files=files,
            in_thread=bool(event.get("thread_ts")),
        )


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]+))?>")
_SPECIAL = re.compile(r"<![^>]*>|<#[A-Z0-9]+(?:\|([^>]*))?>")


def clean_slack_text(text: str, bot_user_id: str | None = None) -> str:
    """Drop the bot's mention, turn links and channels into their labels, undo Slack's HTML escapes."""
    text = _MENTION.sub(lambda m: "" if m.group(1) == bot_user_id else f"@{m.group(1)}", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SPECIAL.sub(lambda m: f"#{m.group(1)}" if m.group(1) else "", text)
    return html.unescape(text).strip()


def mentions(text: str, user_id: str | None) -> bool:
    return bool(user_id) and any(m.group(1) == user_id for m in _MENTION.finditer(text))


_LABEL = re.compile(
    r"^\s*(?P<kind>recommendation|rec\.?|r|area for improvement|afi|cause of concern|coc)\s*#?\s*"
    r"(?P<number>\d+(?:\.\d+)*)\s*[:,.\-–—]?\s*",
    re.I,
)
_KIND_WORDS = {
    "recommendation": "recommendation",
    "rec": "recommendation",
    "rec.": "recommendation",
    "r": "recommendation",
    "area for improvement": "area for improvement",
    "afi": "area for improvement",
    "cause of concern": "cause of concern",
    "coc": "cause of concern",
}


@dataclass(frozen=True)
class FollowUp:
    finding: FindingView | None
    instruction: str
    problem: str = ""


def pick_follow_up(findings: list[FindingView], text: str) -> FollowUp:
    """Which finding a follow-up in a thread is about: the only one, or the one it names ('Rec 3: …')."""
    match = _LABEL.match(text)
    instruction = text[match.end() :].strip() if match else text.strip()
    if match:
        kind = _KIND_WORDS[match.group("kind").lower()]
        named = [f for f in findings if f.number == match.group("number") and f.kind.value == kind]
        if len(named) == 1:
            return FollowUp(named[0], instruction)
        return FollowUp(None, instruction, f"There is no {kind} {match.group('number')} in this thread.")
    # Every finding of the thread counts, drafted or not yet: a follow-up typed while the first draft is still
    # being written (its message not yet recorded) is about that one answer.
    if len(findings) == 1:
        return FollowUp(findings[0], instruction)
    labels = ", ".join(f.label for f in findings[:5])
    return FollowUp(
        None,
        instruction,
        f"This thread has {len(findings)} answers ({labels}{' …' if len(findings) > 5 else ''}). Start your "
        "message with the one you mean, e.g. 'Recommendation 2: make it shorter', or use Request changes "
        "on its message.",
    )


_DATE_CANDIDATES = re.compile(
    r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\.?,?\s+\d{4}\b"
)


def published_from_text(text: str) -> date | None:
    """A publication date typed beside an uploaded report ('published 8 Dec 2023'), if there is one."""
    for candidate in _DATE_CANDIDATES.findall(text):
        try:
            return parse_date(candidate)
        except DateParseError:
            continue
    return None

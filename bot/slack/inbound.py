"""What arrives from Slack, reduced to what the services need; and reading intent from a message's text.

Pure functions: Slack markup is removed before the text reaches drafting, a follow-up names (or implies)
the finding it is about, and a date typed beside an uploaded report is read as its publication date.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from retrieval.dates import DateParseError, parse_date
from retrieval.models import FindingKind
from tracker.views import FindingView

#: Message subtypes that are a person saying something; edits, deletions, joins and bot posts are not.
PERSON_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


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


def route(event: dict[str, Any], bot_user_id: str | None, knows_thread: Callable[[str, str], bool]) -> Inbound | None:
    """Which messages are for us: DMs, and replies in our threads that do not also mention us."""
    if event.get("subtype") not in PERSON_SUBTYPES or event.get("bot_id"):
        return None
    if event.get("channel_type") == "im":
        return Inbound.from_event(event, Surface.DM, bot_user_id)
    if mentions(event.get("text") or "", bot_user_id):
        return None  # the app_mention event for the same message does the work
    thread_ts = event.get("thread_ts")
    if thread_ts and knows_thread(event.get("channel", ""), thread_ts):
        return Inbound.from_event(event, Surface.THREAD, bot_user_id)
    return None


# ── follow-ups: which finding a reply in a thread is about ──────────────────────────────────────────────────
# The labels people type for a finding: "Recommendation 3:", "Rec. 3 -", "R3", "AFI 1", "Cause of concern 1",
# "#3", "the third one", "the 2nd recommendation:", "the last one". Digits are ASCII only: a stored number is
# compared as a number, and "²" or "٣" is no finding's number.
_KIND_NAMES = r"recommendation|rec\.?|area\s+(?:for|of)\s+improvement|afi|cause\s+(?:of|for)\s+concern|coc"
_LEAD = r"^[\s*_~>`]*(?:(?:for|on|about|in|re:?)\s+)?(?:the\s+)?"  # Slack markup, "For rec 3", "the 2nd"
_SEP = r"[*_~`]*(?:\s*[:;,.)\]\-–—]+)?\s*"  # closing markup, then the separator before the instruction
_NUMBER = r"(?P<number>[0-9]+(?:\.[0-9]+)*)\b"
_NUMBERED = re.compile(_LEAD + rf"(?P<kind>{_KIND_NAMES}|r\.?)\s*(?:#|no\.?\s*|number\s+)?" + _NUMBER + _SEP, re.I)
_HASH = re.compile(_LEAD + r"#\s*" + _NUMBER + _SEP, re.I)
_ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_ORDINAL = re.compile(
    r"^[\s*_~>`]*(?:(?:for|on|about|in|re:?)\s+)?(?P<the>the\s+)?"
    rf"(?P<nth>{'|'.join(_ORDINAL_WORDS)}|last|[0-9]{{1,3}}(?:st|nd|rd|th))\b"
    rf"(?:\s+(?P<what>one|answer|draft|finding|{_KIND_NAMES})\b|(?=\s*[:\-–—]))" + _SEP,
    re.I,
)
_PLURALS = {
    FindingKind.RECOMMENDATION: "recommendations",
    FindingKind.AREA_FOR_IMPROVEMENT: "areas for improvement",
    FindingKind.CAUSE_OF_CONCERN: "causes of concern",
}
_LAST = -1


@dataclass(frozen=True)
class FindingLabel:
    """A finding named at the start of a message: by kind and number, by number alone ('#3'), or by place."""

    end: int  # where the instruction starts
    said: str  # how the problem text names it: "recommendation 7", "third one"
    kind: FindingKind | None = None  # None: any kind ("the third one", "#3")
    number: str | None = None
    nth: int | None = None  # 1-based place in the thread; _LAST for "the last one"


@dataclass(frozen=True)
class FollowUp:
    finding: FindingView | None
    instruction: str
    problem: str = ""
    labelled: bool = False  # the text opens with a finding's label, so it is never a new finding


def kind_of(word: str) -> FindingKind | None:
    """'Rec.', 'AFI', 'cause for concern' → their kind; a word that names none ('one', 'draft') → None."""
    word = " ".join(word.lower().rstrip(".").split())
    if word in {"r", "rec", "recommendation"}:
        return FindingKind.RECOMMENDATION
    if word == "afi" or word.endswith("improvement"):
        return FindingKind.AREA_FOR_IMPROVEMENT
    if word == "coc" or word.endswith("concern"):
        return FindingKind.CAUSE_OF_CONCERN
    return None


def parse_label(text: str) -> FindingLabel | None:
    """The finding a message opens with, if it opens with one; the rest of the text is the instruction."""
    if match := _NUMBERED.match(text):
        kind = kind_of(match.group("kind"))
        if kind is not None:
            number = match.group("number")
            return FindingLabel(match.end(), f"{kind.value} {number}", kind=kind, number=number)
    if match := _HASH.match(text):
        return FindingLabel(match.end(), f"answer #{match.group('number')}", number=match.group("number"))
    if (match := _ORDINAL.match(text)) and (match.group("what") or match.group("the")):
        # A bare ordinal needs "the" and a colon or dash: "first, make it shorter" is an adverb, not a label.
        nth_word = match.group("nth").lower()
        nth = _LAST if nth_word == "last" else _ordinal_value(nth_word)
        what = match.group("what") or "one"
        kind = kind_of(what)
        said = f"{nth_word} {kind.value if kind else 'one'}"
        return FindingLabel(match.end(), said, kind=kind, nth=nth)
    return None


def _ordinal_value(word: str) -> int:
    return _ORDINAL_WORDS.index(word) + 1 if word in _ORDINAL_WORDS else int(word[:-2])


def _same_number(a: str | None, b: str | None) -> bool:
    """'3' and '03' are the same number; a number and no number are not."""
    return a is not None and b is not None and _normal(a) == _normal(b)


def _normal(number: str) -> str:
    return ".".join(
        p.lstrip("0") or "0" if p.isascii() and p.isdigit() else p.lower() for p in number.strip().split(".")
    )


def number_of(finding: FindingView) -> str | None:
    """The finding's number, or the one printed at the start of a pasted text ('Recommendation 3: By …')."""
    if finding.number:
        return finding.number
    printed = _NUMBERED.match(finding.text)
    return printed.group("number") if printed and kind_of(printed.group("kind")) else None


def in_thread_order(findings: list[FindingView]) -> list[FindingView]:
    """Report order: positions (pasted requests are all 0, so their age breaks the tie)."""
    return sorted(findings, key=lambda f: (f.position, f.id))


def find_labelled(findings: list[FindingView], label: FindingLabel) -> FindingView | str:
    """The finding `label` names in the thread, or the problem to tell the person."""
    ordered = in_thread_order(findings)
    of_kind = [f for f in ordered if label.kind is None or f.kind is label.kind]
    if label.nth is not None:
        picked = _nth(of_kind, label.nth)
    elif label.kind is None:
        picked = _by_number_any_kind(ordered, label.number)
    else:
        picked = _by_kind_and_number(ordered, of_kind, label.number)
    if isinstance(picked, list):  # two findings share the label (the same report uploaded twice)
        twins = f"This thread has {len(picked)} answers labelled {picked[0].label}"
        return f"{twins}; use Request changes on the one you mean."
    if picked is not None:
        return picked
    return f"There is no {label.said} in this thread; it has {describe(ordered)}."


def _nth(findings: list[FindingView], nth: int) -> FindingView | None:
    if nth == _LAST:
        return findings[-1] if findings else None
    return findings[nth - 1] if 1 <= nth <= len(findings) else None


def _by_number_any_kind(ordered: list[FindingView], number: str | None) -> FindingView | list[FindingView] | None:
    """'#3': the one numbered 3 if only one is, else the third in the thread."""
    numbered = [f for f in ordered if _same_number(number_of(f), number)]
    if len(numbered) == 1:
        return numbered[0]
    return _nth(ordered, int(number or 0)) if number and number.isdigit() else None


def _by_kind_and_number(
    ordered: list[FindingView], of_kind: list[FindingView], number: str | None
) -> FindingView | list[FindingView] | None:
    exact = [f for f in of_kind if _same_number(number_of(f), number)]
    if exact:
        return exact[0] if len(exact) == 1 else exact
    # Unnumbered areas for improvement (as PEEL prints them) are counted: "AFI 2" is the second.
    counted = all(number_of(f) is None for f in of_kind) and number and number.isdigit()
    if counted and (nth := _nth(of_kind, int(number or 0))) is not None:
        return nth
    if not of_kind:  # "Rec 2" for a thread of areas for improvement only: people call them all recommendations
        others = [f for f in ordered if _same_number(number_of(f), number)]
        if len(others) == 1:
            return others[0]
    # One unnumbered answer in the thread (a pasted recommendation): no number can contradict it.
    if len(ordered) == 1 and number_of(ordered[0]) is None:
        return ordered[0]
    return None


def describe(findings: list[FindingView]) -> str:
    """'Recommendation 1–5 and Area for improvement 1', 'Recommendation 1–2 and an area for improvement'."""
    ordered = in_thread_order(findings)
    parts: list[str] = []
    for kind in dict.fromkeys(f.kind for f in ordered):
        mine = [f for f in ordered if f.kind is kind]
        numbers = [n for f in mine if (n := number_of(f)) is not None]
        if numbers:
            parts.append(f"{kind.value.capitalize()} {_ranges(numbers)}")
        if unnumbered := len(mine) - len(numbers):
            parts.append(_count(unnumbered, kind))
    if not parts:
        return "no answers yet"
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _count(count: int, kind: FindingKind) -> str:
    """'an area for improvement', '3 recommendations'."""
    if count > 1:
        return f"{count} {_PLURALS[kind]}"
    return f"{'an' if kind.value[0] in 'aeiou' else 'a'} {kind.value}"


def _ranges(numbers: list[str]) -> str:
    """['1', '2', '3', '5'] → '1–3, 5'; numbers that are not whole ('3.5') are listed as they are."""
    if not all(n.isascii() and n.isdigit() for n in numbers):
        return ", ".join(dict.fromkeys(numbers))
    values = sorted({int(n) for n in numbers})
    runs: list[list[int]] = []
    for value in values:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return ", ".join(f"{run[0]}–{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


def pick_follow_up(findings: list[FindingView], text: str) -> FollowUp:
    """Which finding a follow-up in a thread is about: the one it names ('Rec 3: …', 'the second one'), or the
    only one; otherwise the problem to tell the person (which one? no such finding)."""
    label = parse_label(text)
    if label is not None:
        instruction = text[label.end :].strip()
        picked = find_labelled(findings, label)
        if isinstance(picked, str):
            return FollowUp(None, instruction, picked, labelled=True)
        return FollowUp(picked, instruction, labelled=True)
    instruction = text.strip()
    # Every finding of the thread counts, drafted or not yet: a follow-up typed while the first draft is still
    # being written (its message not yet recorded) is about that one answer.
    if len(findings) == 1:
        return FollowUp(findings[0], instruction)
    if not findings:
        return FollowUp(None, instruction, "This thread has no answers yet.")
    return FollowUp(None, instruction, _which_one(in_thread_order(findings)))


def _which_one(ordered: list[FindingView]) -> str:
    numbered = [f"{f.kind.value.capitalize()} {n}" for f in ordered[1:] + ordered[:1] if (n := number_of(f))]
    example = f"'{numbered[0]}: make it shorter' or " if numbered else ""
    return (
        f"This thread has {len(ordered)} answers ({describe(ordered)}). Start your message with the one you mean, "
        f"e.g. {example}'the second one: make it shorter', or use Request changes on its message."
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

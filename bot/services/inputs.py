"""What people type, read the same way by Slack and the command line (pure functions).

`8 Dec 2023 An inspection of …` splits into the date and the title the same way in both, and a pasted
recommendation is checked and made a finding the same way in both. Typed text is untrusted: `safe_text` (NUL,
control and bidi override characters removed) runs before anything is read from it, and the tracker runs it
again before anything is stored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from drafting.models import MAX_RECOMMENDATION_CHARS
from retrieval.dates import DateParseError, format_date, parse_date
from retrieval.findings import make_finding
from retrieval.loaders import safe_text
from retrieval.models import Finding, InspectionType
from tracker.deadlines import DONE_STEPS, RECIPIENT_MARKS
from tracker.errors import InvalidInput
from tracker.inspections import checked_title

#: The longest date people type: "Friday 8th of December 2023" is five words.
MAX_DATE_WORDS = 5
_GENERIC_DATE_REASONS = {"it is not in a date format we accept", "it has no year"}
TYPE_ALIASES = {
    "force": InspectionType.FORCE_SPECIFIC,
    "force-specific": InspectionType.FORCE_SPECIFIC,
    "local": InspectionType.FORCE_SPECIFIC,
    "national": InspectionType.NATIONAL_THEMATIC,
    "thematic": InspectionType.NATIONAL_THEMATIC,
    "national-thematic": InspectionType.NATIONAL_THEMATIC,
    "national thematic": InspectionType.NATIONAL_THEMATIC,
    "joint": InspectionType.JOINT,
    "peel": InspectionType.PEEL,
    "unknown": InspectionType.UNKNOWN,
}


def split_date_and_title(text: str) -> tuple[date, str]:
    """`8 Dec 2023 An inspection of …` → (2023-12-08, 'An inspection of …'): the longest leading date wins."""
    words = safe_text(text or "").split()
    if not words:
        raise InvalidInput("Give the date the report was published, then its title.")
    found: tuple[date, int] | None = None
    errors: list[DateParseError] = []
    for count in range(1, min(MAX_DATE_WORDS, len(words)) + 1):
        try:
            found = (parse_date(" ".join(words[:count])), count)
        except DateParseError as error:
            errors.append(error)
    if found is None:
        # "8 Decc 2023 …": the three-word attempt says "'decc' is not a month name"; say that, not "no year".
        telling = [error for error in errors if error.reason not in _GENERIC_DATE_REASONS]
        problem = (telling or errors)[-1 if telling else 0]
        raise InvalidInput(f"The inspection needs its publication date first. {problem}")
    published, used = found
    title = " ".join(words[used:]).strip()
    if not title:
        raise InvalidInput(f"Give the inspection's title after the date ({format_date(published)}).")
    return published, checked_title(title)


def parse_inspection_type(value: str | InspectionType | None) -> InspectionType:
    if value is None:
        return InspectionType.UNKNOWN
    if isinstance(value, InspectionType):
        return value
    found = TYPE_ALIASES.get(value.strip().lower())
    if found is None:
        raise InvalidInput(f"Unknown inspection type {value!r}: use force-specific, national, joint or peel.")
    return found


def parse_days(text: str | Sequence[int]) -> list[int]:
    """`28,14,7,3,1,0` (or spaces) → [28, 14, 7, 3, 1, 0]; the tracker checks the range."""
    if not isinstance(text, str):
        return list(text)
    parts = [part for part in re.split(r"[,\s]+", text.strip()) if part]
    if not parts:
        raise InvalidInput("Give the reminder offsets in days before the last day, e.g. 28,14,7,3,1,0.")
    try:
        return [int(part) for part in parts]
    except ValueError:
        raise InvalidInput(
            f"Reminder offsets are whole numbers of days, e.g. 28,14,7,3,1,0; not {text.strip()!r}."
        ) from None


def parse_id(text: str) -> int:
    cleaned = text.strip().lstrip("#")
    if not cleaned.isdigit():
        raise InvalidInput(f"{text.strip()!r} is not an inspection id: use the number `list` shows, e.g. 3.")
    return int(cleaned)


def parse_step(text: str) -> str:
    step = text.strip().lower()
    if step not in RECIPIENT_MARKS:
        raise InvalidInput(f"Unknown step {text.strip()!r}: use one of {', '.join(DONE_STEPS)}.")
    return step


_FINDING_WORDS = re.compile(r"\b(?:should|must|recommend(?:s|ed|ation)?|by \d{1,2} \w+ \d{4})\b", re.I)
_MIN_FINDING_CHARS = 25
_SURELY_FINDING_CHARS = 120


def looks_like_recommendation(text: str) -> bool:
    """A pasted recommendation, as opposed to 'hello' or an instruction such as 'make it shorter'."""
    if len(text) >= _SURELY_FINDING_CHARS:
        return True
    return len(text) >= _MIN_FINDING_CHARS and bool(_FINDING_WORDS.search(text))


class RecommendationTooLong(ValueError):
    """A paste longer than one recommendation; each front end says what to do instead (upload the report)."""

    def __init__(self, length: int) -> None:
        super().__init__(f"{length:,} characters; one recommendation is at most {MAX_RECOMMENDATION_CHARS:,}")
        self.length = length


def recommendation(text: str) -> Finding:
    """A pasted recommendation as a finding, its whitespace collapsed; RecommendationTooLong past the limit."""
    text = " ".join(safe_text(text).split())
    if len(text) > MAX_RECOMMENDATION_CHARS:
        raise RecommendationTooLong(len(text))
    return make_finding(text)

"""Read dates the way people type them in Slack and the way the seed documents print them: the one date reader.

UK day-first throughout: `8/12/2023` is 8 December. Nothing is guessed: a date without a year, a relative
phrase ("next Tuesday"), an impossible day (31/02/2024), a year outside 2000–2100 (a typo such as 2999, which
would otherwise give a deadline centuries away) or leftover words are refused with a message that lists the
accepted formats. dateutil supplies the month and weekday vocabulary (Sept, Sep, September …);
the shapes themselves are matched explicitly so its fuzzy guessing never decides a statutory deadline.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from dateutil.parser import parserinfo

#: The years a statutory deadline can fall in; anything else is a typo ("2999", "0023").
MIN_YEAR, MAX_YEAR = 2000, 2100

ACCEPTED_FORMATS = (
    "2023-12-08, 8/12/2023, 08/12/23, 8 Dec 2023, 8 December 2023 or 8th December 2023 (day before month)"
)

_NAMES = parserinfo()
_TAGS = re.compile(r"<[^>]*>")
_ORDINAL = re.compile(r"\b(\d{1,2})\s*(?:st|nd|rd|th)\b")
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d+)$")
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2}) ([a-z]+)\.? (\d+)$")
_MONTH_DAY_YEAR = re.compile(r"^([a-z]+)\.? (\d{1,2}) (\d+)$")
_NO_YEAR = re.compile(r"^(\d{1,2}[-/.]\d{1,2}|\d{1,2} [a-z]+\.?|[a-z]+\.? \d{1,2})$")
_RELATIVE = {"today": 0, "yesterday": -1, "tomorrow": 1}


class DateParseError(ValueError):
    """The text is not a date we can read without guessing; the message says why and what to type."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"Could not read {text!r} as a date: {reason}. Type it like {ACCEPTED_FORMATS}.")


def format_date(value: date) -> str:
    """`1 Feb 2024`: the short form used in every deadline line."""
    return f"{value.day} {value:%b %Y}"


def format_date_long(value: date) -> str:
    """`1 February 2024`: the form used in the published response."""
    return f"{value.day} {value:%B %Y}"


def read_date(text: str) -> date | None:
    """A date in a document ("7th November 2023", "Jun 28, 2018"), or None: documents are read, not refused."""
    try:
        return parse_date(text)
    except DateParseError:
        return None


def parse_date(text: str, today: date | None = None) -> date:
    """Parse one date; `today` is only needed for the words today / yesterday / tomorrow."""
    if not isinstance(text, str) or not text.strip():
        raise DateParseError(str(text), "it is empty")
    cleaned, weekday = _normalise(text)
    if cleaned in _RELATIVE:
        if today is None:
            raise DateParseError(text, f"'{cleaned}' needs today's date, which was not given")
        relative = today + timedelta(days=_RELATIVE[cleaned])
        return _check_weekday(text, _build(text, relative.year, relative.month, relative.day), weekday)
    parsed = _parse_shapes(text, cleaned)
    return _check_weekday(text, parsed, weekday)


def _normalise(text: str) -> tuple[str, int | None]:
    """Lower-case, drop HTML (`8 <sup>th</sup>`), ordinals (`7 th`), commas, 'of' and a leading weekday."""
    cleaned = _TAGS.sub(" ", text).lower().replace(",", " ")
    cleaned = _ORDINAL.sub(r"\1", cleaned)
    words = [word for word in cleaned.split() if word != "of"]
    weekday = None
    if len(words) > 1 and _NAMES.weekday(words[0]) is not None:
        weekday = _NAMES.weekday(words[0])
        words = words[1:]
    return " ".join(words), weekday


def _parse_shapes(text: str, cleaned: str) -> date:
    if match := _ISO.match(cleaned):
        year, month, day = (int(part) for part in match.groups())
        return _build(text, year, month, day)
    if match := _NUMERIC.match(cleaned):
        day, month = int(match[1]), int(match[2])
        return _build(text, _year(text, match[3]), month, day)
    if match := _DAY_MONTH_YEAR.match(cleaned):
        return _build(text, _year(text, match[3]), _month(text, match[2]), int(match[1]))
    if match := _MONTH_DAY_YEAR.match(cleaned):
        return _build(text, _year(text, match[3]), _month(text, match[1]), int(match[2]))
    if _NO_YEAR.match(cleaned):
        raise DateParseError(text, "it has no year")
    if not cleaned:
        raise DateParseError(text, "it has no date in it")
    if cleaned.split()[0] in {"next", "last", "this", "in", "on", "coming"}:
        raise DateParseError(text, "relative dates are ambiguous; give the calendar date")
    raise DateParseError(text, "it is not in a date format we accept")


def _year(text: str, digits: str) -> int:
    """Four digits as written; two digits are this century (`08/12/23` → 2023)."""
    if len(digits) == 4:
        return int(digits)
    if len(digits) == 2:
        return 2000 + int(digits)
    raise DateParseError(text, f"the year '{digits}' should have four digits (or two)")


def _month(text: str, name: str) -> int:
    month = _NAMES.month(name)
    if month is None:
        raise DateParseError(text, f"'{name}' is not a month name")
    return month


def _build(text: str, year: int, month: int, day: int) -> date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DateParseError(text, f"{year:04d} is outside {MIN_YEAR}–{MAX_YEAR}: check the year")
    if not 1 <= month <= 12:
        raise DateParseError(text, f"there is no month {month}")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise DateParseError(text, f"{calendar.month_name[month]} {year} has {last} days, not {day}")
    return date(year, month, day)


def _check_weekday(text: str, value: date, weekday: int | None) -> date:
    """A typed weekday must agree with the date: 'Thursday 8 December 2023' is a typo worth catching."""
    if weekday is not None and value.weekday() != weekday:
        actual, written = calendar.day_name[value.weekday()], calendar.day_name[weekday]
        raise DateParseError(text, f"{format_date_long(value)} is a {actual}, not a {written}")
    return value

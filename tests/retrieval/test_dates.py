"""Dates typed the way people type them (UK day-first), and refusals that say what to type instead."""

from __future__ import annotations

from datetime import date

import pytest

from retrieval.dates import ACCEPTED_FORMATS, DateParseError, format_date, format_date_long, parse_date

DEC_8 = date(2023, 12, 8)


@pytest.mark.parametrize(
    "text",
    [
        "2023-12-08",
        "8/12/2023",
        "08/12/2023",
        "08/12/23",
        "8-12-2023",
        "8.12.2023",
        "8 Dec 2023",
        "8 December 2023",
        "8th December 2023",
        "8th of December, 2023",
        "8 <sup>th</sup> December 2023",
        "  8 DECEMBER 2023 ",
        "December 8, 2023",
        "Friday 8 December 2023",
        "Fri, 8 Dec 2023",
    ],
)
def test_accepted_formats_all_mean_8_december_2023(text: str) -> None:
    assert parse_date(text) == DEC_8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7 th November 2023", date(2023, 11, 7)),  # the seed's typesetting artefact
        ("2 nd January 2024", date(2024, 1, 2)),
        ("2 <sup>nd</sup> February 2024", date(2024, 2, 2)),
        ("27 th February 2020", date(2020, 2, 27)),
        ("1st Sept 2024", date(2024, 9, 1)),
        ("29/02/2024", date(2024, 2, 29)),
    ],
)
def test_seed_artefacts_and_edge_days(text: str, expected: date) -> None:
    assert parse_date(text) == expected


def test_slashes_are_day_first_even_when_both_parts_could_be_months() -> None:
    assert parse_date("12/08/2023") == date(2023, 8, 12)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2023-13-01", "there is no month 13"),
        ("31/02/2024", "February 2024 has 29 days, not 31"),
        ("29/02/2023", "February 2023 has 28 days, not 29"),
        ("31 April 2024", "April 2024 has 30 days, not 31"),
        ("next Tuesday", "relative dates are ambiguous"),
        ("8/12", "it has no year"),
        ("8 December", "it has no year"),
        ("8 Decmber 2023", "'decmber' is not a month name"),
        ("Thursday 8 December 2023", "8 December 2023 is a Friday, not a Thursday"),
        ("8 December 2023 at noon", "not in a date format we accept"),
        ("8/12/223", "the year '223' should have four digits"),
        ("", "it is empty"),
        ("today", "needs today's date"),
    ],
)
def test_refusals_say_why_and_list_the_accepted_formats(text: str, reason: str) -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date(text)
    message = str(caught.value)
    assert reason in message
    assert ACCEPTED_FORMATS in message
    assert caught.value.text == text


def test_relative_words_need_and_use_today() -> None:
    today = date(2024, 3, 1)
    assert parse_date("today", today=today) == today
    assert parse_date("Yesterday", today=today) == date(2024, 2, 29)


def test_date_parse_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no year"):
        parse_date("8 Dec")


def test_formatting_short_and_long() -> None:
    assert format_date(date(2024, 2, 1)) == "1 Feb 2024"
    assert format_date_long(date(2024, 2, 1)) == "1 February 2024"

"""Pure parts of `/hmicfrs`: what people type → parts, and the Block Kit builders' limits."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.services.inputs import parse_days, parse_inspection_type, split_date_and_title
from bot.services.slash_command import parse_add
from bot.slack.constants import MAX_HOME_BLOCKS
from bot.slack.ui.deadlines import inspection_list
from bot.slack.ui.home import HomeRow, archive_link, home_view
from retrieval.models import InspectionType
from tests.support.slack_fake import iter_texts
from tests.support.views import inspection_view
from tracker.deadlines import deadline_status, explain_deadline, statutory_last_day
from tracker.errors import InvalidInput
from tracker.views import InspectionSummary

TODAY = date(2023, 12, 10)


@pytest.mark.parametrize(
    ("text", "published", "title"),
    [
        ("2023-12-08 An inspection", date(2023, 12, 8), "An inspection"),
        ("8/12/2023 An inspection", date(2023, 12, 8), "An inspection"),
        ("8 Dec 2023 An inspection", date(2023, 12, 8), "An inspection"),
        ("Friday 8th of December 2023 PEEL 2023", date(2023, 12, 8), "PEEL 2023"),
        ("29 Feb 2024 2024 leap-year review", date(2024, 2, 29), "2024 leap-year review"),
    ],
)
def test_the_longest_leading_date_is_split_from_the_title(text: str, published: date, title: str) -> None:
    assert split_date_and_title(text) == (published, title)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the date the report was published"),
        ("29 Feb 2023 A title", "February 2023 has 28 days"),
        ("Thursday 8 December 2023 A title", "is a Friday, not a Thursday"),
        ("8 Decc 2023 A title", "'decc' is not a month name"),
        ("An inspection of things", "not in a date format"),
    ],
)
def test_unreadable_dates_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        split_date_and_title(text)


def test_slash_add_text_yields_channel_and_type() -> None:
    request = parse_add("8 Dec 2023 Child exploitation <#C0123ABC|reviews> --type peel")
    assert (request.text, request.channel, request.inspection_type) == (
        "8 Dec 2023 Child exploitation",
        "C0123ABC",
        "peel",
    )
    assert parse_add("8 Dec 2023 Report #2").channel is None  # a number is part of the title
    with pytest.raises(InvalidInput, match="channel suggestions"):
        parse_add("8 Dec 2023 Child exploitation #reviews")


def test_types_and_offsets() -> None:
    assert parse_inspection_type("National") is InspectionType.NATIONAL_THEMATIC
    assert parse_inspection_type(None) is InspectionType.UNKNOWN
    with pytest.raises(InvalidInput, match="force-specific, national, joint or peel"):
        parse_inspection_type("regional")
    assert parse_days("28, 14 7,0") == [28, 14, 7, 0]
    with pytest.raises(InvalidInput, match="whole numbers"):
        parse_days("28,two")


def summary(number: int, published: date) -> InspectionSummary:
    last_day = statutory_last_day(published)
    view = inspection_view(number, f"Inspection {number} <with> & symbols", published)
    return InspectionSummary(
        inspection=view,
        days_left=(last_day - TODAY).days,
        status=deadline_status(last_day, TODAY),
        deadline_line=explain_deadline(published, TODAY),
    )


def test_long_lists_stay_inside_slacks_block_limits_and_say_what_was_left_out() -> None:
    many = [summary(n, date(2023, 11, 1 + n % 28)) for n in range(1, 41)]
    message = inspection_list(many)
    assert len(message.blocks) <= 50
    assert "… and 25 more" in " ".join(iter_texts(message.blocks))
    view = home_view([HomeRow(summary=s) for s in many], datetime(2023, 12, 10, tzinfo=UTC))
    assert len(view["blocks"]) <= MAX_HOME_BLOCKS
    texts = " ".join(iter_texts(view["blocks"]))
    assert "… and 10 more" in texts
    assert "&lt;with&gt; &amp; symbols" in texts and "<with>" not in texts  # titles cannot break mrkdwn


def test_archive_links_use_slacks_permalink_shape() -> None:
    assert archive_link("https://pcc.slack.com/", "C1", "1700000001.000100") == (
        "https://pcc.slack.com/archives/C1/p1700000001000100"
    )

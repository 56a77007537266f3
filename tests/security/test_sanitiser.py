"""Untrusted text (titles, file names, findings, drafts, comments) never reaches Slack as a live mention, a
broadcast, a control character or a direction override: neither in Block Kit nor in the notification fallback."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack import constants as c
from bot.slack.ui.common import MessagePayload, error_message, plain, progress_message, refusal, sanitise
from bot.slack.ui.deadlines import inspection_added, inspection_announcement, inspection_list
from bot.slack.ui.draft_card import DraftCard, draft_message, drafting_placeholder
from bot.slack.ui.reminders import reminder_message
from bot.slack.ui.report import Progress, ReportSummary, report_summary, review_ready, writing_placeholder
from retrieval.models import Finding
from tests.support.views import inspection_view
from tracker.deadlines import deadline_status, explain_deadline, statutory_last_day
from tracker.reminders import ReminderKind, ReminderToPost
from tracker.review import ReviewState
from tracker.views import InspectionSummary, InspectionView

TODAY = date(2023, 12, 10)
PUBLISHED = date(2023, 12, 8)
BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}
BIDI |= {"\u200e", "\u200f", "\u061c"}
LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
LIVE = re.compile(r"<[!@#]|@(?:channel|here|everyone)", re.IGNORECASE)
HALF_ESCAPE = re.compile(r"&(?!amp;|lt;|gt;)")
MB = 1_000_000

#: Pieces an attacker (or an unlucky PDF) would put in a title, a file name or a model's output.
NASTY = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S123>",
    "<@U123>",
    "<#C123>",
    "<https://evil.example|click>",
    "@channel",
    "@Here",
    "@EVERYONE",
    "@ channel",
    "&lt;!channel&gt;",
    "&amp;",
    "&",
    "<",
    ">",
    "\x00",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\r\n",
    "\t",
    "\u202e",
    "\u2066",
    "\u200f",
    "\u061c",
    "…",
]
untrusted = st.lists(st.one_of(st.text(max_size=20), st.sampled_from(NASTY)), max_size=30).map("".join)
repeated = st.builds(lambda s, n: s * n, untrusted, st.integers(1, 300))


def unsafe(ch: str) -> bool:
    return (unicodedata.category(ch) == "Cc" and ch not in "\n\t") or ch in BIDI


def assert_safe(out: str) -> None:
    assert "<" not in out and ">" not in out, out[:200]
    assert not LIVE.search(out), out[:200]
    assert not HALF_ESCAPE.search(out), out[-20:]  # every & starts one of our three complete escapes
    assert not any(unsafe(ch) for ch in out)


# --- properties ---------------------------------------------------------------------------------------------


@settings(max_examples=300)
@given(untrusted)
def test_sanitised_text_has_no_live_markup_controls_or_bidi(text: str) -> None:
    out = sanitise(text)
    assert_safe(out)
    # Nothing else is lost or changed: decoded once (as Slack displays it), only removed characters, line
    # breaks made "\n" (CR, VT, FF, NEL, U+2028/9) and the space after a broadcast's @ differ from the input.
    kept = "".join(ch for ch in LINE_BREAKS.sub("\n", text) if not unsafe(ch))
    assert html.unescape(out).replace(" ", "") == kept.replace(" ", "")


@settings(max_examples=200)
@given(st.one_of(untrusted, repeated), st.integers(1, 400))
def test_a_limit_is_kept_without_cutting_an_escape(text: str, limit: int) -> None:
    out = sanitise(text, limit)
    assert len(out) <= limit
    assert_safe(out)
    assert plain(text, limit) == out
    if len(sanitise(text)) > limit:
        assert out.endswith("…")
    else:
        assert out == sanitise(text)


@given(untrusted)
def test_sanitising_twice_never_decodes_into_a_live_mention(text: str) -> None:
    once = sanitise(text)
    twice = sanitise(once)
    assert_safe(twice)
    assert html.unescape(twice) == once  # one level of decoding gives back the safe text, never live markup
    assert_safe(html.unescape(twice))


def test_a_one_megabyte_string_is_neutralised_and_capped() -> None:
    text = ("<!channel> @here \u202e\x00\x1b & <@U123> report.pdf " * (MB // 40))[:MB]
    assert len(text) == MB
    full = sanitise(text)
    assert_safe(full)
    capped = plain(text)
    assert len(capped) <= c.MAX_FALLBACK_TEXT
    assert_safe(capped)
    assert_safe(sanitise(text, 3000)) and len(sanitise(text, 3000)) <= 3000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!channel> Urgent", "&lt;!channel&gt; Urgent"),
        ("<@U123> review", "&lt;@U123&gt; review"),
        ("ask @channel and @HERE, not @everyone", "ask @ channel and @ HERE, not @ everyone"),
        ("report\u202etxt.pdf", "reporttxt.pdf"),
        ("a\x00b\x1bc\x7fd\x9fe\u2066f\u200fg", "abcdefg"),
        ("line one\n\tline two", "line one\n\tline two"),
        ("Q&A <b>", "Q&amp;A &lt;b&gt;"),
    ],
)
def test_the_neutralisation_rules(text: str, expected: str) -> None:
    assert sanitise(text) == expected


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        sanitise("x", 0)


# --- the builders -------------------------------------------------------------------------------------------


def strings(value: Any) -> Iterator[str]:
    """Every string anywhere in a payload's blocks (text, labels, ids, values)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def assert_no_live_untrusted(payload: MessagePayload, *untrusted_markup: str) -> None:
    """The fallback and every block string: none of the injected markup, no broadcast, no control or bidi."""
    for text in [payload.text, *strings(payload.blocks)]:
        for markup in untrusted_markup:
            assert markup not in text, text[:300]
        assert not re.search(r"<!(?:channel|here|everyone)|@(?:channel|here|everyone)", text, re.I), text[:300]
        assert not any(unsafe(ch) for ch in text.replace("\n", "").replace("\t", ""))


def finding(text: str = "The force should <!here> improve its problem profiles.", number: str = "2") -> Finding:
    return Finding(number=number, text=text, due="By <!channel> 31 December 2024")


def view(title: str, number: int = 1) -> InspectionView:
    return inspection_view(number, title, PUBLISHED, reminder_days=(28, 7))


def inspection_summary(title: str, number: int = 1) -> InspectionSummary:
    last_day = statutory_last_day(PUBLISHED)
    return InspectionSummary(
        inspection=view(title, number),
        days_left=(last_day - TODAY).days,
        status=deadline_status(last_day, TODAY),
        deadline_line=explain_deadline(PUBLISHED, TODAY),
    )


def test_a_report_titled_channel_stays_quiet_in_the_summary_and_its_fallback() -> None:
    summary = ReportSummary(
        title="<!channel> Urgent",
        published=PUBLISHED,
        findings=[finding()],
        file_name="invoice\u202efdp.exe",
    )
    payload = report_summary(summary, Progress(total=1), TODAY)
    assert payload.text.startswith("&lt;!channel&gt; Urgent:")
    assert "&lt;!channel&gt; Urgent" in payload.blocks[0]["text"]["text"]
    assert "invoicefdp.exe" in payload.blocks[0]["text"]["text"]
    assert_no_live_untrusted(payload, "<!channel>", "<!here>", "\u202e")


def test_an_inspection_titled_with_a_user_mention_does_not_ping_in_the_announcement() -> None:
    payload = inspection_announcement(view("<@U123> review @here"), TODAY, actor="U999")
    assert payload.text.startswith("Tracking &lt;@U123&gt; review @ here:")
    assert "<@U999>" in payload.blocks[0]["text"]["text"]  # the bot's own mention of who started it stays live
    assert_no_live_untrusted(payload, "<@U123>")
    for built in (
        inspection_added(view("<@U123> review"), TODAY, "C9"),
        inspection_list([inspection_summary("<@U123>")]),
    ):
        assert_no_live_untrusted(built, "<@U123>")
    assert "<#C9>" in inspection_added(view("x"), TODAY, "C9").blocks[0]["text"]["text"]


def test_a_file_name_with_a_right_to_left_override_loses_it_everywhere() -> None:
    name = "report\u202efdp.exe <!everyone>"
    for payload in (
        progress_message(f"Reading {name}…"),
        error_message(f"Could not read {name}", "Upload it again.", detail=f"\x1b[31m{name}"),
        refusal(f"{name} is not a report"),
    ):
        assert "reportfdp.exe" in payload.text
        assert_no_live_untrusted(payload, "\u202e", "<!everyone>", "\x1b")


def test_draft_text_and_comments_cannot_mention_but_the_bots_own_markup_stays() -> None:
    card = DraftCard(
        finding_id=7,
        version=2,
        finding=finding(),
        inspection_title="<!everyone> CSE",
        text="I welcome this <!channel>. Ask <@U123> and @here about [CONFIRM: the 2023 audit].",
        notes=["model said <!here>"],
        state=ReviewState.CHANGES_REQUESTED,
        actor="U777",
        acted_at=datetime(2026, 11, 21, 14, 2, tzinfo=UTC),
        comment="cc <@U123> <!channel>",
        engine="local <!here>",
        busy="Redrafting for <!channel>…",
    )
    payload = draft_message(card)
    assert "<@U777>" in payload.text and "<!date^" in payload.text  # the status line is the bot's own markup
    assert_no_live_untrusted(payload, "<!channel>", "<!everyone>", "<@U123>", "<!here>")
    assert_no_live_untrusted(drafting_placeholder(card.finding, "Drafting <!here>…"), "<!here>", "<!channel>")
    assert_no_live_untrusted(writing_placeholder(card.finding, card.text), "<!channel>", "<@U123>", "<!here>")


def test_the_reviewers_call_keeps_its_mentions_and_quiets_the_title() -> None:
    payload = review_ready(["<@U1>", "<!subteam^S2>"], "<!here> Urgent", drafted=3, to_confirm=1)
    assert payload.text.startswith("<@U1> <!subteam^S2>: 3 drafts of “&lt;!here&gt; Urgent”")
    assert_no_live_untrusted(payload, "<!here>")


def test_a_reminder_for_a_title_with_a_broadcast_does_not_broadcast() -> None:
    reminder = ReminderToPost(
        reminder_id=1,
        inspection_id=1,
        title="<!channel> @everyone CSE",
        published=PUBLISHED,
        channel_id="C1",
        thread_ts=None,
        kind=ReminderKind.DEADLINE,
        due_on=date(2024, 1, 4),
        offset_days=28,
        last_day=statutory_last_day(PUBLISHED),
        days_left=28,
        today=date(2024, 1, 4),
    )
    assert_no_live_untrusted(reminder_message(reminder), "<!channel>")


def _limits(payload: MessagePayload) -> None:
    assert len(payload.text) <= c.MAX_FALLBACK_TEXT
    assert len(payload.blocks) <= c.MAX_BLOCKS_PER_MESSAGE
    for block in payload.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= c.MAX_SECTION_TEXT
        if block["type"] == "context":
            assert len(block["elements"]) <= c.MAX_CONTEXT_ELEMENTS
            assert all(len(e["text"]) <= c.MAX_CONTEXT_ELEMENT for e in block["elements"])


def test_huge_hostile_input_stays_inside_every_slack_limit() -> None:
    huge = "<!channel> & <@U123> \u202e " * 20_000  # ~500,000 characters, each < and & grows when escaped
    long_finding = finding(text=huge[:50_000], number="<!here>")
    payloads = [
        report_summary(
            ReportSummary(title=huge, findings=[long_finding] * 60, file_name=huge), Progress(total=60), TODAY
        ),
        draft_message(
            DraftCard(
                finding_id=1,
                version=1,
                finding=long_finding,
                inspection_title=huge[:5000],
                text=huge[:40_000],
                notes=[huge[:3000]] * 12,
            )
        ),
        inspection_announcement(view(huge), TODAY, actor="U9"),
        inspection_list([inspection_summary(huge[:4000], n) for n in range(1, 30)]),
        writing_placeholder(long_finding, huge[:20_000]),
        error_message(huge, huge, detail=huge),
        progress_message(huge),
    ]
    for payload in payloads:
        _limits(payload)
        assert_no_live_untrusted(payload, "<!channel>", "<@U123>", "<!here>", "\u202e")

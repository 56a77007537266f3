"""The register's Block Kit (pure functions): limits, escaping, the modals' forms, App Home, owners' reminders."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.services.register_desk import assigned_to, inspection_counts, parse_register_query
from bot.slack import constants as c
from bot.slack.ui.common import BadPayload
from bot.slack.ui.home import HomeRow, home_view
from bot.slack.ui.register import (
    MAX_HOME_ASSIGNED,
    MAX_REGISTER_LISTED,
    AssignedItem,
    InspectionCounts,
    assign_form,
    owner_reminder_message,
    owner_reminder_text,
    parse_register_context,
    register_home_blocks,
    register_list,
    update_form,
    update_modal,
)
from tests.slack.test_telling import inspection_summary
from tests.support.slack_fake import _refusal, iter_texts
from tracker.errors import InvalidInput
from tracker.register import Rag, RegisterItemView, RegisterStatus, next_statuses
from tracker.register_reminders import OwnerReminder, OwnerReminderKind

TODAY = date(2024, 11, 1)
WHEN = datetime(2024, 10, 1, 12, tzinfo=UTC)


def item(n: int = 1, **fields: Any) -> RegisterItemView:
    values: dict[str, Any] = {
        "id": n,
        "finding_id": n,
        "inspection_id": 3,
        "inspection_title": "Vetting",
        "finding_label": f"Recommendation {n}",
        "finding_text": "By 31 December 2024, chief constables should publish a plan.",
        "due_text": "By 31 December 2024",
        "draft_version": 1,
        "answer_text": "The force has a plan.",
        "owner": None,
        "due": date(2024, 12, 31),
        "status": "open",
        "rag": None,
        "reason": None,
        "created_by": "U_LEAD",
        "created_at": WHEN,
        "updated_at": WHEN,
        "history": [
            {
                "id": n,
                "item_id": n,
                "at": WHEN,
                "actor": "U_LEAD",
                "status": "open",
                "rag": None,
                "note": "Published answer added to the register.",
                "evidence": [],
            }
        ],
        **fields,
    }
    return RegisterItemView.model_validate(values)


def shown(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(iter_texts(blocks))


def test_a_long_register_is_capped_inside_slacks_limits_and_says_how_to_narrow_it() -> None:
    items = [item(n) for n in range(1, MAX_REGISTER_LISTED + 8)]
    payload = register_list(items, TODAY, "open items", "`/hmicfrs register <inspection id>`")
    assert len(payload.blocks) <= c.MAX_BLOCKS_PER_MESSAGE
    assert _refusal({"text": payload.text, "blocks": payload.blocks}) is None  # what the fake (and Slack) refuse
    text = shown(payload.blocks)
    assert f"Recommendation {MAX_REGISTER_LISTED}*" in text and f"Recommendation {MAX_REGISTER_LISTED + 1}*" not in text
    assert "… and 7 more: narrow with `/hmicfrs register <inspection id>`." in text
    assert payload.blocks[-1]["block_id"] == c.BLOCK_REGISTER_MORE


def test_untrusted_text_is_escaped_and_a_long_note_is_shortened() -> None:
    note = "<!channel> " + "word " * 200
    history = [{**item().history[0].model_dump(), "note": note}]
    payload = register_list([item(inspection_title="<!here> & co", history=history)], TODAY, "open items", "x")
    text = payload.blocks[1]["text"]["text"]
    assert "&lt;!here&gt; &amp; co" in text and "&lt;!channel&gt;" in text and "<!" not in text
    assert text.endswith("…") and len(text.splitlines()[-1]) < 260


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "due 31 December 2024 (60 days)"),
        ({"due": date(2024, 11, 2)}, "due 2 November 2024 (1 day)"),
        ({"due": date(2024, 11, 1)}, "due *today*, 1 November 2024"),
        ({"due": date(2024, 10, 30)}, ":warning: was due 30 October 2024: *overdue by 2 days*"),
        ({"due": date(2024, 10, 30), "status": "implemented"}, "was due 30 October 2024"),
        ({"due": None}, "no due date (set one with Assign owner)"),
        ({"rag": "red", "owner": "U1"}, ":red_circle: red · owner <@U1>"),
        ({"rag": "green"}, ":large_green_circle: green"),
    ],
)
def test_each_item_says_its_due_date_rag_and_owner(fields: dict[str, Any], expected: str) -> None:
    assert expected in register_list([item(**fields)], TODAY, "open items", "x").blocks[1]["text"]["text"]


def test_a_closed_item_is_listed_without_buttons() -> None:
    payload = register_list([item(1, status="closed"), item(2)], TODAY, "every item", "x")
    actions = [b["block_id"] for b in payload.blocks if b["type"] == "actions"]
    assert actions == [f"{c.BLOCK_REGISTER_ACTIONS_PREFIX}2"]


def test_the_update_modal_offers_only_the_moves_the_register_allows() -> None:
    view = update_modal(item(status="implemented", rag="amber"), next_statuses("implemented"), TODAY, "C1")
    status = view["blocks"][1]["element"]
    assert [o["value"] for o in status["options"]] == [
        "implemented",
        "in_progress",
        "awaiting_evidence",
        "closed",
        "superseded",
        "not_accepted",
    ]
    assert "(reviewers only)" in status["options"][3]["text"]["text"]
    assert view["blocks"][2]["element"]["initial_option"]["value"] == "amber"
    assert json.loads(view["private_metadata"]) == {"i": 1, "s": "implemented", "c": "C1"}
    assert len(view["title"]["text"]) <= c.MAX_MODAL_TITLE
    assert next_statuses(RegisterStatus.CLOSED) == ()


def test_the_forms_read_what_was_typed() -> None:
    values = {
        c.INPUT_REGISTER_STATUS_BLOCK: {c.INPUT_REGISTER_STATUS_ACTION: {"selected_option": {"value": "in_progress"}}},
        c.INPUT_REGISTER_RAG_BLOCK: {c.INPUT_REGISTER_RAG_ACTION: {"selected_option": None}},
        c.INPUT_REGISTER_NOTE_BLOCK: {c.INPUT_REGISTER_NOTE_ACTION: {"value": "Started."}},
        c.INPUT_REGISTER_EVIDENCE_BLOCK: {c.INPUT_REGISTER_EVIDENCE_ACTION: {"value": " https://a \n\n https://b "}},
    }
    form = update_form({"state": {"values": values}})
    assert (form.status, form.rag, form.note, form.evidence) == (
        "in_progress",
        None,
        "Started.",
        ("https://a", "https://b"),
    )
    assert assign_form({"state": {"values": {}}}).owner is None
    with pytest.raises(BadPayload):
        parse_register_context("not json")
    with pytest.raises(BadPayload):
        parse_register_context('{"s": "open"}')


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("", "live_only", True),
        ("all", "live_only", False),
        ("overdue", "overdue", True),
        ("#12", "inspection_id", 12),
        ("12", "inspection_id", 12),
        ("<@U0123ABC|sam>", "owner", "U0123ABC"),
        ("<@U0123ABC>", "owner", "U0123ABC"),
        ("U0123ABC", "owner", "U0123ABC"),
        ("mine", "owner", "U_ME"),
    ],
)
def test_the_register_filter_is_read_as_typed(text: str, field: str, value: object) -> None:
    assert getattr(parse_register_query(text, "U_ME"), field) == value


def test_an_unknown_filter_is_refused() -> None:
    with pytest.raises(InvalidInput, match="I do not know the filter 'soon'"):
        parse_register_query("soon", "U_ME")


def test_counts_and_the_viewers_items() -> None:
    items = [
        item(1, owner="U1"),
        item(2, owner="U1", due=date(2024, 10, 1)),
        item(3, owner="U1", status="closed"),
        item(4, status="superseded"),
        item(5, owner="U1", due=None),
        item(6, inspection_id=4, inspection_title="Custody"),
    ]
    counts = inspection_counts(items, TODAY)
    assert [(r.inspection_id, r.open, r.overdue, r.closed, r.withdrawn) for r in counts] == [
        (3, 3, 1, 1, 1),
        (4, 1, 0, 0, 0),
    ]
    assert [a.item_id for a in assigned_to("U1", items, TODAY)] == [2, 1, 5]  # overdue, soonest, undated


def test_app_home_stays_inside_its_block_limit_with_everything_full() -> None:
    now = datetime(2024, 11, 1, 9, tzinfo=UTC)
    rows = [HomeRow(summary=inspection_summary(TODAY, id=n)) for n in range(1, 41)]
    counts = [InspectionCounts(inspection_id=n, title=f"Inspection {n} " + "x" * 100, open=2) for n in range(1, 60)]
    assigned = [
        AssignedItem(item_id=n, label=f"Recommendation {n}", inspection_id=1, inspection_title="V", status="open")
        for n in range(1, MAX_HOME_ASSIGNED + 4)
    ]
    view = home_view(rows, now, [], register=counts, assigned=assigned)
    text = shown(view["blocks"])
    assert len(view["blocks"]) <= c.MAX_HOME_BLOCKS
    assert "… and 3 more: `/hmicfrs register mine` lists them all." in text
    assert "more inspections: `/hmicfrs register <inspection id>`" in text
    assert "more: `/hmicfrs list`." in text  # the deadlines give way, and say so
    assert view["blocks"][-1]["type"] == "context"  # nothing cut off silently at the end
    blocks = register_home_blocks(counts[:2], [], TODAY)
    assert "No open register items are assigned to you." in shown(blocks)


def reminder(kind: OwnerReminderKind, days: int, status: str = "open") -> OwnerReminder:
    return OwnerReminder(
        reminder_id=1,
        item_id=7,
        kind=kind,
        owner="U1",
        due=date(2026, 3, 31),
        today=date(2026, 3, 31) - timedelta(days=days),
        days=days,
        inspection_id=3,
        inspection_title="Vetting <b>",
        finding_label="Recommendation 3",
        finding_text="…",
        status=RegisterStatus(status),
        rag=Rag.AMBER,
    )


def test_owner_reminders_say_when_and_offer_add_update() -> None:
    soon = owner_reminder_text(reminder(OwnerReminderKind.DUE_SOON, 14))
    assert soon.startswith(":bell: Recommendation 3 of “Vetting <b>” is due on 31 March 2026 (14 days).")
    assert "(today)" in owner_reminder_text(reminder(OwnerReminderKind.DUE_SOON, 0))
    late = owner_reminder_text(reminder(OwnerReminderKind.OVERDUE, -3, "in_progress"))
    assert "was due on 31 March 2026 and is overdue (in progress, by 3 days)" in late
    payload = owner_reminder_message(reminder(OwnerReminderKind.DUE_SOON, 14))
    assert "Vetting &lt;b&gt;" in payload.blocks[0]["text"]["text"]
    assert payload.blocks[1]["elements"][0]["action_id"] == c.ACTION_REGISTER_UPDATE
    assert payload.blocks[1]["elements"][0]["value"] == "7"

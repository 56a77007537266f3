"""The recommendation register in Slack, end to end: `/hmicfrs register`, Add update and Assign owner (buttons,
modals, field errors), App Home's counts and "Assigned to you", and owners' reminders sent once each.

Signed requests to the real Bolt app over a loopback fake of Slack's Web API; the clock is injected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.services.reminder_sweeper import ReminderSweeper
from bot.slack import constants as c
from tests.support.inspections import seed_inspection
from tests.support.slack_fake import FakeSlack, iter_texts
from tests.support.slack_instances import CHANNEL, LEAD, Running
from tests.support.slack_instances import Instances as Harness
from tests.support.store import FakeClock
from tracker.register import Rag, RegisterItemView, RegisterStatus
from tracker.register_reminders import OwnerReminder
from tracker.repository import Repository

REVIEWER = "U_REVIEWER"
OWNER = "U_OWNER"
OTHER = "U_OTHER"


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at(2024, 11, 1))


@pytest.fixture
def harness(tmp_path: Path, slack: FakeSlack, clock: FakeClock) -> Iterator[Harness]:
    made = Harness(tmp_path, slack, clock, reviewers=[REVIEWER])
    yield made
    made.close()


@pytest.fixture
def running(harness: Harness) -> Running:
    return harness.start()


def published(repo: Repository, title: str = "Vetting and misconduct") -> list[RegisterItemView]:
    """An inspection of the three sample findings, each approved, marked published: three register items."""
    view = seed_inspection(repo, title=title)
    repo.inspections.mark_recipient(view.id, "published", LEAD, require_findings=True)
    return repo.register.items(inspection_id=view.id)


def text_of(payload: dict[str, Any]) -> str:
    shown = " ".join(" ".join(iter_texts(payload.get("blocks", []))).split())
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def listed_ids(reply: dict[str, Any]) -> list[int]:
    prefix = c.BLOCK_REGISTER_ITEM_PREFIX
    return [int(b["block_id"][len(prefix) :]) for b in reply["blocks"] if b.get("block_id", "").startswith(prefix)]


def buttons(reply: dict[str, Any], item_id: int) -> list[tuple[str, str]]:
    (block,) = [b for b in reply["blocks"] if b.get("block_id") == f"{c.BLOCK_REGISTER_ACTIONS_PREFIX}{item_id}"]
    return [(e["action_id"], e["value"]) for e in block["elements"]]


def opened_view(slack: FakeSlack, count: int = 1) -> dict[str, Any]:
    return slack.wait_calls("views.open", count=count)[count - 1]["view"]


def update_values(status: str, note: str, rag: str | None = None, evidence: str = "") -> dict[str, Any]:
    values: dict[str, Any] = {
        c.INPUT_REGISTER_STATUS_BLOCK: {
            c.INPUT_REGISTER_STATUS_ACTION: {"type": "static_select", "selected_option": {"value": status}}
        },
        c.INPUT_REGISTER_RAG_BLOCK: {
            c.INPUT_REGISTER_RAG_ACTION: {
                "type": "static_select",
                "selected_option": {"value": rag} if rag else None,
            }
        },
        c.INPUT_REGISTER_NOTE_BLOCK: {c.INPUT_REGISTER_NOTE_ACTION: {"type": "plain_text_input", "value": note}},
        c.INPUT_REGISTER_EVIDENCE_BLOCK: {
            c.INPUT_REGISTER_EVIDENCE_ACTION: {"type": "plain_text_input", "value": evidence or None}
        },
    }
    return values


def assign_values(owner: str | None, due: str | None = None) -> dict[str, Any]:
    return {
        c.INPUT_REGISTER_OWNER_BLOCK: {c.INPUT_REGISTER_OWNER_ACTION: {"type": "users_select", "selected_user": owner}},
        c.INPUT_REGISTER_DUE_BLOCK: {c.INPUT_REGISTER_DUE_ACTION: {"type": "datepicker", "selected_date": due}},
    }


# ── the listing ──────────────────────────────────────────────────────────────────────────────────────────


def test_register_lists_open_items_with_their_state_and_both_buttons(running: Running) -> None:
    first, second, third = published(running.store)
    repo = running.store.register
    repo.assign(first.id, OWNER, LEAD)
    repo.update(first.id, OWNER, "in_progress", "amber", "Plan drafted with the vetting unit.")

    reply = running.slash("register")

    assert reply["response_type"] == "ephemeral"
    assert listed_ids(reply) == [first.id, second.id, third.id]
    shown = text_of(reply)
    assert "Recommendation register: open items (3)" in shown
    assert "*in progress* · :large_orange_circle: amber · owner <@U_OWNER>" in shown
    assert "due 31 December 2024 (60 days)" in shown
    assert "Last update 1 Nov 2024:_ Plan drafted with the vetting unit." in shown
    assert "no owner" in shown and "no due date" in shown and ":white_circle: no RAG" in shown
    assert buttons(reply, first.id) == [
        (c.ACTION_REGISTER_UPDATE, str(first.id)),
        (c.ACTION_REGISTER_ASSIGN, str(first.id)),
    ]


def test_each_filter_lists_only_its_items(running: Running, clock: FakeClock) -> None:
    first, second, third = published(running.store)
    others = [item.id for item in published(running.store, title="Custody")]
    other = running.store.register.get(others[0])
    register = running.store.register
    register.assign(first.id, OWNER, LEAD)
    register.assign(other.id, OWNER, LEAD)
    register.set_due(second.id, date(2024, 10, 1), LEAD)  # a month ago, still open: overdue
    register.update(third.id, REVIEWER, "superseded", note="Replaced by the 2024 national recommendation.")

    assert listed_ids(running.slash("register")) == [first.id, second.id, *others]  # the superseded one is out
    assert listed_ids(running.slash("register all")) == [first.id, second.id, third.id, *others]
    assert listed_ids(running.slash(f"register #{first.inspection_id}")) == [first.id, second.id, third.id]
    assert listed_ids(running.slash(f"register {other.inspection_id}")) == others
    by_mention = running.slash(f"register <@{OWNER}|owner>")
    assert listed_ids(by_mention) == [first.id, other.id]
    assert "open items owned by <@U_OWNER>" in by_mention["blocks"][0]["text"]["text"]  # a live mention
    assert listed_ids(running.slash("register mine", user=OWNER)) == [first.id, other.id]
    overdue = running.slash("register overdue")
    assert listed_ids(overdue) == [second.id]
    assert "was due 1 October 2024: *overdue by 31 days*" in text_of(overdue)
    assert "Nothing to show" in text_of(running.slash("register mine", user=OTHER))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("register 99", "no inspection with id 99"),
        ("register frobnicate", "I do not know the filter 'frobnicate'"),
        ("register @someone", "pick them from Slack's suggestions"),
        ("register 1 overdue", "One filter at a time"),
    ],
)
def test_a_bad_register_filter_is_refused_saying_what_to_type(running: Running, text: str, expected: str) -> None:
    published(running.store)
    reply = running.slash(text)
    assert reply["response_type"] == "ephemeral"
    assert expected in text_of(reply)
    assert listed_ids(reply) == []


def test_help_lists_the_register_subcommand(running: Running) -> None:
    assert "/hmicfrs register [<id>|@person|mine|overdue|all]" in text_of(running.slash("help"))


# ── Add update ───────────────────────────────────────────────────────────────────────────────────────────


def test_files_uploaded_in_the_modal_are_kept_as_evidence_beside_the_links(running: Running, slack: FakeSlack) -> None:
    item = published(running.store)[0]
    running.click(c.ACTION_REGISTER_UPDATE, item.id, OWNER)
    view = opened_view(slack)
    (files_block,) = [b for b in view["blocks"] if b.get("block_id") == c.INPUT_REGISTER_FILES_BLOCK]
    assert files_block["element"]["type"] == "file_input" and files_block["optional"] is True

    values = update_values("in_progress", "Audit report attached.", evidence="https://intranet/plan")
    uploaded = [
        {"id": "F01", "name": "audit.pdf", "permalink": "https://pcc-office.slack.com/files/U_OWNER/F01/audit.pdf"},
        {"id": "F02", "name": "minutes.docx", "permalink": "https://pcc-office.slack.com/files/U_OWNER/F02/minutes"},
    ]
    values[c.INPUT_REGISTER_FILES_BLOCK] = {c.INPUT_REGISTER_FILES_ACTION: {"type": "file_input", "files": uploaded}}
    assert running.submit(view, OWNER, values) == {}

    assert running.store.register.get(item.id).history[-1].evidence == (
        "https://intranet/plan",
        "https://pcc-office.slack.com/files/U_OWNER/F01/audit.pdf",
        "https://pcc-office.slack.com/files/U_OWNER/F02/minutes",
    )


def test_add_update_opens_a_modal_and_its_submission_changes_status_and_rag_audited(
    running: Running, slack: FakeSlack
) -> None:
    item = published(running.store)[0]
    running.click(c.ACTION_REGISTER_UPDATE, item.id, OWNER)
    view = opened_view(slack)

    assert view["callback_id"] == c.VIEW_REGISTER_UPDATE
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    select = blocks[c.INPUT_REGISTER_STATUS_BLOCK]["element"]
    assert select["initial_option"]["value"] == "open"
    assert [o["value"] for o in select["options"]] == [
        "open",
        "in_progress",
        "implemented",
        "awaiting_evidence",
        "superseded",
        "not_accepted",
    ]  # never straight to closed
    assert blocks[c.INPUT_REGISTER_RAG_BLOCK]["optional"] is True
    assert not blocks[c.INPUT_REGISTER_NOTE_BLOCK].get("optional")

    ack = running.submit(
        view,
        OWNER,
        update_values("in_progress", "Training plan agreed.", "amber", "https://intranet/plan\n\nhttps://x/minutes"),
    )

    assert ack == {}  # the modal closes
    after = running.store.register.get(item.id)
    assert (after.status, after.rag) == (RegisterStatus.IN_PROGRESS, Rag.AMBER)
    last = after.history[-1]
    assert (last.actor, last.note, last.evidence) == (
        OWNER,
        "Training plan agreed.",
        ("https://intranet/plan", "https://x/minutes"),
    )
    event = running.store.audit.events("register_item", item.id)[-1]
    assert (event.action, event.actor) == ("update", OWNER)
    (told,) = slack.wait_calls("chat.postEphemeral", user=OWNER)
    assert told["channel"] == CHANNEL and "Update saved" in text_of(told.body)


def test_closing_by_a_non_reviewer_is_a_field_error_and_changes_nothing(running: Running, slack: FakeSlack) -> None:
    item = published(running.store)[0]
    running.store.register.update(item.id, OWNER, "implemented", note="Done.")
    audit_before = running.store.audit.events("register_item", item.id)
    running.click(c.ACTION_REGISTER_UPDATE, item.id, OWNER)
    view = opened_view(slack)
    assert "closed" in [o["value"] for o in view["blocks"][1]["element"]["options"]]

    ack = running.submit(view, OWNER, update_values("closed", "Evidence seen.", "green"))

    assert ack["response_action"] == "errors"
    assert list(ack["errors"]) == [c.INPUT_REGISTER_STATUS_BLOCK]
    assert "Only the configured reviewers can close a register item" in ack["errors"][c.INPUT_REGISTER_STATUS_BLOCK]
    after = running.store.register.get(item.id)
    assert (after.status, after.rag) == (RegisterStatus.IMPLEMENTED, None)
    assert running.store.audit.events("register_item", item.id) == audit_before
    assert slack.of("chat.postEphemeral") == []

    assert running.submit(view, REVIEWER, update_values("closed", "Evidence seen.", "green")) == {}
    assert running.store.register.get(item.id).status is RegisterStatus.CLOSED


@pytest.mark.parametrize(
    ("note", "evidence", "field", "says"),
    [
        ("   ", "", c.INPUT_REGISTER_NOTE_BLOCK, "every register update needs a note"),
        ("Progress.", "intranet/plan.docx", c.INPUT_REGISTER_EVIDENCE_BLOCK, "Evidence must be a link"),
    ],
)
def test_a_bad_note_or_link_is_an_error_on_its_own_field(
    running: Running, slack: FakeSlack, note: str, evidence: str, field: str, says: str
) -> None:
    item = published(running.store)[0]
    history = running.store.register.get(item.id).history
    running.click(c.ACTION_REGISTER_UPDATE, item.id, OWNER)
    ack = running.submit(opened_view(slack), OWNER, update_values("in_progress", note, "red", evidence))
    assert ack["response_action"] == "errors" and list(ack["errors"]) == [field]
    assert says in ack["errors"][field]
    after = running.store.register.get(item.id)
    assert (after.status, after.rag, after.history) == (RegisterStatus.OPEN, None, history)


def test_a_form_opened_before_someone_else_moved_the_item_never_moves_it_back(
    running: Running, slack: FakeSlack
) -> None:
    item = published(running.store)[0]
    running.click(c.ACTION_REGISTER_UPDATE, item.id, OWNER)
    view = opened_view(slack)  # shows "open"
    running.store.register.update(item.id, OTHER, "implemented", note="Delivered in October.")
    assert running.submit(view, OWNER, update_values("open", "Adding the minutes.", "green")) == {}
    after = running.store.register.get(item.id)
    assert (after.status, after.rag, after.history[-1].note) == (
        RegisterStatus.IMPLEMENTED,
        Rag.GREEN,
        "Adding the minutes.",
    )


def test_a_closed_item_opens_no_modal_and_says_why(running: Running, slack: FakeSlack) -> None:
    item = published(running.store)[0]
    running.store.register.update(item.id, OWNER, "implemented", note="Done.")
    running.store.register.update(item.id, REVIEWER, "closed", note="Evidence seen.")
    assert listed_ids(running.slash("register all"))[0] == item.id
    assert not [
        b
        for b in running.slash("register all")["blocks"]
        if b.get("block_id", "").endswith(f"_{item.id}") and b["type"] == "actions"
    ]
    running.click(c.ACTION_REGISTER_UPDATE, item.id, OWNER)
    (told,) = slack.wait_calls("chat.postEphemeral", user=OWNER)
    assert "closed is final" in text_of(told.body)
    assert slack.of("views.open") == []


# ── Assign owner ─────────────────────────────────────────────────────────────────────────────────────────


def test_assign_owner_sets_the_owner_and_a_due_date_each_audited(running: Running, slack: FakeSlack) -> None:
    item = published(running.store)[1]  # "The Home Office should review funding": no timescale
    running.click(c.ACTION_REGISTER_ASSIGN, item.id, LEAD)
    view = opened_view(slack)
    assert view["callback_id"] == c.VIEW_REGISTER_ASSIGN
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[c.INPUT_REGISTER_OWNER_BLOCK]["element"]["type"] == "users_select"
    assert blocks[c.INPUT_REGISTER_DUE_BLOCK]["element"]["type"] == "datepicker"

    assert running.submit(view, LEAD, assign_values(None))["errors"] == {
        c.INPUT_REGISTER_OWNER_BLOCK: "Choose who owns this item."
    }
    assert running.submit(view, LEAD, assign_values(OWNER, "2025-03-31")) == {}

    after = running.store.register.get(item.id)
    assert (after.owner, after.due) == (OWNER, date(2025, 3, 31))
    actions = [(e.action, e.actor) for e in running.store.audit.events("register_item", item.id)]
    assert actions == [("create", LEAD), ("assign", LEAD), ("set_due", LEAD)]
    (told,) = slack.wait_calls("chat.postEphemeral", user=LEAD)
    assert "owner <@U_OWNER>" in text_of(told.body) and "due 31 March 2025" in text_of(told.body)

    running.click(c.ACTION_REGISTER_ASSIGN, item.id, LEAD)
    again = opened_view(slack, count=2)
    assert again["blocks"][1]["element"]["initial_user"] == OWNER
    assert again["blocks"][2]["element"]["initial_date"] == "2025-03-31"
    assert running.submit(again, LEAD, assign_values(OWNER, "2025-03-31")) == {}
    assert len(running.store.audit.events("register_item", item.id)) == 3  # nothing changed, nothing written


# ── App Home ─────────────────────────────────────────────────────────────────────────────────────────────


def home_of(running: Running, slack: FakeSlack, user: str, count: int = 1) -> list[dict[str, Any]]:
    if count == 1:
        running.sender.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"})
    return slack.wait_calls("views.publish", count=count, user_id=user)[count - 1]["view"]["blocks"]


def section_after(blocks: list[dict[str, Any]], block_id: str) -> list[dict[str, Any]]:
    start = next(i for i, b in enumerate(blocks) if b.get("block_id") == block_id) + 1
    end = next((i for i in range(start, len(blocks)) if blocks[i]["type"] in ("header", "divider")), len(blocks))
    return blocks[start:end]


def test_app_home_shows_counts_per_inspection_and_the_viewers_items(
    running: Running, slack: FakeSlack, clock: FakeClock
) -> None:
    first, second, third = published(running.store)
    (other, *_rest) = published(running.store, title="Custody")
    register = running.store.register
    register.assign(first.id, OWNER, LEAD)
    register.assign(second.id, OWNER, LEAD)
    register.set_due(second.id, date(2024, 10, 1), LEAD)
    register.update(third.id, OWNER, "implemented", note="Done.")
    register.update(third.id, REVIEWER, "closed", note="Evidence seen.")

    blocks = home_of(running, slack, OWNER)

    counts = text_of({"blocks": section_after(blocks, c.BLOCK_HOME_REGISTER)})
    assert f":warning: *#{first.inspection_id} Vetting and misconduct*: 2 open · 1 overdue · 1 closed" in counts
    assert f"*#{other.inspection_id} Custody*: 3 open · 0 overdue · 0 closed" in counts
    mine = section_after(blocks, c.BLOCK_HOME_ASSIGNED)
    assert [b["accessory"]["value"] for b in mine] == [str(second.id), str(first.id)]  # the overdue one first
    assert all(b["accessory"]["action_id"] == c.ACTION_REGISTER_UPDATE for b in mine)
    assert "overdue by 31 days" in text_of({"blocks": mine[:1]}) and "due 31 December 2024" in text_of(
        {"blocks": mine[1:]}
    )
    assert len(blocks) <= c.MAX_HOME_BLOCKS

    nobody = section_after(home_of(running, slack, OTHER), c.BLOCK_HOME_ASSIGNED)
    assert "No open register items are assigned to you." in text_of({"blocks": nobody})

    # A change through the modal refreshes the dashboard of those who opened it.
    running.click(c.ACTION_REGISTER_UPDATE, second.id, OWNER, channel="")
    assert running.submit(opened_view(slack), OWNER, update_values("implemented", "Delivered.")) == {}
    refreshed = home_of(running, slack, OWNER, count=2)
    counts = text_of({"blocks": section_after(refreshed, c.BLOCK_HOME_REGISTER)})
    assert f"*#{first.inspection_id} Vetting and misconduct*: 2 open · 0 overdue · 1 closed" in counts
    (dm,) = [call for call in slack.of("chat.postMessage") if call.get("channel") == OWNER]  # App Home: by DM
    assert "Update saved" in text_of(dm.body)


def test_app_home_has_no_register_section_before_anything_is_published(running: Running, slack: FakeSlack) -> None:
    seed_inspection(running.store)
    blocks = home_of(running, slack, OWNER)
    ids = {b.get("block_id") for b in blocks}
    assert c.BLOCK_HOME_REGISTER not in ids and c.BLOCK_HOME_ASSIGNED not in ids and c.BLOCK_HOME_HEADER in ids


# ── owners' reminders ────────────────────────────────────────────────────────────────────────────────────


def owner_dms(slack: FakeSlack, owner: str = OWNER) -> list[str]:
    return [
        text_of(call.body)
        for call in slack.of("chat.postMessage")
        if call.get("channel") == owner
        and call.response.get("ok")  # a refused post is recorded too; only delivered ones count
        and any(b.get("block_id") == c.BLOCK_OWNER_REMINDER for b in call["blocks"])
    ]


def sent(running: Running, kind: str) -> float:
    value = running.bot.deps.metrics.registry.get_sample_value("responder_reminders_sent_total", {"kind": kind})
    return value or 0.0


def test_owners_are_reminded_once_before_the_due_date_and_once_overdue_across_restarts(
    harness: Harness, slack: FakeSlack, clock: FakeClock
) -> None:
    first = harness.start()
    item = published(first.store)[0]  # due 31 December 2024
    first.store.register.assign(item.id, OWNER, LEAD)
    sweeper = first.bot.deps.sweeper

    assert sweeper.sweep_once() == []  # 1 November: not yet within 14 days
    clock.current = at(2024, 12, 17, 7)  # within 14 days, but before 08:00 UK: nobody is pinged at 7
    assert sweeper.sweep_once() == []
    clock.current = at(2024, 12, 17, 10)
    (reminder,) = sweeper.sweep_once()
    assert isinstance(reminder, OwnerReminder) and reminder.item_id == item.id
    assert sweeper.sweep_once() == []
    dms = owner_dms(slack)
    assert len(dms) == 1
    assert "Recommendation 1 of “Vetting and misconduct” is due on 31 December 2024 (14 days)" in dms[0]
    (call,) = [c_ for c_ in slack.of("chat.postMessage") if c_.get("channel") == OWNER]
    actions = next(b for b in call["blocks"] if b["type"] == "actions")["elements"]
    assert [(e["action_id"], e["value"]) for e in actions] == [(c.ACTION_REGISTER_UPDATE, str(item.id))]
    assert sent(first, "due_soon") == 1

    # Restart: a new process (a new Repository) on the same database, and a second sweeper beside it.
    first.stop()
    harness.running.remove(first)
    again = harness.start()
    other = ReminderSweeper(again.store, again.bot.deps.poster, clock, instance_id="instance-b")
    assert again.bot.deps.sweeper.sweep_once() == [] and other.sweep_once() == []
    assert len(owner_dms(slack)) == 1

    clock.current = at(2025, 1, 1, 9)  # the day after the due date, still open
    slack.fail_methods["chat.postMessage"] = "ratelimited"
    assert again.bot.deps.sweeper.sweep_once() == []  # the post failed: the slot is given back
    del slack.fail_methods["chat.postMessage"]
    clock.advance(minutes=1)
    (overdue,) = other.sweep_once()
    assert isinstance(overdue, OwnerReminder) and overdue.kind == "overdue"
    assert again.bot.deps.sweeper.sweep_once() == [] and other.sweep_once() == []
    dms = owner_dms(slack)
    assert len(dms) == 2 and "was due on 31 December 2024 and is overdue (open, by 1 day)" in dms[1]
    clock.current = at(2025, 1, 2, 9)
    assert again.bot.deps.sweeper.sweep_once() == []  # overdue is said once, not every day
    assert len(owner_dms(slack)) == 2


def test_the_reminders_add_update_button_opens_the_modal_from_the_dm(
    running: Running, slack: FakeSlack, clock: FakeClock
) -> None:
    item = published(running.store)[0]
    running.store.register.assign(item.id, OWNER, LEAD)
    clock.current = at(2024, 12, 20)
    assert len(running.bot.deps.sweeper.sweep_once()) == 1
    running.click(c.ACTION_REGISTER_UPDATE, item.id, OWNER, channel="D_OWNER")
    view = opened_view(slack)
    assert json.loads(view["private_metadata"]) == {"i": item.id, "s": "open", "c": "D_OWNER"}


def test_a_save_that_loses_a_race_says_so_on_the_form_and_saving_again_adds_it(
    running: Running, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.errors import ConcurrentChange

    item = published(running.store)[0]
    running.click(c.ACTION_REGISTER_UPDATE, item.id, OWNER)
    view = opened_view(slack)
    register = running.store.register
    real_update = register.update
    calls: list[int] = []

    def first_loses(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ConcurrentChange()  # another instance committed first
        return real_update(*args, **kwargs)

    monkeypatch.setattr(register, "update", first_loses)
    values = update_values("in_progress", "Training plan agreed.", "amber")

    raced = running.submit(view, OWNER, values)
    assert raced["response_action"] == "errors"
    assert "Someone else saved a change" in raced["errors"][c.INPUT_REGISTER_STATUS_BLOCK]
    assert len(register.get(item.id).history) == 1  # nothing stored by the losing save

    assert running.submit(view, OWNER, values) == {}
    assert register.get(item.id).history[-1].note == "Training plan agreed."

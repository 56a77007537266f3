"""Nothing unconfirmed is final, end to end through signed requests: a `[CONFIRM: …]` blocks the Approve button
(the refusal says which), Confirm as written vouches for one with an audited note, a mistaken Reopen is undone
by approving again, and only clean answers reach the precedent index after publication."""

from __future__ import annotations

from typing import Any

from bot.slack import constants as c
from tests.slack.test_commands import text_of
from tests.support.slack_fake import Call
from tests.support.slack_harness import CHANNEL, GROUP_MEMBER, REVIEWER, Harness, confirm_everything, texts
from tracker.review import ReviewState

PROGRESS = "[CONFIRM: progress against the timescale, by 30 September 2025]"


def drafted(h: Harness) -> tuple[dict[str, Any], str, int]:
    event, _response = h.mention()
    ts = h.placeholder_for(event).ts
    h.wait_draft(ts, 1)
    finding = h.store.findings.by_message(CHANNEL, ts)
    assert finding is not None
    return event, ts, finding.id


def confirm_button(call: Call) -> str | None:
    for block in call.get("blocks") or []:
        if block.get("block_id") == c.BLOCK_PLACEHOLDERS:
            accessory = block.get("accessory") or {}
            return accessory.get("value") if accessory.get("action_id") == c.ACTION_CONFIRM else None
    return None


def test_approve_is_refused_while_a_placeholder_is_left_and_the_refusal_names_it(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    card = h.wait_draft(ts, 1)
    assert "1 to confirm before approval" in texts(card) and confirm_button(card) == f"{finding_id}:1"
    h.slack.clear()
    h.click(c.ACTION_APPROVE, f"{finding_id}:1", REVIEWER, ts, event["ts"])
    refusal = h.slack.wait_calls("chat.postEphemeral")[0]
    assert refusal["user"] == REVIEWER and PROGRESS in refusal["text"]
    assert "Confirm as written" in refusal["text"]
    assert h.store.findings.get(finding_id).state is ReviewState.DRAFTED
    assert not h.slack.of("chat.update")


def test_confirm_as_written_takes_a_note_makes_v2_without_the_marker_and_then_approval_works(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    h.click(c.ACTION_CONFIRM, f"{finding_id}:1", GROUP_MEMBER, ts, event["ts"])
    view = h.slack.wait_calls("views.open")[0]["view"]
    assert view["callback_id"] == c.VIEW_CONFIRM
    options = view["blocks"][1]["element"]["options"]
    assert [o["text"]["text"] for o in options] == [PROGRESS]

    missing_note = {
        c.INPUT_MARKER_BLOCK: {c.INPUT_MARKER_ACTION: {"type": "radio_buttons", "selected_option": {"value": "0"}}},
        c.INPUT_NOTE_BLOCK: {c.INPUT_NOTE_ACTION: {"type": "plain_text_input", "value": ""}},
    }
    refused = h.sender.interaction(h.sender.view_submission(view, GROUP_MEMBER, missing_note))
    assert refused.status == 200 and "audit log" in refused.body
    assert h.store.drafts.latest(finding_id).version == 1  # type: ignore[union-attr]

    version = confirm_everything(h, event, ts, finding_id, note="On track: checked with the missing-persons lead")
    card = texts(h.wait_draft(ts, 2))
    assert f"{PROGRESS} confirmed as written by <@{GROUP_MEMBER}>: “On track: checked" in card
    assert "This version follows" not in card and "to confirm before approval" not in card
    draft = h.store.drafts.latest(finding_id)
    assert draft is not None and version == 2 and "[CONFIRM" not in draft.text and draft.author == GROUP_MEMBER
    audit = h.store.audit.events("finding", finding_id)[-1]
    assert audit.action == "confirm" and audit.after["confirmed"] == PROGRESS
    assert audit.after["comment"] == "On track: checked with the missing-persons lead"

    h.click(c.ACTION_APPROVE, f"{finding_id}:2", REVIEWER, ts, event["ts"])
    h.slack.wait_for(lambda calls: any(x.method == "chat.update" and "approved by" in texts(x) for x in calls))
    assert h.store.findings.get(finding_id).state is ReviewState.APPROVED


def test_a_mistaken_reopen_is_undone_by_approving_the_same_version_again(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    version = confirm_everything(h, event, ts, finding_id)
    h.click(c.ACTION_APPROVE, f"{finding_id}:{version}", REVIEWER, ts, event["ts"])
    h.slack.wait_for(lambda _calls: h.store.findings.get(finding_id).state is ReviewState.APPROVED)
    h.click(c.ACTION_REOPEN, f"{finding_id}:{version}", REVIEWER, ts, event["ts"])
    h.slack.wait_for(lambda _calls: h.store.findings.get(finding_id).state is ReviewState.REOPENED)
    h.slack.clear()
    h.click(c.ACTION_APPROVE, f"{finding_id}:{version}", REVIEWER, ts, event["ts"])
    update = h.slack.wait_for(
        lambda calls: next((x for x in calls if x.method == "chat.update" and "approved by" in texts(x)), None)
    )
    assert f"Draft v{version} · approved by <@{REVIEWER}>" in texts(update)
    last = h.store.audit.events("finding", finding_id)[-1]
    assert last.action == "approve" and last.after["undid_reopen"] is True and last.before["state"] == "reopened"


def test_an_old_approval_holding_a_placeholder_blocks_the_pack_and_stays_out_of_the_library(h: Harness) -> None:
    """The pack and the learning loop read the stored text, so even an answer approved before the approval
    check existed is caught: named in the pack's refusal, and left out of the precedents on publication."""
    from sqlalchemy import update

    from tracker import schema

    inspection = h.store.inspections.create(
        "Missing children", h.store.store.now().date(), "PEEL", "Northumbria", None, REVIEWER
    )
    event, ts, finding_id = drafted(h)
    version = confirm_everything(h, event, ts, finding_id)
    h.store.reviews.record(finding_id, REVIEWER, action="approve", expected_version=version)
    with h.store.store.transaction() as session:
        session.execute(
            update(schema.Finding).where(schema.Finding.id == finding_id).values(inspection_id=inspection.id)
        )
        session.execute(
            update(schema.Draft).where(schema.Draft.finding_id == finding_id).values(text=f"Old {PROGRESS}")
        )
    refused = text_of(h.slash(f"pack {inspection.id}", REVIEWER))
    assert "cannot be exported" in refused
    assert "approved text still holds [CONFIRM: progress against the timescale" in refused

    h.slash(f"done {inspection.id} published", REVIEWER)
    (announced,) = h.slack.wait_for(  # the inspection has no channel: the announcement comes to the person
        lambda calls: [x for x in calls if x.method == "response_url" and "library" in str(x.get("text"))],
        timeout=60,
    )
    label = h.store.findings.get(finding_id).label
    assert "0 approved answers added to the library" in announced["text"]
    assert f"Left out of the library, as they still hold a [CONFIRM: …]: {label}" in announced["text"]

"""End to end: signed HTTP requests to the real Bolt app, Web API calls recorded by the loopback fake, and the
SQLite system of record checked after each step."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

from bot.slack import constants as c
from tests.support.slack_fake import BOT_ID, BOT_USER_ID, Call, sign
from tests.support.slack_harness import (
    ASKER,
    CHANNEL,
    EVIDENCE,
    GROUP_MEMBER,
    OUTSIDER,
    RECOMMENDATION,
    REPORT_TEXT,
    REVIEWER,
    Harness,
    RecordingChatModel,
    confirm_everything,
    running_bot,
    texts,
)
from tracker import schema
from tracker.review import ReviewState


def _is_review_call(call: Call) -> bool:
    """The one message that tells the reviewers a report's drafts are ready (not a draft of its own)."""
    return any(block.get("block_id") == "report_review_ready" for block in call.get("blocks") or [])


def button_values(call: Call) -> dict[str, str]:
    for block in call.get("blocks") or []:
        if block.get("block_id") == c.BLOCK_ACTIONS:
            return {e["action_id"]: e["value"] for e in block["elements"] if e["type"] == "button"}
    return {}


def drafted(h: Harness, text: str = RECOMMENDATION) -> tuple[dict[str, Any], str, int]:
    """Mention the bot, wait for v1; returns (event, draft message ts, finding id)."""
    event, response = h.mention(text)
    assert response.status == 200
    ts = h.placeholder_for(event).ts
    h.wait_draft(ts, 1)
    finding = h.store.findings.by_message(CHANNEL, ts)
    assert finding is not None
    return event, ts, finding.id


def count(h: Harness, model: type[Any]) -> int:
    with h.store.sessions() as session:
        return session.query(model).count()


# ── mentions and drafts ──────────────────────────────────────────────────────────────────────────────────


def test_mention_posts_a_placeholder_in_its_thread_then_the_draft_with_buttons(h: Harness) -> None:
    event, response = h.mention()
    assert response.status == 200
    placeholder = h.placeholder_for(event)
    assert placeholder["channel"] == CHANNEL
    assert placeholder["thread_ts"] == event["ts"]
    assert "Drafting" in placeholder["text"]

    update = h.wait_draft(placeholder.ts, 1)
    shown = texts(update)
    assert EVIDENCE in shown
    assert "Draft v1 · awaiting review" in shown
    assert "Northumbria" in shown  # the cited source, with its force
    finding = h.store.findings.by_message(CHANNEL, placeholder.ts)
    assert finding is not None and finding.state is ReviewState.DRAFTED
    assert button_values(update) == {
        c.ACTION_APPROVE: f"{finding.id}:1",
        c.ACTION_REQUEST_CHANGES: f"{finding.id}:1",
        c.ACTION_EDIT: f"{finding.id}:1",
        c.ACTION_REGENERATE: f"{finding.id}:1",
    }
    draft = h.store.drafts.latest(finding.id)
    assert draft is not None and draft.requested_by == ASKER and draft.engine == "fake-model"
    assert finding.text.startswith("By 30 September 2025")  # the bot's mention was stripped


def test_direct_message_is_answered_in_its_thread(h: Harness) -> None:
    event = h.sender.message(RECOMMENDATION, channel="D_ASKER", channel_type="im")
    assert h.sender.event(event).status == 200
    placeholder = h.slack.wait_calls("chat.postMessage", channel="D_ASKER")[0]
    assert placeholder["thread_ts"] == event["ts"]
    h.wait_draft(placeholder.ts, 1)


def test_follow_up_in_the_thread_redrafts_the_latest_version_with_the_instruction(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    follow = h.sender.message("make it shorter", thread_ts=event["ts"])
    assert h.sender.event(follow).status == 200

    update = h.wait_draft(ts, 2)
    assert "Make it shorter." in texts(update)  # the scripted model follows an instruction by adding it
    assert "Reviewer's instruction: make it shorter" in h.model.prompt_texts()[-1]
    assert BASE_PREVIOUS in h.model.prompt_texts()[-1]  # the previous version was in the prompt
    draft = h.store.drafts.latest(finding_id)
    assert draft is not None and draft.version == 2 and draft.instruction == "make it shorter"
    notes = [c for c in h.slack.of("chat.postMessage") if c.get("thread_ts") == event["ts"] and c.ts != ts]
    assert notes and "Redrafting v1" in notes[0]["text"]


BASE_PREVIOUS = EVIDENCE  # v1 states the force's evidence, so the previous version carries it


def test_channel_chatter_outside_our_threads_is_ignored(h: Harness) -> None:
    h.sender.event(h.sender.message("lunch anyone?"))
    h.sender.event(h.sender.message("make it shorter", thread_ts="1600000000.000100"))
    h.mention("ping")  # a mention is always answered: proves the app was listening meanwhile
    h.slack.wait_calls("chat.postMessage")
    h.wait_idle()
    assert count(h, schema.Finding) == 0
    assert len(h.slack.of("chat.postMessage")) == 1


def test_own_and_other_bots_messages_are_ignored(h: Harness) -> None:
    own = h.sender.message(RECOMMENDATION, channel="D_ASKER", channel_type="im", user=BOT_USER_ID, bot_id=BOT_ID)
    other = h.sender.message(RECOMMENDATION, channel="D_ASKER", channel_type="im", bot_id="B_OTHER")
    legacy = h.sender.message(RECOMMENDATION, channel="D_ASKER", channel_type="im", subtype="bot_message")
    bot_mention = h.sender.mention(RECOMMENDATION, channel="C_OTHER", user="U_OTHER_BOT", bot_id="B_OTHER")
    for event in (own, other, legacy, bot_mention):
        assert h.sender.event(event).status == 200
    h.mention("ping")
    h.slack.wait_calls("chat.postMessage")
    h.wait_idle()
    assert [c["channel"] for c in h.slack.of("chat.postMessage")] == [CHANNEL]
    assert count(h, schema.Finding) == 0


def test_a_slack_retry_never_drafts_twice(h: Harness) -> None:
    event = h.sender.mention(RECOMMENDATION)
    first = h.sender.event(event, event_id="EvRETRY1")
    retry = h.sender.event(
        event, event_id="EvRETRY1", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert (first.status, retry.status) == (200, 200)
    h.wait_idle()
    assert len(h.slack.of("chat.postMessage")) == 1
    assert count(h, schema.Finding) == 1
    assert count(h, schema.Draft) == 1


# ── request signing ──────────────────────────────────────────────────────────────────────────────────────


def test_forged_signature_and_stale_timestamp_are_rejected_and_nothing_is_stored(h: Harness) -> None:
    event = h.sender.mention(RECOMMENDATION)
    body = json.dumps(h.sender.envelope(event))
    forged = h.sender.post(body, "application/json", signature="v0=" + "0" * 64)
    stale_ts = int(time.time()) - 6 * 60
    stale = h.sender.post(
        body, "application/json", timestamp=stale_ts, signature=sign(h.sender.secret, str(stale_ts), body)
    )
    wrong_secret = h.sender.post(
        body, "application/json", signature=sign("not-the-secret", str(int(time.time())), body)
    )
    assert (forged.status, stale.status, wrong_secret.status) == (401, 401, 401)
    assert [c.method for c in h.slack.calls] == []
    assert count(h, schema.Finding) == 0
    assert count(h, schema.ProcessedEvent) == 0


# ── review buttons ───────────────────────────────────────────────────────────────────────────────────────


def test_approve_by_a_reviewer_updates_the_message_and_writes_an_audit_row(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    version = confirm_everything(h, event, ts, finding_id)  # nothing unconfirmed can be approved
    h.slack.clear()
    assert h.click(c.ACTION_APPROVE, f"{finding_id}:{version}", REVIEWER, ts, event["ts"]).status == 200

    update = h.slack.wait_calls("chat.update", ts=ts)[0]
    shown = texts(update)
    assert f"Draft v{version} · approved by <@{REVIEWER}> at <!date^" in shown
    assert set(button_values(update)) == {c.ACTION_REOPEN}
    assert h.store.findings.get(finding_id).state is ReviewState.APPROVED
    audit = h.store.audit.events("finding", finding_id)
    assert audit[-1].action == "approve" and audit[-1].actor == REVIEWER
    assert audit[-1].before == {"state": "redrafted", "version": version, "approvers": []}
    assert not h.slack.of("chat.postEphemeral")


def test_approve_by_a_member_of_a_reviewer_group_is_allowed(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    version = confirm_everything(h, event, ts, finding_id, user=REVIEWER)
    h.click(c.ACTION_APPROVE, f"{finding_id}:{version}", GROUP_MEMBER, ts, event["ts"])
    h.slack.wait_for(lambda calls: any(c.method == "chat.update" and "approved by" in texts(c) for c in calls))
    assert h.store.findings.get(finding_id).state is ReviewState.APPROVED
    assert h.slack.of("usergroups.users.list")[0]["usergroup"] == "S_REVIEWERS"


def test_approve_by_a_non_reviewer_is_refused_ephemerally_and_changes_nothing(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    audit_before = len(h.store.audit.events("finding", finding_id))
    h.slack.clear()
    h.click(c.ACTION_APPROVE, f"{finding_id}:1", OUTSIDER, ts, event["ts"])

    refusal = h.slack.wait_calls("chat.postEphemeral")[0]
    assert refusal["user"] == OUTSIDER and refusal["channel"] == CHANNEL
    assert refusal["thread_ts"] == event["ts"]
    assert "Only the configured reviewers can approve" in refusal["text"]
    assert not h.slack.of("chat.update")
    assert h.store.findings.get(finding_id).state is ReviewState.DRAFTED
    assert h.store.reviews.of(finding_id) == []
    assert len(h.store.audit.events("finding", finding_id)) == audit_before


def test_a_click_on_an_old_version_is_refused(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    h.sender.event(h.sender.message("make it shorter", thread_ts=event["ts"]))
    h.wait_draft(ts, 2)
    h.wait_idle()  # the redraft has released its claim: the refusal is about the version, not a busy answer
    h.click(c.ACTION_APPROVE, f"{finding_id}:1", REVIEWER, ts, event["ts"])
    refusal = h.slack.wait_calls("chat.postEphemeral")[0]
    assert "you saw v1; it is now v2" in refusal["text"]
    assert h.store.findings.get(finding_id).state is ReviewState.REDRAFTED


def test_request_changes_opens_a_modal_and_the_redraft_follows_the_comment(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    h.click(c.ACTION_REQUEST_CHANGES, f"{finding_id}:1", REVIEWER, ts, event["ts"])
    opened = h.slack.wait_calls("views.open")[0]
    view = opened["view"]
    assert view["callback_id"] == c.VIEW_REQUEST_CHANGES
    assert opened["trigger_id"] == f"trigger-{ts}"

    comment = "Mention the MASH audit and the Operation Encompass notifications"
    values = {c.INPUT_COMMENT_BLOCK: {c.INPUT_COMMENT_ACTION: {"type": "plain_text_input", "value": comment}}}
    response = h.sender.interaction(h.sender.view_submission(view, REVIEWER, values))
    assert response.status == 200 and response.body == ""  # closed: no errors

    update = h.wait_draft(ts, 2)
    assert f"{comment}." in texts(update)
    assert any(f"Reviewer's instruction: {comment}" in p for p in h.model.prompt_texts())
    reviews = h.store.reviews.of(finding_id)
    assert [(r.action.value, r.reviewer, r.comment, r.draft_version) for r in reviews] == [
        ("request_changes", REVIEWER, comment, 1)
    ]
    draft = h.store.drafts.latest(finding_id)
    assert draft is not None and draft.version == 2 and draft.instruction == comment
    assert h.store.findings.get(finding_id).state is ReviewState.REDRAFTED


def test_request_changes_with_an_empty_comment_is_refused_inside_the_modal(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    h.click(c.ACTION_REQUEST_CHANGES, f"{finding_id}:1", REVIEWER, ts, event["ts"])
    view = h.slack.wait_calls("views.open")[0]["view"]
    values = {c.INPUT_COMMENT_BLOCK: {c.INPUT_COMMENT_ACTION: {"type": "plain_text_input", "value": "  "}}}
    response = h.sender.interaction(h.sender.view_submission(view, REVIEWER, values))
    assert response.status == 200
    assert json.loads(response.body)["response_action"] == "errors"
    assert h.store.reviews.of(finding_id) == []


def test_edit_opens_the_text_and_saving_stores_a_new_version(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    h.click(c.ACTION_EDIT, f"{finding_id}:1", REVIEWER, ts, event["ts"])
    view = h.slack.wait_calls("views.open")[0]["view"]
    assert view["callback_id"] == c.VIEW_EDIT
    box = view["blocks"][1]["element"]
    assert box["initial_value"] == h.store.drafts.latest(finding_id).text  # type: ignore[union-attr]

    new_text = "I welcome this recommendation. [CONFIRM: date the new interview form was issued]"
    block = f"{c.INPUT_EDIT_BLOCK_PREFIX}0"
    values = {block: {c.INPUT_EDIT_ACTION: {"type": "plain_text_input", "value": new_text}}}
    assert h.sender.interaction(h.sender.view_submission(view, REVIEWER, values)).status == 200

    update = h.wait_draft(ts, 2)
    assert f"edited by <@{REVIEWER}>" in texts(update)
    assert "*[CONFIRM: date the new interview form was issued]*" in texts(update)
    draft = h.store.drafts.latest(finding_id)
    assert draft is not None and (draft.version, draft.text, draft.author) == (2, new_text, REVIEWER)
    assert draft.placeholders == ["[CONFIRM: date the new interview form was issued]"]


def test_regenerate_drafts_a_new_version_in_place(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    h.click(c.ACTION_REGENERATE, f"{finding_id}:1", ASKER, ts, event["ts"])
    h.wait_draft(ts, 2)
    draft = h.store.drafts.latest(finding_id)
    assert draft is not None and draft.version == 2 and draft.instruction is None


def test_one_draft_at_a_time_per_answer(tmp_path: Path) -> None:
    gate = threading.Event()  # holds the model, so "while v1 is drafting" is certain, not a race
    with running_bot(tmp_path, model=RecordingChatModel(gate=gate)) as h:
        event, _ = h.mention()
        ts = h.placeholder_for(event).ts
        h.sender.event(h.sender.message("make it shorter", thread_ts=event["ts"]))  # while v1 is drafting
        busy = h.slack.wait_calls("chat.postMessage", thread_ts=event["ts"], count=2)[1]
        assert "being drafted right now" in busy["text"]
        gate.set()
        h.wait_draft(ts, 1)
        h.wait_idle()  # v1's job has released its claim on the answer before the clicks below
        finding = h.store.findings.by_message(CHANNEL, ts)
        assert finding is not None
        gate.clear()
        h.click(c.ACTION_REGENERATE, f"{finding.id}:1", ASKER, ts, event["ts"])
        h.click(c.ACTION_REGENERATE, f"{finding.id}:1", ASKER, ts, event["ts"])  # a double click
        refusal = h.slack.wait_calls("chat.postEphemeral")[0]
        assert "being drafted right now" in refusal["text"]
        gate.set()
        h.wait_draft(ts, 2)
        h.wait_idle()
        assert [d.version for d in h.store.drafts.all(finding.id)] == [1, 2]
        assert len(h.model.prompts) == 2


def test_long_draft_is_split_and_attached_in_full_as_a_file(h: Harness) -> None:
    """A long answer (here a reviewer's edit) spans several sections and comes in full as a file."""
    event, ts, finding_id = drafted(h)
    paragraph = "The force has reviewed how officers record what children tell them after they return home.\n\n"
    long_text = (paragraph * (15_000 // len(paragraph) + 1))[:15_000]
    h.store.reviews.record(finding_id, REVIEWER, action="edit", new_text=long_text, expected_version=1)
    h.bot.deps.drafts.show(finding_id, CHANNEL, ts, upload_to=event["ts"])
    update = h.wait_draft(ts, 2)
    sections = [b for b in update["blocks"] if b.get("block_id", "").startswith(c.BLOCK_DRAFT_PREFIX)]
    assert len(sections) >= 4 and all(len(b["text"]["text"]) <= 3000 for b in sections)
    assert any(b.get("block_id") == c.BLOCK_TRUNCATED for b in update["blocks"])
    done = h.slack.wait_calls("files.completeUploadExternal")[0]
    assert done["channel_id"] == CHANNEL and done["thread_ts"] == event["ts"]
    uploaded = h.slack.files[done["files"][0]["id"]]
    assert len(uploaded.content.decode()) > 14_000  # the full text, with its heading


def test_a_model_that_runs_out_of_time_leaves_the_composed_draft_with_a_note(tmp_path: Path) -> None:
    from drafting.llm import ModelTimeoutError

    with running_bot(tmp_path, model=RecordingChatModel(fail=ModelTimeoutError)) as h:
        event, _ = h.mention()
        ts = h.placeholder_for(event).ts
        update = h.wait_draft(ts, 1)
        assert EVIDENCE in texts(update) and "did not finish" in texts(update)
        draft = h.store.drafts.latest(h.store.findings.by_message(CHANNEL, ts).id)  # type: ignore[union-attr]
        assert draft is not None and draft.engine == "composer"


def test_a_model_that_cannot_run_is_reported_in_the_thread_with_a_regenerate_button(tmp_path: Path) -> None:
    from drafting.llm import ChatModelError

    model = RecordingChatModel(fail=ChatModelError)
    with running_bot(tmp_path, model=model) as h:
        event, _ = h.mention()
        ts = h.placeholder_for(event).ts
        error = h.slack.wait_for(
            lambda calls: next((c for c in calls if c.method == "chat.update" and "cannot run" in texts(c)), None)
        )
        finding = h.store.findings.by_message(CHANNEL, ts)
        assert finding is not None and finding.state is ReviewState.AWAITING_DRAFT  # the request is kept
        assert button_values(error) == {c.ACTION_REGENERATE: f"{finding.id}:0"}

        model.fail = None
        h.click(c.ACTION_REGENERATE, f"{finding.id}:0", ASKER, ts, event["ts"])
        h.wait_draft(ts, 1)


# ── reports ──────────────────────────────────────────────────────────────────────────────────────────────


def test_report_upload_gives_a_summary_and_one_threaded_draft_per_finding(h: Harness) -> None:
    stored = h.slack.add_file("missing-children.txt", REPORT_TEXT.encode())
    event = h.sender.mention("please draft the response", files=[{"id": stored.id, "name": stored.name}])
    assert h.sender.event(event).status == 200
    summary_ts = h.placeholder_for(event).ts

    final = h.slack.wait_for(
        lambda calls: next(
            (c for c in calls if c.method == "chat.update" and c.ts == summary_ts and "drafts posted" in texts(c)),
            None,
        ),
        timeout=20,
    )
    shown = texts(final)
    assert "An inspection of how well the police respond to missing children" in shown
    assert "2 recommendations, 1 area for improvement" in shown
    assert "Last day 28 Apr 2025 — 56 days beginning with publication on 4 Mar 2025" in shown
    assert "3 of 3 drafts posted" in shown
    # Counted from the jobs after each one ends (two workers may finish together): never backwards.
    progress = [texts(c) for c in h.slack.of("chat.update") if c.ts == summary_ts]
    steps = [int(m.group(1)) for p in progress if (m := re.search(r"Drafting (\d) of 3", p))]
    assert steps and steps[0] == 1 and steps == sorted(steps) and max(steps) >= 2

    download = h.slack.downloads[0]
    assert download.body["authorization"] == "Bearer xoxb-test-token"
    in_thread = [c for c in h.slack.of("chat.postMessage") if c.get("thread_ts") == event["ts"] and c.ts != summary_ts]
    replies = [c for c in in_thread if not _is_review_call(c)]
    assert len(replies) == 3
    for reply in replies:
        h.wait_draft(reply.ts, 1)
    inspection = h.store.inspections.by_thread(CHANNEL, event["ts"])
    assert inspection is not None and inspection.findings_total == 3
    findings = h.store.findings.of_inspection(inspection.id)
    assert [f.label for f in findings] == ["Recommendation 1", "Recommendation 2", "Area for improvement"]
    assert [f.message_ts for f in findings] == [r.ts for r in replies]
    assert all(f.state is ReviewState.DRAFTED for f in findings)


def test_unreadable_report_is_reported_in_the_thread(h: Harness) -> None:
    stored = h.slack.add_file("scan.pdf", b"%PDF-1.4 not really a pdf")
    event = h.sender.mention("draft this", files=[{"id": stored.id, "name": stored.name}])
    h.sender.event(event)
    summary_ts = h.placeholder_for(event).ts
    error = h.slack.wait_for(
        lambda calls: next((c for c in calls if c.method == "chat.update" and c.ts == summary_ts), None)
    )
    assert "I could not read scan.pdf" in texts(error)
    assert count(h, schema.Inspection) == 0


def test_report_without_findings_says_what_to_do(h: Harness) -> None:
    stored = h.slack.add_file("letter.txt", b"Dear Commissioner,\n\nThank you for your letter.\n")
    event = h.sender.mention("draft this", files=[{"id": stored.id, "name": stored.name}])
    h.sender.event(event)
    summary_ts = h.placeholder_for(event).ts
    error = h.slack.wait_for(
        lambda calls: next((c for c in calls if c.method == "chat.update" and c.ts == summary_ts), None)
    )
    assert "found no findings in letter.txt" in texts(error)
    assert "paste the recommendation text instead" in texts(error)


def test_file_announced_twice_is_read_once(h: Harness) -> None:
    stored = h.slack.add_file("missing-children.txt", REPORT_TEXT.encode(), channel="D_ASKER", ts="1710000999.000100")
    message = h.sender.message(
        "", channel="D_ASKER", channel_type="im", subtype="file_share", files=[{"id": stored.id, "name": stored.name}]
    )
    shared = {"type": "file_shared", "file_id": stored.id, "user_id": ASKER, "channel_id": "D_ASKER"}
    h.sender.event(message)
    h.sender.event(shared)
    h.slack.wait_for(lambda calls: sum(c.method == "files.info" for c in calls) >= 2)
    h.slack.wait_for(lambda calls: any(c.method == "chat.update" and "drafts posted" in texts(c) for c in calls), 20)
    h.wait_idle()
    assert count(h, schema.Inspection) == 1
    assert len(h.slack.downloads) == 1


def test_report_shared_into_a_draft_thread_is_read_from_the_file_shared_event(h: Harness) -> None:
    event, _ts, _finding_id = drafted(h)
    stored = h.slack.add_file(
        "missing-children.txt", REPORT_TEXT.encode(), channel=CHANNEL, ts="1710000998.000100", thread_ts=event["ts"]
    )
    h.sender.event({"type": "file_shared", "file_id": stored.id, "user_id": ASKER, "channel_id": CHANNEL})
    h.slack.wait_for(lambda calls: any(c.method == "chat.update" and "drafts posted" in texts(c) for c in calls), 20)
    inspection = h.store.inspections.by_thread(CHANNEL, event["ts"])
    assert inspection is not None and inspection.findings_total == 3
    unrelated = h.slack.add_file("other.txt", REPORT_TEXT.encode(), channel=CHANNEL, ts="1710000997.000100")
    h.sender.event({"type": "file_shared", "file_id": unrelated.id, "user_id": ASKER, "channel_id": CHANNEL})
    h.wait_idle()
    assert count(h, schema.Inspection) == 1  # a file in no thread of ours is left alone


# ── the assistant panel ──────────────────────────────────────────────────────────────────────────────────


def test_assistant_thread_offers_prompts_and_drafts_with_status(h: Harness) -> None:
    thread = {"user_id": ASKER, "context": {"channel_id": CHANNEL}, "channel_id": "D_PANEL", "thread_ts": "1710.1"}
    h.sender.event({"type": "assistant_thread_started", "assistant_thread": thread, "event_ts": "1710.2"})
    prompts = h.slack.wait_calls("assistant.threads.setSuggestedPrompts")[0]
    assert [p["title"] for p in prompts["prompts"]] == [
        "Draft a response to a recommendation",
        "Draft the response to a report",
    ]

    message = h.sender.message(RECOMMENDATION, channel="D_PANEL", channel_type="im", thread_ts="1710.1")
    h.sender.event(message)
    status = h.slack.wait_calls("assistant.threads.setStatus")[0]
    assert status["channel_id"] == "D_PANEL" and status["thread_ts"] == "1710.1" and status["status"]
    placeholder = h.slack.wait_calls("chat.postMessage", thread_ts="1710.1", text="Recommendation: Drafting…")[0]
    h.wait_draft(placeholder.ts, 1)
    h.slack.wait_calls("assistant.threads.setStatus", status="")  # cleared when the draft is shown


def test_a_recorded_decision_notifies_change_listeners_and_a_refusal_does_not(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    calls: list[str] = []
    h.bot.deps.reviews.on_change.append(lambda: calls.append("changed"))
    version = confirm_everything(h, event, ts, finding_id)  # a confirmation is a decision too
    h.slack.wait_for(lambda _calls: calls == ["changed"])
    h.slack.clear()
    h.click(c.ACTION_APPROVE, f"{finding_id}:{version}", OUTSIDER, ts, event["ts"])
    h.slack.wait_calls("chat.postEphemeral")
    assert calls == ["changed"]
    h.click(c.ACTION_APPROVE, f"{finding_id}:{version}", REVIEWER, ts, event["ts"])
    h.slack.wait_for(lambda _calls: calls == ["changed", "changed"])
    assert h.store.findings.get(finding_id).state is ReviewState.APPROVED


def test_the_card_shows_the_plan_and_the_passage_each_source_gave(h: Harness) -> None:
    _event, ts, _finding_id = drafted(h)
    update = h.wait_draft(ts, 1)
    blocks = {b.get("block_id"): b for b in update["blocks"]}
    plan = blocks[c.BLOCK_PLAN]["text"]["text"]
    assert "*Plan*" in plan and ":white_check_mark:" in plan and "E1 (March 2025)" in plan
    sources = " ".join(e["text"] for e in blocks[c.BLOCK_SOURCES]["elements"])
    assert EVIDENCE in sources and "(cited)" in sources


def test_the_reviewer_chooses_the_offices_decision_and_it_opens_a_new_version(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    payload = h.sender.block_action(c.ACTION_DECISION, "", REVIEWER, CHANNEL, ts, event["ts"])
    payload["actions"][0].update(type="static_select", selected_option={"value": f"{finding_id}:1:accept"})
    assert h.sender.interaction(payload).status == 200
    update = h.wait_draft(ts, 2)
    assert "Northumbria Police accepts this recommendation." in texts(update)
    draft = h.store.drafts.latest(finding_id)
    assert draft is not None and draft.author == REVIEWER and draft.text.startswith("Northumbria Police accepts")
    assert [e.action for e in h.store.audit.events("finding", finding_id)][-1] == "edit"

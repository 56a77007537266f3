"""Slack refusing or failing a post never loses a draft: retries, a shorter card, a new reply, a later retry.

Driven through the signed-request harness against the loopback Slack, which refuses what real Slack refuses
(over-long sections, too many blocks) and can be scripted to answer 429, `msg_too_long` or `invalid_blocks`.
"""

from __future__ import annotations

import threading
from pathlib import Path

from bot.slack.ui.common import SHORTER_NOTE
from tests.support.slack_fake import Call
from tests.support.slack_harness import CHANNEL, REPORT_TEXT, Harness, RecordingChatModel, running_bot, texts


def _gated(tmp_path: Path) -> tuple[threading.Event, object]:
    gate = threading.Event()
    return gate, running_bot(tmp_path, model=RecordingChatModel(gate=gate))


def _draft_held(h: Harness) -> str:
    """Mention, and wait until the model is writing (its placeholder updates are done): the message's ts."""
    event, response = h.mention()
    assert response.status == 200
    ts = h.placeholder_for(event).ts
    h.slack.wait_for(lambda _calls: h.model.prompts or None, 10, "the model to be asked")
    return ts


def _card_updates(h: Harness, ts: str) -> list[Call]:
    shown = [c for c in h.slack.of("chat.update") if c.ts == ts and c.response.get("ok")]
    return [c for c in shown if "draft_actions" in str(c.get("blocks"))]


def test_a_finished_draft_is_shown_through_three_rate_limits(tmp_path: Path) -> None:
    gate, bot = _gated(tmp_path)
    with bot as h:  # type: ignore[attr-defined]
        ts = _draft_held(h)
        h.slack.script["chat.update"] = [429, 429, 429]
        gate.set()
        h.wait_draft(ts, 1, timeout=20)
        h.wait_idle()
        limited = [c for c in h.slack.of("chat.update") if c.response.get("status") == 429]
        assert len(limited) == 3
        job = h.store.jobs.get(1)
        assert job.state == "done" and job.shown and job.post_error is None


def test_an_outcome_slack_keeps_refusing_is_recorded_told_and_posted_later(tmp_path: Path) -> None:
    gate, bot = _gated(tmp_path)
    with bot as h:  # type: ignore[attr-defined]
        ts = _draft_held(h)
        h.slack.script["chat.update"] = [429] * 4  # one try and three retries, all refused
        gate.set()
        h.wait_idle(20)
        job = h.store.jobs.get(1)
        assert job.state == "done" and not job.shown and job.post_attempts == 1
        assert _card_updates(h, ts) == []
        notes = [texts(c) for c in h.slack.of("chat.postMessage") if "Slack refused to show it" in texts(c)]
        assert notes and "The draft is stored" in notes[0]
        h.bot.deps.drafts.housekeep()  # what the workers run between jobs
        assert _card_updates(h, ts), "the card was not posted again"
        assert h.store.jobs.get(1).shown


def test_a_card_slack_finds_too_long_is_posted_shorter_with_the_full_text_as_a_file(tmp_path: Path) -> None:
    gate, bot = _gated(tmp_path)
    with bot as h:  # type: ignore[attr-defined]
        ts = _draft_held(h)
        h.slack.script["chat.update"] = ["msg_too_long"]
        gate.set()
        h.wait_idle(20)
        (card,) = _card_updates(h, ts)
        assert SHORTER_NOTE in texts(card)  # the buttons are still there: reviewers can act on it
        upload = h.slack.wait_calls("files.completeUploadExternal")[0]
        assert upload.get("thread_ts") or upload.get("channel_id") or upload.get("channels")
        assert h.store.jobs.get(1).shown


def test_blocks_slack_refuses_twice_fall_back_to_text_and_a_file(tmp_path: Path) -> None:
    gate, bot = _gated(tmp_path)
    with bot as h:  # type: ignore[attr-defined]
        ts = _draft_held(h)
        h.slack.script["chat.update"] = ["invalid_blocks", "invalid_blocks"]
        gate.set()
        h.wait_idle(20)
        shown = [c for c in h.slack.of("chat.update") if c.ts == ts and c.response.get("ok")]
        assert SHORTER_NOTE in texts(shown[-1]) and "draft_actions" not in str(shown[-1].get("blocks"))
        assert h.slack.wait_calls("files.completeUploadExternal")
        assert h.store.jobs.get(1).shown


def test_one_refused_placeholder_does_not_stop_a_report(h: Harness) -> None:
    stored = h.slack.add_file("missing-children.txt", REPORT_TEXT.encode())
    # The summary and the first placeholder are posted; Slack refuses the second placeholder.
    h.slack.script["chat.postMessage"] = ["ok", "ok", "not_in_channel"]
    event = h.sender.mention("please draft the response", files=[{"id": stored.id, "name": stored.name}])
    assert h.sender.event(event).status == 200
    h.wait_idle(30)
    inspection = h.store.inspections.by_thread(CHANNEL, event["ts"])
    assert inspection is not None
    found = h.store.findings.of_inspection(inspection.id)
    assert len(found) == 3 and all(f.latest_version == 1 for f in found)
    assert all(f.message_ts for f in found)  # the refused one was posted as a new reply with its card
    second = found[1].message_ts
    posted = [c for c in h.slack.of("chat.postMessage") if c.ts == second]
    assert posted and "draft_actions" in str(posted[0].get("blocks"))
    summary = [c for c in h.slack.of("chat.update") if "drafts posted" in texts(c)]
    assert summary and "3 of 3 drafts posted" in texts(summary[-1])


def test_the_same_report_uploaded_again_adds_nothing_and_links_the_first(h: Harness) -> None:
    first = h.slack.add_file("missing-children.txt", REPORT_TEXT.encode())
    event = h.sender.mention("please draft the response", files=[{"id": first.id, "name": first.name}])
    assert h.sender.event(event).status == 200
    h.wait_idle(30)
    again = h.slack.add_file("missing-children-copy.txt", REPORT_TEXT.encode())
    event2 = h.sender.mention("and this one", files=[{"id": again.id, "name": again.name}])
    assert h.sender.event(event2).status == 200
    h.wait_idle(30)
    summary_ts = h.placeholder_for(event2).ts
    refused = [texts(c) for c in h.slack.of("chat.update") if c.ts == summary_ts]
    assert refused and "already uploaded in this channel" in refused[-1]
    assert "|that thread>" in refused[-1]  # a live link to the first upload's thread, not escaped text
    inspection = h.store.inspections.by_thread(CHANNEL, event["ts"])
    assert inspection is not None and len(h.store.findings.of_inspection(inspection.id)) == 3
    assert h.store.inspections.by_thread(CHANNEL, event2["ts"]) is None


def test_a_request_whose_placeholder_was_refused_is_still_drafted_and_posted(h: Harness) -> None:
    h.slack.script["chat.postMessage"] = ["not_in_channel"]
    event, response = h.mention()
    assert response.status == 200
    h.wait_idle(20)
    (finding,) = h.store.findings.in_thread(CHANNEL, event["ts"])
    assert finding.latest_version == 1 and finding.message_ts
    posted = [c for c in h.slack.of("chat.postMessage") if c.ts == finding.message_ts]
    assert posted and "draft_actions" in str(posted[0].get("blocks"))

"""`/hmicfrs`, reminders and App Home end to end: signed requests to the real Bolt app, a loopback fake Slack.

The clock is injected into the app and the store, so deadlines, reminder slots and overdue days are
simulated; request signatures still use real time, as Slack's do.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from typer.testing import CliRunner

from bot.cli.main import app as cli_app
from bot.services.reminder_sweeper import ReminderSweeper
from retrieval.models import Finding, FindingKind
from tests.support.inspections import ANSWERS, REVIEWER, TITLE, approve_all
from tests.support.slack_fake import FakeSlack, iter_texts
from tests.support.slack_harness import GROUP_MEMBER, REPORT_TEXT, running_bot
from tests.support.slack_harness import REVIEWER as E2E_REVIEWER
from tests.support.slack_instances import CHANNEL, LEAD, Running
from tests.support.slack_instances import Instances as Harness
from tests.support.store import FakeClock, draft, findings
from tracker.repository import Repository

ADD = f"add 8 Dec 2023 {TITLE} <#{CHANNEL}|reviews> --type national"


def at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at(2023, 12, 10))


@pytest.fixture
def harness(tmp_path: Path, slack: FakeSlack, clock: FakeClock) -> Iterator[Harness]:
    made = Harness(tmp_path, slack, clock, pcc_name="Susan Dungworth")
    yield made
    made.close()


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def text_of(reply: dict[str, Any]) -> str:
    """What a person reads: the blocks' text, whitespace folded, Slack's escapes undone."""
    return unescape(" ".join(" ".join(iter_texts(reply.get("blocks", []))).split()))


def posts(slack: FakeSlack, channel: str = CHANNEL) -> list[dict[str, Any]]:
    return [call.body for call in slack.of("chat.postMessage") if call.get("channel") == channel]


def post_text(body: dict[str, Any]) -> str:
    return text_of(body)


def add_inspection(running: Running, slack: FakeSlack) -> tuple[int, str]:
    """`/hmicfrs add …` in #reviews; returns the new inspection's id and the ts of its announcement (thread)."""
    reply = running.slash(ADD)
    assert reply["response_type"] == "ephemeral"
    match = re.search(r"Added inspection #(\d+)", text_of(reply))
    assert match, text_of(reply)
    inspection_id = int(match.group(1))
    slack.wait_for(lambda _: running.store.inspections.get(inspection_id).thread_ts, what="the announcement's thread")
    thread_ts = str(running.store.inspections.get(inspection_id).thread_ts)
    assert (CHANNEL, thread_ts) in slack.messages
    return inspection_id, thread_ts


# ── add, list, show, help ────────────────────────────────────────────────────────────────────────────────


def test_add_by_slash_command_announces_it_and_lists_it_with_the_right_last_day(
    harness: Harness, slack: FakeSlack
) -> None:
    running = harness.start()
    inspection_id, thread_ts = add_inspection(running, slack)

    announcement = posts(slack)[0]
    assert "thread_ts" not in announcement or not announcement["thread_ts"]
    said = post_text(announcement)
    assert "Last day 1 Feb 2024" in said and "56 days beginning with publication on 8 Dec 2023" in said
    assert "5 Jan 2024" in said  # the chief constable's comments, published + 28
    view = running.store.inspections.get(inspection_id)
    assert (view.channel_id, view.inspection_type.value, view.created_by) == (CHANNEL, "national thematic", LEAD)
    assert slack.messages[(CHANNEL, thread_ts)]  # the thread starts at the announcement

    listed = text_of(running.slash("list"))
    assert f"#{inspection_id}" in listed and TITLE in listed
    assert "Last day 1 Feb 2024" in listed and "53 days left" in listed
    assert "no findings yet" in listed

    shown = text_of(running.slash(f"show {inspection_id}"))
    assert "s.55(4)" in shown and "HMICFRS" in shown and "Home Secretary" in shown


def test_a_second_inspection_lists_soonest_first_with_approvals(harness: Harness, slack: FakeSlack) -> None:
    running = harness.start()
    add_inspection(running, slack)
    running.slash("add 7 November 2023 PEEL 2023 <#C_OTHER|peel-2023> --type peel", channel=CHANNEL)
    (announced,) = slack.wait_calls("chat.postMessage", channel="C_OTHER")
    assert "PEEL 2023" in post_text(announced.body) and "<#C_OTHER" not in post_text(announced.body)
    assert running.store.inspections.get(2).channel_id == "C_OTHER"
    running.store.findings.add(1, findings())
    first = running.store.findings.of_inspection(1)[0]
    running.store.drafts.add(first.id, draft(ANSWERS[0]))
    running.store.reviews.record(first.id, REVIEWER, action="approve")
    listed = text_of(running.slash("list"))
    assert listed.index("PEEL 2023") < listed.index(TITLE)
    assert "Last day 1 Jan 2024" in listed and "22 days left" in listed
    assert "1/3 answers approved" in listed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "Track an HMICFRS inspection"),
        ("help", "/hmicfrs remind <id> <days,…>"),
        ("help", "/hmicfrs attach <id> [message link]"),
        ("attach", "/hmicfrs attach <id>"),
        ("attach 99", "no inspection with id 99"),
        ("attach 1 not-a-link", "is not a Slack message link"),
        ("frobnicate 3", "Unknown subcommand “frobnicate”"),
        ("add 31/02/2024 Some inspection", "February 2024 has 29 days, not 31"),
        ("add 8 Dec 2023", "Give the inspection's title"),
        ("add 8 Dec 2023 A title #reviews", "pick it from Slack's channel suggestions"),
        ("show 99", "no inspection with id 99"),
        ("show three", "'three' is not an inspection id"),
        ("done 1 posted", "use one of published, sent-hmicfrs, sent-home-office"),
        ("remind 1", "/hmicfrs remind <id> <days,…>"),
    ],
)
def test_bad_input_gets_help_or_a_clear_ephemeral_refusal_and_stores_nothing(
    harness: Harness, slack: FakeSlack, text: str, expected: str
) -> None:
    running = harness.start()
    reply = running.slash(text)
    assert reply["response_type"] == "ephemeral"
    assert expected in text_of(reply)
    assert running.store.inspections.list_open(at(2023, 12, 10).date()) == []
    assert slack.of("chat.postMessage") == []


def test_remind_and_done_steps(harness: Harness, slack: FakeSlack) -> None:
    running = harness.start()
    inspection_id, _thread = add_inspection(running, slack)
    assert "14, 7, 0 days before the last day, 1 Feb 2024" in text_of(running.slash(f"remind {inspection_id} 14,7,0"))
    assert running.store.inspections.get(inspection_id).reminder_days == (14, 7, 0)
    assert "60 is not" in text_of(running.slash(f"remind {inspection_id} 30,60"))
    assert "sent to HMICFRS" in text_of(running.slash(f"done {inspection_id} sent-hmicfrs"))
    assert running.store.inspections.get(inspection_id).sent_hmicfrs_at == at(2023, 12, 10)
    reply = running.slash(f"comments {inspection_id} pcc I welcome this report.")
    assert "Saved the PCC's comments" in text_of(reply)


# ── reminders ────────────────────────────────────────────────────────────────────────────────────────────


def reminder_posts(slack: FakeSlack) -> list[str]:
    return [
        post_text(body) for body in posts(slack) if any("reminder" in b.get("block_id", "") for b in body["blocks"])
    ]


def test_reminders_fire_once_each_survive_a_restart_and_never_double_with_two_instances(
    harness: Harness, slack: FakeSlack, clock: FakeClock
) -> None:
    first = harness.start()
    add_inspection(first, slack)
    second = harness.start()  # a second instance on the same database
    sweepers = [first.sweeper(clock, "instance-a"), second.sweeper(clock, "instance-b")]

    def sweep_all() -> None:
        # Both instances sweep at the same moment, as two processes' minute timers would.
        threads = [threading.Thread(target=s.sweep_once) for s in sweepers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    sweep_all()
    assert reminder_posts(slack) == []  # nothing is due on 10 Dec

    clock.current = at(2024, 1, 4)  # 28 days before the last day
    sweep_all()
    sweep_all()
    sent = reminder_posts(slack)
    assert len(sent) == 1 and "Last day 1 Feb 2024" in sent[0] and "28 days left" in sent[0]

    clock.current = at(2024, 1, 5, 7)  # the CC comments' day, but before 08:00 UK: nobody is pinged at 7
    sweep_all()
    assert len(reminder_posts(slack)) == 1
    clock.current = at(2024, 1, 5, 10)
    sweep_all()
    sent = reminder_posts(slack)
    assert len(sent) == 2 and "chief constable's comments" in sent[1] and "5 Jan 2024" in sent[1]

    # Restart: the first instance goes away and a new one starts on the same database.
    first.stop()
    harness.running.remove(first)
    restarted = harness.start()
    sweepers = [restarted.sweeper(clock, "instance-c"), second.sweeper(clock, "instance-b")]
    sweep_all()
    assert len(reminder_posts(slack)) == 2, "a restart must not repeat today's reminders"

    clock.current = at(2024, 1, 18)
    sweep_all()
    sweep_all()
    sent = reminder_posts(slack)
    assert len(sent) == 3 and "14 days left" in sent[2]

    clock.current = at(2024, 2, 2)  # the day after the last day
    sweep_all()
    clock.advance(hours=5)
    sweep_all()
    sent = reminder_posts(slack)
    assert len(sent) == 4 and "is overdue" in sent[3] and "overdue by 1 day" in sent[3]
    clock.current = at(2024, 2, 3)
    sweep_all()
    sweep_all()
    sent = reminder_posts(slack)
    assert len(sent) == 5 and sent[4].startswith(":warning: Still overdue")

    every = [call.body for call in slack.of("chat.postMessage") if call.get("reply_broadcast")]
    assert len(every) == 5 and all(body["thread_ts"] for body in every)  # in the thread, shown in the channel


def test_a_failed_post_is_retried_by_the_next_sweep(harness: Harness, slack: FakeSlack, clock: FakeClock) -> None:
    running = harness.start()
    add_inspection(running, slack)
    sweeper = running.sweeper(clock, "instance-a")
    clock.current = at(2024, 1, 4)
    slack.fail_methods["chat.postMessage"] = "not_in_channel"
    assert sweeper.sweep_once() == []
    del slack.fail_methods["chat.postMessage"]
    clock.advance(minutes=1)
    assert [r.offset_days for r in sweeper.sweep_once()] == [28]
    assert sweeper.sweep_once() == []


def test_each_sweep_forgets_delivery_keys_slack_can_no_longer_retry(harness: Harness, clock: FakeClock) -> None:
    running = harness.start()
    assert running.store.events.claim("event:old")
    clock.advance(hours=3)
    assert running.store.events.claim("event:recent")
    running.sweeper(clock, "instance-a").sweep_once()
    assert not running.store.events.claim("event:recent")  # still within Slack's retry window: kept
    assert running.store.events.claim("event:old")  # pruned, so the table does not grow without bound


def test_the_sweeper_thread_sweeps_until_stopped(harness: Harness, slack: FakeSlack, clock: FakeClock) -> None:
    running = harness.start()
    add_inspection(running, slack)
    clock.current = at(2024, 1, 4)
    sweeper = ReminderSweeper(running.store, running.bot.deps.poster, clock, instance_id="x", interval=0.05)
    sweeper.start()
    try:
        slack.wait_for(lambda _: reminder_posts(slack), what="the reminder")
    finally:
        sweeper.stop()
    assert not sweeper.running
    assert len(reminder_posts(slack)) == 1


# ── the pack and the learning loop ───────────────────────────────────────────────────────────────────────


def seed_answers(store: Repository, inspection_id: int, approve: tuple[bool, ...]) -> None:
    for finding, text, ok in zip(store.findings.add(inspection_id, findings()), ANSWERS, approve, strict=True):
        store.drafts.add(finding.id, draft(text))
        if ok:
            store.reviews.record(finding.id, REVIEWER, action="approve")


def test_pack_is_refused_while_one_answer_is_unapproved_then_uploaded_to_the_thread(
    harness: Harness, slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = harness.start()
    inspection_id, thread_ts = add_inspection(running, slack)
    seed_answers(running.store, inspection_id, (True, False, True))

    refused = text_of(running.slash(f"pack {inspection_id}"))
    assert "cannot be exported" in refused and "Recommendation 2: v1 drafted, not approved" in refused
    assert "s.55(5B)" in refused
    assert slack.of("files.completeUploadExternal") == []

    approve_all(running.store, inspection_id)
    running.slash(f"comments {inspection_id} cc The Chief Constable accepts every recommendation.")
    letter = text_of(running.slash(f"pack {inspection_id}"))
    assert "the PCC's opening comments on the report are not recorded" in letter
    running.slash(f"comments {inspection_id} pcc I welcome the report.")
    started = text_of(running.slash(f"pack {inspection_id}"))
    assert "Assembling the publication pack" in started
    (complete,) = slack.wait_calls("files.completeUploadExternal")
    assert complete["channel_id"] == CHANNEL and complete["thread_ts"] == thread_ts
    assert "every one of the 3 findings has an approved answer" in complete["initial_comment"]
    names = sorted(
        item["title"]
        for item in (complete["files"] if isinstance(complete["files"], list) else json.loads(complete["files"]))
    )
    assert names == [f"{TITLE} (Markdown)", f"{TITLE} (Word)"]

    (docx,) = [f for f in slack.files.values() if f.name.endswith(".docx")]
    document = Document(io.BytesIO(docx.content))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings == [
        "NORTHUMBRIA PCC RESPONSE TO HMICFRS INSPECTIONS OF NORTHUMBRIA POLICE",
        "NORTHUMBRIA PCC RESPONSE TO HMICFRS",
    ]
    labels = [p.text.split(" (")[0] for p in document.paragraphs if p.text.startswith(("Recommendation", "Area for"))]
    assert labels == ["Recommendation 1", "Recommendation 2", "Area for Improvement"]
    rows = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert rows[0] == ["Inspection title", TITLE]
    assert rows[1] == ["Type of inspection", "☐ Northumbria-specific ☒ National Thematic"]
    assert rows[3][1].startswith("1 February 2024 (56 days beginning with publication on 8 Dec 2023")
    assert rows[4] == ["Recommendations", "☒ National ☐ Local"]
    paragraphs = [p.text for p in document.paragraphs]
    assert "The Chief Constable accepts every recommendation." in paragraphs and ANSWERS[2] in paragraphs
    (markdown,) = [f for f in slack.files.values() if f.name.endswith(".md")]
    text = markdown.content.decode()
    assert text.count("\n**Recommendation ") + text.count("\n**Area for Improvement** (") == 3

    # Published: the approved answers join the library and `responder search` finds them.
    reply = running.slash(f"done {inspection_id} published")
    assert "marked published" in text_of(reply)
    announced = slack.wait_for(
        lambda calls: [c for c in calls if c.method == "chat.postMessage" and "library" in str(c.get("text"))],
        timeout=60,
        what="the publication announcement",
    )
    assert "3 approved answers added to the library" in announced[0]["text"]
    assert announced[0]["thread_ts"] == thread_ts and announced[0]["reply_broadcast"]

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RESPONDER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RESPONDER_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli_app, ["search", "problem profile for child sexual exploitation", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits[0]["chunk"]["doc_id"] == f"inspection-{inspection_id}"
    assert hits[0]["chunk"]["meta"]["inspection_title"] == TITLE
    assert any(ANSWERS[0] in hit["chunk"]["response"] for hit in hits)


def test_a_draft_watermark_pack_is_uploaded_even_while_incomplete(harness: Harness, slack: FakeSlack) -> None:
    running = harness.start()
    inspection_id, _thread = add_inspection(running, slack)
    seed_answers(running.store, inspection_id, (False, False, True))
    assert "watermarked working copy" in text_of(running.slash(f"pack {inspection_id} draft"))
    (complete,) = slack.wait_calls("files.completeUploadExternal")
    assert "not for publication" in complete["initial_comment"]
    (docx,) = [f for f in slack.files.values() if f.name.endswith("-WORKING-DRAFT.docx")]
    assert Document(io.BytesIO(docx.content)).paragraphs[0].text.startswith("WORKING DRAFT")


def test_a_later_reply_goes_through_the_response_url_not_a_channel_post(harness: Harness, slack: FakeSlack) -> None:
    """After the ack, the command answers through Bolt's `respond`: it works where the bot is not a member."""
    running = harness.start()
    inspection_id, _thread = add_inspection(running, slack)
    seed_answers(running.store, inspection_id, (True, True, True))
    running.store.inspections.set_comments(inspection_id, "U_LEAD", pcc="I welcome it.", chief_constable="Agreed.")
    slack.fail_methods["files.getUploadURLExternal"] = "not_in_channel"
    assert "Assembling the publication pack" in text_of(running.slash(f"pack {inspection_id}"))
    (later,) = slack.wait_calls("response_url")
    assert later["response_type"] == "ephemeral" and later["replace_original"] is False
    assert "could not be uploaded (not_in_channel)" in " ".join(iter_texts(later["blocks"]))
    assert slack.of("chat.postEphemeral") == []


# ── App Home ─────────────────────────────────────────────────────────────────────────────────────────────


def test_app_home_shows_the_dashboard_and_refreshes_when_something_changes(harness: Harness, slack: FakeSlack) -> None:
    running = harness.start()
    inspection_id, thread_ts = add_inspection(running, slack)
    seed_answers(running.store, inspection_id, (True, False, False))
    running.sender.event({"type": "app_home_opened", "user": "U_VIEWER", "channel": "D1", "tab": "home"})
    (published,) = slack.wait_calls("views.publish", user_id="U_VIEWER")
    view = published["view"]
    assert view["type"] == "home"
    shown = " ".join(" ".join(iter_texts(view["blocks"])).split())
    assert "Last day 1 Feb 2024" in shown and "53 days left" in shown and "1/3 answers approved" in shown
    link = f"https://pcc-office.slack.com/archives/{CHANNEL}/p{thread_ts.replace('.', '')}"
    assert f"<{link}|{TITLE}>" in shown

    running.slash(f"add 7 Nov 2023 PEEL 2023 <#{CHANNEL}|reviews>")
    calls = slack.wait_calls("views.publish", count=2, user_id="U_VIEWER")
    dashboard = [b for b in calls[1]["view"]["blocks"] if str(b.get("block_id", "")).startswith("home_inspection_")]
    refreshed = " ".join(" ".join(iter_texts(dashboard)).split())  # the inspections, after "Awaiting my review"
    assert refreshed.index("PEEL 2023") < refreshed.index(TITLE)

    # An approval made elsewhere (the review buttons) reaches the dashboard on the next sweep.
    home = running.bot.deps.home
    assert home.refresh(only_if_changed=True) == 0  # nothing changed since the last publish
    approve_all(running.store, inspection_id)
    assert home.refresh(only_if_changed=True) == 1
    latest = " ".join(" ".join(iter_texts(slack.of("views.publish")[-1]["view"]["blocks"])).split())
    assert "3/3 answers approved" in latest


# ── every statutory step seen through ────────────────────────────────────────────────────────────────────


def test_done_published_is_refused_for_a_non_reviewer_and_while_no_finding_is_recorded(
    harness: Harness, slack: FakeSlack
) -> None:
    running = harness.start(reviewers=[REVIEWER])
    inspection_id, _thread = add_inspection(running, slack)  # added by LEAD, who drafts but does not review

    refused = text_of(running.slash(f"done {inspection_id} published"))
    assert f"Only the configured reviewers can mark a response published (<@{REVIEWER}>)" in refused
    assert running.store.inspections.get(inspection_id).published_at is None

    refused = text_of(running.slash(f"done {inspection_id} published", user=REVIEWER))
    assert f"Inspection #{inspection_id}" in refused and "has no findings recorded" in refused
    assert f"/hmicfrs attach {inspection_id}" in refused
    assert running.store.inspections.get(inspection_id).published_at is None

    running.store.findings.add(inspection_id, findings())
    assert "marked published" in text_of(running.slash(f"done {inspection_id} published", user=REVIEWER))
    assert running.store.inspections.get(inspection_id).published_at == at(2023, 12, 10)
    # Every `done` step is a reviewer's call (issue 10), sending included.
    refused = text_of(running.slash(f"done {inspection_id} sent-hmicfrs"))
    assert f"Only the configured reviewers can mark a step done (<@{REVIEWER}>)" in refused
    assert "sent to HMICFRS" in text_of(running.slash(f"done {inspection_id} sent-hmicfrs", user=REVIEWER))


def test_a_published_inspection_stays_listed_and_on_app_home_until_sent_to_both(
    harness: Harness, slack: FakeSlack
) -> None:
    running = harness.start()
    inspection_id, _thread = add_inspection(running, slack)
    running.store.findings.add(inspection_id, findings())
    home = running.bot.deps.home

    def home_ids() -> list[int]:
        return [row.summary.inspection.id for row in home.rows()]

    reply = text_of(running.slash(f"done {inspection_id} published"))
    assert "Still to send to: HMICFRS, Home Secretary" in reply
    listed = text_of(running.slash("list"))
    assert f"#{inspection_id}" in listed and "next: send to HMICFRS" in listed
    assert home_ids() == [inspection_id]

    reply = text_of(running.slash(f"done {inspection_id} sent-hmicfrs"))
    assert "Still to send to: Home Secretary" in reply
    listed = text_of(running.slash("list"))
    assert f"#{inspection_id}" in listed and "next: send to the Home Secretary" in listed
    running.sender.event({"type": "app_home_opened", "user": "U_VIEWER", "channel": "D1", "tab": "home"})
    (published,) = slack.wait_calls("views.publish", user_id="U_VIEWER")
    assert "next: send to the Home Secretary" in " ".join(iter_texts(published["view"]["blocks"]))

    reply = text_of(running.slash(f"done {inspection_id} sent-home-office"))
    assert "Every statutory step is done" in reply
    assert "No open inspections" in text_of(running.slash("list"))
    assert home_ids() == []


def test_adding_the_same_inspection_twice_is_refused_with_a_link_to_the_first(
    harness: Harness, slack: FakeSlack
) -> None:
    running = harness.start()
    inspection_id, thread_ts = add_inspection(running, slack)
    announcements = len(posts(slack))

    again = running.slash(f"add 8 December 2023 {TITLE.upper()}   <#{CHANNEL}|reviews>")
    said = text_of(again)
    assert f"already tracked as inspection #{inspection_id}" in said and "Nothing was added" in said
    link = f"https://pcc-office.slack.com/archives/{CHANNEL}/p{thread_ts.replace('.', '')}"
    assert f"<{link}|its thread>" in said
    assert [s.inspection.id for s in running.store.inspections.list_open(at(2023, 12, 10).date())] == [inspection_id]
    assert len(posts(slack)) == announcements  # nothing announced for the refused one


def test_attach_picks_the_one_waiting_report_or_asks_for_its_link_and_is_audited(
    harness: Harness, slack: FakeSlack
) -> None:
    running = harness.start()
    inspection_id, thread_ts = add_inspection(running, slack)
    store = running.store
    report_ts, other_ts = "1700000001.000100", "1700000002.000100"
    for finding in findings():
        store.findings.add_request(finding, CHANNEL, report_ts, "U_UPLOADER")
    extra = Finding(kind=FindingKind.AREA_FOR_IMPROVEMENT, text="The force should improve its missing-person audits.")
    store.findings.add_request(extra, CHANNEL, other_ts, "U_UPLOADER")
    report_link = f"https://pcc-office.slack.com/archives/{CHANNEL}/p{report_ts.replace('.', '')}"

    asked = text_of(running.slash(f"attach {inspection_id}"))
    assert "Several reports in this channel are waiting" in asked
    assert f"/hmicfrs attach {inspection_id} <message link>" in asked
    assert report_link in asked and "3 findings, starting with Recommendation 1" in asked
    assert store.findings.of_inspection(inspection_id) == []

    said = text_of(running.slash(f"attach {inspection_id} <{report_link}?thread_ts={report_ts}&amp;cid={CHANNEL}>"))
    assert f"Attached 3 findings from <{report_link}|the report's thread> to inspection #{inspection_id}" in said
    attached = store.findings.of_inspection(inspection_id)
    assert [f.label for f in attached] == ["Recommendation 1", "Recommendation 2", "Area for improvement"]
    assert all(f.thread_ts == report_ts for f in attached)
    events = [e for f in attached for e in store.audit.events("finding", f.id) if e.action == "attach"]
    assert len(events) == 3 and {e.actor for e in events} == {LEAD}
    assert store.inspections.get(inspection_id).thread_ts == thread_ts  # it had a thread: kept
    note = slack.wait_calls("chat.postMessage", thread_ts=report_ts)[0]
    assert f"now belong to inspection #{inspection_id}" in post_text(note.body)

    # One report left waiting in the channel: no link needed.
    said = text_of(running.slash(f"attach {inspection_id}"))
    assert "Attached 1 finding from" in said
    assert store.inspections.get(inspection_id).findings_total == 4
    assert "No report in this channel is waiting" in text_of(running.slash(f"attach {inspection_id}"))


# ── a report uploaded without its date, end to end ───────────────────────────────────────────────────────


def test_a_report_uploaded_without_a_date_says_attach_and_attach_adopts_its_thread(tmp_path: Path) -> None:
    undated = REPORT_TEXT.replace("Published: 4 March 2025\n", "")
    with running_bot(tmp_path) as h:
        stored = h.slack.add_file("missing-children.txt", undated.encode())
        event = h.sender.mention("please draft the response", files=[{"id": stored.id, "name": stored.name}])
        assert h.sender.event(event).status == 200
        summary_ts = h.placeholder_for(event).ts
        final = h.slack.wait_for(
            lambda calls: next(
                (
                    c
                    for c in calls
                    if c.method == "chat.update" and c.ts == summary_ts and "drafts posted" in text_of(c.body)
                ),
                None,
            ),
            timeout=30,
        )
        said = text_of(final.body)
        assert "publication date was not found" in said and "/hmicfrs add <published date> <title>" in said
        assert "or, if this inspection is already tracked, type `/hmicfrs attach <id>` in this thread" in said
        h.wait_idle()

        inspection = h.store.inspections.create(
            "How well the police respond to missing children", date(2025, 3, 4), "PEEL", "Northumbria", None, "U_LEAD"
        )
        refused = text_of(h.slash(f"done {inspection.id} published", E2E_REVIEWER))
        assert "has no findings recorded" in refused

        refused = text_of(h.slash(f"attach {inspection.id}", "U_LEAD"))
        assert "Only the configured reviewers can attach a report to an inspection" in refused
        reply = text_of(h.slash(f"attach {inspection.id}", GROUP_MEMBER))
        link = f"https://pcc-office.slack.com/archives/{CHANNEL}/p{event['ts'].replace('.', '')}"
        assert f"Attached 3 findings from <{link}|the report's thread>" in reply
        assert "now the inspection's thread" in reply
        view = h.store.inspections.get(inspection.id)
        assert (view.channel_id, view.thread_ts, view.findings_total) == (CHANNEL, event["ts"], 3)
        assert [e.action for e in h.store.audit.events("inspection", inspection.id)] == ["create", "attach_thread"]

        # A member of the reviewer group may mark it published now that it has findings.
        assert "marked published" in text_of(h.slash(f"done {inspection.id} published", GROUP_MEMBER))
        h.wait_idle()

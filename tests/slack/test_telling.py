"""People are told what to do: the reviewers are called once a report's drafts are done, App Home lists what
awaits each viewer's review, the report's progress has a measured estimate, and a draft being written shows its
words so far (throttled)."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from langchain_core.outputs import ChatResult

from bot.services.draft_queue import DraftStream
from bot.services.home_tab import HomeTab, Reviewable
from bot.slack import constants as c
from bot.slack.inbound import Inbound, Surface
from bot.slack.ui.common import MessagePayload
from bot.slack.ui.home import MAX_AWAITING, AwaitingDraft, HomeRow, home_view, next_step
from bot.slack.ui.report import (
    BLOCK_REVIEW_READY,
    BLOCK_WRITING,
    Progress,
    ReportSummary,
    describe_left,
    progress_line,
    report_summary,
    review_ready,
    reviewer_mentions,
    seconds_left,
    writing_placeholder,
)
from retrieval.models import Finding, FindingKind
from tests.support.slack_fake import Call, iter_texts
from tests.support.slack_harness import (
    ASKER,
    CHANNEL,
    GROUP,
    GROUP_MEMBER,
    OUTSIDER,
    REPORT_TEXT,
    REVIEWER,
    Harness,
    RecordingChatModel,
    running_bot,
    texts,
)
from tracker.deadlines import DeadlineStatus
from tracker.review import ApprovalPolicy, Stage
from tracker.views import InspectionSummary, InspectionView

TITLE = "An inspection of how well the police respond to missing children"
LABELS = ["Recommendation 1", "Recommendation 2", "Area for improvement"]


def is_review_call(call: Call) -> bool:
    return any(b.get("block_id") == BLOCK_REVIEW_READY for b in call.get("blocks") or [])


def upload_report(h: Harness) -> tuple[dict[str, Any], str]:
    """Upload the 3-finding report, wait until every draft is posted; returns (event, summary ts)."""
    stored = h.slack.add_file("missing-children.txt", REPORT_TEXT.encode())
    event = h.sender.mention("please draft the response", files=[{"id": stored.id, "name": stored.name}])
    assert h.sender.event(event).status == 200
    summary_ts = h.placeholder_for(event).ts
    h.slack.wait_for(
        lambda calls: any(
            c.method == "chat.update" and c.ts == summary_ts and "drafts posted" in texts(c) for c in calls
        ),
        timeout=30,
        what="the report's final summary",
    )
    h.wait_idle()
    return event, summary_ts


def review_calls(h: Harness, thread_ts: str) -> list[Call]:
    return [c for c in h.slack.of("chat.postMessage") if c.get("thread_ts") == thread_ts and is_review_call(c)]


# ── the reviewers are called, once per report ────────────────────────────────────────────────────────────


def test_a_report_calls_the_reviewers_once_with_the_count_and_a_link(h: Harness) -> None:
    event, summary_ts = upload_report(h)
    (call,) = review_calls(h, event["ts"])
    assert call["channel"] == CHANNEL
    shown = texts(call)
    assert f"<@{REVIEWER}> <!subteam^{GROUP}>: 3 drafts of “{TITLE}” await your review" in shown
    assert f"<@{REVIEWER}>" in call["text"] and f"<!subteam^{GROUP}>" in call["text"]
    link = f"https://pcc-office.slack.com/archives/{CHANNEL}/p{summary_ts.replace('.', '')}"
    assert f"<{link}?thread_ts={event['ts']}&cid={CHANNEL}|" in shown

    # A redraft completing later does not call them again.
    finding = h.store.findings.of_inspection(h.store.inspections.by_thread(CHANNEL, event["ts"]).id)[0]  # type: ignore[union-attr]
    h.click(c.ACTION_REGENERATE, f"{finding.id}:1", ASKER, finding.message_ts or "", event["ts"])
    h.wait_draft(finding.message_ts or "", 2)
    h.wait_idle()
    assert len(review_calls(h, event["ts"])) == 1


def test_the_call_is_claimed_once_even_when_asked_for_concurrently(h: Harness) -> None:
    event, summary_ts = upload_report(h)
    reports = h.bot.deps.reports
    inspection = h.store.inspections.by_thread(CHANNEL, event["ts"])
    assert inspection is not None
    findings = h.store.findings.of_inspection(inspection.id)
    msg = Inbound(channel=CHANNEL, thread_ts=event["ts"], ts=event["ts"], user=ASKER, text="", surface=Surface.MENTION)
    assert reports.tell_reviewers(msg, findings, TITLE, summary_ts) is False  # the report's own call was made

    start, results = threading.Barrier(4), []

    def last_drafts_finishing() -> None:
        start.wait()
        results.append(reports.tell_reviewers(msg, findings, TITLE, "1799999999.000100"))

    threads = [threading.Thread(target=last_drafts_finishing) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [False, False, False, True]
    assert len(review_calls(h, event["ts"])) == 2  # the report's own, and one for the other key


def test_without_configured_reviewers_the_uploader_is_called(tmp_path: Path) -> None:
    with running_bot(tmp_path, reviewers=[]) as h:
        event, _ = upload_report(h)
        (call,) = review_calls(h, event["ts"])
        assert texts(call).startswith(f":mag: <@{ASKER}>: 3 drafts of “{TITLE}” await your review")


def test_review_ready_wording() -> None:
    mentions = reviewer_mentions(["S2", "U1", "U1"], "U_UP")
    assert mentions == ["<@U1>", "<!subteam^S2>"]
    payload = review_ready(mentions, "PEEL <2025>", 8, 2, "https://x/archives/C1/p1")
    assert (
        payload.text
        == "<@U1> <!subteam^S2>: 8 drafts of “PEEL &lt;2025&gt;” await your review (2 need a fact confirmed)."
    )
    assert "<https://x/archives/C1/p1|" in payload.blocks[0]["text"]["text"]
    one = review_ready(reviewer_mentions([], "U_UP"), "PEEL", 1, 1)
    assert one.text == "<@U_UP>: 1 draft of “PEEL” awaits your review (1 needs a fact confirmed)."
    assert "(" not in review_ready(mentions, "PEEL", 3, 0).text


# ── App Home: awaiting my review ─────────────────────────────────────────────────────────────────────────


def home_of(h: Harness, user: str) -> list[dict[str, Any]]:
    before = len(h.slack.of("views.publish"))
    h.sender.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"})
    h.slack.wait_for(lambda calls: sum(c.method == "views.publish" for c in calls) > before)
    published = [c for c in h.slack.of("views.publish") if c["user_id"] == user]
    return published[-1]["view"]["blocks"]


def awaiting_section(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The blocks from the "Awaiting my review" header up to the deadlines' header."""
    ids = [b.get("block_id") for b in blocks]
    return blocks[ids.index("home_awaiting") : ids.index(c.BLOCK_HOME_HEADER)]


def test_app_home_shows_a_reviewer_what_awaits_their_review_and_a_non_reviewer_nothing(h: Harness) -> None:
    event, _ = upload_report(h)
    findings = h.store.findings.in_thread(CHANNEL, event["ts"])

    section = awaiting_section(home_of(h, REVIEWER))
    shown = "\n".join(iter_texts(section))
    assert "Awaiting my review" in shown
    assert [label for label in LABELS if f"*{label}* · v1" in shown] == LABELS
    assert f"{TITLE}" in shown and "0/3 approved" in shown and "next: " in shown
    buttons = [b["accessory"] for b in section if "accessory" in b]
    assert [b["url"] for b in buttons] == [
        f"https://pcc-office.slack.com/archives/{CHANNEL}/p{f.message_ts.replace('.', '')}"  # type: ignore[union-attr]
        f"?thread_ts={event['ts']}&cid={CHANNEL}"
        for f in findings
    ]

    member = "\n".join(iter_texts(awaiting_section(home_of(h, GROUP_MEMBER))))
    assert all(f"*{label}*" in member for label in LABELS)  # a member of a reviewer group may approve

    outsider = awaiting_section(home_of(h, OUTSIDER))
    assert "Nothing awaits your review." in "\n".join(iter_texts(outsider))
    assert not any(label in "\n".join(iter_texts(outsider)) for label in LABELS)
    assert not [b for b in outsider if "accessory" in b]


def test_app_home_leaves_out_ones_own_drafts_when_self_approval_is_off(tmp_path: Path) -> None:
    with running_bot(tmp_path, reviewers=[], drafter_may_approve=False) as h:
        upload_report(h)
        own = "\n".join(iter_texts(awaiting_section(home_of(h, ASKER))))
        assert "Nothing awaits your review." in own
        other = "\n".join(iter_texts(awaiting_section(home_of(h, OUTSIDER))))
        assert all(f"*{label}*" in other for label in LABELS)  # no reviewers configured: any member may approve


def test_a_draft_the_viewer_already_approved_is_not_listed_for_them() -> None:
    desk = SimpleNamespace(repo=SimpleNamespace(policy=ApprovalPolicy.of(["U1", "U2"], required_approvals=2)))
    home = HomeTab(desk, poster=None, links=None)  # type: ignore[arg-type]
    item = AwaitingDraft(finding_id=1, label="Recommendation 1", version=1)
    reviewable = [Reviewable(item, approvers=("U1",), drafter="U_ASKER")]
    assert home.awaiting("U1", reviewable) == []
    assert home.awaiting("U2", reviewable) == [item]
    assert home.awaiting("U_STRANGER", reviewable) == []


def test_with_a_sign_off_chain_a_draft_is_offered_only_to_whoever_signs_next() -> None:
    stages = (Stage("Policy lead", frozenset({"U_POLICY"})), Stage("PCC", frozenset({"U_PCC"})))
    policy = ApprovalPolicy.of(stages=stages)
    home = HomeTab(SimpleNamespace(repo=SimpleNamespace(policy=policy)), poster=None, links=None)  # type: ignore[arg-type]
    item = AwaitingDraft(finding_id=1, label="Recommendation 1", version=1)
    unsigned = [Reviewable(item, approvers=(), drafter="U_ASKER")]
    assert home.awaiting("U_POLICY", unsigned) == [item] and home.awaiting("U_PCC", unsigned) == []
    signed_once = [Reviewable(item, approvers=("U_POLICY",), drafter="U_ASKER")]
    assert home.awaiting("U_POLICY", signed_once) == [] and home.awaiting("U_PCC", signed_once) == [item]


def test_who_asked_for_a_finding_is_not_offered_it_after_someone_else_redrafts_it() -> None:
    policy = ApprovalPolicy.of(["U1", "U_ASKER"], drafter_may_approve=False)
    home = HomeTab(SimpleNamespace(repo=SimpleNamespace(policy=policy)), poster=None, links=None)  # type: ignore[arg-type]
    item = AwaitingDraft(finding_id=1, label="Recommendation 1", version=2)
    redrafted_by_u1 = [Reviewable(item, approvers=(), drafter="U1", requester="U_ASKER")]
    assert home.awaiting("U_ASKER", redrafted_by_u1) == []  # the approval would be refused: four eyes
    assert home.awaiting("U1", redrafted_by_u1) == []  # U1 is responsible for v2


def inspection_summary(today: date, **fields: Any) -> InspectionSummary:
    published = date(2025, 3, 4)
    values: dict[str, Any] = {
        "id": 1,
        "title": TITLE,
        "inspection_type": "PEEL",
        "force": "Northumbria",
        "published": published,
        "last_day": date(2025, 4, 28),
        "cc_comments_due": date(2025, 4, 1),
        "first_drafts_due": date(2025, 3, 25),
        "reviews_complete_due": date(2025, 4, 15),
        "reminder_days": (28, 14, 7, 3, 1, 0),
        "channel_id": CHANNEL,
        "thread_ts": "1.1",
        "status": "open",
        "published_at": None,
        "sent_hmicfrs_at": None,
        "sent_home_office_at": None,
        "created_by": ASKER,
        "created_at": datetime(2025, 3, 4, tzinfo=UTC),
        "findings_total": 3,
        "findings_approved": 1,
        **fields,
    }
    view = InspectionView.model_validate(values)
    return InspectionSummary(
        inspection=view,
        days_left=view.days_left(today),
        status=DeadlineStatus.ON_TRACK,
        deadline_line=view.deadline_line(today),
    )


def test_the_next_step_is_the_first_of_the_timetable_still_ahead() -> None:
    summary = inspection_summary(date(2025, 3, 20))
    step = next_step(summary, date(2025, 3, 20))
    assert step is not None and (step.what, step.due) == ("chief constable's comments due", date(2025, 4, 1))
    step = next_step(summary, date(2025, 4, 2))
    assert step is not None and (step.what, step.due) == ("every answer approved", date(2025, 4, 15))
    done = inspection_summary(date(2025, 4, 2), findings_approved=3)
    step = next_step(done, date(2025, 4, 2))
    assert step is not None and (step.what, step.due) == ("publish the response", date(2025, 4, 28))
    late = next_step(summary, date(2025, 5, 1))
    assert late is not None and late.overdue
    assert late.describe() == "publish the response (last day 28 Apr 2025, passed)"


def test_the_awaiting_list_is_capped_and_says_how_many_more() -> None:
    today = datetime(2025, 3, 20, 9, tzinfo=UTC)
    summary = inspection_summary(today.date())
    items = [
        AwaitingDraft(finding_id=n, label=f"Recommendation {n}", version=1, inspection_id=1, link=f"https://x/{n}")
        for n in range(1, MAX_AWAITING + 3)
    ]
    view = home_view([HomeRow(summary=summary)], today, items)
    shown = "\n".join(iter_texts(view["blocks"]))
    assert "*Recommendation 10* · v1" in shown and "Recommendation 11" not in shown
    assert "… and 2 more awaiting your review." in shown
    assert "1/3 approved · next: chief constable's comments due by 1 Apr 2025" in shown
    assert "Next: chief constable's comments due by 1 Apr 2025" in shown  # on the inspection's row too
    assert len(view["blocks"]) <= c.MAX_HOME_BLOCKS


# ── the report's progress has a measured estimate ────────────────────────────────────────────────────────


def test_the_estimate_is_the_mean_measured_time_per_draft_times_those_left() -> None:
    assert seconds_left((), 8) is None
    assert seconds_left((30.0, 90.0), 6) == 360.0
    assert seconds_left((30.0,), 0) is None
    assert describe_left(20) == "less than a minute left"
    assert describe_left(240) == "about 4 min left"
    assert describe_left(80 * 60) == "about 1 h 20 min left"
    assert describe_left(120 * 60) == "about 2 h left"


def test_the_progress_line_has_an_estimate_only_once_a_draft_was_measured() -> None:
    assert progress_line(Progress(done=0, total=8)) == ":hourglass_flowing_sand: Drafting 1 of 8…"
    line = progress_line(Progress(done=2, total=8, measured=(40.0, 40.0)))
    assert line == ":hourglass_flowing_sand: Drafting 3 of 8… about 4 min left"
    finding = Finding(kind=FindingKind.RECOMMENDATION, number="1", text="The force should act.")
    summary = ReportSummary(title="PEEL", findings=[finding])
    payload = report_summary(summary, Progress(done=1, total=3, measured=(120.0,)), today=date(2025, 1, 2))
    assert "Drafting 2 of 3… about 4 min left" in "\n".join(iter_texts(payload.blocks))
    before = report_summary(summary, Progress(done=0, total=3), today=date(2025, 1, 2))
    assert "left" not in "\n".join(iter_texts(before.blocks))


def test_a_report_s_progress_shows_an_estimate_after_the_first_draft_and_none_before(h: Harness) -> None:
    _event, summary_ts = upload_report(h)
    progress = [texts(c) for c in h.slack.of("chat.update") if c.ts == summary_ts]
    first = [p for p in progress if "Drafting 1 of 3" in p]
    later = [p for p in progress if "Drafting 2 of 3" in p or "Drafting 3 of 3" in p]
    assert first and later
    assert all(" left" not in p for p in first)
    assert all("less than a minute left" in p for p in later)  # the scripted model drafts in well under 45 s


# ── the reviewer sees the draft being written ────────────────────────────────────────────────────────────


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


class PiecesChatModel(RecordingChatModel):
    """Writes its answer in pieces (a word at a time, as the local model streams tokens), each taking 0.5 s."""

    clock: Any = None

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        result = super()._generate(messages, stop=stop, **kwargs)
        text = str(result.generations[0].message.content)
        for word in text.split(" "):
            self.clock.advance(0.5)
            if run_manager is not None:
                run_manager.on_llm_new_token(word + " ")
        return result


def test_a_draft_being_written_shows_its_words_so_far_throttled(tmp_path: Path) -> None:
    clock = FakeClock()
    with running_bot(tmp_path, model=PiecesChatModel(clock=clock)) as h:
        h.bot.deps.drafts.monotonic = clock
        event, _ = h.mention()
        ts = h.placeholder_for(event).ts
        final = h.wait_draft(ts, 1)
        h.wait_idle()
        updates = [c for c in h.slack.of("chat.update") if c.ts == ts]
        writing = [c for c in updates if "words so far" in texts(c)]
        assert writing, [texts(c) for c in updates]
        assert updates[-1] is final or texts(updates[-1]) == texts(final)  # the checked draft is shown last
        counts = [int(texts(c).split("Writing… (")[1].split(" word")[0]) for c in writing]
        # 0.5 s a word and at most one update every 2 s: at least 4 more words between two updates.
        assert all(b - a >= 4 for a, b in itertools.pairwise(counts)), counts
        words = len(str(h.store.drafts.latest(h.store.findings.by_message(CHANNEL, ts).id).text).split())  # type: ignore[union-attr]
        assert len(writing) <= words * 0.5 / 2 + 1
        partial = next(b for b in writing[0]["blocks"] if b.get("block_id") == BLOCK_WRITING)["text"]["text"]
        assert (
            partial.split()[:3]
            == str(h.store.drafts.latest(h.store.findings.by_message(CHANNEL, ts).id).text).split()[:3]
        )  # type: ignore[union-attr]


class RecordingPoster:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.updates: list[tuple[float, MessagePayload]] = []

    def update(self, channel: str, ts: str, payload: MessagePayload) -> None:
        self.updates.append((self.clock(), payload))


def test_the_stream_updates_at_most_every_interval_and_never_after_closing() -> None:
    clock = FakeClock()
    poster = RecordingPoster(clock)
    finding = Finding(kind=FindingKind.RECOMMENDATION, number="1", text="The force should act.")
    stream = DraftStream(poster, CHANNEL, "1.2", finding, interval=2.0, monotonic=clock)  # type: ignore[arg-type]
    text = ""
    for n in range(20):  # a word every 0.5 s for 10 s
        clock.advance(0.5)
        text += f"word{n} "
        stream.push(text)
    times = [at for at, _ in poster.updates]
    assert times == [2.0, 4.0, 6.0, 8.0, 10.0]
    assert "Writing… (4 words so far)" in poster.updates[0][1].text
    stream.close()
    clock.advance(5)
    stream.push(text + "late")
    assert len(poster.updates) == 5


def test_the_words_so_far_are_escaped_and_fit_one_section() -> None:
    finding = Finding(kind=FindingKind.RECOMMENDATION, number="1", text="The force should act.")
    payload = writing_placeholder(finding, "The <b>force</b> & its partners " * 300)
    body = next(b for b in payload.blocks if b.get("block_id") == BLOCK_WRITING)["text"]["text"]
    assert len(body) <= c.MAX_SECTION_TEXT and body.startswith("…")
    assert "<b>" not in body and "&lt;b&gt;" in body
    assert "Writing… (1500 words so far)" in payload.text


def test_after_publication_the_next_step_is_what_is_still_to_send() -> None:
    published = inspection_summary(
        date(2025, 4, 20), published_at=datetime(2025, 4, 18, tzinfo=UTC), status="published"
    )
    step = next_step(published, date(2025, 4, 20))
    # The tracker's InspectionView.next_step names what is outstanding; its date is the same statutory last day.
    assert step is not None and step.what == "send to HMICFRS" and step.due == date(2025, 4, 28)
    sent = inspection_summary(
        date(2025, 4, 20),
        published_at=datetime(2025, 4, 18, tzinfo=UTC),
        sent_hmicfrs_at=datetime(2025, 4, 18, tzinfo=UTC),
        sent_home_office_at=datetime(2025, 4, 18, tzinfo=UTC),
        status="published",
    )
    assert next_step(sent, date(2025, 4, 20)) is None

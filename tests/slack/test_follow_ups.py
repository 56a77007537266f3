"""Follow-ups in a thread that mean what they say: "Recommendation 3: …", "R3 …", "the second one: …".

The parser (`pick_follow_up`) is pure and property-tested; `Conversations.handle` is checked to never turn a
labelled follow-up into a new finding; and the signed-request harness runs the whole path for a report thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.services.conversations import Conversations
from bot.slack.inbound import Inbound, Surface, pick_follow_up
from retrieval.models import FindingKind
from tests.support.slack_harness import CHANNEL, RECOMMENDATION, REPORT_TEXT, Harness, texts
from tests.support.views import finding_view as finding
from tracker import schema
from tracker.views import FindingView

REC, AFI, COC = FindingKind.RECOMMENDATION, FindingKind.AREA_FOR_IMPROVEMENT, FindingKind.CAUSE_OF_CONCERN
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]
# Hypothesis runs are bounded so the fast suite stays fast; no deadline, as CI machines vary.
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def report(*labels: tuple[FindingKind, str | None]) -> list[FindingView]:
    return [finding(i, number, kind) for i, (kind, number) in enumerate(labels, start=1)]


FIVE_AND_AN_AFI = report(*((REC, str(n)) for n in range(1, 6)), (AFI, "1"))


def routed(findings: list[FindingView], text: str) -> FindingView:
    pick = pick_follow_up(findings, text)
    assert pick.finding is not None, f"{text!r}: {pick.problem}"
    return pick.finding


# ── the forms the brief lists, by example ────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "finding_id", "instruction"),
    [
        ("Recommendation 3: make it shorter and say the custody lead should be named", 3,
         "make it shorter and say the custody lead should be named"),
        ("Rec 3 make it shorter", 3, "make it shorter"),
        ("Rec. 3 - make it shorter", 3, "make it shorter"),
        ("R3 make it shorter", 3, "make it shorter"),
        ("AFI 1 name the owner", 6, "name the owner"),
        ("Area for improvement 1: name the owner", 6, "name the owner"),
        ("the third one make it shorter", 3, "make it shorter"),
        ("the 2nd recommendation: make it shorter", 2, "make it shorter"),
        ("#3 make it shorter", 3, "make it shorter"),
        ("the last one: name the owner", 6, "name the owner"),
        ("the last recommendation - shorter", 5, "shorter"),
        ("the sixth one: name the owner", 6, "name the owner"),
        ("*Rec 2*: bold, as Slack sends it", 2, "bold, as Slack sends it"),
        ("For rec 4, mention the audit", 4, "mention the audit"),
        ("Recommendation #4 — mention the audit", 4, "mention the audit"),
    ],
)  # fmt: skip
def test_each_label_form_names_its_finding(text: str, finding_id: int, instruction: str) -> None:
    pick = pick_follow_up(FIVE_AND_AN_AFI, text)
    assert pick.finding is not None and pick.finding.id == finding_id, pick.problem
    assert pick.instruction == instruction and pick.labelled


def test_cause_of_concern_labels_name_it() -> None:
    findings = report((COC, "1"), (REC, None), (REC, "1"))
    assert routed(findings, "Cause of concern 1 say who leads").id == 1
    assert routed(findings, "CoC 1: say who leads").id == 1
    assert routed(findings, "Rec 1: say who leads").id == 3


def test_a_label_for_a_finding_not_in_the_thread_says_which_ones_exist() -> None:
    pick = pick_follow_up(FIVE_AND_AN_AFI, "Recommendation 7: make it shorter")
    assert pick.finding is None and pick.labelled
    assert pick.problem == (
        "There is no recommendation 7 in this thread; it has Recommendation 1–5 and Area for improvement 1."
    )
    nth = pick_follow_up(FIVE_AND_AN_AFI, "the sixth recommendation: shorter")
    assert nth.finding is None and nth.problem.startswith("There is no sixth recommendation in this thread")


def test_no_label_in_a_multi_finding_thread_asks_which_one_listing_the_labels() -> None:
    findings = report((REC, "1"), (REC, "2"), (AFI, None))
    pick = pick_follow_up(findings, "make it shorter")
    assert pick.finding is None and not pick.labelled
    assert "This thread has 3 answers (Recommendation 1–2 and an area for improvement)" in pick.problem
    assert "'Recommendation 2: make it shorter'" in pick.problem and "'the second one: make it shorter'" in pick.problem


def test_words_that_only_look_like_labels_are_not_labels() -> None:
    for text in (
        "first, make it shorter",
        "the first paragraph should go",
        "recommendations are fine",
        "Recommendations 2 and 3 overlap",
    ):
        assert not pick_follow_up(FIVE_AND_AN_AFI, text).labelled, text


# ── a single answer in the thread, and the numbers a paste or a report leaves out ─────────────────────────────


def test_an_unnumbered_pasted_recommendation_is_rec_1_or_any_number() -> None:
    """The bug seen: 'Rec 1: add the owner' under a pasted recommendation said there was no recommendation 1."""
    only = [finding(1, None)]
    assert routed(only, "Rec 1: add the owner").id == 1
    assert routed(only, "Recommendation 3: add the owner").id == 1  # a paste has no number to contradict
    assert routed(only, "AFI 1: add the owner").id == 1  # nor a kind people are careful about


def test_a_single_numbered_finding_is_not_named_by_another_number() -> None:
    pick = pick_follow_up([finding(1, "3")], "Rec 1: add the owner")
    assert pick.finding is None
    assert pick.problem == "There is no recommendation 1 in this thread; it has Recommendation 3."
    assert routed([finding(1, "3")], "AFI 3: add the owner").id == 1  # the number agrees; the kind is loose


def test_a_pasted_label_is_the_findings_number() -> None:
    pasted = finding(9, None, position=0, text="Recommendation 4: By 2026 the force should publish its plan.")
    findings = [*report((REC, "1"), (REC, "2")), pasted]
    assert routed(findings, "Rec 4: add the owner").id == 9


def test_unnumbered_areas_for_improvement_are_counted() -> None:
    findings = report((REC, "1"), (AFI, None), (AFI, None), (AFI, None))
    assert routed(findings, "AFI 2: add the owner").id == 3
    assert routed(findings, "the third area for improvement: add the owner").id == 4
    assert routed(findings, "the second one: add the owner").id == 2
    missing = pick_follow_up(findings, "AFI 4: add the owner")
    assert missing.problem.endswith("it has Recommendation 1 and 3 areas for improvement.")


def test_a_thread_of_areas_for_improvement_answers_to_rec_n() -> None:
    findings = report((AFI, "1"), (AFI, "2"))
    assert routed(findings, "Rec 2: add the owner").id == 2


def test_two_answers_with_one_label_are_not_guessed_between() -> None:
    pick = pick_follow_up([*report((REC, "1")), finding(7, "1", position=5)], "Rec 1: shorter")
    assert pick.finding is None and "2 answers labelled Recommendation 1" in pick.problem


def test_ordinals_follow_the_threads_order_not_the_lists() -> None:
    findings = [finding(1, "1", position=2), finding(2, "2", position=0), finding(3, None, AFI, position=1)]
    assert routed(findings, "the first one: x").id == 2
    assert routed(findings, "the second recommendation: x").id == 1
    assert routed(findings, "the 2nd one: x").id == 3


# ── properties ──────────────────────────────────────────────────────────────────────────────────────────────

KINDS = st.sampled_from(list(FindingKind))
NUMBERS = st.one_of(
    st.integers(1, 40).map(str), st.tuples(st.integers(1, 9), st.integers(1, 9)).map(lambda t: f"{t[0]}.{t[1]}")
)


@st.composite
def threads(draw: st.DrawFn, min_size: int = 1) -> list[FindingView]:
    """A thread's findings: numbered ones unique by label, unnumbered ones of any kind, in a shuffled list."""
    numbered = draw(st.lists(st.tuples(KINDS, NUMBERS), max_size=10, unique=True))
    unnumbered = draw(st.lists(KINDS, max_size=4))
    labels: list[tuple[FindingKind, str | None]] = [*numbered, *((kind, None) for kind in unnumbered)]
    labels = draw(st.permutations(labels)) if labels else labels
    if len(labels) < min_size:
        labels.append((draw(KINDS), None))
    findings = [finding(i, number, kind, position=i) for i, (kind, number) in enumerate(labels, start=1)]
    return draw(st.permutations(findings))  # the parser must order them itself


def number_forms(kind: FindingKind, number: str) -> list[str]:
    if kind is REC:
        return [f"Recommendation {number}", f"Rec {number}", f"rec. {number}", f"R{number}", f"R {number}"]
    if kind is AFI:
        return [f"Area for improvement {number}", f"AFI {number}", f"afi{number}"]
    return [f"Cause of concern {number}", f"CoC {number}"]


KIND_WORDS = {REC: "recommendation", AFI: "area for improvement", COC: "cause of concern"}


def ordinal(n: int) -> list[str]:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return [f"{n}{suffix}", *([ORDINALS[n - 1]] if n <= len(ORDINALS) else [])]


def label_forms(findings: list[FindingView], target: FindingView) -> list[str]:
    """Every way to name `target` in this thread: its number forms, its place overall and among its kind."""
    ordered = sorted(findings, key=lambda f: (f.position, f.id))
    of_kind = [f for f in ordered if f.kind is target.kind]
    forms = number_forms(target.kind, target.number) if target.number else []
    if all(f.number is None for f in of_kind):  # unnumbered of its kind: counted
        forms += number_forms(target.kind, str(of_kind.index(target) + 1))
    forms += [f"the {word} one" for word in ordinal(ordered.index(target) + 1)]
    forms += [f"the {word} {KIND_WORDS[target.kind]}" for word in ordinal(of_kind.index(target) + 1)]
    forms += ["the last one"] * (target == ordered[-1]) + [f"the last {KIND_WORDS[target.kind]}"] * (
        target == of_kind[-1]
    )
    return forms


SEPARATORS = st.sampled_from([": ", " - ", " – ", " — ", ", ", " ", ". ", ":", "-", " :  "])
# An instruction starts where the separator and Slack's closing markup end, so it cannot start with either.
NOT_A_START = set("*_~`:;,.)]-–—")
INSTRUCTIONS = (
    st.text(st.characters(exclude_categories=("Cs",)), max_size=160)
    .map(str.strip)
    .filter(lambda s: not s or s[0] not in NOT_A_START)
)


@PROPERTY
@given(findings=threads(min_size=0), text=st.text(max_size=200))
def test_any_text_gives_a_finding_of_the_thread_or_a_problem(findings: list[FindingView], text: str) -> None:
    pick = pick_follow_up(findings, text)
    if pick.finding is None:
        assert pick.problem
    else:
        assert pick.finding in findings and not pick.problem


@PROPERTY
@given(findings=threads(), data=st.data())
def test_every_label_form_routes_to_its_finding(findings: list[FindingView], data: st.DataObject) -> None:
    target = data.draw(st.sampled_from(findings))
    for form in label_forms(findings, target):
        pick = pick_follow_up(findings, f"{form}: shorter")
        assert pick.finding == target, f"{form!r} → {pick.problem or pick.finding}"


@PROPERTY
@given(findings=threads(), data=st.data(), separator=SEPARATORS, instruction=INSTRUCTIONS)
def test_the_instruction_is_the_text_after_the_label(
    findings: list[FindingView], data: st.DataObject, separator: str, instruction: str
) -> None:
    target = data.draw(st.sampled_from(findings))
    form = data.draw(st.sampled_from(label_forms(findings, target)))
    pick = pick_follow_up(findings, f"{form}{separator}{instruction}")
    assert pick.finding == target and pick.labelled
    assert pick.instruction == instruction


# ── through Conversations.handle ──────────────────────────────────────────────────────────────────────────────


@dataclass
class Recorder:
    """Stands in for the store, the poster, the queue and the report intake: records what it was asked."""

    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    @property
    def findings(self) -> Recorder:
        return self

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any, **_kwargs: Any) -> Any:
            self.calls.append((name, args))
            return finding(99, None) if name == "add_request" else "9.9"  # a new finding; else a message ts

        return record

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [args for called, args in self.calls if called == name]


def handled(findings: list[FindingView], text: str) -> Recorder:
    fake = Recorder()
    conversations = Conversations(cast(Any, fake), cast(Any, fake), cast(Any, fake), cast(Any, fake))
    msg = Inbound("C1", "1.1", "3.3", "U1", text, Surface.THREAD, in_thread=True)
    conversations.handle(msg, findings)
    return fake


RECOMMENDATION_LIKE = st.sampled_from(
    [
        "make it shorter",
        "say the custody lead should be named and the force must report quarterly",
        "mention our stalking clinic",
        RECOMMENDATION,
    ]
)


@PROPERTY
@given(findings=threads(), data=st.data(), separator=SEPARATORS, instruction=RECOMMENDATION_LIKE)
def test_a_labelled_follow_up_is_never_a_new_finding(
    findings: list[FindingView], data: st.DataObject, separator: str, instruction: str
) -> None:
    target = data.draw(st.sampled_from(findings))
    form = data.draw(st.sampled_from(label_forms(findings, target)))
    fake = handled(findings, f"{form}{separator}{instruction}")
    assert fake.named("add_request") == []
    assert [args[0] for args in fake.named("redraft")] == [target]
    assert fake.named("redraft")[0][2] == instruction


def test_recommendation_1_mention_our_stalking_clinic_is_a_follow_up() -> None:
    """Seen: it looks like a recommendation (it says 'Recommendation'), so it became a new finding."""
    fake = handled([finding(1, None)], "Recommendation 1: mention our stalking clinic")
    assert fake.named("add_request") == []
    assert fake.named("redraft")[0][:3] == (finding(1, None), "U1", "mention our stalking clinic")


def test_an_unlabelled_paste_in_a_thread_is_still_a_new_finding() -> None:
    fake = handled(FIVE_AND_AN_AFI, RECOMMENDATION)
    assert len(fake.named("add_request")) == 1 and fake.named("redraft") == []


def test_a_label_for_no_finding_is_told_not_drafted() -> None:
    fake = handled(FIVE_AND_AN_AFI, f"Recommendation 9: {RECOMMENDATION}")
    assert fake.named("add_request") == [] and fake.named("redraft") == []
    (reply,) = fake.named("reply")
    assert "There is no recommendation 9 in this thread" in reply[2].text


# ── end to end: a report thread, through signed requests ─────────────────────────────────────────────────────


def finding_count(h: Harness) -> int:
    with h.store.sessions() as session:
        return session.query(schema.Finding).count()


def uploaded_report(h: Harness) -> tuple[str, dict[str, str]]:
    """Upload the report in a thread and wait for every v1: (thread ts, label → draft message ts)."""
    stored = h.slack.add_file("missing-children.txt", REPORT_TEXT.encode())
    event = h.sender.mention("please draft the response", files=[{"id": stored.id, "name": stored.name}])
    assert h.sender.event(event).status == 200
    h.slack.wait_for(lambda calls: any(c.method == "chat.update" and "3 of 3 drafts posted" in texts(c) for c in calls))
    findings = h.store.findings.in_thread(CHANNEL, event["ts"])
    for f in findings:
        h.wait_draft(str(f.message_ts), 1)
    h.wait_idle()  # every v1 job has released its answer, so a follow-up is not refused as busy
    return event["ts"], {f.label: str(f.message_ts) for f in findings}


def reply(h: Harness, thread_ts: str, text: str) -> None:
    assert h.sender.event(h.sender.message(text, thread_ts=thread_ts)).status == 200


def redrafted(h: Harness, ts: str, version: int, instruction: str) -> None:
    h.wait_draft(ts, version)  # the answer's own message shows the new version
    h.wait_idle()
    finding = h.store.findings.by_message(CHANNEL, ts)
    draft = h.store.drafts.latest(finding.id)  # type: ignore[union-attr]
    assert draft is not None and (draft.version, draft.instruction) == (version, instruction)


def test_a_long_labelled_follow_up_with_should_redrafts_that_finding(h: Harness) -> None:
    thread_ts, messages = uploaded_report(h)
    before = finding_count(h)
    reply(h, thread_ts, "Recommendation 2: make it shorter and say the custody lead should be named")
    redrafted(h, messages["Recommendation 2"], 2, "make it shorter and say the custody lead should be named")
    assert finding_count(h) == before  # a change to answer 2, not a new finding
    assert h.store.drafts.latest(h.store.findings.by_message(CHANNEL, messages["Recommendation 1"]).id).version == 1  # type: ignore[union-attr]


def test_rec_n_rn_and_ordinals_route_in_a_report_thread(h: Harness) -> None:
    thread_ts, messages = uploaded_report(h)
    before = finding_count(h)
    reply(h, thread_ts, "Rec 1 add the owner")
    redrafted(h, messages["Recommendation 1"], 2, "add the owner")
    reply(h, thread_ts, "R1 mention the stalking clinic")
    redrafted(h, messages["Recommendation 1"], 3, "mention the stalking clinic")
    reply(h, thread_ts, "the second one: name the custody lead")
    redrafted(h, messages["Recommendation 2"], 2, "name the custody lead")
    reply(h, thread_ts, "AFI 1 - say who supervises")
    redrafted(h, messages["Area for improvement"], 2, "say who supervises")
    reply(h, thread_ts, "the third one: say who supervises and how often")
    redrafted(h, messages["Area for improvement"], 3, "say who supervises and how often")
    assert finding_count(h) == before


def test_an_unlabelled_or_unknown_follow_up_in_a_report_thread_is_told_which_exist(h: Harness) -> None:
    thread_ts, _messages = uploaded_report(h)
    before = finding_count(h)
    reply(h, thread_ts, "make it shorter")
    which = h.slack.wait_for(
        lambda calls: next((c for c in calls if "This thread has 3 answers" in texts(c)), None), what="which one"
    )
    assert which["thread_ts"] == thread_ts
    assert "Recommendation 1–2 and an area for improvement" in texts(which)
    reply(h, thread_ts, "Recommendation 7: make it shorter")
    h.slack.wait_for(
        lambda calls: any("There is no recommendation 7 in this thread; it has Recommendation 1–2" in texts(c)
                          for c in calls)
    )  # fmt: skip
    h.wait_idle()
    assert finding_count(h) == before
    assert not [c for c in h.slack.of("chat.update") if "Draft v2 " in texts(c)]


def test_rec_1_under_a_pasted_recommendation_redrafts_it(h: Harness) -> None:
    event, response = h.mention(RECOMMENDATION)
    assert response.status == 200
    ts = h.placeholder_for(event).ts
    h.wait_draft(ts, 1)
    h.wait_idle()
    reply(h, event["ts"], "Rec 1: add the owner")
    redrafted(h, ts, 2, "add the owner")
    assert finding_count(h) == 1

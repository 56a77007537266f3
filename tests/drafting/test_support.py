"""Sentence by sentence support, the voice check and the checks on a model's rewrite."""

from __future__ import annotations

from drafting.models import GuardKind
from drafting.reply_check import repeats, reply_problems
from drafting.support import Passage, sentences, support
from drafting.voice import in_force_voice, other_voices
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.models import DocumentKind

FINDING = "Chief constables should make sure that officers apply for stalking protection orders."
EVIDENCE = [
    Passage("E1", "Between April 2024 and August 2025 the force applied for 23 Stalking Protection Orders."),
    Passage("E2", "Each order now has a named Order Compliance Officer who checks that its conditions are kept."),
]


def test_each_sentence_is_tied_to_the_passage_that_supports_it() -> None:
    text = (
        "Between April 2024 and August 2025 the force applied for 23 Stalking Protection Orders. "
        "A named Order Compliance Officer checks that the conditions of each order are kept."
    )
    assert [s.by for s in support(text, EVIDENCE, FINDING)] == ["E1", "E2"]


def test_a_sentence_taken_whole_from_a_passage_is_credited_to_it_not_to_a_longer_one_with_the_same_words() -> None:
    longer = Passage(
        "E1",
        "The force has trained 180 officers to record the child's views in every return home interview, and "
        "supervisors audit a sample each month.",
    )
    whole = Passage("E2", "The force will record the child's views in return home interviews.")
    text = "The force will record the child's views in return home interviews."
    assert [s.by for s in support(text, [longer, whole], FINDING)] == ["E2"]
    assert [s.by for s in support(text, [whole, longer], FINDING)] == ["E2"]


def test_a_planted_off_topic_own_force_sentence_is_caught(model: MiniLMEmbeddings) -> None:
    planted = "The Domestic Abuse Triage Desk reviews every high-risk assessment within 24 hours."
    text = f"Each order now has a named Order Compliance Officer. {planted}"
    checked = support(text, EVIDENCE, FINDING, model.embed_documents)
    assert [(s.sentence, s.by) for s in checked if s.by is None] == [(planted, None)]


def test_restating_the_recommendation_as_the_forces_commitment_is_not_support() -> None:
    (item,) = support("The force will make sure that officers apply for stalking protection orders.", [], FINDING)
    assert item.by == "finding" and item.restates


def test_placeholders_and_the_offices_frame_need_no_support() -> None:
    text = "[CONFIRM: how the force monitors compliance] I will monitor progress through my scrutiny process."
    assert {s.by for s in support(text, [], FINDING)} == {"frame"}
    assert sentences("A “quote.” [CONFIRM: x] As published in May 2020: b.") == [
        "A “quote.”",
        "[CONFIRM: x]",
        "As published in May 2020: b.",
    ]


def test_the_forces_own_we_becomes_the_third_person_and_another_bodys_voice_is_flagged() -> None:
    voiced = in_force_voice("We now route every referral through our hub.", DocumentKind.BOARD_PAPER, "Aldermoor")
    assert voiced == "The force now route every referral through the force's hub."
    assert in_force_voice("We welcome it.", DocumentKind.PCC_RESPONSE, "Aldermoor Police") == "We welcome it."
    found = other_voices("The Constabulary has a panel.", "Aldermoor Police", ["We review cases."])
    assert [g.kind for g in found] == [GuardKind.OTHER_VOICE, GuardKind.OTHER_VOICE]
    assert other_voices("The Constabulary has a panel.", "Cambridgeshire Constabulary", []) == []


def test_a_rewrite_is_refused_for_each_way_it_can_go_wrong() -> None:
    composed = "The force applied for 23 Stalking Protection Orders in 2024. [CONFIRM: how compliance is monitored]"
    good = "In 2024 the force applied for 23 Stalking Protection Orders. [CONFIRM: how compliance is monitored]"
    assert reply_problems(good, composed, support(good, EVIDENCE, FINDING)) == []

    lost = "The force applied for Stalking Protection Orders in 2024, as it always has done. [CONFIRM: x]"
    assert any("dropped a fact" in p and "“23”" in p for p in reply_problems(lost, composed, []))
    decided = f"Aldermoor Police accepts this recommendation. {good}"
    assert any("decision" in p for p in reply_problems(decided, composed, []))
    looping = "The force applied for orders. " * 4
    assert any("repeats" in p for p in reply_problems(looping, composed, []))
    owner = "The force will apply for orders, led by the chief constable. [CONFIRM: x]"
    problems = reply_problems(owner, composed, support(owner, EVIDENCE, FINDING))
    assert any("restates the recommendation" in p or "owner" in p for p in problems)
    expanded = "The force applied for 23 Stalking Protection Orders (SPO) in 2024."
    assert any("abbreviation" in p and "SPO" in p for p in reply_problems(expanded, composed, []))


def test_repeats_sees_a_loop_but_not_prose() -> None:
    assert repeats("The hub meets daily. The hub meets daily.")
    assert not repeats("The hub meets daily. The panel meets weekly. The board meets monthly.")

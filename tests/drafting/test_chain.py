"""The drafting chain with a scripted chat model and canned hits: plan, composed text, the model's rewrite."""

from __future__ import annotations

import logging
import time
from datetime import date

import pytest
from langchain_core.messages import AIMessage

from drafting.chain import COMPOSER, Drafter, detached_dates, mask_fixed, unmask
from drafting.composer import STILL_CURRENT
from drafting.models import (
    COMPOSER_CANNOT_FOLLOW,
    SAME_TEXT,
    AnswerShape,
    DraftRequest,
    GuardKind,
    instruction_followed,
)
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.findings import make_finding
from retrieval.models import DocumentKind
from tests.support.fakes import FakeRetriever, ScriptedChatModel, make_hit

TODAY = date(2026, 12, 1)
FINDING = make_finding(
    "By 31 December 2026, all chief constables should make sure that their forces have problem profiles for child "
    "sexual exploitation, and that the profiles are updated at least annually."
)
INSPECTION = "An inspection of the response to group-based child sexual exploitation"
OWN = make_hit(
    "Northumbria",
    "A new problem profile for child sexual exploitation has been commissioned and chapter 1 has been completed.",
    recommendation="All chief constables should make sure that their forces have problem profiles for child sexual "
    "exploitation.",
    inspection=INSPECTION,
    published=date(2025, 6, 10),
)
OTHER = make_hit(
    "Cambridgeshire",
    "The Constabulary refreshed its child sexual exploitation problem profile through Operation Juniper in 2024.",
    recommendation="All chief constables should make sure that their forces have problem profiles for CSE.",
    inspection=INSPECTION,
)
EVIDENCE = OWN.chunk.response


@pytest.fixture
def retriever(model: MiniLMEmbeddings) -> FakeRetriever:
    return FakeRetriever([OWN, OTHER], embeddings=model)


def request(**kwargs: object) -> DraftRequest:
    return DraftRequest(finding=FINDING, inspection_title=INSPECTION, force="Northumbria", **kwargs)  # type: ignore[arg-type]


def drafter(retriever: FakeRetriever, model: ScriptedChatModel | None, **kwargs: object) -> Drafter:
    return Drafter(retriever, model, "scripted", today=lambda: TODAY, **kwargs)  # type: ignore[arg-type]


def test_the_composer_states_the_own_forces_evidence_and_names_what_is_left(retriever: FakeRetriever) -> None:
    draft = drafter(retriever, None).draft(request())
    assert draft.engine == COMPOSER and draft.shape is AnswerShape.FORCE_POSITION
    assert EVIDENCE in draft.text
    assert "Operation Juniper" not in draft.text and "Cambridgeshire" not in draft.text
    assert draft.placeholders and "updated at least annually" in draft.placeholders[0]
    assert draft.cited_ids == [OWN.chunk.id] and draft.grounded
    assert [(s.force, s.cited, s.excerpt) for s in draft.sources] == [("Northumbria", True, EVIDENCE)]
    assert draft.plan is not None and [len(a.evidence) > 0 for a in draft.plan.asks] == [True, False]
    assert "accepts this recommendation" not in draft.text


def test_a_faithful_rewrite_is_kept_and_the_model_saw_evidence_and_markers(retriever: FakeRetriever) -> None:
    rewrite = f"{EVIDENCE.replace('has been commissioned and', 'has been commissioned, and')} [P1]"
    model = ScriptedChatModel.with_replies(rewrite)
    draft = drafter(retriever, model).draft(request())
    assert draft.engine == "scripted"
    assert draft.text.startswith("A new problem profile") and draft.text.endswith("]")
    assert "[CONFIRM:" in draft.text and "[P1]" not in draft.text
    prompt = model.prompts[0][-1].content
    assert f"E1 [Northumbria, June 2025]: {EVIDENCE}" in prompt and "DRAFT:\n" in prompt and "[P1]" in prompt
    assert "Operation Juniper" not in prompt  # another force's text never reaches the model


def test_a_rewrite_that_adds_a_fact_is_refused_retried_and_else_the_composed_text_stands(
    retriever: FakeRetriever,
) -> None:
    invented = f"{EVIDENCE} The profile was signed off by the Harbourside Vulnerability Unit on 3 March 2026. [P1]"
    model = ScriptedChatModel.with_replies(invented, invented)
    draft = drafter(retriever, model).draft(request())
    assert len(model.prompts) == 2
    assert "cannot be used" in model.prompts[1][-1].content and "no source supports" in model.prompts[1][-1].content
    assert draft.engine == COMPOSER and "Harbourside" not in draft.text
    assert any("wording was not used" in note for note in draft.notes)
    assert not any("Harbourside" in note for note in draft.notes)  # the model's own words never reach reviewers


def test_a_second_try_that_keeps_to_the_sources_is_used(retriever: FakeRetriever) -> None:
    decided = f"Aldermoor accepts this recommendation. {EVIDENCE} [P1]"
    model = ScriptedChatModel.with_replies(decided, f"{EVIDENCE} [P1]")
    draft = drafter(retriever, model).draft(request())
    assert draft.engine == "scripted" and "accepts" not in draft.text
    assert "decision" in model.prompts[1][-1].content


def test_a_slow_model_is_cut_off_within_the_budget_and_the_composed_text_stands(retriever: FakeRetriever) -> None:
    model = ScriptedChatModel.with_replies(f"{EVIDENCE} [P1]", delay=3.0)
    started = time.perf_counter()
    draft = drafter(retriever, model, budget=0.6).draft(request())
    assert time.perf_counter() - started < 2.5
    assert draft.engine == COMPOSER and EVIDENCE in draft.text
    assert any("did not finish" in note for note in draft.notes)


def test_with_nothing_found_the_draft_is_a_skeleton_and_the_model_is_not_asked(model: MiniLMEmbeddings) -> None:
    chat = ScriptedChatModel.with_replies("should not be used")
    nothing = FakeRetriever([OTHER], embeddings=model)
    draft = drafter(nothing, chat).draft(request())
    assert chat.prompts == []
    assert draft.text.count("[CONFIRM:") == 2 and draft.cited_ids == [] and draft.grounded
    assert any("No earlier answer" in note for note in draft.notes)


def test_a_deferral_to_another_body_cites_nothing_and_needs_no_model(retriever: FakeRetriever) -> None:
    chat = ScriptedChatModel.with_replies("should not be used")
    home_office = make_finding("Within six months, the Home Office should update the guidance on police bail.")
    draft = drafter(retriever, chat).draft(DraftRequest(finding=home_office, force="Northumbria"))
    assert draft.shape is AnswerShape.OTHER_BODY and chat.prompts == [] and draft.cited_ids == []
    assert draft.text.startswith("This recommendation is addressed to the Home Office.")


def test_a_reviewers_instruction_reaches_the_prompt_and_the_composer_says_it_cannot_follow_one(
    retriever: FakeRetriever,
) -> None:
    chat = ScriptedChatModel.with_replies(f"{EVIDENCE} [P1] Mention the MASH audit.")
    draft = drafter(retriever, chat).draft(request(instruction="mention the MASH audit", previous_text="Old text."))
    prompt = chat.prompts[0][-1].content
    assert "Reviewer's instruction: mention the MASH audit" in prompt and "Old text." in prompt
    assert "[P1] Mention the MASH audit." not in draft.text and "Mention the MASH audit." in draft.text
    assert not [g for g in draft.guard if "MASH" in g.span]
    assert draft.instruction_followed is True and instruction_followed(draft.notes)
    composed = drafter(retriever, None).draft(request(instruction="make it shorter"))
    assert composed.instruction_followed is False and COMPOSER_CANNOT_FOLLOW in composed.notes


def test_a_composer_redraft_to_an_instruction_says_it_did_not_follow_it_and_that_the_text_is_the_same(
    retriever: FakeRetriever,
) -> None:
    first = drafter(retriever, None).draft(request())
    again = drafter(retriever, None).draft(request(instruction="Use our own evidence", previous_text=first.text))
    assert again.text == first.text
    assert again.instruction_followed is False and not instruction_followed(again.notes)
    assert COMPOSER_CANNOT_FOLLOW in again.notes and SAME_TEXT in again.notes
    assert drafter(retriever, None).draft(request()).instruction_followed is None  # no instruction, nothing to say


def test_a_malformed_reply_leaves_a_short_note_and_its_text_only_in_the_debug_log(
    retriever: FakeRetriever, caplog: pytest.LogCaptureFixture
) -> None:
    garbage = "\n".join(f'{{"text": "GARBLE{i} <|im_end|> cited_ids: [S{i}' for i in range(40))
    caplog.set_level(logging.DEBUG, logger="drafting.chain")
    draft = drafter(retriever, ScriptedChatModel.with_replies(garbage, garbage)).draft(request())
    assert draft.engine == COMPOSER and EVIDENCE in draft.text
    assert draft.notes == ["The model's reply was malformed; the composer's draft is shown."]
    assert "GARBLE" not in str(draft.model_dump())
    raw = [r for r in caplog.records if "GARBLE" in r.getMessage()]
    assert raw and {r.levelno for r in raw} == {logging.DEBUG}


def test_each_source_carries_the_passages_the_plan_took_with_their_ids_and_kind(retriever: FakeRetriever) -> None:
    draft = drafter(retriever, None).draft(request())
    (source,) = draft.sources
    assert draft.plan is not None
    assert source.passages == [e.text for e in draft.plan.evidence] == [EVIDENCE]
    assert source.evidence_ids == ["E1"] and source.kind is DocumentKind.PCC_RESPONSE
    assert source.is_evidence and not source.context_only


def test_stale_evidence_is_dated_in_the_text_and_the_question_follows_it(model: MiniLMEmbeddings) -> None:
    old = make_hit(
        "Northumbria",
        "A problem profile for child sexual exploitation was completed and is reviewed every year.",
        recommendation=OWN.chunk.recommendation,
        inspection=INSPECTION,
        published=date(2020, 2, 27),
    )
    draft = drafter(FakeRetriever([old], embeddings=model), None).draft(request())
    assert "As published in February 2020: “A problem profile" in draft.text and STILL_CURRENT in draft.text
    assert not [g for g in draft.guard if g.kind is GuardKind.UNSUPPORTED_FACT]  # its date comes from the document


def test_markers_stand_in_for_dates_and_placeholders_and_a_dropped_placeholder_is_put_back() -> None:
    composed = f"The hub meets daily. As published in May 2020: “It works.” {STILL_CURRENT} [CONFIRM: who owns it]"
    masked, markers = mask_fixed(composed)
    assert masked == "The hub meets daily. [D1] It works. [P1] [P2]"
    text, dropped = unmask("Every day the hub meets. [D1] it works well. [P1]", markers)
    assert (
        text
        == f"Every day the hub meets. As published in May 2020: it works well. {STILL_CURRENT} [CONFIRM: who owns it]"
    )
    assert dropped == []
    assert unmask("It works. [P1] [P2]", markers)[1] == ["[D1]"]  # an old statement without its date is refused


def test_two_old_statements_each_keep_their_own_question_through_the_markers() -> None:
    composed = (
        f"As published in May 2020: “It works.” {STILL_CURRENT} As published in June 2021: “It grew.” {STILL_CURRENT}"
    )
    masked, markers = mask_fixed(composed)
    assert masked == "[D1] It works. [P1] [D2] It grew. [P2]"
    text, dropped = unmask("[D1] it works well. [P1] [D2] it has grown. [P2]", markers)
    assert dropped == [] and text.count(STILL_CURRENT) == 2


def test_an_undated_old_statement_keeps_its_frame_behind_a_marker() -> None:
    masked, markers = mask_fixed(f"As published in an earlier response: “It works.” {STILL_CURRENT}")
    assert masked == "[D1] It works. [P1]" and markers["[D1]"] == "As published in an earlier response:"


class ShortReplyModel(ScriptedChatModel):
    max_tokens: int = 12  # eight words: less than the composed draft's


def test_a_draft_longer_than_the_model_can_reply_is_not_sent_to_it(retriever: FakeRetriever) -> None:
    model = ShortReplyModel.with_replies("never asked")
    draft = drafter(retriever, model).draft(request())
    assert model.prompts == [] and draft.engine == COMPOSER
    assert any("too long for the model to reword" in note for note in draft.notes)
    assert EVIDENCE in draft.text


def test_a_rewrite_that_moves_an_old_statements_date_away_from_it_is_refused(model: MiniLMEmbeddings) -> None:
    old = make_hit(
        "Northumbria",
        "A problem profile for child sexual exploitation was completed in 2019 and is reviewed every year.",
        recommendation=OWN.chunk.recommendation,
        inspection=INSPECTION,
        published=date(2020, 2, 27),
    )
    assert detached_dates("[D1] A problem profile was completed in 2019. [P1]") == []
    undated = (
        "A problem profile for child sexual exploitation was completed in 2019 and is reviewed every year. [D1] [P1]"
    )
    assert detached_dates(undated) == ["[D1]"]
    chat = ScriptedChatModel.with_replies(f"{undated} [P2]", f"{undated} [P2]")
    draft = drafter(FakeRetriever([old], embeddings=model), chat).draft(request())
    assert draft.engine == COMPOSER and len(chat.prompts) == 2
    assert any("moved the date of an old statement" in note for note in draft.notes)
    assert "As published in February 2020: “A problem profile" in draft.text


def test_a_reply_cut_off_at_max_tokens_is_refused_however_it_reads(retriever: FakeRetriever) -> None:
    cut = AIMessage(content=f"{EVIDENCE} [P1] [P2]", response_metadata={"finish_reason": "length"})
    chat = ScriptedChatModel(messages=iter([cut, cut]), prompts=[])
    draft = drafter(retriever, chat).draft(request())
    assert draft.engine == COMPOSER and len(chat.prompts) == 2
    assert any("cut off at the model's max_tokens" in note for note in draft.notes)

"""The drafting chain with a scripted chat model and a fake retriever: plumbing, retries, fallbacks."""

import json

import pytest

from drafting.chain import COMPOSER, Drafter, parse_answer
from drafting.llm import MalformedReply, ModelTimeoutError
from drafting.models import AnswerShape, DraftRequest, GuardKind
from retrieval.models import Addressee, Finding
from tests.support.fakes import FakeRetriever, ScriptedChatModel, make_hit

FINDING = Finding(
    number="2",
    text=(
        "By 31 December 2024, all chief constables should make sure that their forces have problem "
        "profiles for child sexual exploitation."
    ),
    due="By 31 December 2024",
    addressees=(Addressee.CHIEF_CONSTABLES,),
)
OWN = make_hit(
    "Northumbria",
    "A new problem profile has been commissioned and chapter 1 has been completed which details crime "
    "overview for CSE.",
    similarity=0.81,
)
OTHER = make_hit(
    "Cambridgeshire",
    "The Constabulary participates in regular multi-agency audits through the Missing From Home Scrutiny Group.",
    similarity=0.62,
    number="3.5",
)


def request(**kw) -> DraftRequest:
    return DraftRequest(finding=FINDING, inspection_title="Group-based CSE", force="Northumbria", **kw)


def reply(text: str, cited: list[str], **extra) -> str:
    return json.dumps({"text": text, "cited_ids": cited, "placeholders": [], "rationale": "r", **extra})


def service(model, hits=(OWN, OTHER), **kw) -> Drafter:
    return Drafter(FakeRetriever(list(hits)), model, "scripted", timeout=kw.pop("timeout", 5), **kw)


def test_valid_structured_reply_becomes_a_grounded_draft() -> None:
    model = ScriptedChatModel.with_replies(
        reply("Northumbria Police has commissioned a new problem profile; chapter 1 is complete.", ["S1"])
    )
    draft = service(model).draft(request())
    assert draft.engine == "scripted"
    assert draft.shape is AnswerShape.FORCE_POSITION
    assert draft.cited_ids == [OWN.chunk.id]
    assert draft.grounded
    assert [s.cited for s in draft.sources] == [True, False]
    assert draft.sources[0].own_force and not draft.sources[1].own_force


def test_prompt_marks_own_and_other_force_sources_and_carries_the_shape() -> None:
    model = ScriptedChatModel.with_replies(reply("Northumbria Police has commissioned a profile.", ["S1"]))
    service(model).draft(request())
    human = model.prompts[0][-1].content
    assert "S1 [OWN FORCE (Northumbria)" in human
    assert "S2 [OTHER FORCE (Cambridgeshire), wording only" in human
    assert "third person" in human
    assert "Northumbria" in model.prompts[0][0].content


def test_own_force_sources_come_first() -> None:
    retriever = FakeRetriever([OTHER, OWN])
    svc = Drafter(retriever, None, "composer")
    hits = svc.retrieve(request())
    assert [h.chunk.meta.force for h in hits] == ["Northumbria", "Cambridgeshire"]
    assert retriever.queries[0][1].force == "Northumbria"
    assert "Group-based CSE" in retriever.queries[0][0]


def test_malformed_reply_is_retried_once_with_the_error() -> None:
    model = ScriptedChatModel.with_replies(
        "Sure! Here is the answer: Northumbria Police will act.",
        reply("Northumbria Police has commissioned a new problem profile.", ["S1"]),
    )
    draft = service(model).draft(request())
    assert draft.engine == "scripted"
    assert len(model.prompts) == 2
    assert "could not be used: no JSON object" in model.prompts[1][-1].content
    assert any("malformed" in n for n in draft.notes)


def test_twice_malformed_falls_back_to_the_composer_with_a_visible_note() -> None:
    model = ScriptedChatModel.with_replies("not json", '{"text": ""}')
    draft = service(model).draft(request())
    assert draft.engine == COMPOSER
    assert any("precedent composer instead" in n for n in draft.notes)
    assert "[CONFIRM:" in draft.text


def test_timeout_gives_a_clear_error_not_a_hang() -> None:
    model = ScriptedChatModel.with_replies(reply("x", ["S1"]), delay=2.0)
    with pytest.raises(ModelTimeoutError, match="did not answer"):
        service(model, timeout=0.2).draft(request())


def test_guard_runs_on_model_output_and_fabrications_become_placeholders() -> None:
    model = ScriptedChatModel.with_replies(
        reply(
            "The Harbourside Vulnerability Unit completed the profile on 3 March 2024 [S1]. The force "
            "participates in audits through the Missing From Home Scrutiny Group.",
            ["S1", "S9"],
        )
    )
    draft = service(model).draft(request())
    assert "[CONFIRM: Harbourside Vulnerability Unit]" in draft.text
    assert "[CONFIRM: 3 March 2024]" in draft.text
    assert "[S1]" not in draft.text
    kinds = {g.kind for g in draft.guard}
    assert {GuardKind.UNSUPPORTED_FACT, GuardKind.FOREIGN_FACT, GuardKind.INVALID_CITATION} <= kinds
    assert draft.cited_ids == [OWN.chunk.id]


def test_revision_instruction_reaches_the_prompt() -> None:
    model = ScriptedChatModel.with_replies(reply("Shorter answer about the MASH audit.", ["S1"]))
    draft = service(model).draft(request(instruction="mention the MASH audit", previous_text="Old text."))
    human = model.prompts[0][-1].content
    assert "Reviewer's instruction: mention the MASH audit" in human
    assert "Old text." in human
    assert not [g for g in draft.guard if "MASH" in g.span]


def test_composer_engine_needs_no_model() -> None:
    draft = service(None).draft(request())
    assert draft.engine == COMPOSER
    assert draft.cited_ids == [OWN.chunk.id]
    assert "Northumbria Police accepts this recommendation (By 31 December 2024)" in draft.text
    assert "A new problem profile has been commissioned" in draft.text
    assert draft.guard == [] or all(g.kind is not GuardKind.FOREIGN_FACT for g in draft.guard)


def test_composer_for_other_bodies_names_them() -> None:
    finding = Finding(number="3.2", text="We recommend that the Ministry of Justice …", addressees=(Addressee.MOJ,))
    draft = service(None).draft(DraftRequest(finding=finding, force="Northumbria"))
    assert draft.shape is AnswerShape.OTHER_BODY
    assert draft.text.startswith("This recommendation is addressed to the Ministry of Justice.")


def test_parse_answer_tolerates_code_fences() -> None:
    answer = parse_answer('```json\n{"text": "ok", "cited_ids": ["S1"]}\n```')
    assert answer.text == "ok" and answer.cited_ids == ["S1"]


def test_parse_answer_reports_wrong_fields() -> None:
    with pytest.raises(MalformedReply, match="text"):
        parse_answer('{"answer": "missing the text key"}')


def test_parse_answer_accepts_raw_newlines_inside_strings() -> None:
    assert parse_answer('{"text": "line one\nline two", "cited_ids": []}').text == "line one\nline two"


def test_a_reply_cut_off_at_max_tokens_is_retried() -> None:
    from langchain_core.messages import AIMessage

    class CutOff(ScriptedChatModel):
        def _generate(self, messages, *args, **kwargs):
            result = super()._generate(messages, *args, **kwargs)
            if len(self.prompts) == 1:
                result.generations[0].message = AIMessage(
                    content=result.generations[0].message.content, response_metadata={"finish_reason": "length"}
                )
            return result

    model = CutOff.with_replies(
        reply("Northumbria Police has commissioned a profile.", ["S1"]), reply("Short.", ["S1"])
    )
    draft = service(model).draft(request())
    assert draft.text == "Short."
    assert any("cut off" in n for n in draft.notes)


def test_another_forces_answer_of_a_different_shape_is_not_offered_as_a_model() -> None:
    other_body = make_hit(
        "Cambridgeshire",
        "This recommendation is addressed to the Home Office. The Constabulary will await further information.",
        recommendation="We recommend that the Home Office considers a new national early help strategy.",
        number="3.1",
    )
    svc = Drafter(FakeRetriever([OWN, other_body, OTHER]), None, "composer")
    hits = svc.retrieve(request())
    assert other_body not in hits and OTHER in hits


def test_a_reply_of_the_wrong_shape_is_retried_with_the_reason() -> None:
    model = ScriptedChatModel.with_replies(
        reply("This recommendation is addressed to the Home Office. The force will await further information.", []),
        reply("Northumbria Police has commissioned a new problem profile.", ["S1"]),
    )
    draft = service(model).draft(request())
    assert "wrong shape" in model.prompts[1][-1].content
    assert draft.text == "Northumbria Police has commissioned a new problem profile."

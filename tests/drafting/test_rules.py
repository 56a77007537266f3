from drafting.models import AnswerShape, Stance
from drafting.rules import decide_shape, join_names
from retrieval.models import Addressee, Finding


def finding(*addressees: Addressee, text: str = "We recommend that …") -> Finding:
    return Finding(number="1", text=text, addressees=addressees)


def test_chief_constables_get_a_force_position_statement() -> None:
    decision = decide_shape(finding(Addressee.CHIEF_CONSTABLES))
    assert decision.shape is AnswerShape.FORCE_POSITION
    assert "third person" in decision.instruction


def test_force_and_other_body_together_is_still_the_forces_to_answer() -> None:
    decision = decide_shape(finding(Addressee.CHIEF_CONSTABLES, Addressee.OTHER))
    assert decision.shape is AnswerShape.FORCE_POSITION


def test_pccs_are_answered_in_the_pccs_voice() -> None:
    assert decide_shape(finding(Addressee.PCCS)).shape is AnswerShape.PCC_VOICE


def test_other_bodies_only_names_them_and_awaits() -> None:
    decision = decide_shape(finding(Addressee.MOJ, Addressee.DFE))
    assert decision.shape is AnswerShape.OTHER_BODY
    assert decision.bodies == "the Ministry of Justice and the Department for Education"
    assert decision.stance is Stance.AWAIT
    assert "not to the force" in decision.instruction


def test_other_body_working_with_forces_means_contribute() -> None:
    text = "The College of Policing should, working with chief constables, develop training."
    decision = decide_shape(finding(Addressee.COLLEGE_OF_POLICING, text=text))
    assert decision.stance is Stance.CONTRIBUTE


def test_no_addressee_defaults_to_the_force() -> None:
    assert decide_shape(finding()).shape is AnswerShape.FORCE_POSITION


def test_join_names() -> None:
    assert join_names(["a"]) == "a"
    assert join_names(["a", "b", "c"]) == "a, b and c"


def test_shape_problem_catches_a_force_answer_that_defers_to_another_body() -> None:
    from drafting.rules import shape_problem

    force = decide_shape(finding(Addressee.CHIEF_CONSTABLES))
    assert shape_problem(force, "This recommendation is addressed to the Ministry of Justice.")
    assert shape_problem(force, "Northumbria Police has commissioned a problem profile.") is None


def test_shape_problem_needs_the_body_named_and_the_pccs_voice() -> None:
    from drafting.rules import shape_problem

    other = decide_shape(finding(Addressee.HOME_OFFICE))
    assert shape_problem(other, "The force will act on this.")
    assert shape_problem(other, "This recommendation is addressed to the Home Office.") is None
    pcc = decide_shape(finding(Addressee.PCCS))
    assert shape_problem(pcc, "The office will review commissioning.")
    assert shape_problem(pcc, "I will review how my office commissions this service.") is None


def test_addressee_rules_on_every_seed_recommendation() -> None:
    """Every precedent in the bundled corpus gets the shape a person gave it (bench/eval_set.json)."""
    import json
    from pathlib import Path

    from retrieval.corpus import bundled_documents
    from retrieval.documents import parse_document
    from retrieval.loaders import read_text

    gold = json.loads((Path(__file__).parents[2] / "bench" / "eval_set.json").read_text())["seed_shapes"]
    checked = 0
    for path, meta in bundled_documents():
        for precedent in parse_document(read_text(path), meta).precedents:
            expected = AnswerShape(gold[meta.doc_id][precedent.finding.number or ""])
            assert decide_shape(precedent.finding).shape is expected, (meta.doc_id, precedent.finding.number)
            checked += 1
    assert checked == 11

"""The composer writes the plan as it stands: evidence in the office's voice, old evidence dated, gaps named."""

from __future__ import annotations

from datetime import date

from drafting.asks import Ask
from drafting.composer import STILL_CURRENT, compose, placeholder_for
from drafting.decisions import Decision, with_decision
from drafting.evidence import Evidence
from drafting.models import AnswerShape, AskPlan, Plan
from drafting.rules import decide_shape
from retrieval.findings import make_finding
from retrieval.models import DocumentKind, FindingKind

FORCE_FINDING = make_finding("The force should make sure that it records the reason and shares information promptly.")


def evidence(text: str, *, stale: bool = False, kind: DocumentKind = DocumentKind.PCC_RESPONSE, doc: str = "d1"):
    dated = date(2020, 2, 27) if stale else date(2025, 6, 1)
    return Evidence(id="E1", ask_id="A1", text=text, chunk_id="c", doc_id=doc, kind=kind, dated=dated, stale=stale)


def plan_of(*ask_plans: AskPlan, shape: AnswerShape = AnswerShape.FORCE_POSITION) -> Plan:
    return Plan(shape=shape, asks=list(ask_plans))


def test_current_evidence_is_stated_and_a_gap_is_named_after_it() -> None:
    plan = plan_of(
        AskPlan(ask=Ask(id="A1", text="records the reason"), evidence=[evidence("The hub records every reason.")]),
        AskPlan(ask=Ask(id="A2", text="shares information promptly"), placeholder="how the force shares information"),
    )
    composed = compose(plan, decide_shape(FORCE_FINDING), "Aldermoor")
    assert composed.text == "The hub records every reason. [CONFIRM: how the force shares information]"
    assert "accepts" not in composed.text


def test_a_due_date_is_asked_about_when_evidence_could_read_as_done_but_not_in_a_skeleton() -> None:
    done = AskPlan(ask=Ask(id="A1", text="have problem profiles"), evidence=[evidence("The profile is written.")])
    gap = AskPlan(ask=Ask(id="A1", text="have problem profiles"), placeholder="how the force has problem profiles")
    shape = decide_shape(FORCE_FINDING)
    answered = compose(Plan(shape=AnswerShape.FORCE_POSITION, asks=[done], due="By 31 March 2027"), shape, "A").text
    assert answered == "The profile is written. [CONFIRM: progress against the timescale, by 31 March 2027]"
    skeleton = compose(Plan(shape=AnswerShape.FORCE_POSITION, asks=[gap], due="By 31 March 2027"), shape, "A").text
    assert skeleton == "[CONFIRM: how the force has problem profiles]"


def test_old_evidence_is_quoted_with_its_date_and_a_question_and_the_forces_we_becomes_the_force() -> None:
    old = evidence("We introduced the MSET process.", stale=True, kind=DocumentKind.BOARD_PAPER)
    plan = plan_of(AskPlan(ask=Ask(id="A1", text="x y"), evidence=[old]))
    text = compose(plan, decide_shape(FORCE_FINDING), "Aldermoor").text
    assert text == f"As published in February 2020: “The force introduced the MSET process.” {STILL_CURRENT}"


def test_the_pcc_answers_in_the_first_person_and_another_body_is_named_with_the_stance() -> None:
    pcc = make_finding("Police and crime commissioners should review the services they commission.")
    plan = plan_of(AskPlan(ask=Ask(id="A1", text="review the services"), placeholder="x"), shape=AnswerShape.PCC_VOICE)
    text = compose(plan, decide_shape(pcc), "Aldermoor").text
    assert text.startswith("This recommendation is addressed to police and crime commissioners.")
    assert text.endswith("I will monitor progress through my regular HMICFRS scrutiny process.")
    home_office = make_finding("The Home Office should publish guidance on police bail for children.")
    deferral = compose(Plan(shape=AnswerShape.OTHER_BODY), decide_shape(home_office), "Aldermoor").text
    assert deferral.startswith("This recommendation is addressed to the Home Office. Aldermoor Police will support")


def test_placeholders_name_the_ask_in_words_that_read() -> None:
    pcc = AnswerShape.PCC_VOICE
    assert placeholder_for(Ask(id="A2", text="publishes the results"), pcc) == (
        "how my office will see that the force publishes the results"
    )
    assert (
        placeholder_for(Ask(id="A1", text="review the services"), pcc)
        == "what my office will do to review the services"
    )
    assert placeholder_for(Ask(id="A1", text="assess the risks to each child"), AnswerShape.FORCE_POSITION) == (
        "what the force is doing to assess the risks to each child"  # "assess" ends in s but is not "assesses"
    )
    shape = AnswerShape.FORCE_POSITION
    assert placeholder_for(Ask(id="A1", text="share information with partners"), shape) == (
        "what the force is doing to share information with partners"
    )
    assert placeholder_for(Ask(id="A1", text="records the reason"), shape) == "how the force records the reason"
    assert placeholder_for(Ask(id="A1", text="call handlers use a risk assessment"), shape) == (
        "how the force makes sure that call handlers use a risk assessment"
    )
    assert placeholder_for(Ask(id="A1", text="doesn't always assess risk"), shape) == (
        "what the force is doing about the finding that it doesn't always assess risk"
    )
    assert placeholder_for(Ask(id="A1", text="aren't doing enough to identify officers"), shape) == (
        "what the force is doing about the finding that it isn't doing enough to identify officers"
    )  # "Forces aren't …" with its subject left in the finding: the verb agrees with "it"
    assert placeholder_for(Ask(id="A1", text="don't record the reason"), shape) == (
        "what the force is doing about the finding that it doesn't record the reason"
    )
    assert placeholder_for(Ask(id="A1", text="review the services"), AnswerShape.PCC_VOICE) == (
        "what my office will do to review the services"
    )


def test_the_reviewers_decision_opens_the_answer_and_choosing_again_replaces_it() -> None:
    shape = AnswerShape.FORCE_POSITION
    accepted = with_decision("The hub records every reason.", Decision.ACCEPT, shape, "Aldermoor")
    assert accepted == "Aldermoor Police accepts this recommendation. The hub records every reason."
    partly = with_decision(accepted, Decision.PARTLY, shape, "Aldermoor")
    assert partly.startswith("Aldermoor Police accepts this recommendation in part: [CONFIRM:")
    assert partly.count("accepts") == 1 and partly.endswith("The hub records every reason.")
    none = with_decision(partly, Decision.NO_ACTION, AnswerShape.PCC_VOICE, "Aldermoor")
    assert none.startswith("No action is proposed") and "accepts" not in none


def test_the_decision_names_the_finding_in_the_reports_own_terms() -> None:
    afi = FindingKind.AREA_FOR_IMPROVEMENT
    accepted = with_decision("Audits run monthly.", Decision.ACCEPT, AnswerShape.FORCE_POSITION, "Aldermoor", afi)
    assert accepted == "Aldermoor Police accepts this area for improvement. Audits run monthly."
    none = with_decision(accepted, Decision.NO_ACTION, AnswerShape.PCC_VOICE, "Aldermoor", afi)
    assert none.startswith("No action is proposed on this area for improvement, because [CONFIRM:")
    assert none.count("area for improvement") == 1  # the earlier decision was replaced, not kept

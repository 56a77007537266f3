from drafting.fact_check import ForeignSource, check_draft, placeholders_in
from drafting.models import GuardKind

REC = (
    "By 31 December 2024, all chief constables should make sure that their forces have problem profiles "
    "for child sexual exploitation."
)
OWN = (
    "A new problem profile has been commissioned and chapter 1 has been completed. Manual mitigation "
    "procedures report into the force Exploitation Threat Group. Hydrant delivered training in spring 2023."
)
CAMBS = (
    "The force also conducts regular internal audits through the Missing From Home and Domestic Abuse "
    "Scrutiny Groups, which include cases relating to child safeguarding, to identify good practice."
)


def run(text: str, cited: tuple[str, ...] = ("c1",)):
    return check_draft(
        text,
        cited_ids=cited,
        retrieved_ids=["c1", "c2"],
        evidence=[REC, OWN],
        foreign=[ForeignSource(force="Cambridgeshire", text=CAMBS)],
        own_force="Northumbria Police",
    )


def kinds(result) -> list[GuardKind]:
    return [f.kind for f in result.findings]


def test_grounded_facts_pass_untouched() -> None:
    text = (
        "Northumbria Police has commissioned a new problem profile and chapter 1 has been completed. "
        "Group-based cases are reported to the Exploitation Threat Group. Hydrant delivered training in "
        "spring 2023, ahead of the 31 December 2024 deadline."
    )
    result = run(text)
    assert result.findings == []
    assert result.text == text


def test_made_up_date_becomes_a_placeholder() -> None:
    result = run("The profile will be completed by 14 March 2025.")
    assert "[CONFIRM: 14 March 2025]" in result.text
    assert kinds(result) == [GuardKind.UNSUPPORTED_FACT]
    assert result.findings[0].replaced


def test_made_up_unit_name_becomes_a_placeholder() -> None:
    result = run("The Safeguarding Assurance Unit will review the problem profile.")
    assert "[CONFIRM: Safeguarding Assurance Unit]" in result.text
    assert GuardKind.UNSUPPORTED_FACT in kinds(result)


def test_made_up_number_becomes_a_placeholder() -> None:
    result = run("Training has reached 412 officers.")
    assert "[CONFIRM: 412]" in result.text


def test_another_forces_fact_is_caught_and_attributed() -> None:
    result = run(
        "The force also conducts regular internal audits through the Missing From Home and Domestic Abuse "
        "Scrutiny Groups, which include cases relating to child safeguarding."
    )
    foreign = [f for f in result.findings if f.kind is GuardKind.FOREIGN_FACT]
    assert foreign, result.findings
    assert "Cambridgeshire" in foreign[0].detail
    assert "[CONFIRM: Missing From Home and Domestic Abuse Scrutiny Groups]" in result.text


def test_lifted_passage_with_numbers_from_another_force_is_flagged() -> None:
    foreign = ForeignSource(
        force="Cambridgeshire",
        text="the constabulary trained 120 staff across the partnership in the year to march 2020",
    )
    result = check_draft(
        "Northumbria Police trained 120 staff across the partnership in the year to March 2020.",
        cited_ids=["c1"],
        retrieved_ids=["c1"],
        evidence=[REC],
        foreign=[foreign],
        own_force="Northumbria Police",
    )
    details = " ".join(f.detail for f in result.findings if f.kind is GuardKind.FOREIGN_FACT)
    assert "copied from Cambridgeshire" in details


def test_citations_not_retrieved_are_removed_and_flagged() -> None:
    result = run("Northumbria Police has commissioned a new problem profile.", cited=("c1", "made-up"))
    assert result.cited_ids == ["c1"]
    assert GuardKind.INVALID_CITATION in kinds(result)


def test_no_valid_citation_means_not_grounded() -> None:
    result = run("Northumbria Police has commissioned a new problem profile.", cited=("nope",))
    assert result.cited_ids == []
    assert GuardKind.NO_GROUNDING in kinds(result)


def test_existing_placeholders_are_left_alone_and_listed() -> None:
    result = run("Training will finish by [CONFIRM: date training ends], led by [CONFIRM: owner].")
    assert result.findings == []
    assert result.placeholders == ["date training ends", "owner"]


def test_placeholders_in_deduplicates_in_order() -> None:
    assert placeholders_in("[CONFIRM: a] x [CONFIRM: b] [CONFIRM: a]") == ["a", "b"]


def test_common_institutions_are_not_treated_as_local_facts() -> None:
    result = run(
        "The Chief Constable will work with the College of Policing and the Home Office. "
        "I will monitor progress through my HMICFRS scrutiny process."
    )
    assert result.findings == []

"""Who a finding is addressed to, and when it is due (retrieval.findings)."""

from __future__ import annotations

import pytest

from retrieval.findings import (
    detect_addressees,
    extract_due,
    make_finding,
    normalise_text,
    split_finding,
    subject_of,
)
from retrieval.models import Addressee, FindingKind, InspectionType

A = Addressee


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Seed 004's six recommendations (2019 national child protection thematic report).
        (
            "We recommend that the Home Office jointly with other government departments considers the "
            "development of a new national early help and prevention strategy.",
            (A.HOME_OFFICE,),
        ),
        (
            "We recommend that the Ministry of Justice and Department for Education "
            "undertake a review of the "
            "current provision of intermediaries.",
            (A.MOJ, A.DFE),
        ),
        (
            "We recommend that chief constables take steps to reduce the unnecessary criminalisation.",
            (A.CHIEF_CONSTABLES,),
        ),
        (
            "We recommend that the Home Office and Department for Education undertakes a review of the "
            "unnecessary detention of children.",
            (A.HOME_OFFICE, A.DFE),
        ),
        (
            "We recommend that chief constables should review performance management and quality assurance.",
            (A.CHIEF_CONSTABLES,),
        ),
        (
            "We recommend that chief constables of those forces not yet inspected by the "
            "NCPI or JTAI take steps "
            "to identify and implement good practice.",
            (A.CHIEF_CONSTABLES,),
        ),
        # Seed 003: a joint recommendation keeps its non-police co-addressee as OTHER.
        (
            "By 31 December 2024, all chief constables and the relevant business user groups "
            "for police record "
            "management systems should make sure there are sufficient measures in place.",
            (A.CHIEF_CONSTABLES, A.OTHER),
        ),
        # Bodies named after the verb are objects, not addressees.
        (
            "All chief constables should work with their statutory safeguarding partners. "
            "This should include "
            "consideration of the advice given in the Home Office disruption toolkit.",
            (A.CHIEF_CONSTABLES,),
        ),
        (
            "By 30 June 2024, all chief constables of forces that are yet to receive the Hydrant Programme's "
            "continuing professional development offer should arrange it.",
            (A.CHIEF_CONSTABLES,),
        ),
        # Partners introduced with "working with" are not addressees.
        (
            "The College of Policing, working with the NPCC, should publish guidance on interviewing children.",
            (A.COLLEGE_OF_POLICING,),
        ),
        (
            "By 31 March 2025, the National Police Chiefs' Council and the College of "
            "Policing should agree a "
            "definition.",
            (A.NPCC, A.COLLEGE_OF_POLICING),
        ),
        ("Police and crime commissioners should commission services for victims.", (A.PCCS,)),
        (
            "Chief constables and PCCs should make sure that their plans reflect this.",
            (A.CHIEF_CONSTABLES, A.PCCS),
        ),
        ("Local policing bodies should review their scrutiny arrangements.", (A.PCCS,)),
        ("The Crown Prosecution Service should review its charging guidance.", (A.CPS,)),
        ("The CPS and the National Crime Agency should agree a protocol.", (A.CPS, A.OTHER)),
        ("The force should improve how it records crime.", (A.FORCE,)),
        ("Northumbria Police should make sure it records the ethnicity of victims.", (A.FORCE,)),
        ("Within three months, the chief constable should review the force's call handling.", (A.FORCE,)),
        ("Forces should make sure that their officers understand the guidance.", (A.CHIEF_CONSTABLES,)),
        # "National Police" is not read as a force named "National".
        ("The National Police Chiefs' Council lead for child protection should consult forces.", (A.NPCC,)),
        (
            "Recommendation 3: By 31 December 2024, all chief constables should review their data.",
            (A.CHIEF_CONSTABLES,),
        ),
        # A lead-in before a due date, and "May" the month not read as the verb.
        ("We recommend that, by May 2025, police and crime commissioners should review this.", (A.PCCS,)),
    ],
)
def test_detect_addressees(text: str, expected: tuple[Addressee, ...]) -> None:
    assert detect_addressees(text) == expected


def test_no_subject_defaults_to_the_force_only_for_force_specific_reports() -> None:
    text = "Investigations need better supervision, so that victims are kept informed."
    assert detect_addressees(text) == ()
    assert detect_addressees(text, InspectionType.NATIONAL_THEMATIC) == ()
    assert detect_addressees(text, InspectionType.FORCE_SPECIFIC) == (A.FORCE,)
    assert detect_addressees(text, InspectionType.PEEL) == (A.FORCE,)


def test_a_named_subject_wins_over_the_force_specific_default() -> None:
    text = "The Home Office should review the funding formula."
    assert detect_addressees(text, InspectionType.FORCE_SPECIFIC) == (A.HOME_OFFICE,)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("By 31 December 2024, all chief constables should make sure …", "By 31 December 2024"),
        ("By 30 June 2024, all chief constables of forces …", "By 30 June 2024"),
        ("Within three months, the force should:", "Within three months"),
        ("Within 6 months the force should review its policy.", "Within 6 months"),
        ("With immediate effect, all chief constables should take effective steps.", "With immediate effect"),
        ("Immediately, the force should stop the practice.", "Immediately"),
        ("The force should immediately stop the practice.", "immediately"),
        ("By the end of March 2025, forces should publish their plans.", "By the end of March 2025"),
        ("By March 2025, forces should publish their plans.", "By March 2025"),
        (
            "Within six months of the publication of this report, the force should act.",
            "Within six months of the publication of this report",
        ),
        ("We recommend that, by 1st May 2025, the College of Policing should act.", "by 1st May 2025"),
        ("The force should improve how it records crime.", None),
        # A year alone, or "by" meaning "done by", is not a due date.
        ("Forces inspected by HMICFRS in 2024 should share their learning.", None),
    ],
)
def test_extract_due(text: str, expected: str | None) -> None:
    assert extract_due(text) == expected


def test_extract_due_squeezes_a_line_break_inside_the_phrase() -> None:
    assert extract_due("By 31\nDecember 2024, the force should act.") == "By 31 December 2024"


def test_split_finding_separates_a_leading_due_date() -> None:
    assert split_finding("By 30 June 2024, all chief constables should arrange it.") == (
        "By 30 June 2024",
        "all chief constables should arrange it.",
    )
    assert split_finding("Recommendation 9: With immediate effect, forces should act.") == (
        "With immediate effect",
        "forces should act.",
    )
    # A due date later in the text is reported, and the text is left whole.
    assert split_finding("The force should, within three months, review it.") == (
        "within three months",
        "The force should, within three months, review it.",
    )


def test_subject_of_stops_before_the_verb_and_partner_phrases() -> None:
    assert subject_of("We recommend that the Home Office jointly with other departments considers X.") == (
        "the Home Office"
    )
    assert subject_of("By 31 December 2024, all chief constables should act.") == "all chief constables"


def test_make_finding_reads_due_and_addressees_and_keeps_bullets() -> None:
    finding = make_finding(
        "Within three months, the force\nshould:\n• make sure it has enough\n  call handlers;\n• review risk.",
        number=None,
        kind=FindingKind.RECOMMENDATION,
    )
    assert finding.text == (
        "Within three months, the force should:\n• make sure it has enough call handlers;\n• review risk."
    )
    assert finding.due == "Within three months"
    assert finding.addressees == (A.FORCE,)


def test_normalise_text_rejoins_wrapped_lines() -> None:
    assert normalise_text("  All chief\n constables   should\nact.  ") == "All chief constables should act."

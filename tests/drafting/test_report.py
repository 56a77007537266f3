"""Parsing a whole inspection report into its findings (drafting.report), from text, PDF and DOCX."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from drafting.report import NoFindingsError, Report, parse_report
from retrieval.corpus import corpus_dir
from retrieval.loaders import read_text
from retrieval.models import Addressee, Finding, FindingKind, InspectionType
from tests.support.report_samples import NUMBERED, PEEL, THEMATIC, write_docx, write_pdf

A = Addressee
R, AFI, COC = FindingKind.RECOMMENDATION, FindingKind.AREA_FOR_IMPROVEMENT, FindingKind.CAUSE_OF_CONCERN

# (kind, number, due, addressees, start of text, end of text) for every finding, in order.
Expected = tuple[FindingKind, str | None, str | None, tuple[Addressee, ...], str, str]

THEMATIC_FINDINGS: list[Expected] = [
    (
        R,
        "1",
        "By 31 December 2024",
        (A.HOME_OFFICE,),  # "… should work with the National Police Chiefs' Council": a partner, not addressee
        "By 31 December 2024, the Home Office should work with",
        "national data on group-based child sexual exploitation is accurate.",
    ),
    (
        R,
        "2",
        "By 31 December 2024",
        (A.CHIEF_CONSTABLES,),
        "By 31 December 2024, all chief constables should make sure",
        "This should include relevant data from local partner agencies.",
    ),
    (
        R,
        "3",
        "By 30 June 2024",
        (A.COLLEGE_OF_POLICING, A.NPCC),
        "By 30 June 2024, the College of Policing and the National Police Chiefs' Council should publish",
        "victim-centred language in investigations.",
    ),
    (
        R,
        "4",
        "With immediate effect",
        (A.CHIEF_CONSTABLES,),
        "With immediate effect, all chief constables should take effective steps",
        "eradicate victim-blaming language in their forces.",
    ),
    (
        AFI,
        None,
        None,
        (A.CHIEF_CONSTABLES,),
        "All chief constables should work with their statutory safeguarding partners",
        "Operation Makesafe (a national police initiative to raise awareness of child sexual exploitation in "
        "the business community) type of approach.",
    ),
]

PEEL_FINDINGS: list[Expected] = [
    (
        COC,
        "1",
        None,
        (A.FORCE,),
        "The force isn't answering emergency and non-emergency calls",
        "doesn't always assess the risk to callers.",
    ),
    (
        R,
        None,
        "Within three months",
        (A.FORCE,),
        "Within three months, the force should:\n• make sure it has enough call handlers to answer calls promptly;",
        "\n• make sure it assesses risk consistently when calls are received.",
    ),
    (
        COC,
        "2",
        None,
        (A.FORCE,),
        "Northshire Police doesn't adequately safeguard vulnerable people",
        "who are reported missing.",
    ),
    (
        R,
        None,
        "By 30 September 2024",
        (A.FORCE,),
        "By 30 September 2024, the chief constable should make sure",
        "every missing person report is risk assessed and supervised.",
    ),
    (
        AFI,
        "1",
        None,
        (A.FORCE,),
        "The force should improve how it records crime,",
        "receive the service they are entitled to.",
    ),
    # No subject at all: a PEEL report is about one force, so the force is the addressee.
    (
        AFI,
        "2",
        None,
        (A.FORCE,),
        "Investigations need better supervision,",
        "so that victims are kept informed of progress.",
    ),
]

NUMBERED_FINDINGS: list[Expected] = [
    (
        R,
        "1",
        None,
        (A.HOME_OFFICE,),
        "We recommend that the Home Office jointly with other government departments",
        "new national early help and prevention strategy.",
    ),
    (
        R,
        "2",
        None,
        (A.MOJ, A.DFE),
        "We recommend that the Ministry of Justice and Department for Education",
        "current provision of intermediaries.",
    ),
    (
        R,
        "3",
        None,
        (A.CHIEF_CONSTABLES,),
        "We recommend that chief constables take steps",
        "unnecessary criminalisation of children.",
    ),
]

SAMPLES = {
    "thematic": (
        THEMATIC,
        THEMATIC_FINDINGS,
        "An inspection of the police response to group-based child sexual exploitation",
        InspectionType.NATIONAL_THEMATIC,
        date(2023, 12, 8),
    ),
    "peel": (
        PEEL,
        PEEL_FINDINGS,
        "PEEL 2023–25: An inspection of Northshire Police",
        InspectionType.PEEL,
        date(2024, 3, 12),
    ),
    "numbered": (
        NUMBERED,
        NUMBERED_FINDINGS,
        "National Child Protection Inspections: 2019 thematic report",
        InspectionType.NATIONAL_THEMATIC,
        None,
    ),
}


def _as_text(text: str, tmp_path: Path) -> str:
    path = tmp_path / "report.txt"
    path.write_text(text, encoding="utf-8")
    return read_text(path)


def _as_pdf(text: str, tmp_path: Path) -> str:
    return read_text(write_pdf(text, tmp_path / "report.pdf"))


def _as_docx(text: str, tmp_path: Path) -> str:
    return read_text(write_docx(text, tmp_path / "report.docx"))


FORMATS: dict[str, Callable[[str, Path], str]] = {"txt": _as_text, "pdf": _as_pdf, "docx": _as_docx}


def _assert_findings(findings: list[Finding], expected: list[Expected]) -> None:
    assert len(findings) == len(expected), [f.label for f in findings]
    for finding, (kind, number, due, addressees, start, end) in zip(findings, expected, strict=True):
        assert (finding.kind, finding.number, finding.due, finding.addressees) == (
            kind,
            number,
            due,
            addressees,
        )
        assert finding.text.startswith(start), finding.text
        assert finding.text.endswith(end), finding.text


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_every_finding_is_read_from_each_format(tmp_path: Path, sample: str, fmt: str) -> None:
    text, expected, title, inspection_type, published = SAMPLES[sample]
    report = parse_report(FORMATS[fmt](text, tmp_path), name=f"report.{fmt}")
    _assert_findings(report.findings, expected)
    assert report.title == title
    assert report.inspection_type is inspection_type
    assert report.published == published


def test_summary_repeats_are_kept_once_at_their_first_place() -> None:
    report = parse_report(THEMATIC)
    # The summary and the body both give recommendations 1 and 2.
    assert [f.label for f in report.findings] == [
        "Recommendation 1",
        "Recommendation 2",
        "Recommendation 3",
        "Recommendation 4",
        "Area for improvement",
    ]


def test_duplicate_without_number_takes_the_printed_number() -> None:
    text = (
        "Recommendations\n\n"
        "• By 31 March 2025, forces should review their use of bail.\n\n"
        "Our findings\n\nForces differed.\n\n"
        "Recommendation 7\n\nBy 31 March 2025, forces should review their use of bail.\n"
    )
    [finding] = parse_report(text).findings
    assert (finding.number, finding.due, finding.addressees) == (
        "7",
        "By 31 March 2025",
        (A.CHIEF_CONSTABLES,),
    )


def test_lists_under_section_headings() -> None:
    text = (
        "Report on Southshire Constabulary\n\n"
        "Areas for improvement\n"
        "• The force should improve the supervision of investigations.\n"
        "• The force should make sure that victims are updated regularly.\n\n"
        "Recommendations\n\n"
        "1. By 31 March 2025, chief constables should review their use of bail.\n"
        "2. Police and crime commissioners should commission services for victims.\n\n"
        "Recommendation 2 was accepted by the force in 2022, and we found good progress.\n\n"
        "Our findings\n\n"
        "The force should be proud of its work with partners.\n"
    )
    report = parse_report(text)
    assert [(f.kind, f.number, f.text) for f in report.findings] == [
        (AFI, None, "The force should improve the supervision of investigations."),
        (AFI, None, "The force should make sure that victims are updated regularly."),
        (R, "1", "By 31 March 2025, chief constables should review their use of bail."),
        (R, "2", "Police and crime commissioners should commission services for victims."),
    ]
    assert [f.addressees for f in report.findings] == [
        (A.FORCE,),
        (A.FORCE,),
        (A.CHIEF_CONSTABLES,),
        (A.PCCS,),
    ]


def test_no_findings_is_a_clear_error() -> None:
    with pytest.raises(NoFindingsError) as caught:
        parse_report("An introduction to policing.\n\nForces do many things well.", name="leaflet.pdf")
    assert str(caught.value) == (
        "No recommendations, areas for improvement or causes of concern were found in leaflet.pdf; "
        "paste the recommendation text instead"
    )


def test_report_model_round_trips() -> None:
    report = parse_report(NUMBERED)
    assert Report.model_validate_json(report.model_dump_json()) == report


# --- the seeds ---------------------------------------------------------------------------------------


def _seed(stem: str) -> str:
    return read_text(corpus_dir() / f"{stem}.txt")


def test_seed_cse_response_quotes_five_findings() -> None:
    report = parse_report(_seed("northumbria-group-based-cse-2023"))
    assert [(f.kind, f.number, f.due) for f in report.findings] == [
        (R, "2", "By 31 December 2024"),
        (R, "4", "By 31 December 2024"),
        (R, "8", "By 30 June 2024"),
        (R, "9", "With immediate effect"),
        (AFI, None, None),
    ]
    # Only the bracketed finding, never the answer or the stray heading after it.
    assert report.findings[2].text.endswith("continuing professional development offer should arrange it.")
    assert report.findings[4].text.endswith("in the business community) type of approach.")
    assert report.title.startswith("An inspection of the effectiveness of the police")
    assert (report.inspection_type, report.published) == (InspectionType.NATIONAL_THEMATIC, date(2023, 12, 8))


def test_seed_board_paper_quotes_six_recommendations() -> None:
    report = parse_report(_seed("cambridgeshire-child-protection-thematic-2019"))
    assert [f.number for f in report.findings] == ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6"]
    assert [f.addressees for f in report.findings] == [
        (A.HOME_OFFICE,),
        (A.MOJ, A.DFE),
        (A.CHIEF_CONSTABLES,),
        (A.HOME_OFFICE, A.DFE),
        (A.CHIEF_CONSTABLES,),
        (A.CHIEF_CONSTABLES,),
    ]
    assert not any("Force response" in f.text for f in report.findings)
    assert report.published == date(2020, 2, 27)


@pytest.mark.parametrize(
    "stem",
    [
        "northumbria-jtai-early-help-2023",
        "northumbria-child-protection-thematic-2019",
        "northumbria-news-child-protection-2018",
    ],
)
def test_seeds_without_quoted_findings_raise(stem: str) -> None:
    with pytest.raises(NoFindingsError, match=f"found in {stem}.txt;"):
        parse_report(_seed(stem), name=f"{stem}.txt")


def test_older_peel_layout_pairs_each_cause_of_concern_with_its_recommendation() -> None:
    text = (
        "PEEL: Police effectiveness 2017 – Westshire Police\n\n"
        "Cause of concern\n\n"
        "Westshire Police's approach to protecting vulnerable people is inadequate. To address this cause of "
        "concern, we recommend that within three months the force should:\n"
        "• make sure that missing children are risk assessed;\n"
        "• improve supervision of domestic abuse investigations.\n\n"
        "Cause of concern\n\n"
        "The force does not understand demand well enough.\n\n"
        "12\n\n"  # a page number between the two parts is ignored
        "To address this cause of concern, we recommend that, by 31 March 2018, the force should complete a "
        "demand analysis.\n\n"
        "2024 figures show that the force should be proud.\n\n"  # neither a numbered item nor a finding
        "Area for improvement\n\n"
        "Page 4 of 30\n\n"
        "The force should improve its use of problem-solving.\n"
    )
    report = parse_report(text)
    assert report.inspection_type is InspectionType.PEEL
    assert [(f.kind, f.due, f.addressees) for f in report.findings] == [
        (COC, None, (A.FORCE,)),
        (R, "within three months", (A.FORCE,)),
        (COC, None, (A.FORCE,)),
        (R, "by 31 March 2018", (A.FORCE,)),
        (AFI, None, (A.FORCE,)),
    ]
    assert report.findings[0].text == "Westshire Police's approach to protecting vulnerable people is inadequate."
    assert report.findings[1].text.endswith(
        "the force should:\n• make sure that missing children are risk assessed;\n"
        "• improve supervision of domestic abuse investigations."
    )
    assert report.findings[4].text == "The force should improve its use of problem-solving."

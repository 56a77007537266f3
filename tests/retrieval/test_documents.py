"""Parsing past responses (retrieval.documents) and the bundled corpus (retrieval.corpus)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from retrieval.corpus import bundled_documents, corpus_dir, load_sidecar
from retrieval.documents import infer_meta, parse_document, parse_header
from retrieval.loaders import DocumentError, clean_text, read_text
from retrieval.models import (
    Addressee,
    DocumentKind,
    DocumentMeta,
    FindingKind,
    InspectionType,
    Office,
    ParsedDocument,
)

A = Addressee
JTAI = "northumbria-jtai-early-help-2023"  # seed 000
NCPI = "northumbria-child-protection-thematic-2019"  # seed 001
NEWS = "northumbria-news-child-protection-2018"  # seed 002
CSE = "northumbria-group-based-cse-2023"  # seed 003
CAMBS = "cambridgeshire-child-protection-thematic-2019"  # seed 004
NCPI_TITLE = "National Child Protection Inspections – 2019 thematic report"
SIGN_OFF_WORDS = ("Yours sincerely", "Kim McGuinness", "PCC for Northumbria")


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[str, DocumentMeta]]:
    return {meta.doc_id: (read_text(path), meta) for path, meta in bundled_documents()}


@pytest.fixture(scope="module")
def parsed(corpus: dict[str, tuple[str, DocumentMeta]]) -> dict[str, ParsedDocument]:
    return {doc_id: parse_document(text, meta) for doc_id, (text, meta) in corpus.items()}


# --- the bundled corpus ------------------------------------------------------------------------------


def test_bundled_corpus_has_the_five_seeds_with_metadata() -> None:
    documents = bundled_documents()
    assert [meta.doc_id for _, meta in documents] == sorted([JTAI, NCPI, NEWS, CSE, CAMBS])
    assert all(path.parent == corpus_dir() and path.stem == meta.doc_id for path, meta in documents)
    metas = {meta.doc_id: meta for _, meta in documents}
    assert metas[JTAI].inspection_type is InspectionType.JOINT
    assert metas[JTAI].published == date(2023, 11, 7)
    assert metas[NCPI].inspection_type is InspectionType.NATIONAL_THEMATIC
    assert metas[NCPI].published == date(2020, 2, 27)
    assert (metas[NEWS].kind, metas[NEWS].inspection_type) == (
        DocumentKind.NEWS,
        InspectionType.FORCE_SPECIFIC,
    )
    assert metas[NEWS].published == date(2018, 6, 28)
    assert metas[CSE].published == date(2023, 12, 8)
    assert (metas[CAMBS].office, metas[CAMBS].kind) == (Office.FORCE, DocumentKind.BOARD_PAPER)
    assert (metas[CAMBS].published, metas[CAMBS].response_date) == (date(2020, 2, 27), date(2020, 4, 30))
    # Both answers to the 2019 thematic report share one canonical title, so filters can group them.
    assert metas[NCPI].inspection_title == metas[CAMBS].inspection_title == NCPI_TITLE
    assert {meta.force for meta in metas.values()} == {"Northumbria", "Cambridgeshire"}


def test_load_sidecar(tmp_path: Path) -> None:
    document = tmp_path / "answer.pdf"
    assert load_sidecar(document) is None
    (tmp_path / "answer.meta.json").write_text(json.dumps({"force": "Durham", "published": "2024-01-05"}))
    meta = load_sidecar(document)
    assert meta is not None
    assert (meta.doc_id, meta.force, meta.published, meta.source) == (
        "answer",
        "Durham",
        date(2024, 1, 5),
        str(document),
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "answer.meta.json: the metadata file is not valid JSON"),
        ("[1, 2]", "answer.meta.json: the metadata file must hold a JSON object"),
        ('{"published": "someday"}', "answer.meta.json: invalid metadata (published:"),
        ('{"kind": "memo"}', "answer.meta.json: invalid metadata (kind:"),
    ],
)
def test_bad_sidecar_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "answer.meta.json").write_text(content)
    with pytest.raises(DocumentError) as caught:
        load_sidecar(tmp_path / "answer.txt")
    assert str(caught.value).startswith(message)


# --- seed 003: labelled findings with bracketed text -------------------------------------------------


def test_cse_response_yields_its_five_precedents(parsed: dict[str, ParsedDocument]) -> None:
    document = parsed[CSE]
    labels = [(p.finding.kind, p.finding.number) for p in document.precedents]
    assert labels == [
        (FindingKind.RECOMMENDATION, "2"),
        (FindingKind.RECOMMENDATION, "4"),
        (FindingKind.RECOMMENDATION, "8"),
        (FindingKind.RECOMMENDATION, "9"),
        (FindingKind.AREA_FOR_IMPROVEMENT, None),
    ]
    assert [p.finding.due for p in document.precedents] == [
        "By 31 December 2024",
        "By 31 December 2024",
        "By 30 June 2024",
        "With immediate effect",
        None,
    ]
    assert [p.finding.addressees for p in document.precedents] == [
        (A.CHIEF_CONSTABLES,),
        (A.CHIEF_CONSTABLES, A.OTHER),  # "… and the relevant business user groups …"
        (A.CHIEF_CONSTABLES,),
        (A.CHIEF_CONSTABLES,),
        (A.CHIEF_CONSTABLES,),  # the Home Office toolkit it mentions is not an addressee
    ]


@pytest.mark.parametrize(
    ("index", "text_start", "text_end", "response_start", "response_end"),
    [
        (
            0,
            "By 31 December 2024, all chief constables should make sure that their forces have problem profiles",
            "should be updated frequently, at least annually.",
            "A new problem profile has been commissioned and chapter I has been completed",
            "one of these chapters will specifically relate to group-based CSE.",
        ),
        (
            1,
            "By 31 December 2024, all chief constables and the relevant business user groups",
            "sufficient measures in place to identify group-based child sexual exploitation.",
            "It is believed that the replacement force system which was due in 2023",
            "until an alternative automated flagging solution can be identified.",
        ),
        (
            2,
            "By 30 June 2024, all chief constables of forces that are yet to receive the Hydrant Programme's",
            "continuing professional development offer should arrange it.",
            # The stray "## violence reduction unit" heading is dropped; the wrapped lines are re-joined.
            "Hydrant have been to the force and delivered training in spring 2023. Engagement with Hydrant",
            "to ensure Northumbria have the most recent and updated training delivery.",
        ),
        (
            3,
            "With immediate effect, all chief constables should take effective steps",
            "to eradicate victim-blaming language in their forces.",
            "This action is noted and although coming directly from this report",
            "victim blaming language with updates in April and December 2023.",
        ),
        (
            4,
            "All chief constables should work with their statutory safeguarding partners",
            "an Operation Makesafe (a national police initiative to raise awareness of child sexual "
            "exploitation in the business community) type of approach.",
            "This action will be subject to the ongoing discussion with Prevention Hub",
            "These are detailed in relevant policy and procedure and utilised across the force.",
        ),
    ],
)
def test_cse_response_splits_finding_from_answer(
    parsed: dict[str, ParsedDocument],
    index: int,
    text_start: str,
    text_end: str,
    response_start: str,
    response_end: str,
) -> None:
    precedent = parsed[CSE].precedents[index]
    assert precedent.finding.text.startswith(text_start)
    assert precedent.finding.text.endswith(text_end)
    assert precedent.response.startswith(response_start)
    assert precedent.response.endswith(response_end)
    assert "**" not in precedent.response and "violence reduction unit" not in precedent.response
    assert "I will monitor" not in precedent.response


def test_cse_response_header_and_comments(parsed: dict[str, ParsedDocument]) -> None:
    document = parsed[CSE]
    assert document.header is not None
    assert document.header.inspection_title == (
        "An inspection of the effectiveness of the police and law enforcement bodies' response to "
        "group-based child sexual exploitation in England and Wales"
    )
    assert document.header.inspection_type is InspectionType.NATIONAL_THEMATIC
    assert document.header.published_as_written == "8th December 2023"
    assert document.header.deadline_as_written == "2nd February 2024"
    assert document.header.recommendations_scope == "national"
    assert [c[:40] for c in document.comments] == [
        "I welcome the report on the effectivenes",
        "The Chief Constable has provided me with",
        "I will monitor progress where further ac",
    ]
    assert document.context == []


# --- seed 004: numbered "We recommend" with "Force response:" ------------------------------------------


def test_cambridgeshire_board_paper_yields_six_precedents(parsed: dict[str, ParsedDocument]) -> None:
    document = parsed[CAMBS]
    assert [p.finding.number for p in document.precedents] == ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6"]
    assert [p.finding.addressees for p in document.precedents] == [
        (A.HOME_OFFICE,),
        (A.MOJ, A.DFE),
        (A.CHIEF_CONSTABLES,),
        (A.HOME_OFFICE, A.DFE),
        (A.CHIEF_CONSTABLES,),
        (A.CHIEF_CONSTABLES,),
    ]
    first, last = document.precedents[0], document.precedents[-1]
    assert first.finding.text.startswith("We recommend that the Home Office jointly with other government")
    assert first.finding.text.endswith("in order to prevent escalating and cumulative trauma.")
    assert first.response == (
        "This recommendation is addressed to the Home Office. The Constabulary will await further information."
    )
    assert last.response.startswith("The Constabulary is using HMICFRS guidance to conduct a self-assessment")
    # The contact-officers table after the last answer is not part of it.
    assert last.response.endswith("progress and outcomes for children.")
    assert all(p.finding.kind is FindingKind.RECOMMENDATION and p.finding.due is None for p in document.precedents)


def test_cambridgeshire_purpose_and_background_are_context(parsed: dict[str, ParsedDocument]) -> None:
    document = parsed[CAMBS]
    assert document.header is None
    assert document.comments == []
    assert document.context[0].startswith("1.1. The purpose of this paper is to provide an update")
    assert any(c.startswith("2.4. The response should comment on the report as a whole.") for c in document.context)
    assert not any("We recommend" in c or "Contact Officers" in c for c in document.context)


# --- seeds 000 and 001: narrative letters ----------------------------------------------------------------


def test_jtai_letter_is_header_and_comments(parsed: dict[str, ParsedDocument]) -> None:
    document = parsed[JTAI]
    assert document.header is not None
    assert document.header.model_dump() == {
        "inspection_title": (
            "Joint targeted area inspection of the multi-agency response to children and families who need help"
        ),
        "inspection_type": InspectionType.FORCE_SPECIFIC,  # the ticked box, as written
        "published_as_written": "7th November 2023",
        "deadline_as_written": "2nd January 2024",
        "recommendations_scope": "local",
    }
    assert document.precedents == []
    assert len(document.comments) == 8
    assert document.comments[0].startswith("I welcome the report on the multi-agency response")
    assert document.comments[-1].startswith("I will monitor progress where further action is required")
    assert not any(word in c for c in document.comments for word in SIGN_OFF_WORDS)
    assert not any("RESPONSE TO HMICFRS" in c or "Inspection title" in c for c in document.comments)


def test_ncpi_letter_is_header_and_comments(parsed: dict[str, ParsedDocument]) -> None:
    document = parsed[NCPI]
    assert document.header is not None
    assert document.header.inspection_title == NCPI_TITLE
    assert document.header.inspection_type is InspectionType.NATIONAL_THEMATIC
    assert document.header.published_as_written == "27th February 2020"
    assert document.header.deadline_as_written == ""  # this response has no deadline row
    assert document.header.recommendations_scope == "national"
    assert document.precedents == []
    assert [c[:30] for c in document.comments] == [
        "I welcome HMICFRS recent repor",
        "I take note of the further rec",
        "The new Northumbria Police ope",
    ]
    assert not any(word in c for c in document.comments for word in SIGN_OFF_WORDS)


# --- seed 002: news -----------------------------------------------------------------------------------


def test_news_is_context_only(parsed: dict[str, ParsedDocument]) -> None:
    document = parsed[NEWS]
    assert document.header is None
    assert document.comments == [] and document.precedents == []
    assert document.context[0] == "Northumbria Police in ‘strong position’ to improve child protection"
    assert any(c.startswith("Of the 101 child protection cases assessed by HMICFRS") for c in document.context)
    assert any("We have already started to deliver on the recommendations" in c for c in document.context)


# --- metadata inferred from the text -------------------------------------------------------------------


def test_infer_meta_from_northumbria_headers(corpus: dict[str, tuple[str, DocumentMeta]]) -> None:
    cse = infer_meta(corpus[CSE][0], doc_id="x", source="upload.docx")
    assert (cse.doc_id, cse.source, cse.force, cse.office, cse.kind) == (
        "x",
        "upload.docx",
        "Northumbria",
        Office.PCC,
        DocumentKind.PCC_RESPONSE,
    )
    assert cse.inspection_type is InspectionType.NATIONAL_THEMATIC
    assert cse.published == date(2023, 12, 8)
    assert cse.inspection_title.startswith("An inspection of the effectiveness of the police")
    ncpi = infer_meta(corpus[NCPI][0], doc_id="n")
    assert (ncpi.inspection_title, ncpi.published) == (NCPI_TITLE, date(2020, 2, 27))
    # The form ticks "Northumbria-specific" for a JTAI; the title shows it is a joint inspection.
    jtai = infer_meta(corpus[JTAI][0], doc_id="j")
    assert (jtai.inspection_type, jtai.published) == (InspectionType.JOINT, date(2023, 11, 7))


def test_infer_meta_from_board_paper_and_news(corpus: dict[str, tuple[str, DocumentMeta]]) -> None:
    cambs = infer_meta(corpus[CAMBS][0], doc_id="c")
    assert (cambs.kind, cambs.office) == (DocumentKind.BOARD_PAPER, Office.FORCE)
    assert cambs.inspection_title == "National Child Protection Inspections 2019 Thematic Report"
    assert cambs.inspection_type is InspectionType.NATIONAL_THEMATIC
    assert (cambs.published, cambs.response_date) == (date(2020, 2, 27), date(2020, 4, 30))
    news = infer_meta(corpus[NEWS][0], doc_id="n")
    assert (news.kind, news.office, news.force) == (DocumentKind.NEWS, Office.OTHER, "Northumbria")
    assert news.published == date(2018, 6, 28)
    assert news.title == "Northumbria Police in ‘strong position’ to improve child protection"


def test_infer_meta_leaves_unknowns_empty() -> None:
    meta = infer_meta("Some notes about training.\n\nNothing else.", doc_id="notes")
    assert (meta.force, meta.inspection_title, meta.published) == ("", "", None)
    assert meta.inspection_type is InspectionType.UNKNOWN
    assert meta.kind is DocumentKind.OTHER


# --- other shapes ---------------------------------------------------------------------------------------


def test_header_in_colon_form_and_label_with_colon() -> None:
    text = (
        "Inspection title: PEEL 2023–25: Northshire Police\n"
        "Type of inspection: [x] PEEL\n"
        "Date inspection published: 12 March 2024\n\n"
        "I welcome the report and its recognition of the force's progress on call "
        "handling and crime recording.\n\n"
        "Recommendation 1: Within three months, the force should review its call handling.\n\n"
        "Response: The force has reviewed call handling and added six call handlers.\n\n"
        "Area for improvement 2: The force should improve how it records crime.\n\n"
        "The force has introduced a crime recording audit.\n\n"
        "I will continue to monitor progress through my scrutiny process.\n\n"
        "Yours sincerely,\n\nA. Commissioner\n"
    )
    meta = DocumentMeta(doc_id="peel", inspection_type=InspectionType.PEEL)
    document = parse_document(text, meta)
    assert document.header is not None
    assert document.header.inspection_type is InspectionType.PEEL
    assert document.header.published_as_written == "12 March 2024"
    assert [(p.finding.label, p.finding.due, p.finding.addressees) for p in document.precedents] == [
        ("Recommendation 1", "Within three months", (A.FORCE,)),
        ("Area for improvement 2", None, (A.FORCE,)),
    ]
    assert document.precedents[0].response == "The force has reviewed call handling and added six call handlers."
    assert document.precedents[1].response == "The force has introduced a crime recording audit."
    assert document.comments == [
        "I welcome the report and its recognition of the force's progress on call handling and crime recording.",
        "I will continue to monitor progress through my scrutiny process.",
    ]


def test_generic_text_goes_to_comments_or_context_by_kind() -> None:
    text = "# Notes\n\nThe force has trained 200 officers in safeguarding.\n\nA second paragraph of notes here."
    as_response = parse_document(text, DocumentMeta(doc_id="a", kind=DocumentKind.FORCE_POSITION))
    assert as_response.comments == [
        "The force has trained 200 officers in safeguarding.",
        "A second paragraph of notes here.",
    ]
    assert as_response.context == [] and as_response.precedents == []
    as_other = parse_document(text, DocumentMeta(doc_id="b", kind=DocumentKind.OTHER))
    assert as_other.context == as_response.comments and as_other.comments == []


def test_response_from_a_word_document(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("NORTHUMBRIA PCC RESPONSE TO HMICFRS INSPECTIONS OF NORTHUMBRIA POLICE")
    table = document.add_table(rows=0, cols=2)
    for label, value in [
        ("Inspection title", "An inspection of vetting and misconduct"),
        ("Type of inspection", "☐ Northumbria-specific ✓ National Thematic"),
        ("Date inspection published", "2 nd November 2022"),
        ("Recommendations", "✓ National ☐ Local"),
    ]:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    document.add_paragraph("I welcome the report on vetting and misconduct in the police service.")
    document.add_paragraph(
        "Recommendation 5 (By 30 April 2023, chief constables should make sure their "
        "vetting units are adequately "
        "resourced.)"
    )
    document.add_paragraph("The force has recruited four vetting officers.")
    document.add_paragraph("I will monitor progress through my scrutiny process.")
    path = tmp_path / "vetting.docx"
    document.save(str(path))

    text = read_text(path)
    parsed = parse_document(text, infer_meta(text, doc_id=path.stem, source=str(path)))
    assert parsed.meta.published == date(2022, 11, 2)
    assert parsed.meta.inspection_type is InspectionType.NATIONAL_THEMATIC
    assert parsed.header is not None and parsed.header.published_as_written == "2nd November 2022"
    [precedent] = parsed.precedents
    assert precedent.finding.number == "5"
    assert precedent.finding.due == "By 30 April 2023"
    assert precedent.finding.addressees == (A.CHIEF_CONSTABLES,)
    assert precedent.response == "The force has recruited four vetting officers."
    assert parsed.comments == [
        "I welcome the report on vetting and misconduct in the police service.",
        "I will monitor progress through my scrutiny process.",
    ]


def test_parse_header_keeps_values_as_written_and_removes_its_rows() -> None:
    text = clean_text(
        "Inspection title\tA report\t\nDeadline for PCC\t2 <sup>nd</sup> February 2024\t\n"
        "response (56 days)\t\t\nRecommendations\t✓ National\t✓ Local\n\nI welcome the report."
    )
    header, rest = parse_header(text)
    assert header is not None
    assert header.deadline_as_written == "2nd February 2024"
    assert header.recommendations_scope == "national and local"
    assert header.inspection_type is InspectionType.UNKNOWN  # no type row
    assert rest.strip() == "I welcome the report."


def test_a_short_answer_is_kept_but_a_heading_inside_an_answer_is_not() -> None:
    text = (
        "**Recommendation 1** (The force should publish its plan.)\n\n"
        "Action complete\n\n"
        "**Recommendation 2** (The force should review its policy.)\n\n"
        "## sidebar title\n\n"
        "The policy was reviewed in\nMay 2024.\n"
    )
    document = parse_document(text, DocumentMeta(doc_id="short"))
    assert [p.response for p in document.precedents] == [
        "Action complete",
        "The policy was reviewed in May 2024.",
    ]


def test_an_inspection_report_is_context_not_precedents() -> None:
    text = (
        "# Recommendations\n\nRecommendation 1\n\n"
        "By 31 March 2025, forces should review their use of bail.\n\n"
        "We found that forces used bail inconsistently across the country."
    )
    document = parse_document(text, DocumentMeta(doc_id="r", kind=DocumentKind.REPORT))
    assert document.precedents == [] and document.comments == []
    assert document.context == [
        "By 31 March 2025, forces should review their use of bail.",
        "We found that forces used bail inconsistently across the country.",
    ]

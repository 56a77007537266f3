"""Chunking: one chunk per precedent, grouped paragraphs otherwise, content-hash ids; and the glossary."""

from __future__ import annotations

import hashlib

from retrieval.chunking import MAX_CHARS, chunk_document, chunk_id, group_paragraphs
from retrieval.glossary import GLOSSARY, aliases, expand_query, expansions
from retrieval.models import ChunkSection, Finding, FindingKind, ParsedDocument, Precedent
from tests.support.retrieval import comments_doc, meta

REC = "By 31 December 2024, all chief constables should make sure that their forces have problem profiles."
ANSWER = "A new problem profile has been commissioned and chapter one is complete."


def precedent_doc() -> ParsedDocument:
    finding = Finding(number="2", kind=FindingKind.RECOMMENDATION, text=REC)
    return ParsedDocument(
        meta=meta("doc-a", inspection_title="Group-based child sexual exploitation"),
        precedents=[Precedent(finding=finding, response=ANSWER)],
        comments=["I welcome the report."],
    )


def test_one_chunk_per_precedent_with_title_label_recommendation_and_response() -> None:
    chunks = chunk_document(precedent_doc())
    precedent = next(c for c in chunks if c.section is ChunkSection.PRECEDENT)
    assert precedent.text.splitlines()[0] == "Group-based child sexual exploitation"
    assert f"Recommendation 2: {REC}" in precedent.text
    assert ANSWER in precedent.text
    assert precedent.recommendation == REC
    assert precedent.response == ANSWER
    assert precedent.finding_number == "2"
    assert precedent.finding_kind is FindingKind.RECOMMENDATION
    assert precedent.doc_id == "doc-a"
    assert sum(c.section is ChunkSection.PRECEDENT for c in chunks) == 1


def test_comment_and_context_chunks_carry_the_inspection_title() -> None:
    doc = comments_doc("doc-b", ["First paragraph."], inspection_title="JTAI early help")
    doc.context = ["Background paragraph."]
    chunks = chunk_document(doc)
    assert [c.section for c in chunks] == [ChunkSection.COMMENTS, ChunkSection.CONTEXT]
    assert chunks[0].text == "JTAI early help\nFirst paragraph."
    assert chunks[1].text == "JTAI early help\nBackground paragraph."
    assert chunks[0].recommendation == "" and chunks[0].finding_number is None


def test_paragraphs_are_grouped_by_three_at_most() -> None:
    groups = group_paragraphs([f"Paragraph {i}." for i in range(7)])
    assert groups == [
        "Paragraph 0.\n\nParagraph 1.\n\nParagraph 2.",
        "Paragraph 3.\n\nParagraph 4.\n\nParagraph 5.",
        "Paragraph 6.",
    ]


def test_groups_stay_within_the_character_budget() -> None:
    paragraphs = ["word " * 100, "text " * 150, "more " * 50, "tail " * 20]  # 500, 750, 250, 100 chars
    groups = group_paragraphs([p.strip() for p in paragraphs])
    assert all(len(group) <= MAX_CHARS for group in groups)
    assert len(groups) == 2  # 500 + 750 would exceed 1,200
    assert " ".join(groups).split() == " ".join(paragraphs).split()


def test_an_overlong_paragraph_is_split_at_sentence_ends() -> None:
    sentence = "The partnership reviewed every referral made during the year and found them timely. "
    long_paragraph = (sentence * 40).strip()  # ~3,400 characters
    groups = group_paragraphs([long_paragraph])
    assert len(groups) >= 3
    assert all(len(group) <= MAX_CHARS for group in groups)
    assert all(group.endswith("timely.") for group in groups)
    assert " ".join(groups).split() == long_paragraph.split()


def test_chunk_text_including_the_title_stays_within_budget() -> None:
    title = "An inspection of the effectiveness of the police response to group-based exploitation " * 2
    doc = comments_doc("doc-c", [("Sentence of some length here. " * 30).strip()] * 3, inspection_title=title)
    assert all(len(chunk.text) <= MAX_CHARS for chunk in chunk_document(doc))


def test_chunk_id_is_a_content_hash_of_doc_section_and_text() -> None:
    chunks = chunk_document(precedent_doc())
    for chunk in chunks:
        expected = hashlib.sha256("\x1f".join((chunk.doc_id, chunk.section.value, chunk.text)).encode()).hexdigest()
        assert chunk.id == expected[:32]
    assert chunk_document(precedent_doc()) == chunks  # stable across runs


def test_ids_change_with_text_doc_and_section_only() -> None:
    assert chunk_id("a", ChunkSection.COMMENTS, "text") != chunk_id("b", ChunkSection.COMMENTS, "text")
    assert chunk_id("a", ChunkSection.COMMENTS, "text") != chunk_id("a", ChunkSection.CONTEXT, "text")
    assert chunk_id("a", ChunkSection.COMMENTS, "text") != chunk_id("a", ChunkSection.COMMENTS, "text!")
    changed = comments_doc("doc-d", ["One.", "Two."])
    reclassified = comments_doc("doc-d", ["One.", "Two."], force="Elsewhere")
    assert [c.id for c in chunk_document(changed)] == [c.id for c in chunk_document(reclassified)]


def test_repeated_text_yields_one_chunk() -> None:
    doc = comments_doc("doc-e", ["Same paragraph."] * 4 + ["x" * 1190, "Same paragraph."])
    ids = [c.id for c in chunk_document(doc)]
    assert len(ids) == len(set(ids))


def test_empty_document_has_no_chunks() -> None:
    assert chunk_document(comments_doc("doc-f", ["", "   "])) == []


# --- glossary --------------------------------------------------------------------------------------------


def test_acronym_gains_its_long_form_and_back() -> None:
    assert expand_query("problem profile for CSE") == "problem profile for CSE (child sexual exploitation)"
    assert expand_query("problem profile for child sexual exploitation").endswith("(CSE)")


def test_both_forms_present_adds_nothing() -> None:
    text = "group-based child sexual exploitation (CSE)"
    assert expand_query(text) == text


def test_acronyms_match_case_sensitively_and_whole_words_only() -> None:
    assert expansions("we met at the hub and da") == []
    assert expansions("MASHED potatoes") == []
    assert set(expansions("The MET hub and the MASH")) == {
        "missing exploited trafficked",
        "multi-agency safeguarding hub",
    }


def test_long_forms_tolerate_case_hyphens_and_plurals() -> None:
    assert expansions("Multi Agency Safeguarding Hubs") == ["MASH"]
    assert expansions("honour based violence") == ["HBV"]
    assert expansions("record management systems") == ["RMS"]
    assert expansions("AFIs were raised") == ["area for improvement"]
    assert expansions("Discussion with DE&I and People") == ["diversity, equity and inclusion"]


def test_seed_acronyms_are_in_the_glossary() -> None:
    seeds = {"CSE", "MASH", "MSET", "MFH", "ECH", "LSP", "NPT", "CPD", "DE&I", "NCPI", "JTAI", "PVP", "MET", "DA"}
    assert seeds <= set(GLOSSARY)


def test_aliases_map_both_ways() -> None:
    table = aliases()
    assert table["CSE"] == "child sexual exploitation"
    assert table["child sexual exploitation"] == "CSE"
    assert table["Ministry of Justice"] == "MoJ"

"""The relevance gate, with the bundled embedding model: relevant own-force sentences pass, nothing else does."""

from __future__ import annotations

from datetime import date

import pytest

from drafting.asks import split_asks
from drafting.evidence import EvidenceFinder, sentences_of, word_overlap
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.findings import make_finding
from retrieval.models import Classification, DocumentKind
from tests.support.fakes import FakeRetriever, make_hit

TODAY = date(2026, 12, 1)
FINDING = make_finding(
    "By 31 March 2027, chief constables should make sure that officers apply for stalking protection orders "
    "wherever the legal test is met, and that compliance with every order is monitored."
)
INSPECTION = "Stalking: a national thematic inspection of the police response"
STALKING_ANSWER = make_hit(
    "Aldermoor",
    "Between April 2024 and August 2025 the force applied for 23 Stalking Protection Orders and obtained 19. "
    "Each order now has a named Order Compliance Officer who checks that its conditions are kept.",
    recommendation="Chief constables should make sure that stalking protection orders are used.",
    inspection="A joint investigation into the police response to stalking",
    published=date(2025, 9, 27),
    doc_id="aldermoor-stalking",
)
DOMESTIC_ABUSE = make_hit(
    "Aldermoor",
    "In the 12 months to March 2024 the force obtained 287 Domestic Violence Protection Orders.",
    recommendation="The force should make full use of protective orders for victims of domestic abuse.",
    inspection="A national inspection of the police response to victims of domestic abuse",
    doc_id="aldermoor-da",
)
OTHER_FORCE = make_hit(
    "Brackenshire",
    "The Constabulary applied for 41 Stalking Protection Orders through Operation Sentinel Lane.",
    recommendation="Chief constables should make sure that stalking protection orders are used.",
    inspection="A joint investigation into the police response to stalking",
    doc_id="brackenshire-stalking",
)
SENSITIVE = make_hit(
    "Aldermoor",
    "Operation Kestrel Lantern examined stalking protection order compliance by 9 officers.",
    recommendation="Chief constables should make sure that stalking protection orders are used.",
    inspection="A joint investigation into the police response to stalking",
    classification=Classification.OFFICIAL_SENSITIVE,
    doc_id="aldermoor-sensitive",
)
OLD = make_hit(
    "Aldermoor",
    "Since 2019 the Stalking Clinic has reviewed every stalking protection order application before it is made.",
    recommendation="Chief constables should make sure that stalking protection orders are used.",
    inspection="A joint investigation into the police response to stalking",
    published=date(2020, 2, 1),
    doc_id="aldermoor-old",
)
NEWS = make_hit(
    "Aldermoor",
    "A charity said that victims waited months before officers applied for stalking protection orders.",
    recommendation="",
    inspection="A joint investigation into the police response to stalking",
    kind=DocumentKind.NEWS,
    doc_id="aldermoor-news",
)


@pytest.fixture
def finder(model: MiniLMEmbeddings) -> EvidenceFinder:
    hits = [STALKING_ANSWER, DOMESTIC_ABUSE, OTHER_FORCE, SENSITIVE, OLD, NEWS]
    return EvidenceFinder(FakeRetriever(hits), model.embed_documents, today=lambda: TODAY)


def find(finder: EvidenceFinder, ceiling: Classification = Classification.OFFICIAL):
    return finder.find(FINDING, split_asks(FINDING), "Aldermoor", ceiling, inspection_title=INSPECTION)


def all_text(found) -> str:
    return " ".join(e.text for evidence in found.by_ask.values() for e in evidence)


def test_own_force_sentences_on_the_same_matter_pass_the_gate(finder: EvidenceFinder) -> None:
    found = find(finder)
    text = all_text(found)
    assert "23 Stalking Protection Orders" in text and "Order Compliance Officer" in text
    assert all(e.relevance >= finder.gate for evidence in found.by_ask.values() for e in evidence)


def test_a_neighbouring_matter_another_force_and_the_canary_do_not(finder: EvidenceFinder) -> None:
    text = all_text(find(finder))
    assert "Domestic Violence Protection Orders" not in text
    assert "Sentinel Lane" not in text and "Brackenshire" not in text
    assert "Kestrel Lantern" not in text


def test_news_is_context_for_reviewers_never_the_forces_evidence(finder: EvidenceFinder) -> None:
    found = find(finder)
    assert "charity said" not in all_text(found)
    assert [c.kind for c in found.context] == [DocumentKind.NEWS] and found.context[0].id == "C1"


def test_evidence_older_than_three_years_is_marked_stale_with_its_date(finder: EvidenceFinder) -> None:
    found = find(finder)
    evidence = [e for items in found.by_ask.values() for e in items]
    old = [e for e in evidence if "Stalking Clinic" in e.text]
    assert old and all(e.stale and e.month == "February 2020" for e in old)
    assert all(not e.stale for e in evidence if "Order Compliance Officer" in e.text)


def test_nothing_on_the_matter_gives_no_evidence_at_all(model: MiniLMEmbeddings) -> None:
    finder = EvidenceFinder(FakeRetriever([DOMESTIC_ABUSE, OTHER_FORCE]), model.embed_documents)
    found = find(finder)
    assert all(items == [] for items in found.by_ask.values())


def test_sentences_leave_out_what_the_inspection_found_and_join_a_sentence_leaning_on_the_last() -> None:
    hit = make_hit(
        "Aldermoor",
        "The inspection found that the force was slow. The hub risk assesses every report. "
        "The hub is staffed from 7am to 2am by a sergeant and four coordinators.",
    )
    assert sentences_of(hit.chunk) == [
        "The hub risk assesses every report. The hub is staffed from 7am to 2am by a sergeant and four coordinators."
    ]


def test_word_overlap_counts_the_asks_content_words() -> None:
    assert word_overlap("The force records the reasons every time.", "record the reason") == 1.0
    assert word_overlap("Unrelated words here.", "record the reason") == 0.0


def test_the_pccs_own_words_are_not_the_forces_position_even_after_an_opening_word(model: MiniLMEmbeddings) -> None:
    pcc = make_hit(
        "Aldermoor",
        "Overall, I am pleased that officers now apply for stalking protection orders whenever the legal test is met.",
        recommendation="Chief constables should make sure that stalking protection orders are used.",
        inspection="A joint investigation into the police response to stalking",
        published=date(2025, 9, 27),
        doc_id="aldermoor-pcc-letter",
    )
    finder = EvidenceFinder(FakeRetriever([STALKING_ANSWER, pcc]), model.embed_documents, today=lambda: TODAY)
    text = all_text(find(finder))
    assert "Order Compliance Officer" in text and "I am pleased" not in text

"""Helpers for the retrieval tests: small hand-made documents and an embedding model that counts calls."""

from __future__ import annotations

from datetime import date

from langchain_core.embeddings import Embeddings

from retrieval.models import (
    Classification,
    DocumentKind,
    DocumentMeta,
    Finding,
    InspectionType,
    ParsedDocument,
    Precedent,
)

CAMBRIDGESHIRE = "cambridgeshire-child-protection-thematic-2019"
NORTHUMBRIA_NCPI = "northumbria-child-protection-thematic-2019"


class CountingEmbeddings(Embeddings):
    """Wraps a real model and counts how many texts it was asked to embed."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.documents_embedded = 0
        self.queries_embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents_embedded += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.queries_embedded += 1
        return self.inner.embed_query(text)


def meta(doc_id: str, **fields: object) -> DocumentMeta:
    values: dict[str, object] = {
        "force": "Testshire",
        "inspection_title": "Test inspection of safeguarding",
        "inspection_type": InspectionType.FORCE_SPECIFIC,
        "published": date(2022, 5, 1),
        "kind": DocumentKind.PCC_RESPONSE,
    }
    values.update(fields)
    return DocumentMeta(doc_id=doc_id, **values)  # type: ignore[arg-type]


def comments_doc(doc_id: str, paragraphs: list[str], **fields: object) -> ParsedDocument:
    return ParsedDocument(meta=meta(doc_id, **fields), comments=paragraphs)


def long_form_doc() -> ParsedDocument:
    """Spells out "child sexual exploitation" and never writes "CSE"."""
    return comments_doc(
        "testshire-long-form",
        [
            "The force has commissioned a problem profile for child sexual exploitation covering the whole "
            "county, drawing on data from the four local authorities."
        ],
    )


def acronym_doc() -> ParsedDocument:
    """Writes only "MASH", never "multi-agency safeguarding hub"."""
    return comments_doc(
        "testshire-acronym",
        ["Every referral received by the MASH is triaged by a supervisor within the same working day."],
    )


def sensitive_doc() -> ParsedDocument:
    return ParsedDocument(
        meta=meta("testshire-sensitive", classification=Classification.OFFICIAL_SENSITIVE),
        comments=["Operation Nightjar covert tasking against county lines exploitation continues this year."],
        precedents=[
            Precedent(
                finding=Finding(number="1", text="The force should improve its covert tasking of Operation Nightjar."),
                response="Covert tasking under Operation Nightjar is reviewed weekly by a detective superintendent.",
            )
        ],
    )

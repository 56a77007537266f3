"""Test doubles for the outside world: a retriever with canned hits and a scripted chat model."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field

from retrieval.models import (
    Chunk,
    ChunkSection,
    Classification,
    DocumentKind,
    DocumentMeta,
    FindingKind,
    InspectionType,
    SearchFilters,
    SearchHit,
)


def make_hit(
    force: str,
    response: str,
    *,
    recommendation: str = "All chief constables should review their problem profiles.",
    doc_id: str | None = None,
    number: str = "2",
    similarity: float = 0.7,
    inspection: str = "An inspection of group-based child sexual exploitation",
    published: date = date(2023, 12, 8),
    kind: DocumentKind = DocumentKind.PCC_RESPONSE,
    classification: Classification = Classification.OFFICIAL,
) -> SearchHit:
    doc = doc_id or f"{force.lower()}-doc"
    text = f"{inspection}\nRecommendation {number}: {recommendation}\n{response}"
    meta = DocumentMeta(
        doc_id=doc,
        force=force,
        inspection_title=inspection,
        inspection_type=InspectionType.NATIONAL_THEMATIC,
        published=published,
        kind=kind,
        classification=classification,
    )
    chunk = Chunk(
        id=hashlib.sha256(text.encode()).hexdigest()[:32],
        doc_id=doc,
        section=ChunkSection.PRECEDENT,
        text=text,
        finding_number=number,
        finding_kind=FindingKind.RECOMMENDATION,
        recommendation=recommendation,
        response=response,
        meta=meta,
    )
    return SearchHit(chunk=chunk, score=similarity / 10, similarity=similarity)


class FakeRetriever:
    """Returns its hits filtered the way the real index filters by force, documents and classification.

    `embeddings` is what the drafter scores passages with (the real bundled model, in tests that draft).
    """

    def __init__(self, hits: list[SearchHit], embeddings: Any = None) -> None:
        self.hits = hits
        self.embeddings = embeddings
        self.queries: list[tuple[str, SearchFilters | None]] = []

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[SearchHit]:
        self.queries.append((query, filters))
        hits = self.hits
        if filters and filters.force:
            hits = [h for h in hits if h.chunk.meta.force.lower() == filters.force.lower()]
        if filters and filters.exclude_doc_ids:
            hits = [h for h in hits if h.chunk.doc_id not in filters.exclude_doc_ids]
        if filters:
            ceiling = filters.max_classification.level
            hits = [h for h in hits if h.chunk.meta.classification.level <= ceiling]
        return hits[:k]


class ScriptedChatModel(GenericFakeChatModel):
    """Replies with the scripted texts in order, recording every prompt it was sent."""

    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    delay: float = 0.0

    @classmethod
    def with_replies(cls, *replies: str, delay: float = 0.0) -> ScriptedChatModel:
        messages: Iterator[AIMessage] = iter([AIMessage(content=r) for r in replies])
        return cls(messages=messages, prompts=[], delay=delay)

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.prompts.append(list(messages))
        if self.delay:
            time.sleep(self.delay)
        return super()._generate(messages, *args, **kwargs)

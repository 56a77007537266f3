"""Split a parsed document into the units we embed and search: one per precedent, grouped paragraphs else.

A precedent chunk carries the inspection title, the finding and the answer together, so a query made of a
new report's title and recommendation lands on the past answer to the same recommendation. Comment and
context chunks are prefixed with the inspection title for the same reason (a narrative letter rarely
repeats what it is responding to). Chunk ids hash the content, so re-ingesting unchanged text is a no-op.
"""

from __future__ import annotations

import hashlib
import re

from retrieval.models import Chunk, ChunkSection, DocumentMeta, ParsedDocument, Precedent

#: Upper bound of a grouped chunk's text. The embedding model reads 256 tokens (~1,100 characters of
#: English); longer text would be cut off before it is embedded.
MAX_CHARS = 1200
MAX_PARAGRAPHS = 3

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"'(])")


def chunk_id(doc_id: str, section: ChunkSection, text: str) -> str:
    payload = "\x1f".join((doc_id, section.value, text)).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()[:32]


def chunk_document(doc: ParsedDocument) -> list[Chunk]:
    """Chunks of `doc`: precedents first, then comments, then context; no two with the same id."""
    meta = doc.meta
    chunks = [_precedent_chunk(meta, precedent) for precedent in doc.precedents]
    header = _header(meta)
    for section, paragraphs in ((ChunkSection.COMMENTS, doc.comments), (ChunkSection.CONTEXT, doc.context)):
        for body in group_paragraphs(paragraphs, MAX_CHARS - len(header)):
            text = f"{header}{body}"
            chunks.append(
                Chunk(
                    id=chunk_id(meta.doc_id, section, text),
                    doc_id=meta.doc_id,
                    section=section,
                    text=text,
                    meta=meta,
                )
            )
    # A document repeating a paragraph verbatim would otherwise yield two chunks with one id.
    return list({chunk.id: chunk for chunk in chunks}.values())


def precedent_text(meta: DocumentMeta, precedent: Precedent) -> str:
    lines = [
        meta.inspection_title,
        f"{precedent.finding.label}: {precedent.finding.text}",
        f"Response: {precedent.response}",
    ]
    return "\n".join(line for line in lines if line.strip())


def _precedent_chunk(meta: DocumentMeta, precedent: Precedent) -> Chunk:
    text = precedent_text(meta, precedent)
    if precedent.classification is not None:
        # Marked answer by answer (a published response learned back): each is filtered at its own marking.
        meta = meta.model_copy(update={"classification": precedent.classification})
    return Chunk(
        id=chunk_id(meta.doc_id, ChunkSection.PRECEDENT, text),
        doc_id=meta.doc_id,
        section=ChunkSection.PRECEDENT,
        text=text,
        finding_number=precedent.finding.number,
        finding_kind=precedent.finding.kind,
        recommendation=precedent.finding.text,
        response=precedent.response,
        meta=meta,
    )


def _header(meta: DocumentMeta) -> str:
    return f"{meta.inspection_title}\n" if meta.inspection_title.strip() else ""


def group_paragraphs(paragraphs: list[str], max_chars: int = MAX_CHARS) -> list[str]:
    """Pack consecutive paragraphs into groups of at most MAX_PARAGRAPHS and `max_chars` characters.

    A paragraph longer than `max_chars` is split at sentence ends (or, failing that, at spaces).
    """
    pieces = [piece for p in paragraphs if p.strip() for piece in _split_long(p.strip(), max_chars)]
    groups: list[list[str]] = []
    size = 0
    for piece in pieces:
        fits = groups and len(groups[-1]) < MAX_PARAGRAPHS and size + 2 + len(piece) <= max_chars
        if fits:
            groups[-1].append(piece)
            size += 2 + len(piece)
        else:
            groups.append([piece])
            size = len(piece)
    return ["\n\n".join(group) for group in groups]


def _split_long(paragraph: str, max_chars: int) -> list[str]:
    if len(paragraph) <= max_chars:
        return [paragraph]
    parts: list[str] = []
    current = ""
    for sentence in _sentences(paragraph, max_chars):
        if current and len(current) + 1 + len(sentence) > max_chars:
            parts.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        parts.append(current)
    return parts


def _sentences(paragraph: str, max_chars: int) -> list[str]:
    """Sentences of `paragraph`; any sentence still over `max_chars` is cut at word boundaries."""
    out: list[str] = []
    for sentence in SENTENCE_END.split(paragraph):
        while len(sentence) > max_chars:
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            out.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            out.append(sentence)
    return out

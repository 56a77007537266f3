"""The precedent index: chunks in Chroma (dense vectors + metadata) and a BM25 keyword index beside it.

Search is hybrid: the dense top-N from Chroma and the keyword top-N from bm25s, both over the same filtered
chunk set, fused by reciprocal-rank fusion. Chroma is the source of truth; the keyword index is rebuilt
from it after every change. Chroma is always handed our embedding model: its own default would try to
download a model at run time, which fails here.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings
from chromadb.errors import ChromaError
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel

from retrieval.chunking import chunk_document
from retrieval.config import RetrievalConfig
from retrieval.faults import IndexUnavailable
from retrieval.glossary import expand_query, expansions
from retrieval.keyword import (
    KeywordEntry,
    KeywordIndex,
    clear_stale,
    force_key,
    is_stale,
    mark_stale,
    state_token,
)
from retrieval.models import (
    Chunk,
    ChunkSection,
    Classification,
    DocumentKind,
    DocumentMeta,
    FindingKind,
    InspectionType,
    Office,
    ParsedDocument,
    SearchFilters,
    SearchHit,
)

log = logging.getLogger(__name__)

#: Reciprocal-rank-fusion constant (Cormack et al. 2009): damps the weight of the very top ranks.
RRF_K = 60
#: Each ranking contributes at least this many candidates to the fusion.
MIN_CANDIDATES = 50
#: HNSW settings: cosine distance; search_ef/construction_ef raised from Chroma's 100 for recall at 100k
#: chunks (see bench/README.md).
COLLECTION_METADATA: dict[str, Any] = {
    "hnsw:space": "cosine",
    "hnsw:construction_ef": 200,
    "hnsw:search_ef": 128,
    "hnsw:M": 16,
}
#: Collection metadata naming the store's last write by any instance (a fresh token per write). On a shared Chroma
#: server each instance keeps its own keyword files, so this, not the files, tells it another instance wrote, even
#: when the chunk count is unchanged (a document replaced by one of the same size).
GENERATION_KEY = "responder:generation"
_PAGE = 5000
#: Dense search: over-fetch instead of pre-filtering while at most this many candidates are needed.
MAX_OVERFETCH = 1000
#: Chunks queued in a batch before they are embedded and written together.
FLUSH_CHUNKS = 512
OVERFETCH_MARGIN = 1.5


@dataclass(frozen=True)
class _Record:
    """A stored chunk as Chroma returns it."""

    chunk_id: str
    text: str
    metadata: dict[str, Any]


@dataclass
class _Changes:
    """Writes queued for Chroma during a batch."""

    new: list[Chunk] = field(default_factory=list)
    relabelled: list[Chunk] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    doc_ids: set[str] = field(default_factory=set)

    def add(self, doc_id: str, new: list[Chunk], relabelled: list[Chunk], stale: list[str]) -> None:
        self.doc_ids.add(doc_id)
        self.new.extend(new)
        self.relabelled.extend(relabelled)
        self.stale.extend(stale)

    def __bool__(self) -> bool:
        return bool(self.new or self.relabelled or self.stale)


class UpsertResult(BaseModel):
    added: int = 0
    removed: int = 0
    unchanged: int = 0
    #: Unchanged texts whose metadata (e.g. classification) changed: updated in place, not re-embedded.
    updated: int = 0


# --- client -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientSpec:
    kind: str  # "http" or "persistent"
    host: str | None = None
    port: int | None = None
    path: Path | None = None


def client_spec(config: RetrievalConfig) -> ClientSpec:
    """A Chroma server when a host is configured, else the embedded store in the data directory."""
    if config.chroma_host:
        return ClientSpec(kind="http", host=config.chroma_host, port=config.chroma_port)
    return ClientSpec(kind="persistent", path=config.chroma_dir)


def make_client(config: RetrievalConfig) -> chromadb.ClientAPI:
    spec = client_spec(config)
    settings = Settings(anonymized_telemetry=False)
    if spec.kind == "http":
        return chromadb.HttpClient(host=spec.host, port=spec.port, settings=settings)
    assert spec.path is not None
    spec.path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(spec.path), settings=settings)


def index_location(config: RetrievalConfig) -> str:
    """Where the index lives, for a message: the directory, or the Chroma server."""
    spec = client_spec(config)
    return f"http://{spec.host}:{spec.port}" if spec.kind == "http" else str(spec.path)


def _forget_failed_client(config: RetrievalConfig) -> None:
    # Chroma caches one client system per directory even when starting it failed; the next attempt would get
    # that half-built system (an AttributeError) instead of trying again once the directory is fixed.
    spec = client_spec(config)
    if spec.kind == "persistent":
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(str(spec.path), None)


@contextlib.contextmanager
def index_faults(config: RetrievalConfig, kinds: tuple[type[Exception], ...] = (Exception,)) -> Iterator[None]:
    """What the store raises (`kinds`: anything while opening it; its own errors while reading) becomes one
    IndexUnavailable with the path."""
    try:
        yield
    except IndexUnavailable:
        raise
    except kinds as error:
        raise IndexUnavailable(index_location(config), _first_line(error)) from error


#: Errors a read of an opened store raises when its files are damaged or gone (not our bugs, not the model's).
STORE_ERRORS: tuple[type[Exception], ...] = (ChromaError, OSError)


def stored_chunks(config: RetrievalConfig) -> int:
    """How many chunks the index holds, read without the embedding model (a health check); 0 when there is no
    collection yet."""
    try:
        with index_faults(config):
            client = make_client(config)
            names = {getattr(c, "name", c) for c in client.list_collections()}
            return client.get_collection(config.collection).count() if config.collection in names else 0
    except IndexUnavailable:
        _forget_failed_client(config)
        raise


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


# --- chunk <-> Chroma record ----------------------------------------------------------------------------


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
    """Flat metadata for Chroma (str/int only, no None): the filter fields plus all needed to rebuild."""
    meta = chunk.meta
    return {
        "doc_id": chunk.doc_id,
        "section": chunk.section.value,
        "force": meta.force,
        "force_key": force_key(meta.force),
        "office": meta.office.value,
        "kind": meta.kind.value,
        "title": meta.title,
        "inspection_title": meta.inspection_title,
        "inspection_type": meta.inspection_type.value,
        "published": _iso(meta.published),
        "published_ord": meta.published.toordinal() if meta.published else 0,
        "response_date": _iso(meta.response_date),
        "classification": meta.classification.value,
        "classification_level": meta.classification.level,
        "source": meta.source,
        "finding_number": chunk.finding_number or "",
        "finding_kind": chunk.finding_kind.value if chunk.finding_kind else "",
        "recommendation": chunk.recommendation,
        "response": chunk.response,
        # Computed once here rather than at every keyword rebuild (100k chunks would take seconds).
        "expansions": "; ".join(expansions(chunk.text)),
    }


def meta_from_metadata(md: dict[str, Any]) -> DocumentMeta:
    return DocumentMeta(
        doc_id=md["doc_id"],
        title=md.get("title", ""),
        force=md.get("force", ""),
        office=Office(md.get("office", Office.PCC.value)),
        inspection_title=md.get("inspection_title", ""),
        inspection_type=InspectionType(md.get("inspection_type", InspectionType.UNKNOWN.value)),
        published=date.fromisoformat(md["published"]) if md.get("published") else None,
        response_date=date.fromisoformat(md["response_date"]) if md.get("response_date") else None,
        classification=Classification(md.get("classification", Classification.OFFICIAL.value)),
        kind=DocumentKind(md.get("kind", DocumentKind.OTHER.value)),
        source=md.get("source", ""),
    )


def chunk_from_record(chunk_id: str, text: str, md: dict[str, Any]) -> Chunk:
    return Chunk(
        id=chunk_id,
        doc_id=md["doc_id"],
        section=ChunkSection(md["section"]),
        text=text,
        finding_number=md.get("finding_number") or None,
        finding_kind=FindingKind(md["finding_kind"]) if md.get("finding_kind") else None,
        recommendation=md.get("recommendation", ""),
        response=md.get("response", ""),
        meta=meta_from_metadata(md),
    )


def keyword_entry(chunk_id: str, text: str, md: dict[str, Any]) -> KeywordEntry:
    return KeywordEntry(
        chunk_id=chunk_id,
        # The expansions go into the keyword text so "CSE" in a chunk matches "child sexual exploitation".
        text=f"{text} {md.get('expansions', '')}",
        doc_id=md["doc_id"],
        force_key=md.get("force_key", ""),
        inspection_type=md.get("inspection_type", ""),
        kind=md.get("kind", ""),
        published_ord=int(md.get("published_ord", 0)),
        classification_level=int(md.get("classification_level", 0)),
    )


# --- filters ----------------------------------------------------------------------------------------------


def where_clause(filters: SearchFilters) -> dict[str, Any]:
    """The Chroma `where` filter for `filters` (the same rules as KeywordIndex.mask)."""
    conditions: list[dict[str, Any]] = [
        {"classification_level": {"$lte": filters.max_classification.level}},
    ]
    if filters.force:
        conditions.append({"force_key": force_key(filters.force)})
    if filters.inspection_type is not None:
        conditions.append({"inspection_type": filters.inspection_type.value})
    if filters.kind is not None:
        conditions.append({"kind": filters.kind.value})
    if filters.published_from is not None:
        conditions.append({"published_ord": {"$gte": filters.published_from.toordinal()}})
    if filters.published_to is not None:
        conditions.append({"published_ord": {"$lte": filters.published_to.toordinal()}})
        conditions.append({"published_ord": {"$gt": 0}})
    if filters.exclude_doc_ids:
        conditions.append({"doc_id": {"$nin": list(filters.exclude_doc_ids)}})
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def metadata_allows(filters: SearchFilters, md: dict[str, Any]) -> bool:
    """`where_clause(filters)` evaluated in Python on one stored record's metadata."""
    published = int(md.get("published_ord", 0))
    return not (
        int(md.get("classification_level", Classification.TOP_SECRET.level)) > filters.max_classification.level
        or (filters.force and md.get("force_key") != force_key(filters.force))
        or (filters.inspection_type is not None and md.get("inspection_type") != filters.inspection_type.value)
        or (filters.kind is not None and md.get("kind") != filters.kind.value)
        or (filters.published_from is not None and published < filters.published_from.toordinal())
        or (filters.published_to is not None and not 0 < published <= filters.published_to.toordinal())
        or md.get("doc_id") in filters.exclude_doc_ids
    )


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (k + rank)
    return scores


# --- the index -----------------------------------------------------------------------------------------


class PrecedentIndex:
    """Add, replace, remove and search the chunks of past responses."""

    def __init__(self, config: RetrievalConfig, embeddings: Embeddings | None = None) -> None:
        if embeddings is None:
            from retrieval.embeddings import load_embeddings

            embeddings = load_embeddings(config)
        self.config = config
        self.embeddings = embeddings
        try:
            with index_faults(config):
                self.client = make_client(config)
                # Our own handle on the collection for reads, counts and metadata updates; LangChain's wrapper
                # (which opens the same collection by name) embeds and writes texts.
                self.collection = self.client.get_or_create_collection(
                    config.collection, metadata=COLLECTION_METADATA, embedding_function=None
                )
        except IndexUnavailable:
            _forget_failed_client(config)
            raise
        self.store = Chroma(
            client=self.client,
            collection_name=config.collection,
            embedding_function=embeddings,
            collection_metadata=COLLECTION_METADATA,
        )
        self.keyword_dir = config.keyword_dir
        self._keyword: KeywordIndex | None = None
        self._keyword_token: tuple[int, int] | None = None
        self._defer_depth = 0
        self._keyword_dirty = False
        self._pending = _Changes()

    # --- writing ---------------------------------------------------------------------------------------

    def upsert_document(self, doc: ParsedDocument) -> UpsertResult:
        """Make the stored chunks of `doc.meta.doc_id` exactly those of `doc`, embedding only new text.

        Inside `batch()` the writes are queued and sent in large groups (Chroma's per-call cost is ~40 ms,
        and the model embeds a big length-sorted batch faster than many small ones); the result already
        says what will change.
        """
        doc_id = doc.meta.doc_id
        if doc_id in self._pending.doc_ids:
            self._flush()  # the diff below must see this document's queued chunks
        chunks = chunk_document(doc)
        stored = self.collection.get(where={"doc_id": doc_id}, include=["metadatas"])
        stored_meta = dict(zip(stored["ids"], stored["metadatas"] or [], strict=True))
        new = [c for c in chunks if c.id not in stored_meta]
        wanted = {c.id for c in chunks}
        stale = [chunk_id for chunk_id in stored_meta if chunk_id not in wanted]
        relabelled = [c for c in chunks if c.id in stored_meta and dict(stored_meta[c.id] or {}) != chunk_metadata(c)]
        result = UpsertResult(
            added=len(new), removed=len(stale), unchanged=len(chunks) - len(new), updated=len(relabelled)
        )
        if new or stale or relabelled:
            self._pending.add(doc_id, new, relabelled, stale)
            if self._defer_depth == 0 or len(self._pending.new) >= FLUSH_CHUNKS:
                self._flush()
            self._refresh_unless_batched()
        return result

    def delete_document(self, doc_id: str) -> int:
        """Remove every chunk of `doc_id`; returns how many there were."""
        if doc_id in self._pending.doc_ids:
            self._flush()
        ids = self.collection.get(where={"doc_id": doc_id}, include=[])["ids"]
        if ids:
            mark_stale(self.keyword_dir)
            self.store.delete(ids=ids)
            self._bump_generation()
            self._keyword_dirty = True
            self._refresh_unless_batched()
        return len(ids)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group many upserts: writes go to Chroma in large calls and the keyword index is rebuilt once."""
        self._defer_depth += 1
        try:
            yield
        finally:
            self._defer_depth -= 1
            if self._defer_depth == 0:
                self._flush()
                self._refresh_unless_batched()

    def _flush(self) -> None:
        changes, self._pending = self._pending, _Changes()
        if not changes:
            return
        mark_stale(self.keyword_dir)
        # Add before deleting, so a failure part-way never leaves a document with nothing indexed.
        for start in range(0, len(changes.new), FLUSH_CHUNKS):
            part = changes.new[start : start + FLUSH_CHUNKS]
            self.store.add_texts(
                texts=[c.text for c in part], metadatas=[chunk_metadata(c) for c in part], ids=[c.id for c in part]
            )
        if changes.relabelled:
            self.collection.update(
                ids=[c.id for c in changes.relabelled],
                metadatas=[chunk_metadata(c) for c in changes.relabelled],  # type: ignore[misc]
            )
        if changes.stale:
            self.store.delete(ids=changes.stale)
        self._bump_generation()
        self._keyword_dirty = True

    def _generation(self) -> str:
        """The store's write generation, read fresh (another instance may have written since)."""
        metadata = self.client.get_collection(self.config.collection, embedding_function=None).metadata or {}
        return str(metadata.get(GENERATION_KEY, ""))

    def _bump_generation(self) -> None:
        # `modify` replaces the metadata; the HNSW settings live in the collection's configuration, and Chroma
        # refuses them in a modify, so only our own keys are carried over.
        current = self.client.get_collection(self.config.collection, embedding_function=None).metadata or {}
        kept = {key: value for key, value in current.items() if not key.startswith("hnsw:")}
        self.collection.modify(metadata={**kept, GENERATION_KEY: uuid.uuid4().hex})

    def _refresh_unless_batched(self) -> None:
        if self._defer_depth == 0 and self._keyword_dirty:
            self.refresh_keyword_index()

    def refresh_keyword_index(self) -> KeywordIndex:
        """Rebuild the keyword index from Chroma and persist it."""
        started = time.perf_counter()
        generation = self._generation()  # read first: a write during the rebuild makes it stale, never lost
        entries = [keyword_entry(i, text, md) for i, text, md in self._iter_records(include_text=True)]
        index = KeywordIndex.build(entries, generation)
        log.debug("keyword index rebuilt: %d chunks in %.2f s", len(index), time.perf_counter() - started)
        index.save(self.keyword_dir)
        clear_stale(self.keyword_dir)
        self._keyword, self._keyword_token = index, state_token(self.keyword_dir)
        self._keyword_dirty = False
        return index

    def _iter_records(self, include_text: bool) -> Iterator[tuple[str, str, dict[str, Any]]]:
        include: list[str] = ["metadatas", "documents"] if include_text else ["metadatas"]
        offset = 0
        while True:
            page = self.collection.get(include=include, limit=_PAGE, offset=offset)  # type: ignore[arg-type]
            ids = page["ids"]
            texts = page["documents"] or [""] * len(ids)
            yield from zip(ids, texts, page["metadatas"] or [{}] * len(ids), strict=True)
            if len(ids) < _PAGE:
                return
            offset += _PAGE

    def keyword_index(self) -> KeywordIndex:
        """The current keyword index: cached, reloaded when another process replaced it, rebuilt if stale."""
        if is_stale(self.keyword_dir):
            return self.refresh_keyword_index()
        token = state_token(self.keyword_dir)
        if self._keyword is not None and token == self._keyword_token:
            return self._keyword
        loaded = KeywordIndex.load(self.keyword_dir) if token else None
        if loaded is None:
            return self.refresh_keyword_index()
        self._keyword, self._keyword_token = loaded, token
        return loaded

    # --- reading ---------------------------------------------------------------------------------------

    def count(self) -> int:
        with index_faults(self.config, STORE_ERRORS):
            return self.collection.count()

    def documents(self) -> list[DocumentMeta]:
        """One DocumentMeta per indexed document, sorted by doc_id."""
        seen: dict[str, DocumentMeta] = {}
        for _, _, md in self._iter_records(include_text=False):
            if md["doc_id"] not in seen:
                seen[md["doc_id"]] = meta_from_metadata(md)
        return [seen[key] for key in sorted(seen)]

    def get_chunks(self, ids: Sequence[str]) -> list[Chunk]:
        """The stored chunks with these ids, in the order asked; unknown ids are left out."""
        by_id = {r.chunk_id: r for r in self._records(ids)}
        return [chunk_from_record(i, by_id[i].text, by_id[i].metadata) for i in ids if i in by_id]

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[SearchHit]:
        """Hybrid search: dense and keyword rankings over the filtered chunks, fused by RRF.

        Every returned chunk is checked against `filters` on its stored metadata, whatever path found it,
        so a keyword index that lags behind Chroma can never surface a document the filters exclude.
        """
        with index_faults(self.config, STORE_ERRORS):
            return self._search(query, k, filters or SearchFilters())

    def _search(self, query: str, k: int, filters: SearchFilters) -> list[SearchHit]:
        if k <= 0 or not query.strip():
            return []
        expanded = expand_query(query)
        n = max(MIN_CANDIDATES, 4 * k)
        keyword = self.keyword_index()
        if keyword.generation != self._generation() or len(keyword) != self.collection.count():
            # Another writer changed the collection: a second instance on a shared Chroma server (the generation),
            # or a client writing to Chroma directly (the count).
            keyword = self.refresh_keyword_index()
        allowed = keyword.mask(filters)
        dense = self._dense(expanded, n, filters, keyword, allowed)
        lexical = [chunk_id for chunk_id, _ in keyword.search(expanded, n, allowed)]
        fused = reciprocal_rank_fusion([[chunk_id for chunk_id, _ in dense], lexical])
        similarity = dict(dense)
        dense_rank = {chunk_id: rank for rank, (chunk_id, _) in enumerate(dense, start=1)}
        keyword_rank = {chunk_id: rank for rank, chunk_id in enumerate(lexical, start=1)}
        order = sorted(fused, key=lambda i: (-fused[i], i))
        hits: list[SearchHit] = []
        # Only the chunks shown are fetched (Chroma returns texts and metadata at ~0.15 ms a chunk); a further
        # window is read only if some fail the final check.
        for start in range(0, len(order), k):
            window = order[start : start + k]
            records = {r.chunk_id: r for r in self._records(window)}
            for chunk_id in window:
                record = records.get(chunk_id)
                if record is None or not metadata_allows(filters, record.metadata):
                    continue
                hits.append(
                    SearchHit(
                        chunk=chunk_from_record(chunk_id, record.text, record.metadata),
                        score=fused[chunk_id],
                        similarity=similarity.get(chunk_id),
                        dense_rank=dense_rank.get(chunk_id),
                        keyword_rank=keyword_rank.get(chunk_id),
                    )
                )
                if len(hits) == k:
                    return hits
        return hits

    def _dense(
        self, query: str, n: int, filters: SearchFilters, keyword: KeywordIndex, allowed: np.ndarray
    ) -> list[tuple[str, float]]:
        """The dense top-n (chunk id, cosine similarity) among the chunks `filters` allow.

        Chroma's metadata pre-filter costs time in proportion to how many records match (about 300 ms at
        100k chunks when all match), so it is used only for narrow filters. When the filter lets most
        chunks through (the usual case: only a few documents are sensitive or excluded), an unfiltered
        query for proportionally more candidates, masked here, gives the same answer in a few ms.
        """
        allowed_count, total = int(allowed.sum()), len(keyword)
        if allowed_count == 0:
            return []
        vector = self.embeddings.embed_query(query)
        fetch = n if allowed_count >= total else math.ceil(n * total / allowed_count * OVERFETCH_MARGIN)
        if fetch <= MAX_OVERFETCH:
            kept = [hit for hit in self._nearest(vector, min(fetch, total), None) if keyword.allows(hit[0], allowed)]
            if len(kept) >= min(n, allowed_count) or fetch >= total:
                return kept[:n]
        return self._nearest(vector, min(n, allowed_count), where_clause(filters))

    def _nearest(self, vector: list[float], n: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        # Ids and distances only: texts and metadata are fetched for the few chunks finally shown.
        result = self.collection.query(query_embeddings=[vector], n_results=n, where=where, include=["distances"])
        distances = (result["distances"] or [[]])[0]
        return [(chunk_id, 1.0 - float(d)) for chunk_id, d in zip(result["ids"][0], distances, strict=True)]

    def _records(self, ids: Sequence[str]) -> list[_Record]:
        if not ids:
            return []
        got = self.collection.get(ids=list(ids), include=["metadatas", "documents"])
        return [
            _Record(chunk_id, text, md or {})
            for chunk_id, text, md in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        ]

"""The precedent index: hybrid search over the bundled corpus, filters, upsert semantics, persistence."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import chromadb
import pytest

from retrieval import index as index_module
from retrieval.config import RetrievalConfig
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.index import (
    COLLECTION_METADATA,
    PrecedentIndex,
    client_spec,
    make_client,
    metadata_allows,
    reciprocal_rank_fusion,
    where_clause,
)
from retrieval.ingest import ingest_bundled
from retrieval.keyword import STALE
from retrieval.models import (
    ChunkSection,
    Classification,
    DocumentKind,
    InspectionType,
    SearchFilters,
)
from tests.retrieval.conftest import Backend
from tests.support.retrieval import (
    CAMBRIDGESHIRE,
    NORTHUMBRIA_NCPI,
    CountingEmbeddings,
    acronym_doc,
    comments_doc,
    long_form_doc,
    sensitive_doc,
)

NCPI_TITLE = "National Child Protection Inspections – 2019 thematic report"
REC_3_5 = (
    "We recommend that chief constables should review performance management and quality assurance approaches "
    "to ensure that assessments of the nature and quality of decision making are routinely made. The purpose of "
    "this would be to reinforce the understanding that compliance with policy or process is only one part of "
    "effective practice."
)


@pytest.fixture(scope="module")
def corpus_index(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory, model: MiniLMEmbeddings
) -> Iterator[PrecedentIndex]:
    """The bundled corpus plus three small hand-made documents, built once per module and client."""
    config = backend.config(tmp_path_factory.mktemp("corpus-index"))
    index = PrecedentIndex(config, embeddings=model)
    ingest_bundled(index)
    for doc in (long_form_doc(), acronym_doc(), sensitive_doc()):
        index.upsert_document(doc)
    yield index
    backend.drop(config)


# --- ranking ---------------------------------------------------------------------------------------------


def test_same_recommendation_answered_by_another_force_ranks_in_top_three(corpus_index: PrecedentIndex) -> None:
    hits = corpus_index.search(f"{NCPI_TITLE} {REC_3_5}", k=3, filters=SearchFilters(exclude_doc_ids=(CAMBRIDGESHIRE,)))
    assert len(hits) == 3
    assert NORTHUMBRIA_NCPI in [hit.chunk.doc_id for hit in hits]
    northumbria = next(hit for hit in hits if hit.chunk.doc_id == NORTHUMBRIA_NCPI)
    assert northumbria.chunk.section is ChunkSection.COMMENTS
    assert all(hit.chunk.doc_id != CAMBRIDGESHIRE for hit in hits)


def test_without_the_exclusion_the_force_own_answer_ranks_first(corpus_index: PrecedentIndex) -> None:
    (hit,) = corpus_index.search(f"{NCPI_TITLE} {REC_3_5}", k=1)
    assert hit.chunk.doc_id == CAMBRIDGESHIRE
    assert hit.chunk.section is ChunkSection.PRECEDENT
    assert hit.chunk.finding_number == "3.5"
    assert hit.chunk.recommendation.startswith("We recommend that chief constables should review performance")
    assert hit.chunk.response.startswith("The Constabulary participates in regular multi-agency audits")


def test_acronym_query_finds_the_long_form_chunk(corpus_index: PrecedentIndex) -> None:
    hits = corpus_index.search("problem profile for CSE", k=3)
    found = next((hit for hit in hits if hit.chunk.doc_id == "testshire-long-form"), None)
    assert found is not None, [hit.chunk.doc_id for hit in hits]
    assert "CSE" not in found.chunk.text
    # BM25 matched it, which it can only do through the expansion of "CSE".
    assert found.keyword_rank is not None


def test_long_form_query_finds_the_acronym_only_chunk(corpus_index: PrecedentIndex) -> None:
    hits = corpus_index.search("multi-agency safeguarding hub triage", k=3)
    found = next((hit for hit in hits if hit.chunk.doc_id == "testshire-acronym"), None)
    assert found is not None, [hit.chunk.doc_id for hit in hits]
    assert "safeguarding hub" not in found.chunk.text.lower()
    assert found.keyword_rank is not None


def test_hits_report_fused_score_similarity_and_ranks(corpus_index: PrecedentIndex) -> None:
    hits = corpus_index.search("Hydrant continuing professional development training", k=5)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    for hit in hits:
        assert hit.dense_rank is not None or hit.keyword_rank is not None
        if hit.dense_rank is None:
            assert hit.similarity is None
        else:
            assert hit.similarity is not None and -1.0 <= hit.similarity <= 1.0
        expected = sum(1 / (60 + rank) for rank in (hit.dense_rank, hit.keyword_rank) if rank is not None)
        assert hit.score == pytest.approx(expected)
    assert "Hydrant" in hits[0].chunk.text


def test_exact_wording_is_found_by_keyword(corpus_index: PrecedentIndex) -> None:
    (hit,) = corpus_index.search("Op Makesafe", k=1)
    assert "Makesafe" in hit.chunk.text
    assert hit.keyword_rank == 1


# --- filters -------------------------------------------------------------------------------------------------

QUERY = "child protection safeguarding children response"


def test_force_filter(corpus_index: PrecedentIndex) -> None:
    hits = corpus_index.search(QUERY, k=10, filters=SearchFilters(force="cambridgeshire "))
    assert hits and {hit.chunk.meta.force for hit in hits} == {"Cambridgeshire"}


def test_inspection_type_filter(corpus_index: PrecedentIndex) -> None:
    hits = corpus_index.search(QUERY, k=10, filters=SearchFilters(inspection_type=InspectionType.JOINT))
    assert hits and {hit.chunk.doc_id for hit in hits} == {"northumbria-jtai-early-help-2023"}


def test_kind_filter(corpus_index: PrecedentIndex) -> None:
    hits = corpus_index.search(QUERY, k=10, filters=SearchFilters(kind=DocumentKind.NEWS))
    assert hits and {hit.chunk.meta.kind for hit in hits} == {DocumentKind.NEWS}
    assert all(hit.chunk.section is ChunkSection.CONTEXT for hit in hits)


def test_date_range_filter(corpus_index: PrecedentIndex) -> None:
    filters = SearchFilters(published_from=date(2023, 1, 1), published_to=date(2023, 12, 31))
    hits = corpus_index.search(QUERY, k=20, filters=filters)
    assert hits
    assert all(date(2023, 1, 1) <= hit.chunk.meta.published <= date(2023, 12, 31) for hit in hits)  # type: ignore[operator]
    assert {hit.chunk.doc_id for hit in hits} >= {
        "northumbria-jtai-early-help-2023",
        "northumbria-group-based-cse-2023",
    }
    older = corpus_index.search(QUERY, k=20, filters=SearchFilters(published_to=date(2019, 12, 31)))
    assert older and {hit.chunk.doc_id for hit in older} == {"northumbria-news-child-protection-2018"}


def test_sensitive_document_is_never_returned_with_default_filters(corpus_index: PrecedentIndex) -> None:
    query = "Operation Nightjar covert tasking"
    for k in (1, 5, 50):
        assert all(hit.chunk.doc_id != "testshire-sensitive" for hit in corpus_index.search(query, k=k))
    allowed = corpus_index.search(
        query, k=1, filters=SearchFilters(max_classification=Classification.OFFICIAL_SENSITIVE)
    )
    assert allowed[0].chunk.doc_id == "testshire-sensitive"
    assert allowed[0].chunk.meta.classification is Classification.OFFICIAL_SENSITIVE


def test_prefiltered_and_overfetched_dense_search_agree(
    corpus_index: PrecedentIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    filters = SearchFilters(exclude_doc_ids=(CAMBRIDGESHIRE,), published_from=date(2020, 1, 1))
    overfetched = corpus_index.search(REC_3_5, k=8, filters=filters)
    monkeypatch.setattr(index_module, "MAX_OVERFETCH", 0)  # forces Chroma's `where` pre-filter
    prefiltered = corpus_index.search(REC_3_5, k=8, filters=filters)
    assert [h.chunk.id for h in overfetched] == [h.chunk.id for h in prefiltered]
    assert [h.dense_rank for h in overfetched] == [h.dense_rank for h in prefiltered]


def test_where_clause_and_python_check_agree() -> None:
    filters = SearchFilters(
        force="Northumbria",
        inspection_type=InspectionType.NATIONAL_THEMATIC,
        kind=DocumentKind.PCC_RESPONSE,
        published_from=date(2020, 1, 1),
        published_to=date(2024, 1, 1),
        exclude_doc_ids=("x",),
    )
    clause = where_clause(filters)
    assert {"classification_level": {"$lte": 0}} in clause["$and"]
    assert {"doc_id": {"$nin": ["x"]}} in clause["$and"]
    base = {
        "doc_id": "y",
        "force_key": "northumbria",
        "inspection_type": "national thematic",
        "kind": "pcc-response",
        "published_ord": date(2022, 1, 1).toordinal(),
        "classification_level": 0,
    }
    assert metadata_allows(filters, base)
    for key, value in [
        ("doc_id", "x"),
        ("force_key", "kent"),
        ("kind", "news"),
        ("published_ord", 0),
        ("published_ord", date(2025, 1, 1).toordinal()),
        ("classification_level", 1),
    ]:
        assert not metadata_allows(filters, {**base, key: value}), key
    assert where_clause(SearchFilters()) == {"classification_level": {"$lte": 0}}


def test_reciprocal_rank_fusion() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]])
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert fused["b"] == pytest.approx(1 / 62)
    assert sorted(fused, key=lambda i: -fused[i]) == ["a", "c", "b"]


# --- upsert, delete -----------------------------------------------------------------------------------------


def test_reingesting_the_same_document_is_a_no_op(small_index: PrecedentIndex, counting: CountingEmbeddings) -> None:
    doc = sensitive_doc()
    first = small_index.upsert_document(doc)
    assert (first.added, first.removed, first.unchanged) == (2, 0, 0)
    embedded = counting.documents_embedded
    again = small_index.upsert_document(doc)
    assert (again.added, again.removed, again.unchanged, again.updated) == (0, 0, 2, 0)
    assert counting.documents_embedded == embedded
    assert small_index.count() == 2


def test_changed_document_replaces_stale_chunks(small_index: PrecedentIndex, counting: CountingEmbeddings) -> None:
    old = comments_doc("doc", ["The lighthouse audit covered twelve cases.", "Training continues."])
    small_index.upsert_document(old)
    old_ids = [hit.chunk.id for hit in small_index.search("lighthouse audit", k=5)]
    embedded = counting.documents_embedded
    new = comments_doc("doc", ["The harbour review covered thirty cases.", "Training continues."])
    result = small_index.upsert_document(new)
    # Both paragraphs form one chunk, so the whole chunk is replaced.
    assert (result.added, result.removed, result.unchanged) == (1, 1, 0)
    assert counting.documents_embedded == embedded + 1
    assert small_index.count() == 1
    assert small_index.get_chunks(old_ids) == []
    hits = small_index.search("lighthouse audit twelve cases", k=5)
    assert all("lighthouse" not in hit.chunk.text for hit in hits)
    assert "harbour review" in hits[0].chunk.text


def test_only_new_chunks_are_embedded(small_index: PrecedentIndex, counting: CountingEmbeddings) -> None:
    base = sensitive_doc()
    small_index.upsert_document(base)
    embedded = counting.documents_embedded
    grown = base.model_copy(update={"context": ["A background note about county lines."]})
    result = small_index.upsert_document(grown)
    assert (result.added, result.removed, result.unchanged) == (1, 0, 2)
    assert counting.documents_embedded == embedded + 1
    assert small_index.count() == 3


def test_metadata_change_updates_in_place_without_embedding(
    small_index: PrecedentIndex, counting: CountingEmbeddings
) -> None:
    doc = comments_doc("doc", ["Quarterly scrutiny of stop and search records."])
    small_index.upsert_document(doc)
    assert small_index.search("stop and search scrutiny", k=1)
    embedded = counting.documents_embedded
    marked = doc.model_copy(
        update={"meta": doc.meta.model_copy(update={"classification": Classification.OFFICIAL_SENSITIVE})}
    )
    result = small_index.upsert_document(marked)
    assert (result.added, result.removed, result.unchanged, result.updated) == (0, 0, 1, 1)
    assert counting.documents_embedded == embedded
    assert small_index.search("stop and search scrutiny", k=1) == []


def test_delete_document(small_index: PrecedentIndex) -> None:
    small_index.upsert_document(sensitive_doc())
    small_index.upsert_document(acronym_doc())
    assert small_index.delete_document("testshire-sensitive") == 2
    assert small_index.delete_document("testshire-sensitive") == 0
    assert small_index.count() == 1
    hits = small_index.search("Operation Nightjar", k=5, filters=SearchFilters(max_classification="TOP SECRET"))
    assert all(hit.chunk.doc_id != "testshire-sensitive" for hit in hits)


def test_documents_and_get_chunks_round_trip(small_index: PrecedentIndex) -> None:
    doc = sensitive_doc()
    small_index.upsert_document(doc)
    small_index.upsert_document(acronym_doc())
    metas = small_index.documents()
    assert [m.doc_id for m in metas] == ["testshire-acronym", "testshire-sensitive"]
    assert metas[1] == doc.meta
    hits = small_index.search("Nightjar", k=2, filters=SearchFilters(max_classification="OFFICIAL-SENSITIVE"))
    precedent = next(hit.chunk for hit in hits if hit.chunk.section is ChunkSection.PRECEDENT)
    (again,) = small_index.get_chunks([precedent.id])
    assert again == precedent
    assert again.recommendation == doc.precedents[0].finding.text
    assert again.response == doc.precedents[0].response
    assert small_index.get_chunks(["missing-id"]) == []


def test_empty_index_and_empty_query(small_index: PrecedentIndex) -> None:
    assert small_index.search("anything", k=5) == []
    small_index.upsert_document(acronym_doc())
    assert small_index.search("   ", k=5) == []
    assert small_index.search("MASH", k=0) == []


# --- keyword index persistence --------------------------------------------------------------------------------


def test_keyword_index_is_persisted_and_reloaded(index_config: RetrievalConfig, model: MiniLMEmbeddings) -> None:
    config = index_config
    PrecedentIndex(config, embeddings=model).upsert_document(acronym_doc())
    assert (config.keyword_dir / "CURRENT").is_file()
    fresh = PrecedentIndex(config, embeddings=model)
    assert len(fresh.keyword_index()) == 1
    # Loaded with the store's write generation it was built from, so a search does not rebuild it.
    assert fresh.keyword_index().generation == fresh._generation() != ""
    assert fresh.search("MASH triage", k=1)[0].keyword_rank == 1


def test_keyword_index_is_rebuilt_when_missing_or_stale(index_config: RetrievalConfig, model: MiniLMEmbeddings) -> None:
    config = index_config
    PrecedentIndex(config, embeddings=model).upsert_document(acronym_doc())
    for path in config.keyword_dir.iterdir():
        if path.is_file():
            path.unlink()
    index = PrecedentIndex(config, embeddings=model)
    assert index.search("MASH triage", k=1)[0].keyword_rank == 1
    (config.keyword_dir / STALE).touch()
    assert index.search("MASH triage", k=1)[0].keyword_rank == 1
    assert not (config.keyword_dir / STALE).exists()


def test_change_in_one_process_is_seen_by_another(index_config: RetrievalConfig, model: MiniLMEmbeddings) -> None:
    config = index_config
    reader = PrecedentIndex(config, embeddings=model)
    writer = PrecedentIndex(config, embeddings=model)
    writer.upsert_document(acronym_doc())
    assert len(reader.keyword_index()) == 1
    writer.upsert_document(long_form_doc())
    hits = reader.search("problem profile child sexual exploitation", k=1)
    assert hits[0].chunk.doc_id == "testshire-long-form" and hits[0].keyword_rank == 1


def test_a_batch_rebuilds_the_keyword_index_once(small_index: PrecedentIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = small_index.refresh_keyword_index
    monkeypatch.setattr(small_index, "refresh_keyword_index", lambda: calls.append(1) or real())
    with small_index.batch():
        small_index.upsert_document(acronym_doc())
        small_index.upsert_document(long_form_doc())
        assert calls == []
    assert calls == [1]
    assert len(small_index.keyword_index()) == 2


def test_same_document_twice_in_a_batch_keeps_only_the_last(small_index: PrecedentIndex) -> None:
    with small_index.batch():
        small_index.upsert_document(comments_doc("doc", ["First version about lighthouses."]))
        result = small_index.upsert_document(comments_doc("doc", ["Second version about harbours."]))
        assert (result.added, result.removed) == (1, 1)
    assert small_index.count() == 1
    (hit,) = small_index.search("lighthouses harbours", k=5)
    assert "Second version" in hit.chunk.text


def test_a_write_by_another_client_is_picked_up(index_config: RetrievalConfig, model: MiniLMEmbeddings) -> None:
    config = index_config
    index = PrecedentIndex(config, embeddings=model)
    index.upsert_document(acronym_doc())
    # A second instance on a shared Chroma server writes without touching this instance's keyword files.
    other = comments_doc("other", ["The lighthouse keepers logged every referral."])
    chunk = index_module.chunk_document(other)[0]
    index.collection.add(
        ids=[chunk.id],
        embeddings=[model.embed_query(chunk.text)],
        documents=[chunk.text],
        metadatas=[index_module.chunk_metadata(chunk)],
    )
    hits = index.search("lighthouse keepers", k=1)
    assert hits[0].chunk.doc_id == "other" and hits[0].keyword_rank == 1


def test_a_same_size_change_by_another_instance_is_picked_up(
    backend: Backend, index_config: RetrievalConfig, tmp_path: Path, model: MiniLMEmbeddings
) -> None:
    """A second instance on the same store replaces a document with one of the same size. Embedded, instances
    share the data directory (the store is in it); on a Chroma server each has its own (behind a load balancer),
    so its keyword files say nothing of the other's writes. Either way the new wording is found."""
    index = PrecedentIndex(index_config, embeddings=model)
    index.upsert_document(comments_doc("doc", ["The lighthouse keepers logged every referral."]))
    assert index.search("lighthouse keepers", k=1)[0].keyword_rank == 1
    other_config = index_config
    if backend.kind == "server":
        other_config = index_config.model_copy(update={"data_dir": tmp_path / "other-instance"})
    PrecedentIndex(other_config, embeddings=model).upsert_document(
        comments_doc("doc", ["The harbour pilots audited every referral."])
    )
    assert index.count() == 1
    (hit,) = index.search("harbour pilots", k=1)
    assert "harbour pilots" in hit.chunk.text and hit.keyword_rank == 1


# --- configuration --------------------------------------------------------------------------------------------


def test_collection_uses_cosine_space_and_our_hnsw_settings(small_index: PrecedentIndex) -> None:
    assert COLLECTION_METADATA["hnsw:space"] == "cosine"
    small_index.upsert_document(acronym_doc())  # a write replaces the metadata (the generation): settings stay
    reopened = small_index.client.get_collection(small_index.config.collection)
    hnsw = reopened.configuration["hnsw"]
    assert (hnsw["space"], hnsw["ef_construction"], hnsw["ef_search"], hnsw["max_neighbors"]) == (
        "cosine",
        200,
        128,
        16,
    )
    (hit,) = small_index.search("MASH triage", k=1)
    assert hit.similarity is not None and 0.0 < hit.similarity <= 1.0


def test_client_selection(tmp_path: Path) -> None:
    embedded = client_spec(RetrievalConfig(data_dir=tmp_path))
    assert (embedded.kind, embedded.path) == ("persistent", tmp_path / "chroma")
    server = client_spec(RetrievalConfig(data_dir=tmp_path, chroma_host="chroma.internal", chroma_port=8123))
    assert (server.kind, server.host, server.port) == ("http", "chroma.internal", 8123)


def test_http_client_is_built_with_host_port_and_no_telemetry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def fake_http_client(**kwargs: object) -> str:
        seen.update(kwargs)
        return "http-client"

    monkeypatch.setattr(chromadb, "HttpClient", fake_http_client)
    client = make_client(RetrievalConfig(data_dir=tmp_path, chroma_host="chroma.internal", chroma_port=8123))
    assert client == "http-client"
    assert seen["host"] == "chroma.internal" and seen["port"] == 8123
    assert seen["settings"].anonymized_telemetry is False  # type: ignore[attr-defined]
    assert not (tmp_path / "chroma").exists()


def test_persistent_client_has_telemetry_off(tmp_path: Path) -> None:
    client = make_client(RetrievalConfig(data_dir=tmp_path))
    assert client.get_settings().anonymized_telemetry is False
    assert (tmp_path / "chroma").is_dir()

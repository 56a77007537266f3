"""Ingest: files and folders into the index, bad files skipped with a reason, re-ingest a no-op."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.config import RetrievalConfig
from retrieval.corpus import bundled_documents
from retrieval.index import PrecedentIndex
from retrieval.ingest import IngestRow, ingest_bundled, ingest_paths
from retrieval.models import DocumentKind, SearchFilters
from tests.support.retrieval import CAMBRIDGESHIRE, CountingEmbeddings

LETTER = """NORTHUMBRIA PCC RESPONSE TO HMICFRS

I welcome the report on the police response to stalking. The Chief Constable has provided me with a
position statement on the recommendations.

The force has trained every neighbourhood officer in the stalking protection order process.

I will monitor progress through my regular HMICFRS Scrutiny process.

Yours sincerely,

A Commissioner
"""


@pytest.fixture
def index(index_config: RetrievalConfig, counting: CountingEmbeddings) -> PrecedentIndex:
    """An empty index on each Chroma client (tests/retrieval/conftest.py)."""
    return PrecedentIndex(index_config, embeddings=counting)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    (root / "nested").mkdir(parents=True)
    (root / "stalking-response.txt").write_text(LETTER, encoding="utf-8")
    (root / "nested" / "vawg.md").write_text(LETTER.replace("stalking", "violence against women and girls"))
    (root / "nested" / "vawg.meta.json").write_text(
        json.dumps({"force": "Testshire", "kind": "pcc-response", "inspection_title": "VAWG inspection"})
    )
    (root / "empty.txt").write_text("")
    (root / "broken.pdf").write_bytes(b"not really a pdf")
    return root


def test_bundled_corpus_is_ingested_then_reingest_is_a_no_op(
    index: PrecedentIndex, counting: CountingEmbeddings
) -> None:
    report = ingest_bundled(index)
    assert [row.doc_id for row in report.rows] == [meta.doc_id for _, meta in bundled_documents()]
    assert report.skipped == []
    cambridgeshire = next(row for row in report.rows if row.doc_id == CAMBRIDGESHIRE)
    assert cambridgeshire.precedents == 6
    assert report.added == index.count() == counting.documents_embedded
    assert {meta.doc_id for meta in index.documents()} == {row.doc_id for row in report.rows}

    again = ingest_bundled(index)
    assert (again.added, again.removed, again.unchanged) == (0, 0, report.added)
    assert counting.documents_embedded == report.added
    assert index.count() == report.added


def test_a_batch_embeds_in_few_large_calls(index: PrecedentIndex, counting: CountingEmbeddings) -> None:
    calls: list[int] = []
    real = counting.embed_documents
    counting.embed_documents = lambda texts: calls.append(len(texts)) or real(texts)  # type: ignore[method-assign]
    report = ingest_bundled(index)
    # The whole corpus (~30 chunks) is queued and embedded together, not file by file.
    assert calls == [report.added]
    assert index.count() == report.added


def test_folder_ingest_skips_bad_files_without_aborting(index: PrecedentIndex, folder: Path) -> None:
    report = ingest_paths(index, [folder, folder / "missing.txt"])
    by_name = {Path(row.path).name: row for row in report.rows}
    assert set(by_name) == {"stalking-response.txt", "vawg.md", "empty.txt", "broken.pdf", "missing.txt"}
    assert by_name["stalking-response.txt"].skipped is None
    assert by_name["stalking-response.txt"].added >= 1
    assert by_name["vawg.md"].skipped is None
    assert "empty" in (by_name["empty.txt"].skipped or "")
    assert "PDF" in (by_name["broken.pdf"].skipped or "")
    assert "no such file" in (by_name["missing.txt"].skipped or "")
    assert index.count() == report.added
    hits = index.search("stalking protection orders", k=1)
    assert hits[0].chunk.doc_id == "stalking-response"


def test_sidecar_metadata_is_used_and_inferred_otherwise(index: PrecedentIndex, folder: Path) -> None:
    ingest_paths(index, [folder])
    metas = {meta.doc_id: meta for meta in index.documents()}
    assert metas["vawg"].force == "Testshire"
    assert metas["vawg"].inspection_title == "VAWG inspection"
    # No sidecar: inferred from the text ("PCC RESPONSE" heading), doc_id from the file name.
    inferred = metas["stalking-response"]
    assert inferred.kind is DocumentKind.PCC_RESPONSE
    assert inferred.source == str(folder / "stalking-response.txt")


def test_overrides_win(index: PrecedentIndex, folder: Path) -> None:
    ingest_paths(index, [folder / "nested" / "vawg.md"], overrides={"force": "Kent", "kind": "force-position"})
    (meta,) = index.documents()
    assert (meta.force, meta.kind) == ("Kent", DocumentKind.FORCE_POSITION)
    hits = index.search("violence against women", k=3, filters=SearchFilters(force="Kent"))
    assert hits and all(hit.chunk.meta.force == "Kent" for hit in hits)


def test_bad_overrides_are_refused_before_anything_is_stored(index: PrecedentIndex, folder: Path) -> None:
    with pytest.raises(ValueError, match="Unknown metadata field"):
        ingest_paths(index, [folder], overrides={"forse": "Kent"})
    with pytest.raises(ValueError, match="doc_id override names one document"):
        ingest_paths(index, [folder], overrides={"doc_id": "same"})
    assert index.count() == 0


def test_invalid_override_value_skips_the_file(index: PrecedentIndex, folder: Path) -> None:
    report = ingest_paths(index, [folder / "stalking-response.txt"], overrides={"classification": "VERY SECRET"})
    (row,) = report.rows
    assert row.skipped and "classification" in row.skipped
    assert index.count() == 0


def test_same_stem_twice_in_a_batch_is_not_overwritten(index: PrecedentIndex, tmp_path: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "response.txt").write_text(LETTER.replace("stalking", f"topic {sub}"))
    report = ingest_paths(index, [tmp_path / "a", tmp_path / "b"])
    assert report.rows[0].skipped is None
    assert "already used" in (report.rows[1].skipped or "")
    assert "topic a" in index.search("topic", k=1)[0].chunk.text


def test_progress_is_reported_per_file(index: PrecedentIndex, folder: Path) -> None:
    seen: list[tuple[str, int, int]] = []

    def on_progress(row: IngestRow, done: int, total: int) -> None:
        seen.append((Path(row.path).name, done, total))

    ingest_paths(index, [folder], on_progress=on_progress)
    assert [(done, total) for _, done, total in seen] == [(i, 4) for i in range(1, 5)]
    assert {name for name, _, _ in seen} == {"stalking-response.txt", "vawg.md", "empty.txt", "broken.pdf"}


def test_changed_file_replaces_its_chunks(index: PrecedentIndex, folder: Path) -> None:
    path = folder / "stalking-response.txt"
    ingest_paths(index, [path])
    before = index.count()
    path.write_text(LETTER.replace("neighbourhood officer", "call handler"), encoding="utf-8")
    (row,) = ingest_paths(index, [path]).rows
    assert row.added == 1 and row.removed == 1
    assert index.count() == before
    assert all("neighbourhood officer" not in hit.chunk.text for hit in index.search("neighbourhood officer", k=5))

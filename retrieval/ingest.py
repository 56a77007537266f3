"""Put documents into the precedent index: files and folders people give us, or the bundled corpus.

One bad file never stops a batch: it becomes a report row saying why it was skipped. The keyword index
is rebuilt once at the end of a batch, and each file's new chunks are embedded in one call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from retrieval.corpus import bundled_documents, load_sidecar
from retrieval.documents import infer_meta, parse_document
from retrieval.index import PrecedentIndex
from retrieval.loaders import DocumentError, iter_document_files, read_text
from retrieval.models import DocumentMeta


class IngestRow(BaseModel):
    """What happened to one file."""

    path: str
    doc_id: str | None = None
    precedents: int = 0
    added: int = 0
    removed: int = 0
    unchanged: int = 0
    updated: int = 0
    skipped: str | None = None


class IngestReport(BaseModel):
    rows: list[IngestRow] = []

    @property
    def ingested(self) -> list[IngestRow]:
        return [row for row in self.rows if row.skipped is None]

    @property
    def skipped(self) -> list[IngestRow]:
        return [row for row in self.rows if row.skipped is not None]

    @property
    def added(self) -> int:
        return sum(row.added for row in self.rows)

    @property
    def removed(self) -> int:
        return sum(row.removed for row in self.rows)

    @property
    def unchanged(self) -> int:
        return sum(row.unchanged for row in self.rows)


#: Called after each file with (row, files done, files in total).
Progress = Callable[[IngestRow, int, int], None]


def ingest_paths(
    index: PrecedentIndex,
    paths: list[Path],
    overrides: Mapping[str, Any] | None = None,
    on_progress: Progress | None = None,
) -> IngestReport:
    """Index every supported document in `paths` (files or folders, recursively).

    Metadata comes from each file's `.meta.json` sidecar, else is inferred from its text; `overrides`
    (DocumentMeta fields, e.g. from command-line flags) win over both.
    """
    overrides = dict(overrides or {})
    _check_overrides(overrides)
    report = IngestReport()
    files: list[Path] = []
    for path in paths:
        try:
            files.extend(iter_document_files([path]))
        except DocumentError as exc:
            report.rows.append(IngestRow(path=str(path), skipped=exc.reason))
    if "doc_id" in overrides and len(files) > 1:
        raise ValueError(
            f"A doc_id override names one document, but {len(files)} files were given: "
            "ingest them one at a time, or give each a .meta.json sidecar with its own doc_id."
        )
    seen: dict[str, Path] = {}
    with index.batch():
        for done, path in enumerate(files, start=1):
            row = _ingest_file(index, path, overrides, seen)
            report.rows.append(row)
            if on_progress:
                on_progress(row, done, len(files))
    return report


def ingest_bundled(index: PrecedentIndex, on_progress: Progress | None = None) -> IngestReport:
    """Index the demo corpus shipped in the `corpus` package (every file has a sidecar)."""
    report = IngestReport()
    documents = bundled_documents()
    with index.batch():
        for done, (path, meta) in enumerate(documents, start=1):
            row = _ingest_text(index, path, meta)
            report.rows.append(row)
            if on_progress:
                on_progress(row, done, len(documents))
    return report


def _check_overrides(overrides: Mapping[str, Any]) -> None:
    unknown = sorted(set(overrides) - set(DocumentMeta.model_fields))
    if unknown:
        raise ValueError(f"Unknown metadata field(s) {', '.join(unknown)}: use DocumentMeta field names.")


def _ingest_file(index: PrecedentIndex, path: Path, overrides: dict[str, Any], seen: dict[str, Path]) -> IngestRow:
    try:
        text = read_text(path)
        meta = load_sidecar(path) or infer_meta(text, doc_id=path.stem, source=str(path))
        meta = DocumentMeta.model_validate({**meta.model_dump(), **overrides})
    except DocumentError as exc:
        return IngestRow(path=str(path), skipped=exc.reason)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return IngestRow(path=str(path), skipped=f"invalid metadata ({problems})")
    if meta.doc_id in seen:
        # Same stem in two folders: indexing both under one id would replace the first with the second.
        return IngestRow(
            path=str(path),
            doc_id=meta.doc_id,
            skipped=f"doc_id {meta.doc_id!r} is already used by {seen[meta.doc_id]} in this batch — "
            "give one of them a .meta.json sidecar with a distinct doc_id",
        )
    seen[meta.doc_id] = path
    return _ingest_text(index, path, meta, text)


def _ingest_text(index: PrecedentIndex, path: Path, meta: DocumentMeta, text: str | None = None) -> IngestRow:
    try:
        text = read_text(path) if text is None else text
    except DocumentError as exc:
        return IngestRow(path=str(path), doc_id=meta.doc_id, skipped=exc.reason)
    doc = parse_document(text, meta)
    if not (doc.precedents or doc.comments or doc.context):
        return IngestRow(path=str(path), doc_id=meta.doc_id, skipped="no text to index was found in the document")
    result = index.upsert_document(doc)
    return IngestRow(
        path=str(path),
        doc_id=meta.doc_id,
        precedents=len(doc.precedents),
        added=result.added,
        removed=result.removed,
        unchanged=result.unchanged,
        updated=result.updated,
    )

"""The bundled demo corpus (package data in `corpus/`) and the `.meta.json` sidecars that describe documents.

A sidecar sits beside its document: `report.pdf` → `report.meta.json`, holding `DocumentMeta` fields
(all optional; `doc_id` defaults to the document's file stem). The same reader serves the bundled
corpus and folders that users ingest.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from retrieval.loaders import SIDECAR_SUFFIX, SUPPORTED_SUFFIXES, DocumentError, is_sidecar
from retrieval.models import DocumentMeta


def corpus_dir() -> Path:
    """Folder of the bundled corpus, wherever the package is installed."""
    return Path(str(resources.files("corpus")))


def sidecar_path(document: Path) -> Path:
    return document.with_name(document.stem + SIDECAR_SUFFIX)


def load_sidecar(document: Path) -> DocumentMeta | None:
    """Read the sidecar of `document`, or None when it has none. A malformed sidecar is a `DocumentError`."""
    path = sidecar_path(Path(document))
    if not path.is_file():
        return None
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DocumentError(path, f"the metadata file is not valid JSON ({exc}) — fix or delete it") from exc
    if not isinstance(fields, dict):
        raise DocumentError(path, "the metadata file must hold a JSON object of DocumentMeta fields")
    fields.setdefault("doc_id", Path(document).stem)
    fields.setdefault("source", str(document))
    try:
        return DocumentMeta.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise DocumentError(path, f"invalid metadata ({problems}) — fix the field(s) named") from exc


def bundled_documents() -> list[tuple[Path, DocumentMeta]]:
    """Every bundled document with its metadata, sorted by file name. Each must have a sidecar."""
    documents: list[tuple[Path, DocumentMeta]] = []
    for path in sorted(corpus_dir().iterdir()):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES or is_sidecar(path):
            continue
        meta = load_sidecar(path)
        if meta is None:
            raise DocumentError(path, "bundled document has no .meta.json sidecar — the package is incomplete")
        documents.append((path, meta))
    return documents

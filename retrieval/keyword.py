"""BM25 keyword ranking over chunk texts (bm25s), with the search filters applied as a mask.

Dense vectors miss exact wording (recommendation numbers, programme names such as "Op Makesafe"); BM25
catches it. The index is derived data: Chroma is the source of truth, and this index is rebuilt from it
after every change and whenever it is missing or marked stale. It is persisted so a fresh process need not
re-tokenise the corpus: each build goes to its own folder and a `CURRENT` file, replaced atomically,
names the live one, so readers in other processes never see a half-written index.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from retrieval.models import SearchFilters

# bm25s sets its own logger to DEBUG at import, so every index build printed a line whatever the app's level.
logging.getLogger("bm25s").setLevel(logging.WARNING)

CURRENT = "CURRENT"
STALE = "STALE"
_COLUMNS = "columns.npz"
_GENERATION = "_generation"


@dataclass(frozen=True)
class KeywordEntry:
    """What the keyword index keeps per chunk: the text to match and the fields filters look at."""

    chunk_id: str
    text: str
    doc_id: str
    force_key: str
    inspection_type: str
    kind: str
    published_ord: int
    classification_level: int


def force_key(force: str) -> str:
    """Forces are matched case- and space-insensitively ("northumbria " finds "Northumbria")."""
    return " ".join(force.split()).casefold()


_STEMMER = Stemmer.Stemmer("english")
#: The longer English list (179 words): the short default keeps "we", "should", "would", which every
#: recommendation and response repeats.
_STOPWORDS = list(STOPWORDS_EN_PLUS)


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased words of two or more characters, English stopwords out, Snowball-stemmed."""
    return bm25s.tokenize(texts, stopwords=_STOPWORDS, stemmer=_STEMMER, return_ids=False, show_progress=False)


class KeywordIndex:
    """BM25 over a fixed set of chunks plus columnar filter fields; immutable once built."""

    def __init__(
        self, ids: np.ndarray, columns: dict[str, np.ndarray], bm25: bm25s.BM25 | None, generation: str = ""
    ) -> None:
        self.ids = ids
        self.columns = columns
        self.bm25 = bm25
        #: The store's write generation this index was built from ("" when the store has none).
        self.generation = generation
        self._position = {chunk_id: i for i, chunk_id in enumerate(ids.tolist())}

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, entries: Sequence[KeywordEntry], generation: str = "") -> KeywordIndex:
        ids = np.array([e.chunk_id for e in entries], dtype=str)
        columns = {
            "doc_id": np.array([e.doc_id for e in entries], dtype=str),
            "force_key": np.array([e.force_key for e in entries], dtype=str),
            "inspection_type": np.array([e.inspection_type for e in entries], dtype=str),
            "kind": np.array([e.kind for e in entries], dtype=str),
            "published_ord": np.array([e.published_ord for e in entries], dtype=np.int64),
            "classification_level": np.array([e.classification_level for e in entries], dtype=np.int64),
        }
        bm25 = None
        if entries:
            bm25 = bm25s.BM25()
            # allow_empty keeps one row per chunk even when a text is all stopwords.
            tokens = bm25s.tokenize(
                [e.text for e in entries], stopwords=_STOPWORDS, stemmer=_STEMMER, allow_empty=True, show_progress=False
            )
            bm25.index(tokens, show_progress=False)
        return cls(ids, columns, bm25, generation)

    # --- filtering and ranking -----------------------------------------------------------------------

    def mask(self, filters: SearchFilters) -> np.ndarray:
        """Boolean array: which chunks the filters allow (the same rules as the Chroma `where` clause)."""
        cols = self.columns
        allowed = cols["classification_level"] <= filters.max_classification.level
        if filters.force:
            allowed &= cols["force_key"] == force_key(filters.force)
        if filters.inspection_type is not None:
            allowed &= cols["inspection_type"] == filters.inspection_type.value
        if filters.kind is not None:
            allowed &= cols["kind"] == filters.kind.value
        if filters.published_from is not None:
            allowed &= cols["published_ord"] >= filters.published_from.toordinal()
        if filters.published_to is not None:
            # An unknown date (0) never falls inside a range someone asked for.
            allowed &= (cols["published_ord"] <= filters.published_to.toordinal()) & (cols["published_ord"] > 0)
        if filters.exclude_doc_ids:
            allowed &= ~np.isin(cols["doc_id"], list(filters.exclude_doc_ids))
        return allowed

    def allows(self, chunk_id: str, allowed: np.ndarray) -> bool:
        """Whether `allowed` (a mask) admits the chunk; a chunk unknown here is admitted, to be checked on
        its stored metadata by the caller (it was added after this index was built)."""
        position = self._position.get(chunk_id)
        return position is None or bool(allowed[position])

    def search(self, query: str, n: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top `n` (chunk id, BM25 score) among the allowed chunks, best first; only positive scores."""
        if self.bm25 is None or n <= 0:
            return []
        tokens = [t for t in tokenize([query])[0] if t in self.bm25.vocab_dict]
        if not tokens:
            return []
        weights = None if allowed is None else allowed.astype(np.float32)
        scores = self.bm25.get_scores(tokens, weight_mask=weights)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(str(self.ids[i]), float(scores[i])) for i in top if scores[i] > 0]

    # --- persistence ---------------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write into a fresh sub-folder, then point CURRENT at it (atomic rename), then prune old ones."""
        directory.mkdir(parents=True, exist_ok=True)
        name = f"v-{uuid.uuid4().hex[:12]}"
        target = directory / name
        target.mkdir()
        np.savez(target / _COLUMNS, ids=self.ids, **{_GENERATION: np.array(self.generation)}, **self.columns)
        if self.bm25 is not None:
            self.bm25.save(str(target / "bm25"), show_progress=False)
        pointer = directory / f".{CURRENT}.{name}"
        pointer.write_text(name, encoding="utf-8")
        os.replace(pointer, directory / CURRENT)
        for old in directory.glob("v-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex | None:
        """The persisted index, or None when there is none (or it is unreadable: it is rebuilt then)."""
        try:
            name = (directory / CURRENT).read_text(encoding="utf-8").strip()
            target = directory / name
            with np.load(target / _COLUMNS, allow_pickle=False) as data:
                ids = data["ids"]
                generation = str(data[_GENERATION]) if _GENERATION in data.files else ""
                columns = {key: data[key] for key in data.files if key not in {"ids", _GENERATION}}
            bm25 = None
            if (target / "bm25").is_dir():
                bm25 = bm25s.BM25.load(str(target / "bm25"), show_progress=False)
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            return None
        return cls(ids, columns, bm25, generation)


def state_token(directory: Path) -> tuple[int, int] | None:
    """Cheap fingerprint of the persisted index (changes whenever CURRENT is replaced)."""
    try:
        stat = (directory / CURRENT).stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns)


def mark_stale(directory: Path) -> None:
    """Record, before Chroma changes, that the persisted index may no longer match it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / STALE).touch()


def clear_stale(directory: Path) -> None:
    (directory / STALE).unlink(missing_ok=True)


def is_stale(directory: Path) -> bool:
    return (directory / STALE).exists()

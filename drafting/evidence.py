"""Evidence for each ask: own-force sentences about the same matter, or nothing.

For one finding the library is searched (hybrid search, own force only, under the place's classification
ceiling) with the finding and with each ask; the chunks found are cut into sentences, and every sentence is
scored against each ask by meaning (cosine of embeddings, against the ask and against the whole finding) and by
shared words. A calibrated gate keeps only sentences about the same matter: below it a sentence is not shown to
the model, not cited and not quoted. Before any scoring, a sentence that names another matter than the
finding's (domestic abuse for a stalking recommendation) is dropped (`drafting.themes`). Passages carry their
document, kind and date; one older than the
configured age is marked stale. Third-party documents (news, reports) are context for reviewers, never the
force's position; other forces' documents are never evidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field

from drafting.asks import Ask
from drafting.themes import names_the_matter, off_matter
from retrieval.chunking import SENTENCE_END
from retrieval.models import Chunk, ChunkSection, Classification, DocumentKind, Finding, SearchFilters, SearchHit

#: Relevance gate on `relevance()`: chosen on the development library (bench/gate.py, bench/README.md).
GATE = 0.50
#: Above this relevance a passage counts for an ask even if it uses none of the words only that ask uses.
SURE = 0.60
#: Third-party passages (news, reports) are shown to reviewers as context from this relevance, at most two.
CONTEXT_GATE = 0.45
MAX_CONTEXT = 2
#: At most this many passages per ask reach the draft (the best ones); more only lengthens the prompt.
MAX_PER_ASK = 3
SEARCH_K = 6
STALE_AFTER_YEARS = 3
_EVIDENCE_KINDS = frozenset(
    {DocumentKind.PCC_RESPONSE, DocumentKind.FORCE_POSITION, DocumentKind.BOARD_PAPER, DocumentKind.REGISTER_UPDATE}
)
_CONTEXT_KINDS = frozenset({DocumentKind.NEWS, DocumentKind.REPORT})
#: The PCC speaking ("I …", "My office …"), also after an opening word or phrase ("Overall, I am pleased …").
_PCC_FIRST_PERSON = re.compile(r"^(?:[A-Z][a-z]+(?: [a-z]+){0,2},\s+)?(?:I|My)\s")
_ANAPHOR = re.compile(
    r"^(?:The (?:process|hub|panel|team|unit|scheme|service|agreement|board|group|desk|system|review)|"
    r"This|These|That|It|Its|They|Such|Both)\b"
)
#: A passage joined from a sentence and the ones that lean on it stays this short.
MAX_PASSAGE_CHARS = 520
#: Sentences that report what an inspection found, or the PCC's own view: not the force's position on anything.
_ABOUT_THE_REPORT = re.compile(
    r"\b(?:report|inspection|inspectorate|HMICFRS|inspectors?)\b[^.]{0,60}?\b(?:found|find|concluded|identified|"
    r"judged|examined|assessed|said|noted|highlighted|recognised|praised)\b|^(?:I|We)\s+(?:welcome|note|asked)\b"
    r"|^(?:This|The purpose of this) (?:statement|paper|document|report|response)\b|\bset out below\b|\bas follows\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")
_STOP = frozenset(
    """
    a an the and or of to in on at by for with within from into that this these those their its it is are be
    been being was were will would should must can could may might has have had do does did not no all any every
    each such as so than then there which who whom whose what when where why how they them he she we our us you
    your i my me his her also more most less other make sure ensure force forces chief constables police their
    should
    """.split()
)

Embed = Callable[[list[str]], list[list[float]]]


class Retriever(Protocol):
    """What the evidence finder needs from the precedent index (the real one, or a test's canned hits)."""

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[SearchHit]: ...


class Evidence(BaseModel):
    """One own-force sentence that bears on one ask, with where it comes from and how old it is."""

    id: str = Field(..., description="E1, E2 …: how the prompt, the card and the plan refer to it")
    ask_id: str
    text: str
    chunk_id: str
    doc_id: str
    title: str = ""
    inspection_title: str = ""
    force: str = ""
    kind: DocumentKind = DocumentKind.PCC_RESPONSE
    classification: Classification = Classification.OFFICIAL
    dated: date | None = Field(None, description="When the force said it: the response date, else publication")
    relevance: float = 0.0
    stale: bool = False

    @property
    def month(self) -> str:
        return self.dated.strftime("%B %Y") if self.dated else "an earlier response"


@dataclass(frozen=True)
class Found:
    """Evidence per ask (in ask order) and third-party context."""

    by_ask: dict[str, list[Evidence]]
    context: list[Evidence]


@dataclass(frozen=True)
class Chosen:
    """Which candidates the gate lets through, by index: per ask (best first), and as context (with the index
    of the ask it came in for)."""

    by_ask: dict[str, list[int]]
    context: list[tuple[int, int]]


@dataclass(frozen=True)
class Candidate:
    text: str
    chunk: Chunk
    third_party: bool


class EvidenceFinder:
    def __init__(
        self,
        retriever: Retriever,
        embed: Embed,
        *,
        gate: float = GATE,
        max_per_ask: int = MAX_PER_ASK,
        stale_after_years: int = STALE_AFTER_YEARS,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.retriever = retriever
        self.embed = embed
        self.gate = gate
        self.max_per_ask = max_per_ask
        self.stale_after_years = stale_after_years
        self.today = today

    def find(
        self,
        finding: Finding,
        asks: Sequence[Ask],
        force: str,
        ceiling: Classification,
        exclude_doc_ids: tuple[str, ...] = (),
        inspection_title: str = "",
        pcc_voice: bool = False,
    ) -> Found:
        filters = SearchFilters(force=force, max_classification=ceiling, exclude_doc_ids=exclude_doc_ids)
        candidates = self.candidates(finding, asks, filters, inspection_title, pcc_voice=pcc_voice)
        if not candidates or not asks:
            return Found({ask.id: [] for ask in asks}, [])
        scores = relevance(self.features(finding, asks, candidates, inspection_title))
        return self._found(asks, candidates, scores, self.choose(asks, candidates, scores))

    # ── candidates: sentences of the own force's chunks the searches found ─────────────────────────────

    def candidates(
        self,
        finding: Finding,
        asks: Sequence[Ask],
        filters: SearchFilters,
        inspection_title: str = "",
        *,
        pcc_voice: bool = False,
    ) -> list[Candidate]:
        """`pcc_voice` False (a force position statement): the PCC's own "I …" sentences are not the force's."""
        queries = [f"{inspection_title}\n{finding.text}".strip(), *(ask.text for ask in asks)]
        chunks: dict[str, Chunk] = {}
        for query in queries:
            for hit in self.retriever.search(query, k=SEARCH_K, filters=filters):
                chunks.setdefault(hit.chunk.id, hit.chunk)
        out: list[Candidate] = []
        seen: set[str] = set()
        for chunk in chunks.values():
            third_party = chunk.meta.kind in _CONTEXT_KINDS
            if not third_party and chunk.meta.kind not in _EVIDENCE_KINDS:
                continue
            for sentence in sentences_of(chunk):
                key = _norm(sentence)
                if key in seen or off_matter(sentence, _topic(chunk), finding.text, inspection_title):
                    continue
                if not pcc_voice and _PCC_FIRST_PERSON.match(sentence):
                    continue
                seen.add(key)
                out.append(Candidate(sentence, chunk, third_party))
        return out

    # ── scoring and the gate ─────────────────────────────────────────────────────────────────────────────

    def features(
        self, finding: Finding, asks: Sequence[Ask], candidates: list[Candidate], inspection_title: str = ""
    ) -> np.ndarray:
        """candidates × asks × 5: how the sentence bears on the ask and on the matter.

        Meaning against the ask, against the whole finding, and of the matter the source answered (the
        recommendation the sentence was an answer to, or its inspection) against the finding; the share of the
        ask's words the sentence uses; and whether the sentence or its source names one of the finding's matters.
        """
        n_asks, n = len(asks), len(candidates)
        texts = [finding.text, *(a.text for a in asks), *(c.text for c in candidates), *map(_topic_of, candidates)]
        vectors = _unit(np.asarray(self.embed(texts), dtype=np.float32))
        finding_vec, ask_vecs = vectors[0], vectors[1 : 1 + n_asks]
        cand_vecs, topic_vecs = vectors[1 + n_asks : 1 + n_asks + n], vectors[1 + n_asks + n :]
        columns = [
            cand_vecs @ ask_vecs.T,
            np.repeat((cand_vecs @ finding_vec)[:, None], n_asks, axis=1),
            np.repeat((topic_vecs @ finding_vec)[:, None], n_asks, axis=1),
            np.array([[word_overlap(c.text, a.text) for a in asks] for c in candidates]),
            np.repeat(np.array([_named(c, finding, inspection_title) for c in candidates])[:, None], n_asks, axis=1),
        ]
        return np.stack(columns, axis=-1)

    def choose(
        self, asks: Sequence[Ask], candidates: list[Candidate], scores: np.ndarray, gate: float | None = None
    ) -> Chosen:
        """The gate (`self.gate` unless told, for calibration) on candidates × asks relevance `scores`."""
        gate = self.gate if gate is None else gate
        by_ask: dict[str, list[int]] = {ask.id: [] for ask in asks}
        context: list[tuple[int, int]] = []
        distinct = distinctive_words(asks)
        for j, ask in enumerate(asks):
            for i in map(int, np.argsort(-scores[:, j])):
                candidate, score = candidates[i], float(scores[i, j])
                if candidate.third_party:
                    fresh = all(candidates[c].text != candidate.text for c, _ in context)
                    if score >= CONTEXT_GATE and fresh and len(context) < MAX_CONTEXT:
                        context.append((i, j))
                    continue
                if score < gate or len(by_ask[ask.id]) >= self.max_per_ask:
                    continue
                if score < SURE and distinct[ask.id] and not distinct[ask.id] & content_words(candidate.text):
                    continue  # it answers what this ask shares with another, not what only this one asks
                by_ask[ask.id].append(i)
        return Chosen(by_ask, context)

    def _found(self, asks: Sequence[Ask], candidates: list[Candidate], scores: np.ndarray, chosen: Chosen) -> Found:
        by_ask: dict[str, list[Evidence]] = {ask.id: [] for ask in asks}
        counter = 0
        for j, ask in enumerate(asks):
            for i in chosen.by_ask[ask.id]:
                counter += 1
                by_ask[ask.id].append(self._evidence(f"E{counter}", ask.id, candidates[i], float(scores[i, j])))
        context = [
            self._evidence(f"C{n}", asks[j].id, candidates[i], float(scores[i, j]))
            for n, (i, j) in enumerate(chosen.context, start=1)
        ]
        return Found(by_ask, context)

    def _evidence(self, ref: str, ask_id: str, candidate: Candidate, score: float) -> Evidence:
        meta = candidate.chunk.meta
        dated = meta.response_date or meta.published
        return Evidence(
            id=ref,
            ask_id=ask_id,
            text=candidate.text,
            chunk_id=candidate.chunk.id,
            doc_id=candidate.chunk.doc_id,
            title=meta.title,
            inspection_title=meta.inspection_title,
            force=meta.force,
            kind=meta.kind,
            classification=meta.classification,
            dated=dated,
            relevance=round(score, 3),
            stale=self._is_stale(dated),
        )

    def _is_stale(self, dated: date | None) -> bool:
        if dated is None:
            return True  # an undated statement cannot be shown to be current
        today = self.today()
        try:
            cutoff = today.replace(year=today.year - self.stale_after_years)
        except ValueError:  # 29 February
            cutoff = today.replace(year=today.year - self.stale_after_years, day=28)
        return dated < cutoff


#: Weights of `features()` (ask, finding, topic, words, matter named), fitted on the development library
#: (bench/gate.py).
WEIGHTS = (0.0, 0.1, 0.3, 0.4, 0.2)


def relevance(features: np.ndarray, weights: Sequence[float] = WEIGHTS) -> np.ndarray:
    """One number per (sentence, ask) from its features.

    The finding and topic terms keep an ask's short wording ("share that information with partner agencies")
    from matching a sentence about another matter (the topic is the recommendation the source sentence was an
    answer to, or its inspection); the word term rewards the named things an answer must mention.
    """
    return features @ np.asarray(weights, dtype=np.float32)


def _named(candidate: Candidate, finding: Finding, inspection_title: str) -> float:
    return names_the_matter(candidate.text, _topic(candidate.chunk), finding.text, inspection_title)


def _topic_of(candidate: Candidate) -> str:
    return _topic(candidate.chunk)


def _topic(chunk: Chunk) -> str:
    return chunk.recommendation or chunk.meta.inspection_title or chunk.meta.title


def sentences_of(chunk: Chunk) -> list[str]:
    """The statements a chunk makes about what was done: its answer's (or comment's) sentences, less its
    title, sign-offs, and sentences that only report what the inspection found or the PCC's welcome."""
    if chunk.section is ChunkSection.PRECEDENT:
        body = chunk.response
    else:
        body = chunk.text.removeprefix(chunk.meta.inspection_title).strip()
    out: list[str] = []
    for paragraph in body.split("\n"):
        kept: list[str] = []
        for sentence in SENTENCE_END.split(" ".join(paragraph.split())):
            sentence = sentence.strip(" •-")
            if len(sentence.split()) < 5 or sentence.startswith(("Yours", "Kind regards")):
                continue
            if chunk.meta.kind not in _CONTEXT_KINDS and _ABOUT_THE_REPORT.search(sentence):
                continue
            if kept and _continues(sentence) and len(kept[-1]) + len(sentence) < MAX_PASSAGE_CHARS:
                kept[-1] = f"{kept[-1]} {sentence}"  # "The process …" means the one just named
            else:
                kept.append(sentence)
        out.extend(kept)
    return out


def _continues(sentence: str) -> bool:
    """A sentence that leans on the one before it ("The process addresses …", "It is …", "… also …")."""
    return bool(_ANAPHOR.match(sentence)) or " also " in " ".join(sentence.split()[:7])


def distinctive_words(asks: Sequence[Ask]) -> dict[str, set[str]]:
    """Per ask, the content words no other ask of the finding uses (empty for a finding of one ask)."""
    words = {ask.id: content_words(ask.text) for ask in asks}
    out = {}
    for ask in asks:
        others = set().union(*(w for other, w in words.items() if other != ask.id)) if len(asks) > 1 else words[ask.id]
        out[ask.id] = words[ask.id] - others
    return out


def content_words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


def word_overlap(sentence: str, ask: str) -> float:
    """Share of the ask's content words (crudely stemmed) that the sentence uses."""
    wanted = content_words(ask)
    return len(wanted & content_words(sentence)) / len(wanted) if wanted else 0.0


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "ers", "er", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))

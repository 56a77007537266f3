"""Sentence by sentence: is each statement of a draft borne out by the finding or by a passage that passed the gate?

A sentence is supported by the passage it shares most of its content words with (crudely stemmed), or that it
means nearly the same as (cosine of embeddings, when an embedder is given). Placeholders and the office's fixed
frame ("I will monitor progress …", "This recommendation is addressed to …") need no support. A sentence that
only the finding supports and that makes the force do something ("The force will …") restates the
recommendation as the force's commitment: the finding is what is asked, not evidence that it is done.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from drafting.composer import DATED_OPENING
from drafting.evidence import Embed, content_words
from drafting.fact_check import PLACEHOLDER

WORD_SUPPORT = 0.5
MEANING_SUPPORT = 0.8
_SENTENCE = re.compile(r"(?<=[.!?”])\s+(?=[A-Z“\[])")
_FRAME = re.compile(
    r"^(?:I will monitor\b|I note this recommendation\b|This recommendation is addressed to\b"
    rf"|The Chief Constable has provided me with a position statement\b|{DATED_OPENING}"
    r"|[A-Z][\w ]{0,40}? (?:will await the outcome|will support this national work|will contribute to this work))",
)
_COMMITS = re.compile(
    r"\b(?:the force|it|we|[A-Z][a-z]+ (?:Police|Constabulary))\b[^.]{0,60}?\b(?:will|shall|is committed to|commits|"
    r"accepts?|has agreed|intends to|plans to|is going to)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Passage:
    id: str
    text: str


@dataclass(frozen=True)
class Support:
    sentence: str
    by: str | None  # the passage id that supports it; "finding" or "frame"; None when nothing does
    score: float
    restates: bool = False  # supported only by the finding, and says the force will do what it asks


def sentences(text: str) -> list[str]:
    """The sentences of a text, each placeholder its own boundary (so "“…” [CONFIRM: …] In 2020 …" splits)."""
    marked = PLACEHOLDER.sub(lambda m: f"{m.group(0)}\x00", " ".join(text.split()))
    pieces = [p for part in marked.split("\x00") for p in _SENTENCE.split(part)]
    return [p.strip() for p in pieces if p.strip()]


def support(
    text: str, passages: Sequence[Passage], finding: str, embed: Embed | None = None, extra: Sequence[str] = ()
) -> list[Support]:
    """Each sentence of `text` with what supports it. `extra` are texts a person supplied (an instruction)."""
    out: list[Support] = []
    pool = [*passages, *(Passage(f"person{i}", t) for i, t in enumerate(extra) if t)]
    items = sentences(text)
    meaning = _meaning(items, pool, finding, embed)
    for i, sentence in enumerate(items):
        bare = PLACEHOLDER.sub(" ", sentence)
        if not content_words(bare) or _FRAME.search(sentence.lstrip("“")):
            out.append(Support(sentence, "frame", 1.0))
            continue
        scores = [_word_support(bare, p.text) for p in pool]
        if meaning is not None:
            scores = [
                max(w, float(m)) if m >= MEANING_SUPPORT else w for w, m in zip(scores, meaning[i][:-1], strict=True)
            ]
        # A tie goes to the passage the sentence says most of: a sentence taken whole from a short passage is
        # that passage's, not a longer one's that happens to hold all the same words.
        best = max(range(len(scores)), key=lambda j: (scores[j], _word_support(pool[j].text, bare)), default=-1)
        if best >= 0 and scores[best] >= WORD_SUPPORT:
            out.append(Support(sentence, pool[best].id, scores[best]))
            continue
        to_finding = _word_support(bare, finding)
        if meaning is not None and meaning[i][-1] >= MEANING_SUPPORT:
            to_finding = max(to_finding, float(meaning[i][-1]))
        if to_finding >= WORD_SUPPORT:
            out.append(Support(sentence, "finding", to_finding, restates=bool(_COMMITS.search(bare))))
            continue
        out.append(Support(sentence, None, max([to_finding, *scores])))
    return out


def _word_support(sentence: str, passage: str) -> float:
    words = content_words(sentence)
    return len(words & content_words(passage)) / len(words) if words else 1.0


def _meaning(items: list[str], pool: Sequence[Passage], finding: str, embed: Embed | None) -> np.ndarray | None:
    """sentences × (passages + finding) cosine similarities, or None without an embedder."""
    if embed is None or not items:
        return None
    texts = [*items, *(p.text for p in pool), finding]
    vectors = np.asarray(embed(texts), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    return vectors[: len(items)] @ vectors[len(items) :].T

"""The passage of a chunk that best matches a query: the sentences a person should read first (pure).

A search hit is a whole chunk (a recommendation and its response, a paragraph of comments), and its opening
is usually the inspection's title, which says nothing about why it matched. `best_passage` picks the
sentence that shares the most query terms, then adds a neighbouring sentence while it brings in query terms
the passage lacks, or while the passage is still short, up to `max_chars`. Terms are compared the way the
keyword index compares them: lower-cased words of two or more characters, English stopwords out,
Snowball-stemmed, with policing acronyms and their long forms counted as each other ("CSE" matches "child
sexual exploitation"). A chunk with no query term in it gives its first sentences. A sentence longer than
`max_chars` is cut at word boundaries around its first matching word, marked with "…" where cut.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from retrieval.glossary import expand_query

#: A passage this short gets the next sentence too, for context.
MIN_CHARS = 120
MAX_CHARS = 320
_WORD = re.compile(r"(?u)\b\w\w+\b")  # the keyword index's token pattern (bm25s)
#: A sentence ends at . ! ? or … (then any closing quote or bracket) followed by space and a capital letter;
#: not before a digit, so "31 Dec. 2024" stays whole.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)\]]*\s+(?=[\"“‘(\[]?[A-Z])")
_STOPWORDS = frozenset(STOPWORDS_EN_PLUS)


@dataclass(frozen=True)
class Passage:
    text: str
    #: The words of `text` that match a query term, as written there (for highlighting), in order.
    words: tuple[str, ...] = ()
    #: How many of the query's terms the passage contains (0: nothing matched, `text` is the chunk's start).
    matched: int = 0


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def terms(text: str) -> set[str]:
    """The stemmed, stopword-free terms of `text`, its acronyms' long forms (and long forms' acronyms) too."""
    return {_stem(word) for word in _words(expand_query(text))}


def _words(text: str) -> list[str]:
    return [w for w in (m.group().lower() for m in _WORD.finditer(text)) if w not in _STOPWORDS]


def _stem(word: str) -> str:
    return _stemmer().stemWord(word.lower())


def sentences(text: str) -> list[str]:
    """The sentences of `text`, each line split at sentence ends, whitespace collapsed, empty ones dropped."""
    found = []
    for line in text.splitlines():
        for part in _SENTENCE_END.split(line):
            sentence = " ".join(part.split())
            if sentence:
                found.append(sentence)
    return found


def best_passage(
    text: str, query: str, max_chars: int = MAX_CHARS, skip: Collection[str] = (), prefer: str = ""
) -> Passage:
    """The sentences of `text` that best match `query`, at most `max_chars` long (see the module docstring).

    A sentence equal to one in `skip` (a heading every chunk repeats, such as the inspection's title) is left
    out. Between sentences matching as many query terms, one from `prefer` (the response part of a chunk that
    also quotes the recommendation) wins, then the earliest.
    """
    omit = {" ".join(s.split()) for s in skip}
    parts = [part for part in sentences(text) if part not in omit]
    if not parts:
        return Passage("")
    wanted = terms(query)
    found = [terms(part) & wanted for part in parts]
    preferred = sentences(prefer)
    liked = [any(p in part for p in preferred) for part in parts]
    anchor = max(range(len(parts)), key=lambda i: (len(found[i]), liked[i], -i))
    first = last = anchor
    covered = set(found[anchor])

    def length(start: int, end: int) -> int:
        return sum(len(p) for p in parts[start : end + 1]) + (end - start)

    while True:
        options = [i for i in (last + 1, first - 1) if 0 <= i < len(parts)]
        options = [i for i in options if length(min(first, i), max(last, i)) <= max_chars]
        if not options:
            break
        gain = {i: len(found[i] - covered) for i in options}
        best = max(options, key=lambda i: (gain[i], i > last))  # new terms first; after rather than before
        if gain[best] == 0 and length(first, last) >= MIN_CHARS:
            break
        if gain[best] == 0 and best < first:
            break  # context comes from what follows, not from what precedes the match
        first, last = min(first, best), max(last, best)
        covered |= found[best]
    passage = " ".join(parts[first : last + 1])
    if len(passage) > max_chars:
        passage = _cut(passage, wanted, max_chars)
    return Passage(passage, matching_words(passage, wanted), len(covered))


def matching_words(text: str, wanted: set[str]) -> tuple[str, ...]:
    """The words of `text` (as written) whose stem is one of `wanted`, each once, in order."""
    seen: dict[str, None] = {}
    for match in _WORD.finditer(text):
        word = match.group()
        if word.lower() not in _STOPWORDS and _stem(word) in wanted:
            seen.setdefault(word, None)
    return tuple(seen)


def _cut(sentence: str, wanted: set[str], max_chars: int) -> str:
    """A window of whole words around the first matching word, "…" marking each end that was cut."""
    words = sentence.split()
    hit = next((i for i, w in enumerate(words) if wanted & {_stem(t) for t in _words(w)}), 0)
    start = max(0, hit - 6)  # a few words of lead-in before the match
    end = start
    size = 0
    while end < len(words) and size + len(words[end]) + 1 <= max_chars - 2:
        size += len(words[end]) + 1
        end += 1
    end = max(end, start + 1)
    text = " ".join(words[start:end])
    return ("…" if start > 0 else "") + text + ("…" if end < len(words) else "")

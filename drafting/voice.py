"""Whose voice a sentence is in. The office's response speaks as the PCC ("I …") and of the force in the third
person ("The force has …"); a board paper's "we" or another force's "The Constabulary" is someone else's.

`in_force_voice` turns the force's own first person (its board papers and position statements) into the third
person before a sentence is used; `other_voices` finds what is still in another body's voice.
"""

from __future__ import annotations

import re

from drafting.models import GuardFinding, GuardKind
from retrieval.models import DocumentKind

#: Documents written by the force itself: their "we" is the force.
FORCE_WRITTEN = frozenset({DocumentKind.BOARD_PAPER, DocumentKind.FORCE_POSITION, DocumentKind.REGISTER_UPDATE})

_REPLACEMENTS = (
    # The verb agrees with "the force" (singular): "We have trained" → "The force has trained".
    (re.compile(r"^We (?:have|'ve)\b"), "The force has"),
    (re.compile(r"\bwe (?:have|'ve)\b"), "the force has"),
    (re.compile(r"^We are\b"), "The force is"),
    (re.compile(r"\bwe are\b"), "the force is"),
    (re.compile(r"^We were\b"), "The force was"),
    (re.compile(r"\bwe were\b"), "the force was"),
    (re.compile(r"^We\b"), "The force"),
    (re.compile(r"\bwe\b"), "the force"),
    (re.compile(r"^Our\b"), "The force's"),
    (re.compile(r"\bour\b"), "the force's"),
    (re.compile(r"\bus\b"), "the force"),
    (re.compile(r"^Ours\b"), "The force's"),
)
_CONSTABULARY = re.compile(r"\b[Tt]he Constabulary(['’]s)?\b")
_FIRST_PLURAL = re.compile(r"\b(?:we|our|us|ours)\b", re.IGNORECASE)


def in_force_voice(sentence: str, kind: DocumentKind, force_name: str) -> str:
    """A sentence from the force's own document, made to speak of the force in the third person."""
    text = sentence
    if kind in FORCE_WRITTEN:
        for pattern, replacement in _REPLACEMENTS:
            text = pattern.sub(replacement, text)
    if not _is_constabulary(force_name):
        text = _CONSTABULARY.sub(_the_force, text)
    return text


def _the_force(match: re.Match[str]) -> str:
    return ("The force" if match.start() == 0 else "the force") + (match.group(1) or "")


def other_voices(text: str, force_name: str, force_written: list[str]) -> list[GuardFinding]:
    """'The Constabulary' in a force not so called, and any 'we/our' in a sentence taken from the force's
    own documents (`force_written`: the sentences of the draft that such a document supports)."""
    findings = []
    if not _is_constabulary(force_name) and (match := _CONSTABULARY.search(text)):
        findings.append(
            GuardFinding(
                kind=GuardKind.OTHER_VOICE,
                detail=f"'{match.group(0)}' is another body's name for itself; this response is about {force_name}.",
                span=match.group(0),
            )
        )
    for sentence in force_written:
        if match := _FIRST_PLURAL.search(sentence):
            findings.append(
                GuardFinding(
                    kind=GuardKind.OTHER_VOICE,
                    detail=f"'{match.group(0)}' is the force's own voice from its paper; the PCC's response speaks "
                    "of the force in the third person.",
                    span=sentence,
                )
            )
    return findings


def _is_constabulary(force_name: str) -> bool:
    return "constabulary" in force_name.lower()

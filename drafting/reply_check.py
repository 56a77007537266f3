"""Why a model's rewrite of the composed draft cannot be used: each problem a short reason, none if it can.

A reply is refused, like a malformed one, when it repeats itself, restates the recommendation as the force's
commitment, names an owner or a deadline no source gives, announces a decision the office has not taken,
states something no passage supports, drops a fact of the composed draft, or is the wrong length. (A dropped
placeholder is put back by the chain before these checks.) Reasons are for the retry prompt and the log; the
model's own words never reach a reviewer.
"""

from __future__ import annotations

import re
from collections import Counter

from drafting.fact_check import facts_in
from drafting.support import Support

MIN_WORDS, MAX_WORDS = 12, 260
_DECISION = re.compile(
    r"\b(?:accepts?|accepted|rejects?|welcomes?) (?:this|the|each|all|these) recommendations?\b"
    r"|\bpartially accepts?\b|\bno action (?:is|will be) (?:taken|proposed)\b",
    re.IGNORECASE,
)
_OWNER = re.compile(r"\b(?:led|owned|overseen|chaired|managed|championed) by\b", re.IGNORECASE)
_EXPANSION = re.compile(r"((?:[A-Z][\w'’-]*\s+(?:(?:and|of|for|the|&)\s+)*){1,6})\(([A-Z]{2,})\)")
#: What a draft in prose never holds: JSON, code fences, chat-template tokens, field names.
_MARKUP = re.compile(r"[{}]|```|<\|[\w-]+\|>|</?[a-z_]+>|\b(?:cited_ids|placeholders|rationale)\s*[:=]")
_DEADLINE = re.compile(r"\b(?:expected|due|scheduled|planned|completed?|delivered|in place) by\b", re.IGNORECASE)


class Problem(str):
    """A reason a rewrite was refused: the whole text for the retry prompt and the log (it may quote the
    model); `reason` alone, which never does, for the note a reviewer sees. `malformed`: the reply is not a
    usable draft at all (markup, the wrong length, a loop, cut off), whatever it says."""

    reason: str
    malformed: bool

    def __new__(cls, reason: str, detail: str = "", *, malformed: bool = False) -> Problem:
        problem = super().__new__(cls, f"{reason}: {detail}" if detail else reason)
        problem.reason = reason
        problem.malformed = malformed
        return problem


def reply_problems(reply: str, composed: str, supports: list[Support], *, keep_all: bool = True) -> list[Problem]:
    """`keep_all` False (a reviewer asked for changes): dropping a fact or a placeholder may be what was asked."""
    problems: list[Problem] = []
    words, wanted = len(reply.split()), len(composed.split())
    low, high = max(MIN_WORDS, int(0.6 * wanted)), min(MAX_WORDS, max(MIN_WORDS, int(1.6 * wanted)))
    if (markup := _MARKUP.search(reply)) and markup.group(0) not in composed:
        problems.append(
            Problem("it is not plain prose", f"write sentences only, no “{markup.group(0)}”", malformed=True)
        )
    if not low <= words <= high:
        detail = f"{words} words; keep it between {low} and {high} words"
        # Far off the length asked for is no draft at all (an echo of the prompt, a stray fragment, a dump).
        way_off = words > 2 * high or words < low // 2
        problems.append(Problem("it is the wrong length", detail, malformed=way_off))
    if repeats(reply):
        problems.append(Problem("it repeats itself", malformed=True))
    if _DECISION.search(reply) and not _DECISION.search(composed):
        problems.append(Problem("it announces a decision on the recommendation, which is the reviewer's to take"))
    for item in supports:
        quoted = f"“{_short(item.sentence)}”"
        if item.by is None:
            problems.append(Problem("it says something no source supports", quoted))
        elif item.restates:
            problems.append(Problem("it restates the recommendation as the force's commitment", quoted))
        elif item.by == "finding" and (_OWNER.search(item.sentence) or _DEADLINE.search(item.sentence)):
            problems.append(Problem("it gives an owner or a deadline no source states", quoted))
    if not keep_all:
        return problems
    for expansion, short in _EXPANSION.findall(reply):
        if _norm(f"{expansion}({short})") not in _norm(composed).replace(" (", "("):
            problems.append(
                Problem("it spells out an abbreviation no source spells out", f"{short} as “{expansion.strip()}”")
            )
    lost = [fact for fact in facts_in(composed) if _norm(fact) not in _norm(reply)]
    if lost:
        problems.append(Problem("it dropped a fact of the draft; keep every name, number and date", f"“{lost[0]}”"))
    return problems


def repeats(text: str, size: int = 5, times: int = 3) -> bool:
    """A sentence said twice, or a run of `size` words said `times` times: a model looping."""
    sentences = [" ".join(s.lower().split()) for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) > 3]
    if len(sentences) != len(set(sentences)):
        return True
    words = re.findall(r"\w+", text.lower())
    grams = Counter(tuple(words[i : i + size]) for i in range(len(words) - size + 1))
    return any(count >= times for count in grams.values())


def _short(sentence: str, limit: int = 90) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + "…"


def _norm(text: str) -> str:
    return re.sub(r"[\s,]+", " ", text.replace("’", "'")).lower()

"""The fact checker: every draft is checked against what retrieval actually returned before anyone sees it.

Facts (dates, numbers, named people / teams / systems / programmes) must appear in the recommendation or in
an own-force source; anything else becomes a `[CONFIRM: …]` placeholder. Another force's precedent is a
model of wording only: a fact found only there, or a long passage lifted from it that carries facts, is
reported as another force's fact. Cited ids must be among the retrieved chunks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel

from drafting.models import GuardFinding, GuardKind

PLACEHOLDER = re.compile(r"\[CONFIRM:[^\]]*\]")
_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\.?(?:\s+\d{{4}})?"
    rf"|(?:spring|summer|autumn|winter|{_MONTHS})\s+\d{{4}}"
    r"|\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}|(?:19|20)\d{2}(?:[-–/]\d{2,4})?)\b",
    re.I,
)
_NUMBER = re.compile(r"(?<![\w-])\d+(?:[.,]\d+)*%?(?![\w-])")
_NAME = re.compile(
    r"\b[A-Z][\w'’&-]*(?:\s+(?:(?:and|of|for|the|&|on|in)\s+)*[A-Z][\w'’&-]*)*",
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;•\n]\s*|\(\s*)$")

# Capitalised words that name no local fact: institutions every response names, the office's own titles,
# and words a sentence or heading may capitalise.
_COMMON = {
    "i", "the", "a", "an", "this", "these", "that", "it", "we", "our", "my", "in", "on", "by", "for", "with",
    "and", "of", "to", "as", "at", "all", "any", "each", "further", "where", "when", "while", "although",
    "however", "following", "through", "since", "until", "there", "they", "he", "she", "yours", "sincerely",
    "chief", "constable", "constables", "police", "crime", "commissioner", "commissioners", "pcc", "pccs",
    "opcc", "hmicfrs", "hmic", "inspectorate", "constabulary", "force", "forces", "office", "home", "secretary",
    "college", "policing", "npcc", "national", "chiefs", "council", "cps", "crown", "prosecution", "service",
    "ministry", "justice", "department", "education", "government", "recommendation", "recommendations",
    "area", "areas", "improvement", "improvements", "cause", "causes", "concern", "report", "inspection",
    "scrutiny", "england", "wales", "uk", "act", "section", "position", "statement", "response", "action",
    "actions", "plan", "owner", "timescale", "status", "update", "progress", "lead", "confirm", "not",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mr", "mrs", "ms", "dr",
    "afi", "his", "her", "majesty's", "majesty’s",
}  # fmt: skip


class GuardResult(BaseModel):
    text: str
    findings: list[GuardFinding]
    cited_ids: list[str]
    placeholders: list[str]


class ForeignSource(BaseModel):
    force: str
    text: str


def check_draft(
    text: str,
    *,
    cited_ids: Iterable[str],
    retrieved_ids: Iterable[str],
    evidence: Iterable[str],
    foreign: Iterable[ForeignSource] = (),
    own_force: str = "",
    aliases: dict[str, str] | None = None,
    require_citation: bool = True,
) -> GuardResult:
    """Check one draft. `evidence` is the finding text plus own-force source texts.

    `require_citation` False: the caller checks support sentence by sentence, and a draft of placeholders
    alone rightly cites nothing.
    """
    findings: list[GuardFinding] = []
    valid_ids = _check_citations(list(cited_ids), set(retrieved_ids), findings)
    evidence_blob = _norm(" ".join(evidence))
    foreign = list(foreign)
    known = _Known(evidence_blob, own_force, aliases or {})
    lifted = _lifted_passages(text, foreign)  # on the model's own words, before placeholders cut runs up
    text = _replace_unsupported(text, known, foreign, findings)
    findings.extend(lifted)
    if require_citation and not valid_ids:
        findings.append(
            GuardFinding(
                kind=GuardKind.NO_GROUNDING,
                detail="The draft cites none of the retrieved sources: treat it as ungrounded wording.",
            )
        )
    return GuardResult(text=text, findings=findings, cited_ids=valid_ids, placeholders=placeholders_in(text))


def facts_in(text: str) -> list[str]:
    """The dates, numbers and names a text states (what a rewrite must keep), in order, without repeats."""
    return list(dict.fromkeys(span for span, _what in _facts(text, _Known("", "", {}))))


def placeholders_in(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for match in PLACEHOLDER.finditer(text):
        seen.setdefault(match.group(0)[len("[CONFIRM:") : -1].strip(), None)
    return list(seen)


def _check_citations(cited: list[str], retrieved: set[str], findings: list[GuardFinding]) -> list[str]:
    valid: list[str] = []
    for cid in dict.fromkeys(cited):
        if cid in retrieved:
            valid.append(cid)
        else:
            findings.append(
                GuardFinding(
                    kind=GuardKind.INVALID_CITATION,
                    detail=f"Cited source {cid!r} was not among the retrieved sources; citation removed.",
                    span=cid,
                )
            )
    return valid


class _Known:
    """What the guard accepts as supported: the evidence text, the own force's name, common words."""

    def __init__(self, evidence: str, own_force: str, aliases: dict[str, str]) -> None:
        self.evidence = evidence
        self.own = {w for w in _norm(own_force).split() if w}
        self.aliases = {_norm(k): _norm(v) for k, v in aliases.items()}

    def supports(self, span: str) -> bool:
        norm = _norm(span)
        if not norm or _contains(self.evidence, norm):
            return True
        alias = self.aliases.get(norm)
        return bool(alias and _contains(self.evidence, alias))

    def is_common_name(self, span: str) -> bool:
        words = _norm(span).split()
        return all(w in _COMMON or w in self.own for w in words)


def _replace_unsupported(text: str, known: _Known, foreign: list[ForeignSource], findings: list[GuardFinding]) -> str:
    for span, what in _facts(text, known):
        if known.supports(span):
            continue
        owner = next((f.force for f in foreign if _contains(_norm(f.text), _norm(span))), None)
        if owner:
            kind = GuardKind.FOREIGN_FACT
            detail = f"{what.capitalize()} '{span}' comes from {owner}'s response, not from this force's sources."
        else:
            kind = GuardKind.UNSUPPORTED_FACT
            detail = f"{what.capitalize()} '{span}' is not in the recommendation or any own-force source."
        findings.append(GuardFinding(kind=kind, detail=detail, span=span, replaced=True))
        text = _substitute(text, span)
    return text


def _facts(text: str, known: _Known) -> list[tuple[str, str]]:
    """Dates first (they contain numbers), then numbers, then names; placeholders are skipped."""
    masked = PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), text)
    facts: list[tuple[str, str]] = []
    for match in _DATE.finditer(masked):
        facts.append((match.group(0), "date"))
    masked = _DATE.sub(lambda m: " " * len(m.group(0)), masked)
    for match in _NUMBER.finditer(masked):
        facts.append((match.group(0), "number"))
    for match in _NAME.finditer(masked):
        span = _trim_name(match.group(0), masked[: match.start()], known)
        if span:
            facts.append((span, "name"))
    return list(dict.fromkeys(facts))


def _trim_name(span: str, before: str, known: _Known) -> str:
    words = span.split()
    # A capitalised first word of a sentence is not a name on its own account.
    while words and _norm(words[0]) in _COMMON:
        words = words[1:]
    while words and _norm(words[-1]) in _COMMON - {"police", "force", "service"}:
        words = words[:-1]
    if not words:
        return ""
    candidate = " ".join(words)
    if known.is_common_name(candidate):
        return ""
    single_at_start = len(words) == 1 and words[0] == span.split()[0] and _SENTENCE_START.search(before)
    if single_at_start and not words[0].isupper():
        return ""
    return candidate


def _substitute(text: str, span: str) -> str:
    pattern = re.compile(rf"(?<![\w\[]){re.escape(span)}(?!\w)")
    parts = PLACEHOLDER.split(text)
    holders = PLACEHOLDER.findall(text)
    out = [pattern.sub(f"[CONFIRM: {span}]", part) for part in parts]
    return "".join(p + (holders[i] if i < len(holders) else "") for i, p in enumerate(out))


def _lifted_passages(text: str, foreign: list[ForeignSource], size: int = 8) -> list[GuardFinding]:
    """A run of `size`+ words copied from another force's answer, carrying a fact about that force."""
    findings: list[GuardFinding] = []
    words = _norm(PLACEHOLDER.sub(" ", text)).split()
    for source in foreign:
        theirs = _norm(source.text)
        run = _longest_shared_run(words, theirs, size)
        if run and (_has_fact_token(run) or _norm(source.force) in run):
            findings.append(
                GuardFinding(
                    kind=GuardKind.FOREIGN_FACT,
                    detail=(
                        f"A passage is copied from {source.force}'s response and may state facts about "
                        f"{source.force}, not this force: '…{run}…'"
                    ),
                    span=run,
                )
            )
    return findings


def _longest_shared_run(words: list[str], theirs: str, size: int) -> str:
    best = ""
    i = 0
    while i + size <= len(words):
        j = i + size
        if not _contains(theirs, " ".join(words[i:j])):
            i += 1
            continue
        while j < len(words) and _contains(theirs, " ".join(words[i : j + 1])):
            j += 1
        run = " ".join(words[i:j])
        best = max(best, run, key=len)
        i = j
    return best


# Words that mark a named team, system or process: a copied run that carries one describes that force.
_UNIT_WORDS = frozenset({"hub", "group", "groups", "unit", "team", "teams", "programme", "system", "board", "panel"})


def _has_fact_token(run: str) -> bool:
    return bool(re.search(r"\d", run)) or bool(_UNIT_WORDS & set(run.split()))


def _norm(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^\w'%/&-]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _contains(haystack: str, needle: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None

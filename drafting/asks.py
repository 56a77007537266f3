"""Split a finding into the distinct things it asks for, so each can be answered by evidence or a placeholder.

"By 30 September 2025, all chief constables should make sure that officers … record the child's views and any
risks of exploitation in the return home interview, and share that information with partner agencies." asks
three things: record the child's views in the return home interview; record any risks of exploitation in the
return home interview; share that information with partner agencies.

Deterministic, in three steps, and conservative where it is unsure (one ask too coarse is honest; a split that
invents an ask is not):
1. drop the due date and the addressee ("By …, all chief constables should make sure that");
2. split at clause breaks: "; ", ", and that", "and should", ", and <verb>", "and <verb>", "and that";
3. split a coordinated object with a shared tail: "record A and B in the interview" → "record A in the
   interview", "record B in the interview" (both short noun phrases, the tail a prepositional phrase).
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from retrieval.models import Finding

MAX_ASKS = 5
_SHORT_PHRASE_WORDS = 7

_SUBJECT = re.compile(
    r"^(?:.{0,120}?\b(?:should|must)\s+(?:(?:make\s+sure|ensure)\s+(?:that\s+)?)?)",
    re.IGNORECASE,
)
_RECOMMEND = re.compile(r"^.{0,80}?\brecommend(?:s|ed)?\s+that\s+", re.IGNORECASE)
_LEADING_DUE = re.compile(r"^\s*(?:by|within|with|before|no later than)\b[^,]{0,60},\s*", re.IGNORECASE)
_PAREN = re.compile(r"\([^()]*\)")
_CLAUSE_BREAK = re.compile(
    r";\s+|,?\s+and\s+(?:that|should|to|must)\s+|,\s+and\s+(?=\w)|\s+and\s+(?=\w)",
    re.IGNORECASE,
)
_PREPOSITIONS = frozenset({"in", "at", "to", "for", "with", "within", "through", "from", "on", "by", "during"})
#: Words an ask can begin with that make it a new action rather than part of a noun phrase. Base forms,
#: third person and participles of the verbs HMICFRS recommendations use.
_VERBS = frozenset(
    """
    act address agree allocate amend analyse answer apply appoint approve arrange assess attend audit authorise be brief
    build carry challenge check collect commission communicate complete conduct confirm consider contact
    contribute co-ordinate coordinate create deliver deploy design develop do embed engage ensure establish
    evaluate examine explain explore extend follow gather give hold identify implement improve include inform
    introduce investigate involve issue keep learn lead make manage meet monitor move notify offer plan prepare
    prioritise produce protect provide publish put raise receive record reduce refer reflect reinforce remove
    renew report require respond return review revise safeguard seek set share speak spend strengthen supervise
    support take target tell test train treat understand update use work have has are is be scrutinise
    """.split()
)
#: Words that open a new clause of a finding that states a problem ("…, and it doesn't always assess …").
_SUBJECT_WORDS = frozenset({"it", "they", "forces", "the force", "the constabulary"})
#: A word after one of these is a noun, not a verb: "respond to reports of", "the records".
_NOT_BEFORE_VERB = frozenset(
    """
    a an the to of for every all any each their its his her our this that these those in on at by with
    """.split()
)
_DETERMINERS = frozenset(
    """
    a an the any all every each their its his her our this that these those
    """.split()
)
_AUXILIARIES = frozenset({"are", "is", "be", "were", "was", "have", "has"})
_IRREGULAR = {"kept": "keep", "made": "make", "led": "lead", "held": "hold", "given": "give", "taken": "take"}


class Ask(BaseModel):
    """One thing a finding asks for, in its own words: `A1` "share that information with partner agencies"."""

    id: str
    text: str

    @property
    def starts_with_verb(self) -> bool:
        return is_verb(self.text.split()[0]) if self.text.split() else False

    @property
    def starts_third_person(self) -> bool:
        """Its subject was dropped: "publishes the results" (the force's), not "publish the results"."""
        return self.starts_with_verb and is_third_person(self.text.split()[0])


def split_asks(finding: Finding) -> list[Ask]:
    """The finding's distinct asks, in order (at least one: the whole predicate when nothing splits)."""
    predicate = _predicate(finding)
    parts: list[str] = []
    for clause in _clauses(predicate):
        for piece in _split_including(clause):
            parts.extend(_split_shared_tail(piece))
    cleaned = _with_subjects([_tidy(part) for part in parts], [bool(_FORCE_SUBJECT.match(_lead(p))) for p in parts])
    asks = [part for part in dict.fromkeys(cleaned) if len(part.split()) >= 2]
    if not asks or len(asks) > MAX_ASKS:
        asks = [_tidy(predicate)]
    return [Ask(id=f"A{i}", text=text) for i, text in enumerate(asks, start=1)]


def is_verb(word: str) -> bool:
    word = word.lower().strip(",.;:")
    if word in _VERBS or _IRREGULAR.get(word) in _VERBS:
        return True
    for suffix, replacement in (
        ("ies", "y"),
        ("ied", "y"),
        ("es", ""),
        ("es", "e"),
        ("s", ""),
        ("ed", ""),
        ("ed", "e"),
    ):
        if word.endswith(suffix) and word[: -len(suffix)] + replacement in _VERBS:
            return True
    # "referred", "committed": a doubled final consonant before -ed
    if word.endswith("ed") and len(word) > 4 and word[-3] == word[-4] and word[:-3] in _VERBS:
        return True
    return word.endswith("ing") and (word[:-3] in _VERBS or word[:-3] + "e" in _VERBS)


def is_third_person(word: str) -> bool:
    """ "publishes", "has": the form after a subject ("the force publishes"); "assess", "address" are not."""
    word = word.lower().strip(",.;:")
    return word in {"has", "is", "does"} or (word.endswith("s") and not word.endswith("ss") and is_verb(word))


def _predicate(finding: Finding) -> str:
    """What must be done: the finding less its due date, its addressee and its closing consequence."""
    text = " ".join(finding.text.split())
    text = _first_sentence_that_asks(text)
    text = _RECOMMEND.sub("", text)
    text = _LEADING_DUE.sub("", text)
    if finding.due and text.lower().startswith(finding.due.lower()):
        text = text[len(finding.due) :].strip(" ,")
    text = _SUBJECT.sub("", text, count=1)
    return text.strip(" .")


def _first_sentence_that_asks(text: str) -> str:
    """A cause of concern states a problem then its effect ("This means that …"): the first sentence asks."""
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text)
    for sentence in sentences:
        if re.search(r"\b(?:should|must)\b", sentence, re.IGNORECASE):
            return sentence
    return sentences[0]


def _clauses(predicate: str) -> list[str]:
    """Split at clause breaks outside parentheses; an "and" only where what follows is a new action."""
    masked = _PAREN.sub(lambda m: "\x00" * len(m.group(0)), predicate)
    pieces: list[str] = []
    start = 0
    for match in _CLAUSE_BREAK.finditer(masked):
        if not _breaks_clause(masked, match):
            continue
        pieces.append(predicate[start : match.start()])
        start = match.end()
    pieces.append(predicate[start:])
    return [piece.strip(" ,;") for piece in pieces if piece.strip(" ,;")]


def _breaks_clause(masked: str, match: re.Match[str]) -> bool:
    """Whether this "and" (or ";") starts a new ask rather than joining words inside one."""
    joiner = match.group(0).strip(" ,;").lower()
    if joiner != "and":
        return True  # "; ", "… and that supervisors review …", "… and should explain …"
    before = masked[: match.start()].split()
    after = masked[match.end() :].split()
    if not after or not before or _inside_list(masked, match.start()):
        return False
    if is_verb(before[-1]):
        return False  # "attend and contribute to", "identified and recorded as": one action, two verbs
    starts_action = is_verb(after[0])
    opener = {after[0].lower(), " ".join(after[:2]).lower()}
    starts_clause = "," in match.group(0) and bool(opener & _SUBJECT_WORDS)
    return starts_action or starts_clause


def _inside_list(masked: str, at: int) -> bool:
    """Inside "including A and B" the "and" joins list items, not actions."""
    head = masked[:at]
    return bool(re.search(r"\b(?:including|such as|for example|like)\b[^,;]*$", head, re.IGNORECASE))


_INCLUDING = re.compile(
    r"^(?P<head>.+?),?\s+including\s+(?P<prep>through|by|in|with)?\s*(?P<items>[^,]+?)(?:,\s*(?P<rest>.*))?$", re.I
)


def _split_including(clause: str) -> list[str]:
    """`verb X, including A and B, tail` → `verb X tail`, `verb A tail`, `verb B tail` (with a preposition:
    `seek intelligence, including through A and B` → `seek intelligence through A`, `… through B`)."""
    match = _INCLUDING.match(clause)
    if not match:
        return [clause]
    head, prep, rest = match.group("head").strip(), match.group("prep"), (match.group("rest") or "").strip()
    items = [i.strip() for i in re.split(r",\s*|\s+and\s+|\s+or\s+", match.group("items")) if i.strip()]
    words = head.split()
    verb_at = _main_verb(words)
    if len(items) < 2 or (verb_at is None and not prep):
        return [clause]
    tail = f" {rest}" if rest else ""
    if prep:
        return [f"{head}{tail}", *(f"{head} {prep} {item}{tail}" for item in items)]
    lead = " ".join(words[: verb_at + 1])
    return [f"{head}{tail}", *(f"{lead} {item}{tail}" for item in items)]


def _split_shared_tail(clause: str) -> list[str]:
    """`[subject] verb A and B <preposition> tail` → `… verb A <prep> tail`, `… verb B <prep> tail`.

    Only for short A and B; the subject ("officers who respond to reports of missing children") is kept.
    """
    all_words = clause.split()
    verb_at = _main_verb(all_words)
    if verb_at is None:
        return [clause]
    subject, words = all_words[:verb_at], all_words[verb_at:]
    lowered = [w.lower() for w in words]
    if len(words) < 5 or lowered.count("and") != 1:
        return [clause]
    at = lowered.index("and")
    tail_at = next((i for i in range(at + 1, len(words)) if lowered[i] in _PREPOSITIONS), None)
    if tail_at is None:
        return [clause]
    first, second, tail = words[1:at], words[at + 1 : tail_at], words[tail_at:]
    if not first or not second or len(first) > _SHORT_PHRASE_WORDS or len(second) > _SHORT_PHRASE_WORDS:
        return [clause]
    if any(is_verb(w) for w in second) or "," in " ".join(first) or second[0][:1].isupper():
        return [clause]  # a second verb, a list, or a name ("the Gangmasters and Labour Abuse Authority")
    if first[0].lower() not in _DETERMINERS or second[0].lower() not in _DETERMINERS:
        return [clause]  # "trained investigators and analysts": one group of people, not two things
    head = [*subject, words[0]]
    return [" ".join([*head, *first, *tail]), " ".join([*head, *second, *tail])]


def _main_verb(words: list[str]) -> int | None:
    """Where the clause's own verb is: the first verb not inside a relative clause ("who respond to …")."""
    relative = False
    for i, word in enumerate(words):
        lowered = word.lower()
        if lowered in {"who", "which", "that", "whose"} and i > 0:
            relative = True
            continue
        if is_verb(word) and not (i > 0 and words[i - 1].lower() in _NOT_BEFORE_VERB):
            if not relative:
                return i
            relative = False  # the relative clause's verb; the main verb comes after its object
    return None


def _with_subjects(parts: list[str], own_subject: list[bool]) -> list[str]:
    """A part that starts with a verb borrows the subject of the part before it.

    "victims … are supported by advisers" + "kept informed throughout" → "victims … are kept informed …";
    "… receive an assessment" + "are referred to support services" → "older … victims of fraud are referred …".
    """
    out: list[str] = []
    for part, has_subject in zip(parts, own_subject, strict=True):
        words = part.split()
        previous = out[-1].split() if out else []
        verb_at = _main_verb(previous) if previous else None
        starts_with_verb = bool(words) and is_verb(words[0]) and (len(words) < 2 or words[1].lower() != "of")
        if starts_with_verb and verb_at and not has_subject:
            subject = previous[:verb_at]
            helper = [previous[verb_at]] if previous[verb_at].lower() in _AUXILIARIES else []
            participle = words[0].lower().endswith(("ed", "en")) or words[0].lower() in _IRREGULAR
            part = " ".join([*subject, *(helper if participle else []), *words])
        out.append(part)
    return out


_FORCE_SUBJECT = re.compile(r"^(?:the\s+force|it|they|their\s+forces|forces)\s+(?=\w)", re.IGNORECASE)


def _lead(text: str) -> str:
    return re.sub(r"^(?:that|to|make\s+sure(?:\s+that)?|ensure(?:\s+that)?)\s+", "", text.strip(" ,;."), flags=re.I)


def _tidy(text: str) -> str:
    """Without its link word ("that", "to") and its subject when that is the force itself ("it records …")."""
    return " ".join(_FORCE_SUBJECT.sub("", _lead(text)).split())

"""Findings the office has already answered: the same recommendation, or nearly, in another inspection.

A national report and the force-specific report that repeats its recommendations, or a recommendation re-issued
in a revisit, ask what the office has answered before. Each finding is compared with the approved findings of
*other* inspections, word by word after dropping what differs between issues of one recommendation (a leading
timescale, who it is addressed to, case and punctuation). `difflib`'s ratio on the word lists is the measure:
a verbatim repeat, a new date or a one-word change stay well above `THRESHOLD`; another recommendation on the same
topic falls far below it (tests/tracker/test_answered.py holds the pairs it was set on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher

from sqlalchemy import select
from sqlalchemy.orm import Session

from drafting.themes import themes_of
from retrieval.models import InspectionType
from tracker import schema
from tracker.findings import latest_draft_row
from tracker.review import ReviewAction, ReviewState, current_approvers
from tracker.store import Store, get_row
from tracker.views import FindingView

THRESHOLD = 0.85
MOST = 3  # a card names the closest few; more would bury the answer under its history

#: "We recommend that," — the 2019 reports' opening, which later issues of the same recommendation drop.
_PREAMBLE = re.compile(r"^\s*(?:we\s+)?recommend(?:s|ed)?\s+that,?\s*", re.IGNORECASE)
#: "By 31 December 2024," / "Within six months," / "With immediate effect," — what a re-issue changes first.
_TIMESCALE = re.compile(
    r"^\s*(?:(?:by|before|within|no later than|from)\b[^,;:]{0,60}[,;:]|immediately[,;:]?|with immediate effect[,;:]?"
    r"|by\s+(?:the\s+end\s+of\s+)?(?:\d{1,2}\s+)?[a-z]+\s+\d{4}\b)\s*",
    re.IGNORECASE,
)
#: "All chief constables should" (national) and "The force should" (force-specific) ask the same of the force;
#: "chief constables make sure" (after "We recommend that") asks it too.
_ADDRESSEE = re.compile(
    r"^(?:all\s+)?(?:chief\s+constables?|(?:the\s+)?forces?|the\s+constabulary|[a-z\s]{0,30}?police)"
    r"(?:\s+should)?\b",
)  # replaced by "force": "the force should make sure" and "chief constables make sure" read alike
#: Words a force-specific re-issue of a national recommendation changes without changing what it asks.
_SAME_WORD = {"forces": "force", "their": "its", "have": "has", "they": "it", "constabulary": "force"}
_FORCE_SPECIFIC = frozenset({InspectionType.FORCE_SPECIFIC, InspectionType.PEEL})
HMICFRS_NOTE = (
    "HMICFRS: where a national and a force-specific report hold the same findings, only the force-specific "
    "response is needed."
)


@dataclass(frozen=True)
class EarlierAnswer:
    """An approved answer to a finding that reads as the same one, with where it lives."""

    finding_id: int
    inspection_id: int | None
    inspection_title: str
    inspection_type: InspectionType
    label: str
    version: int
    text: str
    approvers: tuple[str, ...]
    approved_at: datetime | None
    register_item_id: int | None
    similarity: float
    channel_id: str | None = None
    message_ts: str | None = None
    #: One report is national thematic and the other force-specific (or PEEL): HMICFRS needs only the latter.
    force_specific_note: bool = False
    #: Where the two read differently, as (this one says, the earlier said); empty for the same words.
    differences: tuple[tuple[str, str], ...] = ()


def words(text: str) -> list[str]:
    """The finding as compared: lower-case words, without its preamble, timescale or addressee."""
    lowered = _PREAMBLE.sub("", " ".join(text.split()).lower(), count=1)
    lowered = _TIMESCALE.sub("", lowered, count=1)
    lowered = _ADDRESSEE.sub("force", lowered, count=1)
    return [_SAME_WORD.get(word, word) for word in re.findall(r"[a-z0-9]+", lowered)]


@dataclass(frozen=True)
class Compared:
    """A finding as the comparison reads it: its words, and the matters it names (from the text as written)."""

    words: tuple[str, ...]
    matters: frozenset[str]

    @classmethod
    def of(cls, text: str) -> Compared:
        return cls(tuple(words(text)), themes_of(text))


def similarity(a: str | Compared, b: str | Compared, at_least: float = 0.0) -> float:
    """How alike two findings read, 0 to 1 (1 is the same words in the same order).

    `at_least`: below it the exact value does not matter, so the cheap upper bounds (lengths, then word counts)
    answer 0 without the full comparison: a card compares its finding with every approved one.

    Two findings on different matters (`drafting.themes`: stalking, domestic abuse, missing people …) are never
    the same, however alike the rest of the sentence: "… for victims of stalking" re-issues nothing said about
    "victims of domestic abuse".
    """
    left = Compared.of(a) if isinstance(a, str) else a
    right_words = tuple(words(b)) if isinstance(b, str) else b.words
    if not left.words or not right_words:
        return 0.0
    matcher = SequenceMatcher(None, left.words, right_words, autojunk=False)
    if matcher.real_quick_ratio() < at_least or matcher.quick_ratio() < at_least:
        return 0.0
    # The matters last: two dozen patterns cost more than the bounds, and most candidates fail those.
    right_matters = themes_of(b) if isinstance(b, str) else b.matters
    return matcher.ratio() if left.matters == right_matters else 0.0


def differences(a: str, b: str, most: int = 3) -> tuple[tuple[str, str], ...]:
    """Where two findings read differently, as (this one says, the earlier said) pairs of words, at most `most`;
    none for the same words. Shown on the card so a reviewer sees at once what Reuse would gloss over."""
    left, right = words(a), words(b)
    pairs = [
        (" ".join(left[i1:i2]), " ".join(right[j1:j2]))
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, left, right, autojunk=False).get_opcodes()
        if tag != "equal"
    ]
    return tuple(pairs[:most])


def earlier_answers(session: Session, finding_id: int, threshold: float = THRESHOLD) -> list[EarlierAnswer]:
    """Approved answers to findings of other inspections that read as this one, the closest first."""
    finding = get_row(session, schema.Finding, finding_id, "finding")
    mine = _type_of(session, finding.inspection_id)
    candidates = session.scalars(
        select(schema.Finding).where(
            schema.Finding.state == ReviewState.APPROVED.value, schema.Finding.id != finding_id
        )
    ).all()
    scored = []
    mine_words = Compared.of(finding.text)  # once, not once per candidate
    for other in candidates:
        if finding.inspection_id is not None and other.inspection_id == finding.inspection_id:
            continue  # the same report's findings are its own, not answered already
        score = similarity(mine_words, other.text, at_least=threshold)
        if score >= threshold:
            scored.append((score, other))
    scored.sort(key=lambda pair: (-pair[0], -pair[1].id))
    return [_earlier(session, finding, other, score, mine) for score, other in scored[:MOST]]


def _earlier(
    session: Session, finding: schema.Finding, row: schema.Finding, score: float, mine: InspectionType
) -> EarlierAnswer:
    draft = latest_draft_row(session, row.id)
    assert draft is not None  # an approved finding always has the version that was approved
    reviews = session.scalars(
        select(schema.Review).where(schema.Review.draft_id == draft.id).order_by(schema.Review.id)
    ).all()
    approvals = [r.created_at for r in reviews if r.action == ReviewAction.APPROVE.value]
    inspection = session.get(schema.Inspection, row.inspection_id) if row.inspection_id is not None else None
    theirs = _type(inspection.inspection_type) if inspection else InspectionType.UNKNOWN
    register = session.scalar(select(schema.RegisterItem.id).where(schema.RegisterItem.finding_id == row.id))
    return EarlierAnswer(
        finding_id=row.id,
        inspection_id=row.inspection_id,
        inspection_title=inspection.title if inspection else "a pasted recommendation",
        inspection_type=theirs,
        label=FindingView.of(row, latest_version=draft.version).label,
        version=draft.version,
        text=draft.text,
        approvers=current_approvers(ReviewState.APPROVED, reviews),
        approved_at=approvals[-1] if approvals else None,
        register_item_id=register,
        similarity=round(score, 3),
        channel_id=row.channel_id,
        message_ts=row.message_ts,
        force_specific_note=_national_and_force(mine, theirs),
        differences=differences(finding.text, row.text),
    )


def _national_and_force(a: InspectionType, b: InspectionType) -> bool:
    pair = {a, b}
    return InspectionType.NATIONAL_THEMATIC in pair and bool(pair & _FORCE_SPECIFIC)


def _type_of(session: Session, inspection_id: int | None) -> InspectionType:
    inspection = session.get(schema.Inspection, inspection_id) if inspection_id is not None else None
    return _type(inspection.inspection_type) if inspection else InspectionType.UNKNOWN


def _type(value: str) -> InspectionType:
    try:
        return InspectionType(value)
    except ValueError:  # a type from an older release reads as unknown, not as an error on the card
        return InspectionType.UNKNOWN


class Answered:
    """`repo.answered`: what the office has already answered that a finding repeats."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def of(self, finding_id: int) -> list[EarlierAnswer]:
        with self._store.transaction() as session:
            return earlier_answers(session, finding_id)

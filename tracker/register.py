"""The recommendation register: what the PCC promised to monitor once a response is published.

Every published response closes "I will monitor progress … through my regular HMICFRS Scrutiny process". When an
inspection is marked published, each finding with an approved answer becomes a register item holding that answer
as published, an owner, a due date, a status, a RAG rating and a dated history. Creating the items is idempotent
(the unique key on `register_items.finding_id`), so marking published again only adds answers approved since.

    open → in_progress → implemented → awaiting_evidence → closed          (closed is final)
    open / in_progress / implemented / awaiting_evidence → superseded or not_accepted   (the note is the reason)
    superseded / not_accepted → open                                         (a decision reversed)

Ending an item's monitoring (closed, superseded, not accepted) is a reviewer's call under the approval policy,
like approving an answer, and its note is kept on the item as the reason. Every change writes a history entry and
an audit row in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from retrieval.dates import read_date
from retrieval.models import Classification, Finding
from tracker import schema
from tracker.clock import UK
from tracker.errors import IllegalTransition, InvalidInput, NotAllowed
from tracker.findings import latest_draft_row
from tracker.people import people
from tracker.review import BOT_AUTHOR, ApprovalPolicy, ReviewState
from tracker.store import Store, enum_value, get_row
from tracker.views import FindingView

MAX_NOTE_CHARS = 5_000
MAX_LINK_CHARS = 2_000
MAX_OWNER_CHARS: int = schema.RegisterItem.__table__.c.owner.type.length


class RegisterStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    AWAITING_EVIDENCE = "awaiting_evidence"
    CLOSED = "closed"
    SUPERSEDED = "superseded"
    NOT_ACCEPTED = "not_accepted"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


_S = RegisterStatus
_WITHDRAWN = (_S.SUPERSEDED, _S.NOT_ACCEPTED)
#: Monitoring ended without the work: the item's last note is the office's reason, not the force's progress.
WITHDRAWN = frozenset(_WITHDRAWN)
_LIVE = (_S.OPEN, _S.IN_PROGRESS, _S.IMPLEMENTED, _S.AWAITING_EVIDENCE)
_TRANSITIONS: dict[RegisterStatus, frozenset[RegisterStatus]] = {
    _S.OPEN: frozenset({_S.IN_PROGRESS, _S.IMPLEMENTED, _S.AWAITING_EVIDENCE, *_WITHDRAWN}),
    _S.IN_PROGRESS: frozenset({_S.IMPLEMENTED, _S.AWAITING_EVIDENCE, *_WITHDRAWN}),
    # Evidence can show the work is not done after all: back to in progress.
    _S.IMPLEMENTED: frozenset({_S.IN_PROGRESS, _S.AWAITING_EVIDENCE, _S.CLOSED, *_WITHDRAWN}),
    _S.AWAITING_EVIDENCE: frozenset({_S.IN_PROGRESS, _S.IMPLEMENTED, _S.CLOSED, *_WITHDRAWN}),
    _S.CLOSED: frozenset(),
    _S.SUPERSEDED: frozenset({_S.OPEN}),
    _S.NOT_ACCEPTED: frozenset({_S.OPEN}),
}
#: Statuses that end monitoring: only a reviewer may set them.
ENDINGS = frozenset({_S.CLOSED, *_WITHDRAWN})
#: Work not yet reported done: such an item past its due date is overdue.
OUTSTANDING = (_S.OPEN, _S.IN_PROGRESS)


def next_statuses(status: RegisterStatus | str) -> tuple[RegisterStatus, ...]:
    """The statuses an item in `status` may move to, in lifecycle order (empty once closed)."""
    allowed = _TRANSITIONS[RegisterStatus(status)]
    return tuple(s for s in RegisterStatus if s in allowed)


_ENDING_PHRASES = {
    _S.CLOSED: "close a register item",
    _S.SUPERSEDED: "mark a register item superseded",
    _S.NOT_ACCEPTED: "mark a register item not accepted",
}


# ── views ────────────────────────────────────────────────────────────────────────────────────────────────


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


class UpdateKind(StrEnum):
    """What made a history entry. Only a person's UPDATE reports the force's position (indexed as evidence)."""

    CREATE = "create"
    UPDATE = "update"
    ASSIGN = "assign"
    SET_DUE = "set_due"


class RegisterUpdateView(_Value):
    id: int
    item_id: int
    at: datetime
    actor: str
    status: RegisterStatus
    rag: Rag | None
    note: str
    evidence: tuple[str, ...]
    kind: UpdateKind = UpdateKind.UPDATE


class RegisterItemView(_Value):
    id: int
    finding_id: int
    inspection_id: int
    inspection_title: str
    #: The force the inspection is about: a register update is that force's reported position.
    force: str = ""
    finding_label: str
    finding_text: str
    #: The finding's own timescale as written ("Within six months"); `due` is what it resolved to.
    due_text: str | None
    draft_version: int
    answer_text: str
    #: The published answer's protective marking: progress on the matter is marked as the answer was.
    marking: Classification = Classification.OFFICIAL
    #: The finding as the report words it (number, kind, addressees), for indexing its updates as evidence.
    recommendation: Finding | None = None
    owner: str | None
    due: date | None
    status: RegisterStatus
    rag: Rag | None
    reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    history: tuple[RegisterUpdateView, ...]

    @property
    def last_update(self) -> RegisterUpdateView | None:
        return self.history[-1] if self.history else None

    @property
    def latest_position(self) -> RegisterUpdateView | None:
        """The last progress update a person gave (not the bookkeeping: created, owner set, due date set)."""
        return next((u for u in reversed(self.history) if u.kind is UpdateKind.UPDATE), None)

    def overdue(self, today: date) -> bool:
        return self.due is not None and self.due < today and self.status in OUTSTANDING


EXPORT_COLUMNS = (
    "Item",
    "Inspection",
    "Inspection title",
    "Finding",
    "Finding text",
    "Published answer",
    "Owner",
    "Due",
    "Status",
    "RAG",
    "Reason",
    "Last update",
    "Last note",
    "Evidence",
    "Created",
)


@dataclass(frozen=True)
class RegisterRow:
    """One item as the exported spreadsheet shows it, in EXPORT_COLUMNS order; dates are UK calendar days."""

    item: int
    inspection: int
    inspection_title: str
    finding: str
    finding_text: str
    answer: str
    owner: str
    due: date | None
    status: str
    rag: str
    reason: str
    last_update: date | None
    last_note: str
    evidence: str
    created: date

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__dataclass_fields__)

    @classmethod
    def of(cls, item: RegisterItemView) -> RegisterRow:
        last = item.last_update
        links = dict.fromkeys(link for update in item.history for link in update.evidence)
        return cls(
            item=item.id,
            inspection=item.inspection_id,
            inspection_title=item.inspection_title,
            finding=item.finding_label,
            finding_text=item.finding_text,
            answer=item.answer_text,
            owner=item.owner or "",
            due=item.due,
            status=item.status.label,
            rag=item.rag.value if item.rag else "",
            reason=item.reason or "",
            last_update=last.at.astimezone(UK).date() if last else None,
            last_note=last.note if last else "",
            evidence="\n".join(links),
            created=item.created_at.astimezone(UK).date(),
        )


# ── due dates ────────────────────────────────────────────────────────────────────────────────────────────

_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "eighteen": 18,
    "twenty-four": 24,
}
_WITHIN = re.compile(r"^within\s+(?:the\s+next\s+)?([a-z0-9-]+)\s+(day|week|month|year)s?\b", re.IGNORECASE)
_BY = re.compile(r"^(?:by|before|no\s+later\s+than)\s+(the\s+end\s+of\s+)?(.+)$", re.IGNORECASE)
_YEAR = re.compile(r"^\d{4}$")


def resolve_due(due_text: str | None, published: date) -> date | None:
    """The calendar day a finding's timescale means, or None when it does not say one without guessing.

    "By 31 December 2024" → that day; "within six months" → the report's publication date + 6 months (the
    timescale runs from the report, as HMICFRS words it); "by the end of March 2025" → 31 March 2025. "By March
    2025" (the start or the end?) and "immediately" stay None, for a person to set.
    """
    text = " ".join((due_text or "").split()).rstrip(".,;:")
    if match := _WITHIN.match(text):
        count = _count(match[1])
        return published + relativedelta(**{f"{match[2].lower()}s": count}) if count else None
    if match := _BY.match(text):
        return _by_date(match[2], end_of=bool(match[1]))
    return None


def _count(word: str) -> int | None:
    word = word.lower()
    return int(word) if word.isdigit() else _NUMBERS.get(word)


def _by_date(rest: str, end_of: bool) -> date | None:
    if exact := read_date(rest):
        return exact
    if not end_of:
        return None
    if _YEAR.match(rest):
        return read_date(f"31 December {rest}")
    first = read_date(f"1 {rest}")  # "March 2025"
    return first + relativedelta(months=1, days=-1) if first else None


# ── the aggregate ────────────────────────────────────────────────────────────────────────────────────────


class Register:
    def __init__(self, store: Store, policy: ApprovalPolicy) -> None:
        self._store = store
        self._policy = policy

    def create_for(self, inspection_id: int, actor: str) -> list[RegisterItemView]:
        """Register items for the published inspection's approved answers not yet registered (idempotent)."""
        with self._store.transaction() as session:
            inspection = get_row(session, schema.Inspection, inspection_id, "inspection")
            if inspection.published_at is None:
                raise IllegalTransition(
                    f"Inspection #{inspection_id} is not marked published; its answers join the register when it is."
                )
            created = add_published_answers(self._store, session, inspection, actor)
            return item_views(session, schema.RegisterItem.id.in_(created)) if created else []

    def items(
        self,
        status: RegisterStatus | str | None = None,
        overdue_on: date | None = None,
        owner: str | None = None,
        inspection_id: int | None = None,
    ) -> list[RegisterItemView]:
        """Items in the order they were registered (report order within an inspection), filtered.

        `overdue_on`: only items due before that day whose work is not reported done (open or in progress).
        """
        table = schema.RegisterItem
        where: list[Any] = []
        if status is not None:
            where.append(table.status == enum_value(RegisterStatus, status, "status").value)
        if overdue_on is not None:
            where += [table.due < overdue_on, table.status.in_([s.value for s in OUTSTANDING])]
        if owner is not None:
            where.append(table.owner == _owner(owner))
        if inspection_id is not None:
            where.append(table.inspection_id == inspection_id)
        with self._store.transaction() as session:
            return item_views(session, *where)

    def get(self, item_id: int) -> RegisterItemView:
        with self._store.transaction() as session:
            get_row(session, schema.RegisterItem, item_id, "register item")
            return item_views(session, schema.RegisterItem.id == item_id)[0]

    def update(
        self,
        item_id: int,
        actor: str,
        status: RegisterStatus | str | None = None,
        rag: Rag | str | None = None,
        note: str = "",
        evidence: Iterable[str] = (),
    ) -> RegisterItemView:
        """A progress update: a note (required), and optionally a new status, a RAG rating and evidence links."""
        text = _note(note)
        target = enum_value(RegisterStatus, status.strip().lower(), "status") if isinstance(status, str) else status
        rating = enum_value(Rag, rag.strip().lower(), "RAG rating") if isinstance(rag, str) else rag
        links = _links(evidence)
        with self._store.transaction() as session:
            row = _open_row(session, item_id)
            current = RegisterStatus(row.status)
            if target is not None and target is not current:
                self._check_transition(row.id, current, target, actor)
            before = _audit(row)
            if target is not None and target is not current:
                row.status = target.value
                row.reason = text if target in ENDINGS else None  # why monitoring ended, kept on the item
            if rating is not None:
                row.rag = rating.value
            return self._record(session, row, actor, UpdateKind.UPDATE, before, text, links)

    def assign(self, item_id: int, owner: str | None, actor: str) -> RegisterItemView:
        """Give the item an owner (a Slack user id), or None to leave it unowned."""
        who = _owner(owner) if owner is not None else None
        with self._store.transaction() as session:
            row = _open_row(session, item_id)
            before = _audit(row)
            row.owner = who
            note = f"Owner set to {who}." if who else "Owner removed."
            return self._record(session, row, actor, UpdateKind.ASSIGN, before, note, ())

    def set_due(self, item_id: int, due: date | None, actor: str) -> RegisterItemView:
        """Set (or clear) the due date by hand: for a timescale the finding did not state as a date."""
        with self._store.transaction() as session:
            row = _open_row(session, item_id)
            before = _audit(row)
            row.due = due
            note = f"Due date set to {due.isoformat()}." if due else "Due date cleared."
            return self._record(session, row, actor, UpdateKind.SET_DUE, before, note, ())

    def export_rows(self) -> list[RegisterRow]:
        return [RegisterRow.of(item) for item in self.items()]

    def _check_transition(self, item_id: int, current: RegisterStatus, target: RegisterStatus, actor: str) -> None:
        if target not in _TRANSITIONS[current]:
            allowed = ", ".join(sorted(s.value for s in _TRANSITIONS[current])) or "none"
            raise IllegalTransition(
                f"Register item #{item_id} is {current.label}; it cannot go to {target.label} "
                f"(from {current.label}: {allowed})."
            )
        if target in ENDINGS:
            self._check_reviewer(target, actor)

    def _check_reviewer(self, target: RegisterStatus, actor: str) -> None:
        allowed, _reason = self._policy.is_reviewer(actor)
        if allowed:
            return
        phrase = _ENDING_PHRASES[target]
        if not actor or actor == BOT_AUTHOR:
            raise NotAllowed(f"Only a person can {phrase}.")
        named = people(sorted(self._policy.reviewers))
        raise NotAllowed(f"Only the configured reviewers can {phrase} ({named}); ask one of them.")

    def _record(
        self,
        session: Session,
        row: schema.RegisterItem,
        actor: str,
        kind: UpdateKind,
        before: dict[str, Any],
        note: str,
        links: Sequence[str],
    ) -> RegisterItemView:
        now = self._store.now()
        row.updated_at = now
        session.add(_history(row, actor, now, note, links, kind))
        session.flush()
        after = {**_audit(row), "note": note, "evidence": list(links)}
        self._store.audit(session, actor, kind.value, "register_item", row.id, before, after)
        return item_views(session, schema.RegisterItem.id == row.id)[0]


def add_published_answers(store: Store, session: Session, inspection: schema.Inspection, actor: str) -> list[int]:
    """In the caller's transaction: a register item for each approved answer of the inspection not yet in the
    register; the new items' ids. Marking an inspection published calls this, so the two happen together."""
    registered = select(schema.RegisterItem.finding_id)
    findings = session.scalars(
        select(schema.Finding)
        .where(
            schema.Finding.inspection_id == inspection.id,
            schema.Finding.state == ReviewState.APPROVED.value,
            schema.Finding.id.not_in(registered),
        )
        .order_by(schema.Finding.position, schema.Finding.id)
    ).all()
    created = []
    for finding in findings:
        answer = latest_draft_row(session, finding.id)
        if answer is None:  # an approved finding always has a version; nothing to monitor without one
            continue
        row = _new_item(store, finding, answer, inspection, actor)
        session.add(row)
        session.flush()
        session.add(
            _history(row, actor, row.created_at, "Published answer added to the register.", (), UpdateKind.CREATE)
        )
        store.audit(session, actor, "create", "register_item", row.id, None, _audit(row))
        created.append(row.id)
    return created


def _new_item(
    store: Store, finding: schema.Finding, answer: schema.Draft, inspection: schema.Inspection, actor: str
) -> schema.RegisterItem:
    now = store.now()
    return schema.RegisterItem(
        finding_id=finding.id,
        inspection_id=inspection.id,
        draft_id=answer.id,
        answer_text=answer.text,
        owner=None,
        due=resolve_due(finding.due, inspection.published),
        status=RegisterStatus.OPEN.value,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )


def _history(
    row: schema.RegisterItem, actor: str, at: datetime, note: str, links: Sequence[str], kind: UpdateKind
) -> schema.RegisterUpdate:
    return schema.RegisterUpdate(
        item_id=row.id,
        at=at,
        actor=actor,
        status=row.status,
        rag=row.rag,
        note=note,
        evidence=list(links),
        kind=kind.value,
    )


def _open_row(session: Session, item_id: int) -> schema.RegisterItem:
    row = get_row(session, schema.RegisterItem, item_id, "register item")
    if row.status == RegisterStatus.CLOSED.value:
        raise IllegalTransition(f"Register item #{item_id} is closed, and closed is final: nothing more can change.")
    return row


def item_views(session: Session, *where: Any) -> list[RegisterItemView]:
    rows = session.execute(
        select(schema.RegisterItem, schema.Finding, schema.Inspection, schema.Draft)
        .join(schema.Finding, schema.Finding.id == schema.RegisterItem.finding_id)
        .join(schema.Inspection, schema.Inspection.id == schema.RegisterItem.inspection_id)
        .join(schema.Draft, schema.Draft.id == schema.RegisterItem.draft_id)
        .where(*where)
        .order_by(schema.RegisterItem.id)
    ).all()
    history = _history_of(session, [item.id for item, *_ in rows])
    return [
        _view(item, finding, inspection, answer, history.get(item.id, ())) for item, finding, inspection, answer in rows
    ]


def _history_of(session: Session, item_ids: list[int]) -> dict[int, tuple[RegisterUpdateView, ...]]:
    if not item_ids:
        return {}
    rows = session.scalars(
        select(schema.RegisterUpdate)
        .where(schema.RegisterUpdate.item_id.in_(item_ids))
        .order_by(schema.RegisterUpdate.at, schema.RegisterUpdate.id)
    ).all()
    grouped: dict[int, list[RegisterUpdateView]] = {}
    for row in rows:
        view = RegisterUpdateView(
            id=row.id,
            item_id=row.item_id,
            at=row.at,
            actor=row.actor,
            status=RegisterStatus(row.status),
            rag=Rag(row.rag) if row.rag else None,
            note=row.note,
            evidence=tuple(row.evidence),
            kind=UpdateKind(row.kind),
        )
        grouped.setdefault(row.item_id, []).append(view)
    return {item_id: tuple(views) for item_id, views in grouped.items()}


def _view(
    item: schema.RegisterItem,
    finding: schema.Finding,
    inspection: schema.Inspection,
    answer: schema.Draft,
    history: tuple[RegisterUpdateView, ...],
) -> RegisterItemView:
    view = FindingView.of(finding, latest_version=0)
    return RegisterItemView(
        id=item.id,
        finding_id=item.finding_id,
        inspection_id=item.inspection_id,
        inspection_title=inspection.title,
        force=inspection.force,
        finding_label=view.label,
        finding_text=finding.text,
        due_text=finding.due,
        draft_version=answer.version,
        answer_text=item.answer_text,
        marking=Classification(answer.marking),
        recommendation=view.to_finding(),
        owner=item.owner,
        due=item.due,
        status=RegisterStatus(item.status),
        rag=Rag(item.rag) if item.rag else None,
        reason=item.reason,
        created_by=item.created_by,
        created_at=item.created_at,
        updated_at=item.updated_at,
        history=history,
    )


def _audit(row: schema.RegisterItem) -> dict[str, Any]:
    return {
        "finding_id": row.finding_id,
        "owner": row.owner,
        "due": row.due.isoformat() if row.due else None,
        "status": row.status,
        "rag": row.rag,
        "reason": row.reason,
    }


def _note(note: str) -> str:
    text = (note or "").strip()
    if not text:
        raise InvalidInput("Say what changed: every register update needs a note (it is kept in the item's history).")
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidInput(f"The note is {len(text):,} characters; the limit is {MAX_NOTE_CHARS:,}.")
    return text


def _links(evidence: Iterable[str]) -> tuple[str, ...]:
    links = tuple(dict.fromkeys(link.strip() for link in evidence if link.strip()))
    for link in links:
        if not re.match(r"^https?://\S+$", link) or len(link) > MAX_LINK_CHARS:
            raise InvalidInput(f"Evidence must be a link (http:// or https://, no spaces): {link[:80]!r} is not.")
    return links


def _owner(owner: str) -> str:
    """A Slack user id, also accepted as a mention (`<@U123>`) or with a leading @."""
    who = owner.strip().removeprefix("<@").removesuffix(">").removeprefix("@").strip()
    if not who or len(who) > MAX_OWNER_CHARS or not re.match(r"^[A-Za-z0-9_.-]+$", who):
        raise InvalidInput(f"{owner!r} is not a Slack user id (like U012AB3CD).")
    return who

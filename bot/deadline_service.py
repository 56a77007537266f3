"""What `/hmicfrs` and `responder deadlines` / `responder pack` do, in one place both front ends call.

Input parsing lives here too (pure functions), so the slash command and the command line accept the same
words: `8 Dec 2023 An inspection of …` splits into the date and the title the same way in both.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from retrieval.models import InspectionType
from tracker.dates import DateParseError, format_date, parse_date
from tracker.deadlines import explain_cc_comments
from tracker.errors import InvalidInput
from tracker.packs import (
    ExportedPack,
    InspectionComments,
    LearnResult,
    PackIndex,
    export_pack,
    get_comments,
    learn_from_published,
    set_comments,
)
from tracker.reminders import UK
from tracker.repository import RECIPIENT_MARKS, Repository
from tracker.views import AnswerView, InspectionSummary, InspectionView

if TYPE_CHECKING:
    from bot.services import Services
    from bot.settings import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: The longest date people type: "Friday 8th of December 2023" is five words.
MAX_DATE_WORDS = 5
DONE_STEPS = tuple(RECIPIENT_MARKS)
_GENERIC_DATE_REASONS = {"it is not in a date format we accept", "it has no year"}
TYPE_ALIASES = {
    "force": InspectionType.FORCE_SPECIFIC,
    "force-specific": InspectionType.FORCE_SPECIFIC,
    "local": InspectionType.FORCE_SPECIFIC,
    "national": InspectionType.NATIONAL_THEMATIC,
    "thematic": InspectionType.NATIONAL_THEMATIC,
    "national-thematic": InspectionType.NATIONAL_THEMATIC,
    "national thematic": InspectionType.NATIONAL_THEMATIC,
    "joint": InspectionType.JOINT,
    "peel": InspectionType.PEEL,
    "unknown": InspectionType.UNKNOWN,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


# ── parsing what people type ─────────────────────────────────────────────────────────────────────────────


def split_date_and_title(text: str) -> tuple[date, str]:
    """`8 Dec 2023 An inspection of …` → (2023-12-08, 'An inspection of …'): the longest leading date wins."""
    words = text.split()
    if not words:
        raise InvalidInput("Give the date the report was published, then its title.")
    found: tuple[date, int] | None = None
    errors: list[DateParseError] = []
    for count in range(1, min(MAX_DATE_WORDS, len(words)) + 1):
        try:
            found = (parse_date(" ".join(words[:count])), count)
        except DateParseError as error:
            errors.append(error)
    if found is None:
        # "8 Decc 2023 …": the three-word attempt says "'decc' is not a month name"; say that, not "no year".
        telling = [error for error in errors if error.reason not in _GENERIC_DATE_REASONS]
        problem = (telling or errors)[-1 if telling else 0]
        raise InvalidInput(f"The inspection needs its publication date first. {problem}")
    published, used = found
    title = " ".join(words[used:]).strip()
    if not title:
        raise InvalidInput(f"Give the inspection's title after the date ({format_date(published)}).")
    return published, title


def parse_inspection_type(value: str | InspectionType | None) -> InspectionType:
    if value is None:
        return InspectionType.UNKNOWN
    if isinstance(value, InspectionType):
        return value
    found = TYPE_ALIASES.get(value.strip().lower())
    if found is None:
        raise InvalidInput(f"Unknown inspection type {value!r}: use force-specific, national, joint or peel.")
    return found


def parse_days(text: str | Sequence[int]) -> list[int]:
    """`28,14,7,3,1,0` (or spaces) → [28, 14, 7, 3, 1, 0]; the tracker checks the range."""
    if not isinstance(text, str):
        return list(text)
    parts = [part for part in re.split(r"[,\s]+", text.strip()) if part]
    if not parts:
        raise InvalidInput("Give the reminder offsets in days before the last day, e.g. 28,14,7,3,1,0.")
    try:
        return [int(part) for part in parts]
    except ValueError:
        raise InvalidInput(
            f"Reminder offsets are whole numbers of days, e.g. 28,14,7,3,1,0; not {text.strip()!r}."
        ) from None


def parse_id(text: str) -> int:
    cleaned = text.strip().lstrip("#")
    if not cleaned.isdigit():
        raise InvalidInput(f"{text.strip()!r} is not an inspection id: use the number `list` shows, e.g. 3.")
    return int(cleaned)


def parse_step(text: str) -> str:
    step = text.strip().lower()
    if step not in RECIPIENT_MARKS:
        raise InvalidInput(f"Unknown step {text.strip()!r}: use one of {', '.join(DONE_STEPS)}.")
    return step


# ── results ──────────────────────────────────────────────────────────────────────────────────────────────


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)


class InspectionDetail(_Result):
    """Everything `show` displays about one inspection, as of `today`."""

    inspection: InspectionView
    today: date
    answers: list[AnswerView]
    comments: InspectionComments

    @property
    def days_left(self) -> int:
        return self.inspection.days_left(self.today)

    @property
    def deadline_line(self) -> str:
        return self.inspection.deadline_line(self.today)

    @property
    def cc_line(self) -> str:
        view = self.inspection
        return explain_cc_comments(view.published, (view.cc_comments_due - view.published).days)


class DoneResult(_Result):
    inspection: InspectionView
    step: str
    learned: LearnResult | None = None
    learn_error: str | None = None

    @property
    def message(self) -> str:
        view, step = self.inspection, self.step
        stamp = getattr(view, RECIPIENT_MARKS[step])
        when = f" on {format_date(stamp.astimezone(UK).date())}" if stamp else ""
        text = {
            "published": f"The PCC's response to “{view.title}” is marked published{when}.",
            "sent-hmicfrs": f"The response to “{view.title}” is marked sent to HMICFRS{when}.",
            "sent-home-office": f"The response to “{view.title}” is marked sent to the Home Secretary{when}.",
        }[step]
        if self.learned is not None:
            n = self.learned.precedents
            text += (
                f" {n} approved answer{'s' if n != 1 else ''} added to the library as precedents "
                f"({self.learned.doc_id})."
            )
        if self.learn_error:
            text += f" Adding its answers to the library failed ({self.learn_error}); run the same command again."
        pending = [r.recipient.value for r in view.recipients if not r.done]
        if step == "published" and pending:
            text += f" Still to send to: {', '.join(pending)}."
        return text


# ── the service ──────────────────────────────────────────────────────────────────────────────────────────


class DeadlineService:
    """Inspections, deadlines, reminders offsets, comments, the pack and the learning loop."""

    def __init__(
        self,
        repo: Repository,
        force: str,
        pcc_name: str = "",
        cc_days: int = 28,
        reminder_days: Sequence[int] = (28, 14, 7, 3, 1, 0),
        index: Callable[[], PackIndex] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.repo = repo
        self.force = force
        self.pcc_name = pcc_name
        self.cc_days = cc_days
        self.reminder_days = tuple(reminder_days)
        self._index = index
        self.clock = clock

    def today(self) -> date:
        """Deadlines are calendar days in the UK, whatever the server's time zone."""
        return self.clock().astimezone(UK).date()

    def add(
        self,
        published: date,
        title: str,
        actor: str,
        inspection_type: InspectionType | str | None = None,
        channel: str | None = None,
        thread_ts: str | None = None,
    ) -> InspectionView:
        return self.repo.create_inspection(
            title=title,
            published=published,
            inspection_type=parse_inspection_type(inspection_type),
            force=self.force,
            channel=channel,
            actor=actor,
            cc_days=self.cc_days,
            reminder_days=self.reminder_days,
            thread_ts=thread_ts,
        )

    def open_inspections(self) -> list[InspectionSummary]:
        return self.repo.list_open_inspections(self.today())

    def show(self, inspection_id: int) -> InspectionDetail:
        return InspectionDetail(
            inspection=self.repo.get_inspection(inspection_id),
            today=self.today(),
            answers=self.repo.answers(inspection_id),
            comments=get_comments(self.repo, inspection_id),
        )

    def done(self, inspection_id: int, step: str, actor: str) -> DoneResult:
        """Tick off a step; marking published also adds the approved answers to the library."""
        result = self.mark(inspection_id, step, actor)
        return self.learn(result) if result.step == "published" else result

    def mark(self, inspection_id: int, step: str, actor: str) -> DoneResult:
        """Only the (fast) mark: Slack acks after this and runs `learn` once it has answered."""
        step = parse_step(step)
        return DoneResult(inspection=self.repo.mark_recipient(inspection_id, step, actor), step=step)

    def learn(self, result: DoneResult) -> DoneResult:
        """The learning loop for a response just marked published; a failure keeps the mark and says so."""
        if self._index is None:
            return result
        inspection_id = result.inspection.id
        try:
            learned = learn_from_published(self.repo, self._index(), inspection_id)
        except Exception as error:  # the mark is stored; indexing can be retried by repeating the command
            log.exception("Adding inspection %s to the library failed", inspection_id)
            return result.model_copy(update={"learn_error": type(error).__name__})
        return result.model_copy(update={"learned": learned})

    def remind(self, inspection_id: int, days: str | Sequence[int], actor: str) -> InspectionView:
        return self.repo.set_reminder_days(inspection_id, parse_days(days), actor)

    def set_comments(
        self, inspection_id: int, actor: str, pcc: str | None = None, chief_constable: str | None = None
    ) -> InspectionComments:
        return set_comments(self.repo, inspection_id, actor, pcc, chief_constable, now=self.clock())

    def export_pack(self, inspection_id: int, out_dir: Path, watermark: bool = False) -> ExportedPack:
        return export_pack(self.repo, inspection_id, out_dir, self.pcc_name, watermark)


def service_from_settings(settings: Settings, services: Services | None = None) -> DeadlineService:
    """The CLI's composition: the store at RESPONDER_DATABASE_URL (or in the data dir), the index lazily."""
    from bot.services import Services

    svc = services or Services(settings)
    return DeadlineService(
        Repository.connect(settings.sqlalchemy_url),
        force=settings.force,
        pcc_name=settings.pcc_name,
        cc_days=settings.chief_constable_days,
        reminder_days=settings.reminder_days,
        index=lambda: svc.index,
    )

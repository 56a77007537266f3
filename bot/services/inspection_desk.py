"""What `/hmicfrs` and `responder deadlines` / `responder pack` do, in one place both front ends call.

Inspections, deadlines, reminder offsets, comments, the pack and the learning loop. The dates are UK calendar
days whatever the server's time zone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from bot.services.inputs import parse_days, parse_inspection_type, parse_step
from retrieval.dates import format_date
from retrieval.models import Finding, InspectionType
from tracker.clock import UK, Clock, uk_today, utc_now
from tracker.deadlines import DEFAULT_CC_DAYS, DEFAULT_REMINDER_DAYS, RECIPIENT_MARKS, explain_cc_comments
from tracker.errors import NotAllowed
from tracker.findings import AttachResult, ReportThread
from tracker.learning import LearnResult, PackIndex, learn_from_published
from tracker.pack_assembly import (
    ExportedPack,
    PackLetter,
    PackStyle,
    check_complete,
    export_pack,
    waiting_stages,
)
from tracker.people import people
from tracker.register import RegisterItemView
from tracker.register_evidence import index_positions
from tracker.repository import Repository
from tracker.review import BOT_AUTHOR, OfficeAction
from tracker.views import AnswerView, InspectionComments, InspectionSummary, InspectionView

log = logging.getLogger(__name__)


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
            if held := self.learned.held_back:
                text += (
                    f" Left out of the library, as they still hold a [CONFIRM: …]: {', '.join(held)}; reopen, "
                    "confirm and approve them, then mark it published again."
                )
        if self.learn_error:
            text += f" Adding its answers to the library failed ({self.learn_error}); run the same command again."
        pending = [r.recipient.value for r in view.recipients if not r.done]
        if view.next_step is None:
            text += " Every statutory step is done (published, sent to HMICFRS and to the Home Secretary)."
        elif view.published_at is not None and pending:
            text += f" Still to send to: {', '.join(pending)}."
        else:
            text += f" Next: {view.next_step}."
        return text


class ProgressResult(_Result):
    """A register update as stored, and whether its note is indexed as evidence yet."""

    item: RegisterItemView
    indexed: bool = False
    index_error: str | None = None

    @property
    def message(self) -> str:
        item = self.item
        rag = f", RAG {item.rag.value}" if item.rag else ""
        text = f"Register item {item.id} ({item.finding_label}, “{item.inspection_title}”): {item.status.label}{rag}."
        if self.indexed:
            text += " Its note is now the force's latest position on this matter for new drafts."
        elif self.index_error:
            text += (
                f" The update is saved, but adding it to the library failed ({self.index_error}); it is added "
                "when Responder next starts."
            )
        return text


# ── the service ──────────────────────────────────────────────────────────────────────────────────────────


class InspectionDesk:
    """Inspections, deadlines, reminder offsets, comments, the pack and the learning loop."""

    def __init__(
        self,
        repo: Repository,
        force: str,
        pcc_name: str = "",
        pack_style: PackStyle | None = None,
        cc_days: int = DEFAULT_CC_DAYS,
        reminder_days: Sequence[int] = DEFAULT_REMINDER_DAYS,
        index: Callable[[], PackIndex] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.repo = repo
        self.force = force
        self.pcc_name = pcc_name
        self.pack_style = pack_style or PackStyle()
        self.cc_days = cc_days
        self.reminder_days = tuple(reminder_days)
        self._index = index
        self.clock = clock

    def today(self) -> date:
        return uk_today(self.clock)

    def add(
        self,
        published: date,
        title: str,
        actor: str,
        inspection_type: InspectionType | str | None = None,
        channel: str | None = None,
        thread_ts: str | None = None,
    ) -> InspectionView:
        """Refused (DuplicateInspection, naming the first) when the same title and date is already tracked."""
        return self.repo.inspections.create(
            title=title,
            published=published,
            inspection_type=parse_inspection_type(inspection_type),
            force=self.force,
            channel=channel,
            actor=actor,
            cc_days=self.cc_days,
            reminder_days=self.reminder_days,
            thread_ts=thread_ts,
            unique=True,
        )

    def open_inspections(self) -> list[InspectionSummary]:
        return self.repo.inspections.list_open(self.today())

    def show(self, inspection_id: int) -> InspectionDetail:
        return InspectionDetail(
            inspection=self.repo.inspections.get(inspection_id),
            today=self.today(),
            answers=self.repo.findings.answers(inspection_id),
            comments=self.repo.inspections.comments(inspection_id),
        )

    def done(self, inspection_id: int, step: str, actor: str) -> DoneResult:
        """Tick off a step; marking published also adds the approved answers to the library."""
        result = self.mark(inspection_id, step, actor)
        return self.learn(result) if result.step == "published" else result

    def mark(self, inspection_id: int, step: str, actor: str) -> DoneResult:
        """Only the (fast) mark: Slack acks after this and runs `learn` once it has answered.

        `published` needs at least one finding on record: with none there is no response to publish.
        """
        step = parse_step(step)
        view = self.repo.inspections.mark_recipient(inspection_id, step, actor, require_findings=True)
        return DoneResult(inspection=view, step=step)

    def check_may_publish(self, user: str, groups: Sequence[str] = ()) -> None:
        """Marking a response published is a reviewer's call (the approval policy's reviewers); NotAllowed if not.

        The command line is the operator's own tool and has no user identity, so only Slack asks this.
        """
        allowed, _reason = self.repo.policy.is_reviewer(user, groups)
        if allowed:
            return
        if not user or user == BOT_AUTHOR:
            raise NotAllowed("Only a person can mark a response published.")
        named = people(sorted(self.repo.policy.reviewers))
        raise NotAllowed(f"Only the configured reviewers can mark a response published ({named}); ask one of them.")

    def check_may(self, action: OfficeAction, user: str, groups: Sequence[str] = ()) -> None:
        """Comments, the final pack, attaching and `done` steps are reviewers' calls (the approval policy's
        `may`); NotAllowed naming who may if not. Like `check_may_publish`, only Slack asks this."""
        allowed, reason = self.repo.policy.may(action, user, groups)
        if not allowed:
            raise NotAllowed(reason)

    # ── a report uploaded without its publication date, attached to an inspection tracked separately ─────

    def report_threads(self, channel: str) -> list[ReportThread]:
        """Threads in `channel` holding findings that belong to no inspection, the most recent first."""
        return self.repo.findings.unattached_threads(channel)

    def attach_thread(self, inspection_id: int, channel: str, thread_ts: str, actor: str) -> AttachResult:
        self.repo.inspections.get(inspection_id)  # NotFound before anything else is said
        return self.repo.findings.attach_thread(inspection_id, channel, thread_ts, actor)

    def attach_report(self, inspection_id: int, findings: Sequence[Finding], actor: str, source: str) -> AttachResult:
        """A report's findings stored under the inspection; those it already holds are skipped."""
        return self.repo.findings.add_new(inspection_id, findings, actor, source)

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

    def record_progress(
        self,
        item_id: int,
        actor: str,
        status: str | None = None,
        rag: str | None = None,
        note: str = "",
        evidence: Sequence[str] = (),
    ) -> ProgressResult:
        """A register update, then its note indexed as the force's latest position on the matter (so the next
        draft on it cites it). The update is stored first; an index failure keeps it and says so, and the next
        start indexes it (`index_register`)."""
        item = self.repo.register.update(item_id, actor, status=status, rag=rag, note=note, evidence=evidence)
        if self._index is None:
            return ProgressResult(item=item)
        error = self.index_progress(item.id)
        return ProgressResult(item=item, indexed=error is None, index_error=error)

    def index_progress(self, item_id: int) -> str | None:
        """The item's latest update indexed as the force's position; what went wrong (kept for the next start),
        or None."""
        if self._index is None:
            return None
        try:
            index_positions(self.repo.register, self._index(), [item_id])
        except Exception as error:
            log.exception("Indexing register item %s failed; it is indexed again at the next start", item_id)
            return type(error).__name__
        return None

    def index_register(self) -> int:
        """Every register item's latest position indexed (idempotent): what a failed or missed indexing left."""
        return index_positions(self.repo.register, self._index()) if self._index is not None else 0

    def remind(self, inspection_id: int, days: str | Sequence[int], actor: str) -> InspectionView:
        return self.repo.inspections.set_reminder_days(inspection_id, parse_days(days), actor)

    def set_comments(
        self, inspection_id: int, actor: str, pcc: str | None = None, chief_constable: str | None = None
    ) -> InspectionComments:
        return self.repo.inspections.set_comments(inspection_id, actor, pcc, chief_constable)

    def export_pack(
        self, inspection_id: int, out_dir: Path, watermark: bool = False, cc_waiver: str = "", actor: str = ""
    ) -> ExportedPack:
        letter = PackLetter(pcc_name=self.pcc_name, cc_waiver=cc_waiver)
        style = self.pack_style
        return export_pack(self.repo, inspection_id, out_dir, letter, watermark, actor, style.template, style.pdf)

    def check_pack(self, inspection: InspectionView, watermark: bool = False, cc_waiver: str = "") -> None:
        """The final pack's checks alone (fast): raises PackIncomplete while answers are missing or unconfirmed,
        or the letter lacks the PCC's name or the chief constable's comments (without `cc_waiver`).

        Only the answers are read, not the pack built: Slack is still waiting for the ack. A working copy
        (`watermark`) is never refused.
        """
        if not watermark:
            letter = PackLetter(pcc_name=self.pcc_name, cc_waiver=cc_waiver)
            comments = self.repo.inspections.comments(inspection.id)
            answers = self.repo.findings.answers(inspection.id)
            check_complete(inspection, answers, letter, comments, waiting_stages(self.repo, answers))

"""The report thread's summary message: what was found in the report, its deadline, and drafting progress."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from bot.slack import constants as c
from bot.slack.ui.common import Block, MessagePayload, bullet_list, context, escape, section, truncate
from retrieval.dates import format_date
from retrieval.models import Finding, FindingKind, InspectionType
from tracker.deadlines import explain_deadline


class ReportSummary(BaseModel):
    title: str
    inspection_type: InspectionType = InspectionType.UNKNOWN
    published: date | None = None
    findings: list[Finding]
    file_name: str = ""
    inspection_id: int | None = None


class Progress(BaseModel):
    done: int = 0
    total: int = 0
    failed: int = 0
    finished: bool = False


def report_summary(summary: ReportSummary, progress: Progress, today: date) -> MessagePayload:
    """Title, findings found, the statutory last day with its one-line rule, and drafting progress."""
    counts = _kind_counts(summary.findings)
    head = f":page_facing_up: *{escape(summary.title)}*"
    facts = [f"Type: {summary.inspection_type.value}"]
    if summary.published:
        facts.append(f"Published: {format_date(summary.published)}")
    if summary.file_name:
        facts.append(f"File: {escape(summary.file_name)}")
    if summary.inspection_id is not None:
        facts.append(f"Inspection #{summary.inspection_id}")
    lead = f"{head}\n{' · '.join(facts)}\n*Findings found:* {counts}"
    blocks: list[Block] = [section(lead, c.BLOCK_SUMMARY)]
    if summary.published:
        deadline = f":calendar: {escape(explain_deadline(summary.published, today))}"
    else:
        deadline = (
            ":calendar: The report's publication date was not found, so no deadline is tracked yet: "
            "add it with `/hmicfrs add <published date> <title>`."
        )
    blocks.append(section(deadline, c.BLOCK_SUMMARY_DEADLINE))
    items = [f"*{f.label}*: {escape(truncate(' '.join(f.text.split()), 160))}" for f in summary.findings]
    blocks.append(section(bullet_list(items), f"{c.BLOCK_SUMMARY_FINDINGS_PREFIX}0"))
    blocks.append(context([progress_line(progress)], c.BLOCK_PROGRESS))
    text = f"{summary.title}: {counts}. {progress_line(progress)}"
    return MessagePayload(truncate(text, c.MAX_FALLBACK_TEXT), blocks)


def progress_line(progress: Progress) -> str:
    failed = f" ({progress.failed} could not be drafted; see the replies)" if progress.failed else ""
    if progress.finished:
        posted = progress.done - progress.failed
        return f":white_check_mark: {posted} of {progress.total} drafts posted below{failed}."
    if progress.done >= progress.total:
        return f":hourglass_flowing_sand: Finishing {progress.total} drafts…{failed}"
    return f":hourglass_flowing_sand: Drafting {progress.done + 1} of {progress.total}…{failed}"


def _kind_counts(findings: list[Finding]) -> str:
    if not findings:
        return "none"
    names = {
        FindingKind.RECOMMENDATION: ("recommendation", "recommendations"),
        FindingKind.AREA_FOR_IMPROVEMENT: ("area for improvement", "areas for improvement"),
        FindingKind.CAUSE_OF_CONCERN: ("cause of concern", "causes of concern"),
    }
    parts = []
    for kind, (one, many) in names.items():
        n = sum(f.kind is kind for f in findings)
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts)

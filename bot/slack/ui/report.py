"""The report thread's messages: the summary (what was found, its deadline, drafting progress with an estimate),
the one call to the reviewers once every draft is done, and a draft's placeholder while the model writes it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel

from bot.slack import constants as c
from bot.slack.ui.common import (
    Block,
    MessagePayload,
    bullet_list,
    context,
    mention,
    plain,
    sanitise,
    section,
    truncate,
)
from retrieval.dates import format_date
from retrieval.models import Finding, FindingKind, InspectionType
from tracker.deadlines import explain_deadline

#: The block of the one message that calls the reviewers once a report's drafts are all done.
BLOCK_REVIEW_READY = "report_review_ready"
#: The words so far of a draft the model is writing, under its placeholder's status line.
BLOCK_WRITING = "draft_writing"


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
    #: Seconds each finished draft (or failed attempt) of this report took, as measured: the estimate's basis.
    measured: tuple[float, ...] = ()


def report_summary(summary: ReportSummary, progress: Progress, today: date) -> MessagePayload:
    """Title, findings found, the statutory last day with its one-line rule, and drafting progress."""
    counts = _kind_counts(summary.findings)
    head = f":page_facing_up: *{sanitise(summary.title)}*"
    facts = [f"Type: {summary.inspection_type.value}"]
    if summary.published:
        facts.append(f"Published: {format_date(summary.published)}")
    if summary.file_name:
        facts.append(f"File: {sanitise(summary.file_name)}")
    if summary.inspection_id is not None:
        facts.append(f"Inspection #{summary.inspection_id}")
    lead = f"{head}\n{' · '.join(facts)}\n*Findings found:* {counts}"
    blocks: list[Block] = [section(lead, c.BLOCK_SUMMARY)]
    if summary.published:
        deadline = f":calendar: {sanitise(explain_deadline(summary.published, today))}"
    else:
        # A slash command does not say which thread it was typed in: `attach` finds this report as the one
        # waiting in the channel (or by its link).
        deadline = (
            ":calendar: The report's publication date was not found, so no deadline is tracked yet: add it with "
            f"`{c.COMMAND} add <published date> <title>` or, if this inspection is already tracked, type "
            f"`{c.COMMAND} attach <id>` in this thread."
        )
    blocks.append(section(deadline, c.BLOCK_SUMMARY_DEADLINE))
    items = [f"*{sanitise(f.label)}*: {sanitise(truncate(' '.join(f.text.split()), 160))}" for f in summary.findings]
    blocks.append(section(bullet_list(items), f"{c.BLOCK_SUMMARY_FINDINGS_PREFIX}0"))
    blocks.append(context([progress_line(progress)], c.BLOCK_PROGRESS))
    return MessagePayload(plain(f"{summary.title}: {counts}. {progress_line(progress)}"), blocks)


def progress_line(progress: Progress) -> str:
    failed = f" ({progress.failed} could not be drafted; see the replies)" if progress.failed else ""
    if progress.finished:
        posted = progress.done - progress.failed
        return f":white_check_mark: {posted} of {progress.total} drafts posted below{failed}."
    if progress.done >= progress.total:
        return f":hourglass_flowing_sand: Finishing {progress.total} drafts…{failed}"
    left = seconds_left(progress.measured, progress.total - progress.done)
    estimate = f" {describe_left(left)}" if left is not None else ""
    return f":hourglass_flowing_sand: Drafting {progress.done + 1} of {progress.total}…{estimate}{failed}"


def seconds_left(measured: Sequence[float], remaining: int) -> float | None:
    """The mean measured seconds per draft times the drafts still to write; None before any was measured."""
    if not measured or remaining <= 0:
        return None
    return sum(measured) / len(measured) * remaining


def describe_left(seconds: float) -> str:
    """`about 4 min left`, `about 1 h 20 min left`, or `less than a minute left`."""
    if seconds < 45:
        return "less than a minute left"
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"about {minutes} min left"
    hours, rest = divmod(minutes, 60)
    return f"about {hours} h {rest} min left" if rest else f"about {hours} h left"


def reviewer_mentions(reviewers: Sequence[str], fallback: str) -> list[str]:
    """Who to call on: the configured reviewers (people first, then user groups), else the person who asked."""
    ids = [r for r in dict.fromkeys(r.strip() for r in reviewers) if r]
    ordered = [r for r in ids if not r.startswith("S")] + [r for r in ids if r.startswith("S")]
    return [mention(r) for r in ordered] or ([mention(fallback)] if fallback else [])


def review_ready(
    mentions: Sequence[str], title: str, drafted: int, to_confirm: int, link: str | None = None
) -> MessagePayload:
    """The one message per report that tells the reviewers its drafts are ready:

    "<@U1> <!subteam^S2>: 8 drafts of “<title>” await your review (2 need a fact confirmed)."
    """
    drafts = f"{drafted} draft{'s' if drafted != 1 else ''}"
    verb = "await" if drafted != 1 else "awaits"
    confirm = ""
    if to_confirm:
        confirm = f" ({to_confirm} need{'s' if to_confirm == 1 else ''} a fact confirmed)"
    who = " ".join(mentions)
    lead = f"{who}: " if who else ""
    line = f"{lead}{drafts} of “{sanitise(title)}” {verb} your review{confirm}."
    where = f" <{link}|Open the report’s summary>" if link else ""
    text = f":mag: {line}{where}"
    return MessagePayload(truncate(line, c.MAX_FALLBACK_TEXT), [section(text, BLOCK_REVIEW_READY)])


def writing_placeholder(finding: Finding, text: str) -> MessagePayload:
    """A first draft's placeholder while the model writes: "Writing… (120 words so far)" and the words so far
    (escaped, the latest part kept when they outgrow one section), marked as not yet checked."""
    words = len(text.split())
    status = f"Writing… ({words} word{'s' if words != 1 else ''} so far)"
    quote = truncate(sanitise(" ".join(finding.text.split())), 300)
    head = f":writing_hand: *{sanitise(finding.label)}*: {status}\n>{quote}"
    body = sanitise(text.strip())
    room = c.MAX_SECTION_TEXT - 1  # one character for the leading ellipsis
    if len(body) > room:
        raw = text.strip()[-room:]
        while len(escaped := sanitise(raw)) > room:  # cut the raw text, so no escape is left in halves
            raw = raw[len(escaped) - room :]
        body = "…" + sanitise(raw)
    blocks: list[Block] = [section(head, c.BLOCK_PROGRESS)]
    if body:
        blocks.append(section(body, BLOCK_WRITING))
    blocks.append(context(["Words as the model writes them, not yet checked: the checked draft replaces them."]))
    return MessagePayload(plain(f"{finding.label}: {status}"), blocks)


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


def already_uploaded(uploaded: date, link: str | None) -> MessagePayload:
    """The same report text uploaded again in a channel: nothing is added; the first upload's thread is linked."""
    where = f"<{link}|that thread>" if link else "its first thread"
    problem = f"This report was already uploaded in this channel on {format_date(uploaded)}."
    todo = f"Its findings and drafts are in {where}; nothing was added again. To redraft one, use Regenerate there."
    return MessagePayload(
        plain(f"{problem} Nothing was added."), [section(f":warning: *{problem}*\n{todo}", c.BLOCK_ERROR)]
    )

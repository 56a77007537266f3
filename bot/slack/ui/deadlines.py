"""Block Kit for the `/hmicfrs` replies: pure functions, no I/O.

Every deadline shown carries its one-line rule (56 days beginning with publication, s.55(5A)) and the days
left. Long lists end with "… and N more" instead of being cut silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.services.inspection_desk import DoneResult, InspectionDetail
from bot.slack import constants as c
from bot.slack.constants import COMMAND
from bot.slack.ui.common import Block, MessagePayload, context, escape, section, truncate
from drafting.pack import PackIncomplete
from retrieval.dates import format_date
from tracker.deadlines import DONE_STEPS, DeadlineStatus, describe_days_left
from tracker.pack_assembly import ExportedPack
from tracker.views import InspectionSummary, InspectionView

MAX_LISTED = 15  # 3 blocks each, inside the 50-block message limit with room for a header and footer

STATUS_EMOJI = {
    DeadlineStatus.ON_TRACK: ":large_green_circle:",
    DeadlineStatus.DUE_SOON: ":large_orange_circle:",
    DeadlineStatus.DUE_TODAY: ":red_circle:",
    DeadlineStatus.OVERDUE: ":warning:",
    DeadlineStatus.DONE: ":white_check_mark:",
}

HELP_LINES = (
    f"`{COMMAND} add <published date> <title> [#channel] [--type peel|national|joint|force-specific]` "
    "start tracking an inspection (dates like 8 Dec 2023, 8/12/2023 or 2023-12-08)",
    f"`{COMMAND} list` open inspections, soonest last day first",
    f"`{COMMAND} show <id>` deadlines, recipients and each finding's review state",
    f"`{COMMAND} done <id> <{'|'.join(DONE_STEPS)}>` tick off a step",
    f"`{COMMAND} remind <id> <days,…>` reminder offsets before the last day, e.g. 28,14,7,3,1,0",
    f"`{COMMAND} comments <id> pcc|cc <text>` the PCC's or the chief constable's comments for the pack",
    f"`{COMMAND} pack <id> [draft]` the publication pack (Markdown + Word) in the inspection's thread; "
    "`draft` gives a watermarked working copy",
    f"`{COMMAND} help` this list",
)


def days_text(summary: InspectionSummary) -> str:
    if summary.status is DeadlineStatus.DONE:
        return "response published"
    return describe_days_left(summary.days_left)


def title_text(view: InspectionView, link: str | None = None) -> str:
    title = escape(view.title)
    return f"<{link}|{title}>" if link else f"*{title}*"


def progress_text(view: InspectionView) -> str:
    if not view.findings_total:
        return "no findings yet (upload the report in the thread)"
    return f"{view.findings_approved}/{view.findings_total} answers approved"


# ── replies to the slash command ─────────────────────────────────────────────────────────────────────────


def help_message(problem: str | None = None) -> MessagePayload:
    lead = f":grey_question: {escape(problem)}\n" if problem else ""
    text = (
        lead
        + "*Track an HMICFRS inspection against the s.55 deadline:*\n"
        + "\n".join(f"• {escape(line)}" for line in HELP_LINES)
    )
    return MessagePayload(truncate(problem or f"{COMMAND} help", c.MAX_FALLBACK_TEXT), [section(text)])


def inspection_added(view: InspectionView, today: date, announced_in: str | None) -> MessagePayload:
    where = f" and announced it in <#{announced_in}>" if announced_in else ""
    text = (
        f":white_check_mark: Added inspection #{view.id}{where}: {title_text(view)}\n"
        f":calendar: {escape(view.deadline_line(today))}"
    )
    return MessagePayload(f"Added inspection #{view.id}: {view.title}", [section(text)])


def inspection_announcement(view: InspectionView, today: date, actor: str) -> MessagePayload:
    """Posted to the channel: the thread it starts is where the report and the drafts go."""
    cc_days = (view.cc_comments_due - view.published).days
    lines = [
        f":mega: <@{actor}> started tracking {title_text(view)} (inspection #{view.id}, {view.inspection_type.value}).",
        f":calendar: {escape(view.deadline_line(today))}",
        f":male-police-officer: Chief constable's comments requested by {format_date(view.cc_comments_due)} "
        f"({cc_days} days after publication, s.55(4)).",
        f":bell: Reminders {', '.join(str(d) for d in view.reminder_days)} days before the last day.",
    ]
    blocks = [
        section("\n".join(lines), c.BLOCK_ANNOUNCE),
        context(["Upload the report in this thread and I will draft an answer to every finding."]),
    ]
    return MessagePayload(truncate(f"Tracking {view.title}: {view.deadline_line(today)}", 4000), blocks)


def inspection_list(summaries: Sequence[InspectionSummary]) -> MessagePayload:
    if not summaries:
        return MessagePayload(
            "No open inspections.",
            [section(f"No open inspections. Add one with `{COMMAND} add <published date> <title>`.")],
        )
    blocks: list[Block] = [section(f"*Open inspections ({len(summaries)}), soonest last day first*")]
    for summary in summaries[:MAX_LISTED]:
        view = summary.inspection
        emoji = STATUS_EMOJI[summary.status]
        head = f"{emoji} *#{view.id}* {title_text(view)} · *{days_text(summary)}* · {progress_text(view)}"
        blocks.append(section(head))
        blocks.append(context([escape(summary.deadline_line)]))
    if len(summaries) > MAX_LISTED:
        blocks.append(context([f"… and {len(summaries) - MAX_LISTED} more: see the App Home tab."]))
    text = "; ".join(f"#{s.inspection.id} {s.inspection.title} ({days_text(s)})" for s in summaries)
    return MessagePayload(truncate(text, c.MAX_FALLBACK_TEXT), blocks)


def inspection_detail(detail: InspectionDetail) -> MessagePayload:
    view = detail.inspection
    recipients = ", ".join(
        f"{r.recipient.value} {':white_check_mark:' if r.done else ':white_large_square:'}" for r in view.recipients
    )
    published = format_date(view.published_at.date()) if view.published_at else "not yet"
    lines = [
        f"*#{view.id}* {title_text(view)} ({view.inspection_type.value}, {escape(view.force)})",
        f":calendar: {escape(detail.deadline_line)}",
        f":male-police-officer: {escape(detail.cc_line)}",
        f"First drafts by {format_date(view.first_drafts_due)} · reviews complete by "
        f"{format_date(view.reviews_complete_due)}",
        f"Reminders: {', '.join(str(d) for d in view.reminder_days)} days before the last day",
        f"Response published: {published} · sent to {recipients}",
        f"Comments for the pack: PCC {'recorded' if detail.comments.pcc else 'missing'}, chief constable "
        f"{'recorded' if detail.comments.chief_constable else 'missing'}",
    ]
    blocks: list[Block] = [section("\n".join(lines))]
    if detail.answers:
        items = [
            f"{a.finding.label}: {a.finding.state.label}" + (f" (v{a.draft.version})" if a.draft else "")
            for a in detail.answers
        ]
        blocks.append(section(truncate(f"*{progress_text(view)}*\n" + "\n".join(f"• {i}" for i in items), 3000)))
    return MessagePayload(truncate(f"Inspection #{view.id}: {view.title}", c.MAX_FALLBACK_TEXT), blocks)


def done_message(result: DoneResult) -> MessagePayload:
    icon = ":tada:" if result.step == "published" and not result.learn_error else ":white_check_mark:"
    return MessagePayload(truncate(result.message, c.MAX_FALLBACK_TEXT), [section(f"{icon} {escape(result.message)}")])


def reminders_set(view: InspectionView) -> MessagePayload:
    offsets = ", ".join(str(d) for d in view.reminder_days)
    text = f":bell: Reminders for {title_text(view)}: {offsets} days before the last day, {format_date(view.last_day)}."
    return MessagePayload(f"Reminders set: {offsets} days before {format_date(view.last_day)}", [section(text)])


def pack_refused(error: PackIncomplete, view: InspectionView, links: dict[int, str] | None = None) -> MessagePayload:
    """The s.55(5B) refusal, one line per finding still lacking an approved answer (linked when we can)."""
    links = links or {}
    if not error.missing:
        text = (
            f":no_entry_sign: The pack for {title_text(view)} cannot be made: no findings are recorded yet. "
            "Upload the report in the inspection's thread first."
        )
        return MessagePayload(str(error), [section(text)])
    items = [
        (f"<{links[m.finding_id]}|{escape(m.label)}>" if m.finding_id in links else escape(m.label))
        + f": {escape(m.reason)}"
        for m in error.missing
    ]
    head = (
        f":no_entry_sign: The pack for {title_text(view)} cannot be exported: {len(error.missing)} of "
        f"{view.findings_total} findings lack an approved answer (every recommendation needs one, s.55(5B))."
    )
    blocks = [
        section(head),
        section(truncate("\n".join(f"• {item}" for item in items), c.MAX_SECTION_TEXT)),
        context([f"Approve them in the thread, or `{COMMAND} pack {view.id} draft` for a watermarked working copy."]),
    ]
    return MessagePayload(truncate(str(error), c.MAX_FALLBACK_TEXT), blocks)


def pack_started(view: InspectionView, watermark: bool) -> MessagePayload:
    kind = "a watermarked working copy of the pack" if watermark else "the publication pack"
    return MessagePayload(
        f"Assembling {kind}…", [section(f":hourglass_flowing_sand: Assembling {kind} for {title_text(view)}…")]
    )


def pack_comment(view: InspectionView, exported: ExportedPack) -> str:
    if exported.watermark:
        return (
            f":warning: Working copy of the response to “{view.title}”: *not approved, not for publication*. "
            f"{exported.answers} findings, Markdown and Word."
        )
    return (
        f":page_with_curl: The response to “{view.title}”: every one of the {exported.answers} findings has an "
        f"approved answer. Markdown and Word attached. Last day {format_date(view.last_day)}; once it is "
        f"published, mark it with `{COMMAND} done {view.id} published`."
    )

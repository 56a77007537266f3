"""Block Kit for `/hmicfrs`, reminders and the App Home dashboard: pure functions, no I/O.

Every deadline shown carries its one-line rule (56 days beginning with publication, s.55(5A)) and the days
left. Limits: 50 blocks per message, 100 per Home view; long lists end with "… and N more" instead of being
cut silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from bot import constants as c
from bot.blocks import Block, MessagePayload, context, escape, section, slack_time, truncate
from bot.deadline_service import DONE_STEPS, DoneResult, InspectionDetail
from tracker.dates import format_date
from tracker.deadlines import DeadlineStatus, describe_days_left
from tracker.packs import ExportedPack, PackIncomplete
from tracker.reminders import ReminderKind, ReminderToPost
from tracker.views import InspectionSummary, InspectionView

COMMAND = "/hmicfrs"
MAX_HOME_BLOCKS = 100
MAX_LISTED = 15  # 3 blocks each, inside the 50-block message limit with room for a header and footer
MAX_HOME_INSPECTIONS = 30
BLOCK_HOME_HEADER = "home_header"
BLOCK_HOME_PREFIX = "home_inspection_"
BLOCK_REMINDER = "deadline_reminder"
BLOCK_ANNOUNCE = "inspection_announce"

_STATUS_EMOJI = {
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


class HomeRow(BaseModel):
    """One inspection on the dashboard, with a link to its thread when it has one."""

    summary: InspectionSummary
    link: str | None = None


def archive_link(team_url: str, channel: str, ts: str | None = None) -> str:
    """`https://team.slack.com/archives/C1/p1700000000000100`: Slack's own permalink shape, no API call."""
    base = team_url.rstrip("/") + f"/archives/{channel}"
    return f"{base}/p{ts.replace('.', '')}" if ts else base


def _days(summary: InspectionSummary) -> str:
    if summary.status is DeadlineStatus.DONE:
        return "response published"
    return describe_days_left(summary.days_left)


def _title(view: InspectionView, link: str | None = None) -> str:
    title = escape(view.title)
    return f"<{link}|{title}>" if link else f"*{title}*"


def _progress(view: InspectionView) -> str:
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


def refusal(text: str) -> MessagePayload:
    return MessagePayload(truncate(text, c.MAX_FALLBACK_TEXT), [section(f":no_entry_sign: {escape(text)}")])


def inspection_added(view: InspectionView, today: date, announced_in: str | None) -> MessagePayload:
    where = f" and announced it in <#{announced_in}>" if announced_in else ""
    text = (
        f":white_check_mark: Added inspection #{view.id}{where}: {_title(view)}\n"
        f":calendar: {escape(view.deadline_line(today))}"
    )
    return MessagePayload(f"Added inspection #{view.id}: {view.title}", [section(text)])


def inspection_announcement(view: InspectionView, today: date, actor: str) -> MessagePayload:
    """Posted to the channel: the thread it starts is where the report and the drafts go."""
    cc_days = (view.cc_comments_due - view.published).days
    lines = [
        f":mega: <@{actor}> started tracking {_title(view)} (inspection #{view.id}, {view.inspection_type.value}).",
        f":calendar: {escape(view.deadline_line(today))}",
        f":male-police-officer: Chief constable's comments requested by {format_date(view.cc_comments_due)} "
        f"({cc_days} days after publication, s.55(4)).",
        f":bell: Reminders {', '.join(str(d) for d in view.reminder_days)} days before the last day.",
    ]
    blocks = [
        section("\n".join(lines), BLOCK_ANNOUNCE),
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
        head = f"{_STATUS_EMOJI[summary.status]} *#{view.id}* {_title(view)} · *{_days(summary)}* · {_progress(view)}"
        blocks.append(section(head))
        blocks.append(context([escape(summary.deadline_line)]))
    if len(summaries) > MAX_LISTED:
        blocks.append(context([f"… and {len(summaries) - MAX_LISTED} more: see the App Home tab."]))
    text = "; ".join(f"#{s.inspection.id} {s.inspection.title} ({_days(s)})" for s in summaries)
    return MessagePayload(truncate(text, c.MAX_FALLBACK_TEXT), blocks)


def inspection_detail(detail: InspectionDetail) -> MessagePayload:
    view = detail.inspection
    recipients = ", ".join(
        f"{r.recipient.value} {':white_check_mark:' if r.done else ':white_large_square:'}" for r in view.recipients
    )
    published = format_date(view.published_at.date()) if view.published_at else "not yet"
    lines = [
        f"*#{view.id}* {_title(view)} ({view.inspection_type.value}, {escape(view.force)})",
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
        blocks.append(section(truncate(f"*{_progress(view)}*\n" + "\n".join(f"• {i}" for i in items), 3000)))
    return MessagePayload(truncate(f"Inspection #{view.id}: {view.title}", c.MAX_FALLBACK_TEXT), blocks)


def done_message(result: DoneResult) -> MessagePayload:
    icon = ":tada:" if result.step == "published" and not result.learn_error else ":white_check_mark:"
    return MessagePayload(truncate(result.message, c.MAX_FALLBACK_TEXT), [section(f"{icon} {escape(result.message)}")])


def reminders_set(view: InspectionView) -> MessagePayload:
    offsets = ", ".join(str(d) for d in view.reminder_days)
    text = f":bell: Reminders for {_title(view)}: {offsets} days before the last day, {format_date(view.last_day)}."
    return MessagePayload(f"Reminders set: {offsets} days before {format_date(view.last_day)}", [section(text)])


def pack_refused(error: PackIncomplete, links: dict[int, str] | None = None) -> MessagePayload:
    """The s.55(5B) refusal, one line per finding still lacking an approved answer (linked when we can)."""
    view, links = error.inspection, links or {}
    if not error.missing:
        text = (
            f":no_entry_sign: The pack for {_title(view)} cannot be made: no findings are recorded yet. "
            "Upload the report in the inspection's thread first."
        )
        return MessagePayload(str(error), [section(text)])
    items = [
        (f"<{links[m.finding_id]}|{escape(m.label)}>" if m.finding_id in links else escape(m.label))
        + f": {escape(m.reason)}"
        for m in error.missing
    ]
    head = (
        f":no_entry_sign: The pack for {_title(view)} cannot be exported: {len(error.missing)} of "
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
        f"Assembling {kind}…", [section(f":hourglass_flowing_sand: Assembling {kind} for {_title(view)}…")]
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


# ── reminders ────────────────────────────────────────────────────────────────────────────────────────────


def reminder_message(reminder: ReminderToPost) -> MessagePayload:
    # The tracker writes the text with Slack emoji and `code` already; escaping keeps a title's "<" literal.
    blocks: list[Block] = [section(escape(reminder.message), BLOCK_REMINDER)]
    hint = f"`{COMMAND} show {reminder.inspection_id}` for details"
    if reminder.kind is ReminderKind.OVERDUE:
        hint += f" · `{COMMAND} done {reminder.inspection_id} published` once it is out"
    blocks.append(context([hint]))
    return MessagePayload(truncate(reminder.message, c.MAX_FALLBACK_TEXT), blocks)


# ── App Home ─────────────────────────────────────────────────────────────────────────────────────────────


def home_view(rows: Sequence[HomeRow], updated: datetime) -> dict[str, Any]:
    """The dashboard: open inspections, soonest first, with last day, days left, approvals and thread link."""
    blocks: list[Block] = [
        {"type": "header", "block_id": BLOCK_HOME_HEADER, "text": {"type": "plain_text", "text": "HMICFRS deadlines"}},
        context(
            [
                "The PCC publishes its response within 56 days beginning with the day the report is published "
                f"(Police Act 1996 s.55(5A)). Updated {slack_time(updated)}."
            ]
        ),
        {"type": "divider"},
    ]
    if not rows:
        blocks.append(section(f"No open inspections. Add one with `{COMMAND} add <published date> <title>`."))
    for row in rows[:MAX_HOME_INSPECTIONS]:
        summary, view = row.summary, row.summary.inspection
        head = (
            f"{_STATUS_EMOJI[summary.status]} *#{view.id}* {_title(view, row.link)}\n"
            f"*Last day {format_date(view.last_day)}* · *{_days(summary)}* · {_progress(view)}"
        )
        blocks.append(section(head, f"{BLOCK_HOME_PREFIX}{view.id}"))
        notes = [escape(summary.deadline_line)]
        if view.channel_id and not row.link:
            notes.append(f"<#{view.channel_id}>")
        blocks.append(context(notes))
    if len(rows) > MAX_HOME_INSPECTIONS:
        blocks.append(context([f"… and {len(rows) - MAX_HOME_INSPECTIONS} more: `{COMMAND} list`."]))
    return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}

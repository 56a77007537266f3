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
from bot.slack.ui.common import Block, MessagePayload, context, plain, sanitise, section, truncate
from drafting.pack import PackIncomplete
from retrieval.dates import format_date
from tracker.clock import UK
from tracker.deadlines import DONE_STEPS, DeadlineStatus, describe_days_left
from tracker.findings import AttachResult, ReportThread
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
    f"`{COMMAND} attach <id> [message link]` attach a report uploaded without a publication date to inspection "
    "<id>: typed in the channel where it was uploaded, or with the link to its message (⋮ → Copy link) when "
    "several reports there are waiting",
    f"`{COMMAND} list` open inspections, soonest last day first",
    f"`{COMMAND} show <id>` deadlines, recipients and each finding's review state",
    f"`{COMMAND} done <id> <{'|'.join(DONE_STEPS)}>` tick off a step (`published` by a reviewer, once a "
    "finding is recorded); an inspection stays listed until it is published and sent to both",
    f"`{COMMAND} remind <id> <days,…>` reminder offsets before the last day, e.g. 28,14,7,3,1,0",
    f"`{COMMAND} comments <id> pcc|cc <text>` the PCC's or the chief constable's comments for the pack",
    f"`{COMMAND} pack <id> [draft]` the publication pack (Markdown + Word) in the inspection's thread; "
    "`draft` gives a watermarked working copy",
    f"`{COMMAND} ceiling [OFFICIAL|OFFICIAL-SENSITIVE|…]` this channel's classification ceiling (the highest "
    "marking a draft posted here may quote) and where it comes from; with a marking, an admin sets it "
    f"(`{COMMAND} ceiling list`: every channel with one of its own)",
    f"`{COMMAND} register [<id>|@person|mine|overdue|all]` the recommendation register: open items (or that "
    "inspection's, that person's, the overdue ones, every one), each with *Add update* and *Assign owner*",
    f"`{COMMAND} help` this list",
)


def days_text(summary: InspectionSummary) -> str:
    """Days left before publication; after it, the step still outstanding ("next: send to the Home Secretary")."""
    if summary.status is DeadlineStatus.DONE:
        next_step = summary.inspection.next_step
        return f"published · next: {next_step}" if next_step else "response published and sent"
    return describe_days_left(summary.days_left)


def title_text(view: InspectionView, link: str | None = None) -> str:
    title = sanitise(view.title)
    return f"<{link}|{title}>" if link else f"*{title}*"


def progress_text(view: InspectionView) -> str:
    if not view.findings_total:
        return f"no findings yet (upload the report in the thread, or `{COMMAND} attach {view.id}`)"
    return f"{view.findings_approved}/{view.findings_total} answers approved"


# ── replies to the slash command ─────────────────────────────────────────────────────────────────────────


def help_message(problem: str | None = None) -> MessagePayload:
    lead = f":grey_question: {sanitise(problem)}\n" if problem else ""
    text = (
        lead
        + "*Track an HMICFRS inspection against the s.55 deadline:*\n"
        + "\n".join(f"• {sanitise(line)}" for line in HELP_LINES)
    )
    return MessagePayload(plain(problem or f"{COMMAND} help"), [section(text)])


def inspection_added(view: InspectionView, today: date, announced_in: str | None) -> MessagePayload:
    where = f" and announced it in <#{announced_in}>" if announced_in else ""
    text = (
        f":white_check_mark: Added inspection #{view.id}{where}: {title_text(view)}\n"
        f":calendar: {sanitise(view.deadline_line(today))}"
    )
    return MessagePayload(plain(f"Added inspection #{view.id}: {view.title}"), [section(text)])


def inspection_announcement(view: InspectionView, today: date, actor: str) -> MessagePayload:
    """Posted to the channel: the thread it starts is where the report and the drafts go."""
    cc_days = (view.cc_comments_due - view.published).days
    lines = [
        f":mega: <@{actor}> started tracking {title_text(view)} (inspection #{view.id}, {view.inspection_type.value}).",
        f":calendar: {sanitise(view.deadline_line(today))}",
        f":male-police-officer: Chief constable's comments requested by {format_date(view.cc_comments_due)} "
        f"({cc_days} days after publication, s.55(4)).",
        f":bell: Reminders {', '.join(str(d) for d in view.reminder_days)} days before the last day.",
    ]
    blocks = [
        section("\n".join(lines), c.BLOCK_ANNOUNCE),
        context(["Upload the report in this thread and I will draft an answer to every finding."]),
    ]
    return MessagePayload(plain(f"Tracking {view.title}: {view.deadline_line(today)}"), blocks)


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
        blocks.append(context([sanitise(summary.deadline_line)]))
    if len(summaries) > MAX_LISTED:
        blocks.append(context([f"… and {len(summaries) - MAX_LISTED} more: see the App Home tab."]))
    text = "; ".join(f"#{s.inspection.id} {s.inspection.title} ({days_text(s)})" for s in summaries)
    return MessagePayload(plain(text), blocks)


def inspection_detail(detail: InspectionDetail) -> MessagePayload:
    view = detail.inspection
    recipients = ", ".join(
        f"{r.recipient.value} {':white_check_mark:' if r.done else ':white_large_square:'}" for r in view.recipients
    )
    published = format_date(view.published_at.date()) if view.published_at else "not yet"
    lines = [
        f"*#{view.id}* {title_text(view)} ({view.inspection_type.value}, {sanitise(view.force)})",
        f":calendar: {sanitise(detail.deadline_line)}",
        f":male-police-officer: {sanitise(detail.cc_line)}",
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
            f"{sanitise(a.finding.label)}: {a.finding.state.label}" + (f" (v{a.draft.version})" if a.draft else "")
            for a in detail.answers
        ]
        blocks.append(section(truncate(f"*{progress_text(view)}*\n" + "\n".join(f"• {i}" for i in items), 3000)))
    return MessagePayload(plain(f"Inspection #{view.id}: {view.title}"), blocks)


def done_message(result: DoneResult) -> MessagePayload:
    icon = ":tada:" if result.step == "published" and not result.learn_error else ":white_check_mark:"
    return MessagePayload(plain(result.message), [section(f"{icon} {sanitise(result.message)}")])


def reminders_set(view: InspectionView) -> MessagePayload:
    offsets = ", ".join(str(d) for d in view.reminder_days)
    text = f":bell: Reminders for {title_text(view)}: {offsets} days before the last day, {format_date(view.last_day)}."
    return MessagePayload(f"Reminders set: {offsets} days before {format_date(view.last_day)}", [section(text)])


def pack_refused(error: PackIncomplete, view: InspectionView, links: dict[int, str] | None = None) -> MessagePayload:
    """Why the final pack cannot be made: one line per finding still lacking an approved, confirmed answer
    (linked when we can), then what the letter itself lacks, each with what to do."""
    links = links or {}
    if not error.missing and not error.problems:
        text = (
            f":no_entry_sign: The pack for {title_text(view)} cannot be made: no findings are recorded yet. "
            "Upload the report in the inspection's thread first."
        )
        return MessagePayload(plain(str(error)), [section(text)])
    blocks = [section(f":no_entry_sign: The pack for {title_text(view)} cannot be exported yet.")]
    if error.missing:
        items = [
            (f"<{links[m.finding_id]}|{sanitise(m.label)}>" if m.finding_id in links else sanitise(m.label))
            + f": {sanitise(m.reason)}"
            for m in error.missing
        ]
        head = (
            f"*{len(error.missing)} of {view.findings_total} findings* lack an approved answer with nothing left "
            "to confirm (every recommendation needs one, s.55(5B)):\n"
        )
        blocks.append(section(truncate(head + "\n".join(f"• {item}" for item in items), c.MAX_SECTION_TEXT)))
    if error.problems:
        blocks.append(section("\n".join(f"• {sanitise(problem)}" for problem in _letter_todo(error.problems, view.id))))
    blocks.append(
        context([f"Or `{COMMAND} pack {view.id} draft` for a watermarked working copy, which is never refused."])
    )
    return MessagePayload(plain(str(error)), blocks)


def _letter_todo(problems: list[str], inspection_id: int) -> list[str]:
    """The letter's gaps with the Slack way to close each."""
    todo = {
        "chief constable": f"`{COMMAND} comments {inspection_id} cc <text>`, or `{COMMAND} pack {inspection_id} "
        "waive-cc <reason>`",
        "PCC's name": "set RESPONDER_PCC_NAME where Responder runs (ask whoever deployed it)",
    }
    return [problem + "".join(f": {how}" for key, how in todo.items() if key in problem) for problem in problems]


def pack_started(view: InspectionView, watermark: bool) -> MessagePayload:
    kind = "a watermarked working copy of the pack" if watermark else "the publication pack"
    return MessagePayload(
        f"Assembling {kind}…", [section(f":hourglass_flowing_sand: Assembling {kind} for {title_text(view)}…")]
    )


def pack_comment(view: InspectionView, exported: ExportedPack) -> str:
    formats = "Markdown, Word and PDF" if exported.pdf else "Markdown and Word"
    no_pdf = f" ({exported.pdf_note})" if exported.pdf_note and not exported.pdf else ""
    title = sanitise(view.title)
    if exported.watermark:
        return (
            f":warning: Working copy of the response to “{title}”: *not approved, not for publication*. "
            f"{exported.answers} findings, {formats}.{no_pdf}"
        )
    return (
        f":page_with_curl: The response to “{title}”: every one of the {exported.answers} findings has an "
        f"approved answer with nothing left to confirm. {formats} attached.{no_pdf} "
        f"Last day {format_date(view.last_day)}; once it is "
        f"published, mark it with `{COMMAND} done {view.id} published`."
    )


# ── a duplicate, and a report attached to an inspection already tracked ──────────────────────────────────


def duplicate_refused(first: InspectionView, link: str | None) -> MessagePayload:
    """`add` refused: the same title and publication date is tracked already; where to find the first."""
    where = f" (<{link}|its thread>)" if link else ""
    text = (
        f":no_entry_sign: {title_text(first)}, published {format_date(first.published)}, is already tracked as "
        f"inspection #{first.id}{where}. Nothing was added; see `{COMMAND} show {first.id}`."
    )
    return MessagePayload(
        plain(f"Already tracked as inspection #{first.id}: {first.title}; nothing was added."), [section(text)]
    )


def thread_text(thread: ReportThread, link: str | None) -> str:
    started = format_date(thread.last_added.astimezone(UK).date())
    name = f"<{link}|report thread of {started}>" if link else f"report thread of {started}"
    count = f"{thread.findings} finding{'s' if thread.findings != 1 else ''}"
    return f"{name}: {count}, starting with {sanitise(thread.first_label)}"


def attach_which(inspection_id: int, threads: Sequence[tuple[ReportThread, str | None]]) -> MessagePayload:
    """`attach` without a link where this channel has no report waiting, or more than one."""
    how = f"`{COMMAND} attach {inspection_id} <message link>` (on the report's message: ⋮ → Copy link)"
    if not threads:
        text = (
            ":grey_question: No report in this channel is waiting for an inspection (its findings all belong to "
            f"one already). Type this in the channel where the report was uploaded, or use {how}."
        )
        return MessagePayload("No report in this channel is waiting for an inspection.", [section(text)])
    items = "\n".join(f"• {thread_text(thread, link)}" for thread, link in threads)
    text = f":grey_question: Several reports in this channel are waiting for an inspection; say which with {how}:\n"
    return MessagePayload(
        "Several reports are waiting: give the report's message link.", [section(truncate(text + items, 3000))]
    )


def attached(result: AttachResult, view: InspectionView, link: str | None) -> MessagePayload:
    """What `attach` did: how many findings joined the inspection, from which thread, and what was skipped."""
    thread = f"<{link}|the report's thread>" if link else "the report's thread"
    n = len(result.added)
    lines = [
        f":paperclip: Attached {n} finding{'s' if n != 1 else ''} from {thread} to inspection #{view.id} "
        f"{title_text(view)}; their drafts and reviews stay where they are."
    ]
    if result.skipped:
        lines.append(f"Skipped {result.skipped} the inspection already holds (same text or label).")
    if result.thread_adopted:
        lines.append("That thread is now the inspection's thread: the pack and reminders go there.")
    lines.append(f":calendar: {sanitise(view.deadline_line())}")
    return MessagePayload(
        plain(f"Attached {n} findings to inspection #{view.id}: {view.title}"),
        [section("\n".join(lines))],
    )


def attached_note(result: AttachResult, view: InspectionView, today: date) -> MessagePayload:
    """Posted in the report's thread, so everyone there sees which inspection its drafts now count towards."""
    text = (
        f":paperclip: These findings now belong to inspection #{view.id} {title_text(view)} "
        f"({len(result.added)} attached). :calendar: {sanitise(view.deadline_line(today))}"
    )
    return MessagePayload(plain(f"Attached to inspection #{view.id}: {view.title}"), [section(text)])

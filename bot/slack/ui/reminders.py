"""Deadline reminders as posted in an inspection's thread: the words and the blocks. Pure functions."""

from __future__ import annotations

from bot.slack import constants as c
from bot.slack.ui.common import Block, MessagePayload, context, plain, sanitise, section
from retrieval.dates import format_date
from tracker.deadlines import explain_deadline
from tracker.reminders import ReminderKind, ReminderToPost


def reminder_text(reminder: ReminderToPost) -> str:
    title, line = f"“{reminder.title}”", explain_deadline(reminder.published, reminder.today)
    total, approved = reminder.findings_total, reminder.findings_approved
    status = f" {approved} of {total} answers approved." if total else ""
    done = f"`{c.COMMAND} done {reminder.inspection_id} published`"
    match reminder.kind:
        case ReminderKind.OVERDUE if reminder.first_overdue:
            return (
                f":warning: The PCC's response to {title} is overdue. {line}.{status} "
                f"Publish it as soon as possible, then mark it with {done}."
            )
        case ReminderKind.OVERDUE:
            return f":warning: Still overdue: the PCC's response to {title}. {line}.{status} Then {done}."
        case ReminderKind.CC_COMMENTS:
            return (
                f"The chief constable's comments on {title} were requested by {format_date(reminder.due_on)} "
                f"(s.55(4)). {line}.{status}"
            )
    if reminder.offset_days == 0:
        return f":rotating_light: Last day today to publish the PCC's response to {title}. {line}.{status}"
    return f"Reminder: the PCC's response to {title} is due. {line}.{status}"


def reminder_message(reminder: ReminderToPost) -> MessagePayload:
    text = reminder_text(reminder)
    # The text carries Slack emoji and `code` already; escaping keeps a title's "<" literal.
    blocks: list[Block] = [section(sanitise(text), c.BLOCK_REMINDER)]
    hint = f"`{c.COMMAND} show {reminder.inspection_id}` for details"
    if reminder.kind is ReminderKind.OVERDUE:
        hint += f" · `{c.COMMAND} done {reminder.inspection_id} published` once it is out"
    blocks.append(context([hint]))
    return MessagePayload(plain(text), blocks)

"""The App Home dashboard: what awaits the viewer's review, the recommendation register (once it has items),
then open inspections, soonest last day first.

Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from bot.slack import constants as c
from bot.slack.ui.common import Block, button, context, sanitise, section, slack_time
from bot.slack.ui.deadlines import STATUS_EMOJI, days_text, progress_text, title_text
from bot.slack.ui.register import AssignedItem, InspectionCounts, register_home_blocks
from retrieval.dates import format_date
from tracker.clock import UK
from tracker.views import InspectionSummary

MAX_HOME_INSPECTIONS = 30
#: Drafts listed under "Awaiting my review"; the rest are counted ("… and N more").
MAX_AWAITING = 10
#: The "Open" button beside a draft awaiting review: a link button (Slack still sends an action, acked only).
ACTION_HOME_OPEN_DRAFT = "home_open_draft"
BLOCK_HOME_AWAITING = "home_awaiting"


class HomeRow(BaseModel):
    """One inspection on the dashboard, with a link to its thread when it has one."""

    summary: InspectionSummary
    link: str | None = None


class AwaitingDraft(BaseModel):
    """A draft the viewer may approve and has not: its label, version, inspection and a link to its message."""

    finding_id: int
    label: str
    version: int
    inspection_id: int | None = None
    inspection_title: str = ""
    to_confirm: int = 0
    link: str | None = None


class NextStep(BaseModel):
    """The next step of an inspection's statutory timetable still ahead of it, and its date."""

    what: str
    due: date
    overdue: bool = False

    def describe(self) -> str:
        when = f"(last day {format_date(self.due)}, passed)" if self.overdue else f"by {format_date(self.due)}"
        return f"{self.what} {when}"


def next_step(summary: InspectionSummary, today: date) -> NextStep | None:
    """The first step of the inspection's statutory timetable still ahead, with its date.

    Before publication: the chief constable's comments (s.55(4)), every answer approved, then publishing by the
    last day (s.55(5A)). After it, what the tracker says is still outstanding (sending it to HMICFRS and the Home
    Secretary), due within the same period. None once every step is done.
    """
    view = summary.inspection
    outstanding = getattr(view, "next_step", None)  # the tracker's own "what is still to do", where offered
    if view.published_at is not None or not view.is_open:
        if not isinstance(outstanding, str):
            return None
        return NextStep(what=outstanding, due=view.last_day, overdue=view.last_day < today)
    steps = [("chief constable's comments due", view.cc_comments_due)]
    if view.findings_total and view.findings_approved < view.findings_total:
        steps.append(("every answer approved", view.reviews_complete_due))
    publish = outstanding if isinstance(outstanding, str) else "publish the response"
    steps.append((publish, view.last_day))
    ahead = [NextStep(what=what, due=due) for what, due in steps if due >= today]
    return ahead[0] if ahead else NextStep(what=publish, due=view.last_day, overdue=True)


def awaiting_blocks(awaiting: Sequence[AwaitingDraft], rows: Sequence[HomeRow], today: date) -> list[Block]:
    """The viewer's drafts awaiting review by inspection, with approved / total and the next step; capped."""
    blocks: list[Block] = [
        {
            "type": "header",
            "block_id": BLOCK_HOME_AWAITING,
            "text": {"type": "plain_text", "text": "Awaiting my review"},
        }
    ]
    if not awaiting:
        blocks.append(context(["Nothing awaits your review."]))
        return blocks
    summaries = {row.summary.inspection.id: row.summary for row in rows}
    shown = list(awaiting[:MAX_AWAITING])
    last_inspection: object = object()
    for item in shown:
        if item.inspection_id != last_inspection:
            last_inspection = item.inspection_id
            blocks.append(context([_inspection_line(item, summaries.get(item.inspection_id or -1), today)]))
        confirm = f" · {item.to_confirm} to confirm" if item.to_confirm else ""
        block = section(f"*{sanitise(item.label)}* · v{item.version}{confirm}")
        if item.link:
            block["accessory"] = {
                **button("Open", ACTION_HOME_OPEN_DRAFT, str(item.finding_id)),
                "url": item.link,
            }
        blocks.append(block)
    if len(awaiting) > MAX_AWAITING:
        blocks.append(context([f"… and {len(awaiting) - MAX_AWAITING} more awaiting your review."]))
    return blocks


def _inspection_line(item: AwaitingDraft, summary: InspectionSummary | None, today: date) -> str:
    if summary is None:
        return f"*{sanitise(item.inspection_title or 'No inspection')}*"
    view = summary.inspection
    parts = [f"*#{view.id} {sanitise(view.title)}*", f"{view.findings_approved}/{view.findings_total} approved"]
    if step := next_step(summary, today):
        parts.append(f"next: {sanitise(step.describe())}")
    return " · ".join(parts)


def archive_link(team_url: str, channel: str, ts: str | None = None) -> str:
    """`https://team.slack.com/archives/C1/p1700000000000100`: Slack's own permalink shape, no API call."""
    base = team_url.rstrip("/") + f"/archives/{channel}"
    return f"{base}/p{ts.replace('.', '')}" if ts else base


def home_view(
    rows: Sequence[HomeRow],
    updated: datetime,
    awaiting: Sequence[AwaitingDraft] | None = None,
    *,
    register: Sequence[InspectionCounts] = (),
    assigned: Sequence[AssignedItem] | None = None,
) -> dict[str, Any]:
    """The dashboard: the viewer's drafts awaiting review (when given), the register's counts per inspection and
    the viewer's items (when `assigned` is given), then open inspections, soonest first, with last day, days
    left, approvals, the next step and thread link: as many inspections as the block limit leaves room for."""
    today = updated.astimezone(UK).date()
    blocks: list[Block] = []
    if awaiting is not None:
        blocks += [*awaiting_blocks(awaiting, rows, today), {"type": "divider"}]
    if assigned is not None:
        blocks += [*register_home_blocks(register, assigned, today), {"type": "divider"}]
    blocks += _deadline_blocks(rows, updated, today, room=c.MAX_HOME_BLOCKS - len(blocks))
    return {"type": "home", "blocks": blocks[: c.MAX_HOME_BLOCKS]}


def _deadline_blocks(rows: Sequence[HomeRow], updated: datetime, today: date, room: int) -> list[Block]:
    """The open inspections, two blocks each, within `room` blocks (the rest counted, never cut silently)."""
    # Three blocks of heading, two per inspection, one for "… and N more".
    fits = max(0, min(MAX_HOME_INSPECTIONS, (room - 4) // 2))
    blocks: list[Block] = [
        {
            "type": "header",
            "block_id": c.BLOCK_HOME_HEADER,
            "text": {"type": "plain_text", "text": "HMICFRS deadlines"},
        },
        context(
            [
                "The PCC publishes its response within 56 days beginning with the day the report is published "
                f"(Police Act 1996 s.55(5A)). Updated {slack_time(updated)}."
            ]
        ),
        {"type": "divider"},
    ]
    if not rows:
        blocks.append(section(f"No open inspections. Add one with `{c.COMMAND} add <published date> <title>`."))
    for row in rows[:fits]:
        summary, view = row.summary, row.summary.inspection
        head = (
            f"{STATUS_EMOJI[summary.status]} *#{view.id}* {title_text(view, row.link)}\n"
            f"*Last day {format_date(view.last_day)}* · *{days_text(summary)}* · {progress_text(view)}"
        )
        blocks.append(section(head, f"{c.BLOCK_HOME_PREFIX}{view.id}"))
        notes = [sanitise(summary.deadline_line)]
        if step := next_step(summary, today):
            notes.append(f"Next: {sanitise(step.describe())}")
        if view.channel_id and not row.link:
            notes.append(f"<#{view.channel_id}>")
        blocks.append(context(notes))
    if len(rows) > fits:
        blocks.append(context([f"… and {len(rows) - fits} more: `{c.COMMAND} list`."]))
    return blocks

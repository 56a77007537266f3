"""The App Home dashboard: open inspections, soonest last day first. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from bot.slack import constants as c
from bot.slack.ui.common import Block, context, escape, section, slack_time
from bot.slack.ui.deadlines import STATUS_EMOJI, days_text, progress_text, title_text
from retrieval.dates import format_date
from tracker.views import InspectionSummary

MAX_HOME_INSPECTIONS = 30


class HomeRow(BaseModel):
    """One inspection on the dashboard, with a link to its thread when it has one."""

    summary: InspectionSummary
    link: str | None = None


def archive_link(team_url: str, channel: str, ts: str | None = None) -> str:
    """`https://team.slack.com/archives/C1/p1700000000000100`: Slack's own permalink shape, no API call."""
    base = team_url.rstrip("/") + f"/archives/{channel}"
    return f"{base}/p{ts.replace('.', '')}" if ts else base


def home_view(rows: Sequence[HomeRow], updated: datetime) -> dict[str, Any]:
    """The dashboard: open inspections, soonest first, with last day, days left, approvals and thread link."""
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
    for row in rows[:MAX_HOME_INSPECTIONS]:
        summary, view = row.summary, row.summary.inspection
        head = (
            f"{STATUS_EMOJI[summary.status]} *#{view.id}* {title_text(view, row.link)}\n"
            f"*Last day {format_date(view.last_day)}* · *{days_text(summary)}* · {progress_text(view)}"
        )
        blocks.append(section(head, f"{c.BLOCK_HOME_PREFIX}{view.id}"))
        notes = [escape(summary.deadline_line)]
        if view.channel_id and not row.link:
            notes.append(f"<#{view.channel_id}>")
        blocks.append(context(notes))
    if len(rows) > MAX_HOME_INSPECTIONS:
        blocks.append(context([f"… and {len(rows) - MAX_HOME_INSPECTIONS} more: `{c.COMMAND} list`."]))
    return {"type": "home", "blocks": blocks[: c.MAX_HOME_BLOCKS]}

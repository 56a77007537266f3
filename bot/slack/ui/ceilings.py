"""Block Kit for `/hmicfrs ceiling`: each channel's classification ceiling, and where it comes from. Pure functions."""

from __future__ import annotations

from collections.abc import Sequence

from bot.slack.constants import COMMAND
from bot.slack.ui.common import MessagePayload, context, mention, plain, section, slack_time
from retrieval.models import Classification
from tracker.channels import CeilingSource, ChannelCeiling

LEVELS = " | ".join(marking.value for marking in Classification)


def place(channel: str, listed: bool = False) -> str:
    """A channel as a link; a DM (whose link Slack does not render) as "this DM", or by its id in a list."""
    if channel.startswith("D"):
        return f"the DM `{channel}`" if listed else "this DM"
    return f"<#{channel}>"


def where_from(item: ChannelCeiling) -> str:
    """'set by @U1 at 14:02', 'configured for this channel', 'the default': why the ceiling is what it is."""
    match item.source:
        case CeilingSource.STORED:
            when = f" at {slack_time(item.set_at)}" if item.set_at else ""
            return f"set by {mention(item.set_by or 'unknown')}{when}"
        case CeilingSource.CONFIGURED:
            return "configured for this channel (RESPONDER_CHANNEL_CEILINGS)"
    kind = "DM" if item.channel_id.startswith("D") else "channel"
    return f"the default: no ceiling was set for this {kind}"


def ceiling_shown(item: ChannelCeiling, upper_bound: Classification) -> MessagePayload:
    """The channel's ceiling, where it comes from, and how an admin changes it."""
    head = (
        f":lock: The classification ceiling in {place(item.channel_id)} is *{item.ceiling.value}* "
        f"({where_from(item)}). "
        f"Drafts posted here quote only documents marked {item.ceiling.value} or lower."
    )
    how = (
        f"The office's upper bound is {upper_bound.value}. An admin (RESPONDER_ADMINS) changes it with "
        f"`{COMMAND} ceiling <{LEVELS}>`."
    )
    return MessagePayload(plain(f"Classification ceiling here: {item.ceiling.value}"), [section(head), context([how])])


def ceiling_set(item: ChannelCeiling, before: Classification) -> MessagePayload:
    """The ephemeral confirmation to the admin who set it."""
    text = (
        f":white_check_mark: The classification ceiling of {place(item.channel_id)} is now *{item.ceiling.value}* "
        f"(was {before.value}). Drafts posted there from now on may quote documents marked up to "
        f"{item.ceiling.value}; drafts already posted are unchanged."
    )
    return MessagePayload(plain(f"Ceiling set to {item.ceiling.value}"), [section(text)])


def ceiling_announcement(item: ChannelCeiling, before: Classification) -> MessagePayload:
    """Posted in the channel itself: everyone there should know what the drafts may now quote."""
    text = (
        f":lock: {mention(item.set_by or 'unknown')} set this channel's classification ceiling to "
        f"*{item.ceiling.value}* (was {before.value}): drafts posted here may quote documents marked up to "
        f"{item.ceiling.value}, and each draft shows its own marking at the top."
    )
    return MessagePayload(plain(f"Classification ceiling here is now {item.ceiling.value}"), [section(text)])


def ceiling_list(items: Sequence[ChannelCeiling], upper_bound: Classification) -> MessagePayload:
    if not items:
        text = f":lock: No channel has a ceiling of its own: every channel and DM is {Classification.OFFICIAL.value}."
        return MessagePayload(plain(text), [section(text)])
    lines = [f"• {place(item.channel_id, listed=True)} *{item.ceiling.value}* ({where_from(item)})" for item in items]
    head = (
        ":lock: *Channels with a ceiling of their own* (every other channel and DM is OFFICIAL; "
        f"the upper bound is {upper_bound.value})"
    )
    return MessagePayload(plain("Channel ceilings"), [section("\n".join([head, *lines]))])

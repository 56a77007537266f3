"""Mentions in channels, direct messages, and replies in threads that hold our drafts.

Events are acked by Bolt before these run; each listener only routes the message to the workflow, which
stores it, posts a placeholder and queues the drafting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext

from bot.inbound import Inbound, Surface, mentions
from bot.listeners.guard import reported

if TYPE_CHECKING:
    from bot.app import BotDeps


def register(app: App, deps: BotDeps) -> None:
    workflow = deps.workflow

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], context: BoltContext) -> None:
        msg = Inbound.from_event(event, Surface.MENTION, context.bot_user_id)
        with reported(workflow, msg.channel, msg.thread_ts):
            workflow.handle_message(msg)

    @app.event("message")
    def on_message(event: dict[str, Any], context: BoltContext) -> None:
        msg = route(event, context.bot_user_id, workflow.knows_thread)
        if msg is not None:
            with reported(workflow, msg.channel, msg.thread_ts):
                workflow.handle_message(msg)


def route(event: dict[str, Any], bot_user_id: str | None, knows_thread: Any) -> Inbound | None:
    """Which messages are for us: DMs, and replies in our threads that do not also mention us."""
    if event.get("subtype") not in (None, "file_share", "thread_broadcast") or event.get("bot_id"):
        return None
    if event.get("channel_type") == "im":
        return Inbound.from_event(event, Surface.DM, bot_user_id)
    if mentions(event.get("text") or "", bot_user_id):
        return None  # the app_mention event for the same message does the work
    thread_ts = event.get("thread_ts")
    if thread_ts and knows_thread(event.get("channel", ""), thread_ts):
        return Inbound.from_event(event, Surface.THREAD, bot_user_id)
    return None

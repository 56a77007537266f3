"""Mentions in channels, direct messages, and replies in threads that hold our drafts.

Events are acked by Bolt before these run; each listener only routes the message to the conversations service,
which stores it, posts a placeholder and queues the drafting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext

from bot.services.threads import thread_findings
from bot.slack.deps import BotDeps
from bot.slack.inbound import Inbound, Surface, mentions
from bot.slack.listeners.failures import told_in_thread
from bot.slack.prefilter import PERSON_SUBTYPES
from tracker.views import FindingView


def register(app: App, deps: BotDeps) -> None:
    @app.event("app_mention")
    def on_mention(event: dict[str, Any], context: BoltContext) -> None:
        msg = Inbound.from_event(event, Surface.MENTION, context.bot_user_id)
        with told_in_thread(deps.poster, msg.channel, msg.thread_ts):
            deps.conversations.handle(msg)

    @app.event("message")
    def on_message(event: dict[str, Any], context: BoltContext) -> None:
        seen: dict[tuple[str, str], list[FindingView]] = {}  # what routing read, handed on to the handler

        def knows_thread(channel: str, thread_ts: str) -> bool:
            findings = thread_findings(deps.store, channel, thread_ts)
            if findings is not None:
                seen[(channel, thread_ts)] = findings
            return findings is not None

        msg = route(event, context.bot_user_id, knows_thread)
        if msg is not None:
            with told_in_thread(deps.poster, msg.channel, msg.thread_ts):
                deps.conversations.handle(msg, seen.get((msg.channel, msg.thread_ts)))


def route(event: dict[str, Any], bot_user_id: str | None, knows_thread: Callable[[str, str], bool]) -> Inbound | None:
    """Which messages are for us: DMs, and replies in our threads that do not also mention us."""
    if event.get("subtype") not in PERSON_SUBTYPES or event.get("bot_id"):
        return None
    if event.get("channel_type") == "im":
        return Inbound.from_event(event, Surface.DM, bot_user_id)
    if mentions(event.get("text") or "", bot_user_id):
        return None  # the app_mention event for the same message does the work
    thread_ts = event.get("thread_ts")
    if thread_ts and knows_thread(event.get("channel", ""), thread_ts):
        return Inbound.from_event(event, Surface.THREAD, bot_user_id)
    return None

"""Mentions in channels, direct messages, and replies in threads that hold our drafts.

Events are acked by Bolt before these run; each listener only routes the message to the conversations service,
which stores it, posts a placeholder and queues the drafting.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.services.threads import thread_findings
from bot.slack.deps import BotDeps
from bot.slack.inbound import Inbound, Surface, route
from bot.slack.listeners.failures import told_in_thread
from tracker.views import FindingView

__all__ = ["register", "route"]  # `route` lives in bot.slack.inbound: the prefilter routes too


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

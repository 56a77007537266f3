"""`file_shared`: a report uploaded without a message event we act on (the intake decides if it is ours)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.slack.deps import BotDeps


def register(app: App, deps: BotDeps) -> None:
    @app.event("file_shared")
    def on_file_shared(event: dict[str, Any], context: BoltContext) -> None:
        if event.get("user_id") == context.bot_user_id or not event.get("file_id"):
            return  # our own uploads (long drafts attached as files) announce themselves too
        deps.reports.file_shared(event["file_id"], event.get("channel_id", ""), event.get("user_id", ""))

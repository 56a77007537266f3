"""The App Home tab: the deadlines dashboard and the viewer's drafts awaiting review, published on opening."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.slack.deps import BotDeps
from bot.slack.ui.home import ACTION_HOME_OPEN_DRAFT


def register(app: App, deps: BotDeps) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab (assistant / DM) is someone else's surface
        user = event.get("user")
        if user:
            deps.home.publish(user)

    @app.action(ACTION_HOME_OPEN_DRAFT)
    def on_open_draft(ack: Ack) -> None:
        ack()  # a link button: Slack opens the draft's message itself, but still expects an acknowledgement

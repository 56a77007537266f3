"""The App Home tab: the deadlines dashboard, published whenever someone opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.slack.deps import BotDeps


def register(app: App, deps: BotDeps) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab (assistant / DM) is someone else's surface
        user = event.get("user")
        if user:
            deps.home.publish(user)

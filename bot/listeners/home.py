"""The App Home tab: the deadlines dashboard, published whenever someone opens it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import App

from bot.deadline_slack import parts_for

if TYPE_CHECKING:
    from bot.app import BotDeps

log = logging.getLogger(__name__)


def register(app: App, deps: BotDeps) -> None:
    home = parts_for(deps).home

    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab (assistant / DM) is someone else's surface
        user = event.get("user")
        if user:
            home.publish(user)

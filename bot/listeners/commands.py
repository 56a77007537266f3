"""The `/hmicfrs` slash command: one command, subcommands, help on anything it does not understand."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App

from bot.deadline_slack import SlashCommand, parts_for

if TYPE_CHECKING:
    from bot.app import BotDeps

COMMAND = "/hmicfrs"


def register(app: App, deps: BotDeps) -> None:
    desk = parts_for(deps).desk

    @app.command(COMMAND)
    def on_hmicfrs(ack: Ack, command: dict[str, Any]) -> None:
        # The desk acks itself: with the reply when it is quick, before any slow part when it is not.
        desk.handle(SlashCommand.from_body(command), ack)

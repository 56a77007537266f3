"""The `/hmicfrs` slash command: one command, subcommands, help on anything it does not understand."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.services.slash_command import SlashCommand
from bot.slack.constants import COMMAND
from bot.slack.deps import BotDeps


def register(app: App, deps: BotDeps) -> None:
    @app.command(COMMAND)
    def on_hmicfrs(ack: Ack, respond: Respond, command: dict[str, Any]) -> None:
        # The command acks itself: with the reply when it is quick, before any slow part when it is not.
        deps.command.handle(SlashCommand.from_body(command), ack, respond)

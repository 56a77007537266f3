"""Bot instances for the slash-command tests: each one the real Bolt app over loopback, built with an injected
clock and sharing one database file with any others, as several processes would (tests/slack/test_commands.py,
tests/slack/test_register_slack.py). Request signatures still use real time, as Slack's do."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.composition import build_core, build_slack
from bot.services.reminder_sweeper import ReminderSweeper
from bot.settings import Settings
from bot.slack.app import SlackBot
from bot.slack.transport import HttpServer
from tests.support.slack_fake import FakeSlack, SlackSender
from tests.support.store import FakeClock, db_url
from tracker.repository import Repository

SECRET = "test-signing-secret"
CHANNEL = "C_REVIEWS"
LEAD = "U_LEAD"


@dataclass
class Running:
    bot: SlackBot
    server: HttpServer
    sender: SlackSender
    store: Repository
    slack_base: str

    def slash(self, text: str, user: str = LEAD, channel: str = CHANNEL) -> dict[str, Any]:
        return self.sender.slash(text, user, channel, self.slack_base)

    def click(self, action_id: str, value: int | str, user: str, channel: str = CHANNEL) -> None:
        payload = self.sender.block_action(action_id, str(value), user, channel, "1700000000.000100")
        assert self.sender.interaction(payload).status == 200

    def submit(self, view: dict[str, Any], user: str, values: dict[str, Any]) -> dict[str, Any]:
        """A view_submission; the ack body ({} when the modal closes, `response_action: errors` when not)."""
        response = self.sender.interaction(self.sender.view_submission(view, user, values))
        assert response.status == 200, response.body
        return json.loads(response.body) if response.body else {}

    def sweeper(self, clock: FakeClock, instance_id: str) -> ReminderSweeper:
        return ReminderSweeper(self.store, self.bot.deps.poster, clock, instance_id=instance_id)

    def stop(self) -> None:
        self.server.stop()
        self.bot.close()
        self.store.close()


class Instances:
    """`start()` one bot instance after another on the same database; `close()` stops them all.

    `defaults`: settings every instance gets (a test's `start(**overrides)` adds to them)."""

    def __init__(self, tmp_path: Path, slack: FakeSlack, clock: FakeClock, **defaults: Any) -> None:
        self.tmp_path, self.slack, self.clock, self.defaults = tmp_path, slack, clock, defaults
        self.running: list[Running] = []

    def start(self, **overrides: Any) -> Running:
        settings = Settings(
            data_dir=self.tmp_path / "data",
            database_url=db_url(self.tmp_path),
            force="Northumbria",
            slack_bot_token="xoxb-test-token",
            slack_signing_secret=SECRET,
            slack_api_url=self.slack.api_url,
            **{**self.defaults, **overrides},
        )
        core = build_core(settings, clock=self.clock)
        bot = build_slack(core, token_verification_enabled=False)
        server = HttpServer(bot.app, "127.0.0.1", 0).start()
        running = Running(bot, server, SlackSender(server.url, SECRET), core.store, self.slack.base)
        self.running.append(running)
        return running

    def close(self) -> None:
        for running in self.running:
            running.stop()

"""Builds the Slack Bolt app from its dependencies: the Web API client, the prefilter, and the listeners.

Each surface's listeners live in their own module under `bot/slack/listeners/` with `register(app, deps)`;
`DEFAULT_LISTENERS` names them, and a caller (or a later feature) passes a longer list to add its own.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt import App

from bot.services.workers import CountingExecutor
from bot.slack.deps import BotDeps
from bot.slack.listeners import actions, assistant, commands, files, home, messages, views
from bot.slack.listeners import register as register_listeners
from bot.slack.prefilter import prefilter, slash_command_once

log = logging.getLogger(__name__)

LISTENER_THREADS = 16

Register = Callable[[App, BotDeps], None]

DEFAULT_LISTENERS: tuple[Register, ...] = (
    assistant.register,  # its middleware takes DM-thread messages before the `message` listener sees them
    messages.register,
    files.register,
    actions.register,
    views.register,
    commands.register,  # /hmicfrs: deadlines, reminder offsets, the publication pack
    home.register,  # the App Home deadlines dashboard
    register_listeners.register,  # the recommendation register's Add update / Assign owner buttons and modals
)


@dataclass
class SlackBot:
    app: App
    deps: BotDeps
    listener_pool: CountingExecutor

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once no listener and no background job is running (tests and benchmarks wait on this)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if not (
                self.listener_pool.wait_idle(max(left, 0))
                and self.deps.jobs.wait_idle(max(left, 0))
                and self.deps.drafts.workers.wait_idle(max(left, 0))
            ):
                return False
            if self.listener_pool.pending == 0 and self.deps.jobs.pending == 0 and self.deps.drafts.workers.idle():
                return True

    def close(self, wait: bool = True, cancel_queued: bool = False) -> None:
        self.deps.sweeper.stop()
        self.listener_pool.shutdown(wait=wait)
        self.deps.jobs.shutdown(wait=wait, cancel_queued=cancel_queued)
        self.deps.drafts.close(wait=wait, cancel_queued=cancel_queued)


def create_app(
    deps: BotDeps,
    *,
    listeners: Sequence[Register] = DEFAULT_LISTENERS,
    token_verification_enabled: bool = True,
) -> SlackBot:
    client = deps.poster.client
    if not client.token:
        raise ValueError("No bot token: set RESPONDER_SLACK_BOT_TOKEN (xoxb-…); see README 'Slack set-up'.")
    pool = CountingExecutor(LISTENER_THREADS, thread_name_prefix="bolt-listener")
    secret = deps.settings.slack_signing_secret
    app = App(
        client=client,
        signing_secret=secret.get_secret_value() if secret else "",
        process_before_response=False,  # ack first; listeners continue on the listener pool
        token_verification_enabled=token_verification_enabled,
        listener_executor=pool,
        name="responder",
    )
    app.middleware(prefilter(deps.store))
    app.middleware(slash_command_once(deps.store))  # a replayed signed /hmicfrs body runs nothing
    for register in listeners:
        register(app, deps)
    _ack_unhandled_events(app)
    return SlackBot(app, deps, pool)


def _ack_unhandled_events(app: App) -> None:
    """Registered last: subscribed events nobody handles get 200, or Slack would retry and then disable us."""

    @app.event(re.compile(".*"))
    def ignore_unhandled_event(body: dict[str, Any]) -> None:
        log.debug("no listener for %s", body.get("event", {}).get("type"))

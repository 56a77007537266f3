"""The assistant side panel (Bolt's `Assistant` middleware): suggested prompts, then the same conversation.

Messages in any DM thread reach `user_message` (that is how Bolt recognises assistant threads), so a
follow-up under a draft in a DM is handled here too.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, Assistant, BoltContext, Say, SetSuggestedPrompts

from bot.slack import constants as c
from bot.slack.deps import BotDeps
from bot.slack.inbound import Inbound, Surface
from bot.slack.listeners.failures import told_in_thread


def register(app: App, deps: BotDeps) -> None:
    assistant = Assistant()

    @assistant.thread_started
    def on_thread_started(say: Say, set_suggested_prompts: SetSuggestedPrompts) -> None:
        say(c.ASSISTANT_GREETING)
        set_suggested_prompts(prompts=[dict(p) for p in c.SUGGESTED_PROMPTS], title="Try one of these:")

    @assistant.user_message
    def on_user_message(payload: dict[str, Any], context: BoltContext) -> None:
        msg = Inbound.from_event(payload, Surface.ASSISTANT, context.bot_user_id)
        with told_in_thread(deps.poster, msg.channel, msg.thread_ts):
            deps.conversations.handle(msg)

    app.assistant(assistant)

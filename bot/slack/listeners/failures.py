"""The last line for listener code: an unexpected error is logged and told to the thread, never swallowed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk.errors import SlackApiError

from bot.services.errors import describe_error
from bot.services.poster import SlackPoster
from bot.slack.ui.common import error_message

log = logging.getLogger(__name__)


@contextmanager
def told_in_thread(poster: SlackPoster, channel: str, thread_ts: str | None) -> Iterator[None]:
    try:
        yield
    except Exception as error:
        log.exception("handling a Slack message in %s failed", channel)
        if not channel:
            return
        problem, todo = describe_error(error)
        try:
            poster.reply(channel, thread_ts, error_message(problem, todo))
        except SlackApiError:
            log.exception("could not report the failure in %s", channel)

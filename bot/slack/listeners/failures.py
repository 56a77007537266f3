"""The last line for listener code: an unexpected error is logged and told to the thread, never swallowed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk.errors import SlackApiError

from bot.services.errors import describe_error, is_expected
from bot.services.poster import SlackPoster
from bot.slack.ui.common import error_message

log = logging.getLogger(__name__)


@contextmanager
def told_in_thread(poster: SlackPoster, channel: str, thread_ts: str | None) -> Iterator[None]:
    try:
        yield
    except Exception as error:
        # A known cause (a full database, an unreadable index) is one line; only a bug needs its trace.
        trace = error if not is_expected(error) else None
        log.warning("handling a Slack message in %s failed: %s", channel, type(error).__name__, exc_info=trace)
        if not channel:
            return
        problem, todo = describe_error(error)
        try:
            poster.reply(channel, thread_ts, error_message(problem, todo))
        except SlackApiError:
            log.exception("could not report the failure in %s", channel)

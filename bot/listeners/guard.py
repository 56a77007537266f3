"""The last line for listener code: an unexpected error is logged and told to the thread, never swallowed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot import blocks

if TYPE_CHECKING:
    from bot.workflow import Workflow

log = logging.getLogger(__name__)


@contextmanager
def reported(workflow: Workflow, channel: str, thread_ts: str | None) -> Iterator[None]:
    try:
        yield
    except Exception as error:
        log.exception("handling a Slack message in %s failed", channel)
        if not channel:
            return
        from bot.workflow import describe_error

        problem, todo = describe_error(error)
        try:
            workflow.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, **_payload(blocks.error_message(problem, todo))
            )
        except SlackApiError:
            log.exception("could not report the failure in %s", channel)


def _payload(payload: blocks.MessagePayload) -> dict[str, object]:
    return {"text": payload.text, "blocks": payload.blocks}

"""The middleware every Slack request passes before any listener: drop what is not a person talking to us.

It drops bots' messages (ours included) and message edits, and claims each Slack event id in the database so a
retried delivery (`X-Slack-Retry-Num`), even one reaching another bot instance, never drafts twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.request import BoltRequest

from tracker.repository import Repository

log = logging.getLogger(__name__)

#: Message subtypes that are a person saying something; edits, deletions, joins and bot posts are not.
PERSON_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


def prefilter(store: Repository) -> Callable[..., BoltResponse | None]:
    def responder_prefilter(
        req: BoltRequest, body: dict[str, Any], context: Any, next: Callable[[], None]
    ) -> BoltResponse | None:
        event = body.get("event") if body.get("type") == "event_callback" else None
        if not isinstance(event, dict):
            next()
            return None
        if is_from_a_bot(event, context.bot_user_id) or not is_from_a_person(event):
            return BoltResponse(status=200, body="")
        retry = _header(req, "x-slack-retry-num")
        if retry:
            log.info(
                "Slack retry %s (%s) of event %s",
                retry,
                _header(req, "x-slack-retry-reason") or "no reason",
                body.get("event_id"),
            )
        event_id = body.get("event_id")
        if event_id and worth_claiming(event) and not store.events.claim(f"event:{event_id}"):
            log.info("event %s already handled; dropping the repeat", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    return responder_prefilter


def is_from_a_bot(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """Any bot's message (ours or another app's), or an event our own user caused (our file uploads)."""
    if event.get("bot_id") or event.get("subtype") == "bot_message":
        return True
    actor = event.get("user") or event.get("user_id")
    return bool(bot_user_id) and actor == bot_user_id


def is_from_a_person(event: dict[str, Any]) -> bool:
    return event.get("type") != "message" or event.get("subtype") in PERSON_SUBTYPES


def worth_claiming(event: dict[str, Any]) -> bool:
    """Plain channel chatter is most traffic and never drafts; claiming it would only fill the table."""
    if event.get("type") != "message":
        return True
    return event.get("channel_type") == "im" or bool(event.get("thread_ts")) or bool(event.get("files"))


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    return values[0] if values else None

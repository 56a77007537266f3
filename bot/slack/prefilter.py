"""The middleware every Slack request passes before any listener: drop what is not a person talking to us.

It drops bots' messages (ours included) and message edits, and claims each Slack event id in the database so a
retried delivery (`X-Slack-Retry-Num`), even one reaching another bot instance, never drafts twice.

When the claim cannot be written (the database is full, read-only or unreachable) the event is still acked
with 200, so Slack does not retry it into a storm, and it is not acted on: nothing it asks for could be stored.
If it was addressed to us (a mention, a DM, a reply in one of our threads), the person is told so in plain
words, once; the log gets one WARNING line with the event id and the reason, never the message text.

`slash_command_once` runs a slash command once per signed body: see its docstring.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.request import BoltRequest
from slack_bolt.request.payload_utils import is_slash_command
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.errors import storage_message
from bot.services.threads import thread_findings
from bot.slack.inbound import PERSON_SUBTYPES, Inbound, Surface, route
from bot.slack.ui.common import error_message
from tracker.faults import StorageProblem, reason, storage_problem
from tracker.repository import Repository

log = logging.getLogger(__name__)

__all__ = ["PERSON_SUBTYPES", "prefilter", "slash_command_once"]


def prefilter(store: Repository) -> Callable[..., BoltResponse | None]:
    def responder_prefilter(
        req: BoltRequest, body: dict[str, Any], context: Any, client: WebClient, next: Callable[[], None]
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
        if event_id and worth_claiming(event):
            try:
                first = store.events.claim(f"event:{event_id}")
            except Exception as error:
                problem = storage_problem(error)
                if problem is None:
                    raise  # a bug, not the storage: Bolt logs it with its trace
                log.warning("event %s not handled: the database is %s (%s)", event_id, problem.value, reason(error))
                tell_later(client, addressee(store, event, context.bot_user_id), problem)
                return BoltResponse(status=200, body="")
            if not first:
                log.info("event %s already handled; dropping the repeat", event_id)
                return BoltResponse(status=200, body="")
        next()
        return None

    return responder_prefilter


def addressee(store: Repository, event: dict[str, Any], bot_user_id: str | None) -> Inbound | None:
    """Who asked us something with this event (the same rule the listeners use), or None."""
    if event.get("type") == "app_mention":
        return Inbound.from_event(event, Surface.MENTION, bot_user_id)
    if event.get("type") != "message":
        return None

    def knows_thread(channel: str, thread_ts: str) -> bool:
        try:
            return thread_findings(store, channel, thread_ts) is not None
        except Exception:  # an unreachable database cannot say whose thread it is: say nothing there
            return False

    return route(event, bot_user_id, knows_thread)


def tell_later(client: WebClient, msg: Inbound | None, problem: StorageProblem) -> None:
    """Tell the person on another thread, so the ack never waits for Slack's Web API."""
    if msg is None or not msg.channel:
        return
    threading.Thread(target=_tell, args=(client, msg, problem), name="storage-notice", daemon=True).start()


def _tell(client: WebClient, msg: Inbound, problem: StorageProblem) -> None:
    payload = error_message(*storage_message(problem))
    try:
        client.chat_postMessage(
            channel=msg.channel, thread_ts=msg.thread_ts, text=payload.text, blocks=payload.blocks, unfurl_links=False
        )
    except SlackApiError as error:
        log.warning("could not tell %s the database is %s: %s", msg.channel, problem.value, error.response.get("error"))


#: The ack a repeated slash command gets instead of running again.
ALREADY_HANDLED = {"response_type": "ephemeral", "text": "That command was already handled."}


def slash_command_once(store: Repository) -> Callable[..., BoltResponse | None]:
    """Run each HTTP slash command once: a second delivery of the same signed body is acked and dropped.

    Slack never retries a slash command, and each invocation's body is unique (its `trigger_id`), so an
    identical body is a replay of a captured request. Bolt's signature check (which runs before any app
    middleware, so a forged request claims nothing) refuses a timestamp more than 5 minutes from now; within
    those 5 minutes a replay carries a valid signature, and the claim `slash:<sha256 of the raw body>` in the
    shared events table (kept 2 hours, see `tracker.events`) turns it away, on any instance. Socket Mode has
    no signed body to replay and is not checked.
    """

    def responder_slash_once(req: BoltRequest, body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        if req.mode != "http" or not is_slash_command(body):
            next()
            return None
        key = "slash:" + hashlib.sha256(req.raw_body.encode("utf-8")).hexdigest()
        try:
            first = store.events.claim(key)
        except Exception as error:
            problem = storage_problem(error)
            if problem is None:
                raise
            log.warning("slash command %s not run: the database is %s", body.get("command"), problem.value)
            return BoltResponse(status=200, body=storage_ack(problem))
        if not first:
            log.info("slash command %s repeated with the same signed body; not run again", body.get("command"))
            return BoltResponse(status=200, body=ALREADY_HANDLED)
        next()
        return None

    return responder_slash_once


def storage_ack(problem: StorageProblem) -> dict[str, Any]:
    """The ephemeral ack of a slash command that cannot be run because nothing can be stored."""
    payload = error_message(*storage_message(problem))
    return {"response_type": "ephemeral", "text": payload.text, "blocks": payload.blocks}


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

"""Buttons on a draft message. Each acks at once, then asks the review actions; refusals come back ephemerally."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt import Ack, App

from bot.services.errors import describe_error
from bot.services.review_actions import Click, ReviewActions
from bot.slack import constants as c
from bot.slack.deps import BotDeps
from bot.slack.ui.common import BadPayload, ButtonRef, parse_button_value
from bot.slack.ui.draft_card import parse_decision_value, parse_reuse_value
from drafting.decisions import Decision
from tracker.faults import storage_problem

log = logging.getLogger(__name__)
T = TypeVar("T")


def register(app: App, deps: BotDeps) -> None:
    reviews = deps.reviews
    handlers: dict[str, Callable[[Click], None]] = {
        c.ACTION_APPROVE: reviews.approve,
        c.ACTION_REOPEN: reviews.reopen,
        c.ACTION_REGENERATE: reviews.regenerate,
        c.ACTION_REQUEST_CHANGES: reviews.open_request_changes,
        c.ACTION_EDIT: reviews.open_edit,
        c.ACTION_CONFIRM: reviews.open_confirm,
    }
    for action_id, handler in handlers.items():
        app.action(action_id, middleware=[ack_at_once])(_listener(reviews, handler))

    app.action(c.ACTION_DECISION, middleware=[ack_at_once])(
        _valued_listener(reviews, _decision_of, reviews.decide, "decision", "recording that decision")
    )
    app.action(c.ACTION_REUSE, middleware=[ack_at_once])(
        _valued_listener(reviews, _reuse_of, reviews.reuse, "reuse", "reusing that answer")
    )


def _decision_of(action: dict[str, Any]) -> tuple[ButtonRef, Decision]:
    return parse_decision_value((action.get("selected_option") or {}).get("value", ""))


def _reuse_of(action: dict[str, Any]) -> tuple[ButtonRef, int]:
    return parse_reuse_value(action.get("value", ""))


def _valued_listener(
    reviews: ReviewActions,
    read: Callable[[dict[str, Any]], tuple[ButtonRef, T]],
    handler: Callable[[Click, T], None],
    name: str,
    doing: str,
) -> Callable[..., None]:
    """A control whose value carries more than the answer and version (a decision, an earlier answer's id)."""

    def on_action(body: dict[str, Any]) -> None:
        try:
            ref, value = read((body.get("actions") or [{}])[0])
        except BadPayload:
            log.warning("unrecognised %s payload on %s", name, body.get("container", {}).get("message_ts"))
            return
        click = _click(body, ref)
        try:
            handler(click, value)
        except Exception as error:
            if not tell_storage_fault(reviews, click, error):
                log.exception("%s on finding %s failed", name, click.finding_id)
                reviews.tell(click, f"Something went wrong {doing}. Reload the thread and try again.")

    on_action.__name__ = f"on_{name}"
    return on_action


def ack_at_once(ack: Ack, next: Callable[[], None]) -> None:
    """Ack in the request's own thread, before the listener waits for a free worker in the pool."""
    ack()
    next()


def _listener(reviews: ReviewActions, handler: Callable[[Click], None]) -> Callable[..., None]:
    def on_click(body: dict[str, Any]) -> None:
        try:
            click = click_from(body)
        except BadPayload:
            log.warning("unrecognised button payload on %s", body.get("container", {}).get("message_ts"))
            return
        try:
            handler(click)
        except Exception as error:
            if tell_storage_fault(reviews, click, error):
                return
            log.exception("button %s on finding %s failed", body["actions"][0].get("action_id"), click.finding_id)
            reviews.tell(
                click,
                "Something went wrong handling that click. Reload the thread to see where the answer stands "
                "before trying again.",
            )

    on_click.__name__ = f"on_{handler.__name__}"
    return on_click


def tell_storage_fault(reviews: ReviewActions, click: Click, error: Exception) -> bool:
    """A click that failed because the database cannot be written: one WARNING line, the plain words to the
    person who clicked; True when it was that."""
    problem = storage_problem(error)
    if problem is None:
        return False
    log.warning("click on finding %s not recorded: the database is %s", click.finding_id, problem.value)
    what, todo = describe_error(error)
    reviews.tell(click, f"{what} {todo}")
    return True


def click_from(body: dict[str, Any]) -> Click:
    action = (body.get("actions") or [{}])[0]
    return _click(body, parse_button_value(action.get("value", "")))


def _click(body: dict[str, Any], ref: ButtonRef) -> Click:
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id", "")
    return Click(
        finding_id=ref.finding_id,
        version=ref.version,
        user=(body.get("user") or {}).get("id", ""),
        channel=channel,
        message_ts=container.get("message_ts") or message.get("ts", ""),
        thread_ts=message.get("thread_ts"),
        trigger_id=body.get("trigger_id", ""),
    )

"""The recommendation register's buttons (Add update, Assign owner) and the modals they open.

A button acks at once and opens its modal from the listener pool (Slack's trigger_id lasts 3 seconds, far
longer than a register read). A submission is recorded before its ack, so a refusal is shown on its field.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.services.register_desk import ModalOutcome, RegisterClick, RegisterDesk
from bot.slack import constants as c
from bot.slack.deps import BotDeps
from bot.slack.listeners.actions import ack_at_once
from bot.slack.ui.common import BadPayload, refusal
from bot.slack.ui.register import RegisterModalContext, assign_form, parse_register_context, update_form
from tracker.faults import storage_problem

log = logging.getLogger(__name__)

_FAILED = "Something went wrong; nothing was changed. Try again, or check the bot's log."


def register(app: App, deps: BotDeps) -> None:
    desk = deps.register_desk

    @app.action(c.ACTION_REGISTER_UPDATE, middleware=[ack_at_once])
    def on_add_update(body: dict[str, Any]) -> None:
        _open(desk, body, desk.open_update)

    @app.action(c.ACTION_REGISTER_ASSIGN, middleware=[ack_at_once])
    def on_assign_owner(body: dict[str, Any]) -> None:
        _open(desk, body, desk.open_assign)

    @app.view(c.VIEW_REGISTER_UPDATE)
    def on_update_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        form = update_form(view)
        _submit(ack, view, c.INPUT_REGISTER_NOTE_BLOCK, lambda ctx: desk.submit_update(ctx, _user(body), form))

    @app.view(c.VIEW_REGISTER_ASSIGN)
    def on_assign_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        form = assign_form(view)
        _submit(ack, view, c.INPUT_REGISTER_OWNER_BLOCK, lambda ctx: desk.submit_assign(ctx, _user(body), form))


def click_from(body: dict[str, Any]) -> RegisterClick:
    action = (body.get("actions") or [{}])[0]
    value = str(action.get("value") or "")
    if not value.isdigit():
        raise BadPayload(f"unrecognised register button value {value!r}")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    return RegisterClick(int(value), _user(body), str(body.get("trigger_id") or ""), str(channel))


def _open(desk: RegisterDesk, body: dict[str, Any], opener: Callable[[RegisterClick], None]) -> None:
    try:
        click = click_from(body)
    except BadPayload:
        log.warning("unrecognised register button payload")
        return
    try:
        opener(click)
    except Exception as error:
        if (problem := storage_problem(error)) is None:
            log.exception("register button on item %s failed", click.item_id)
        else:
            log.warning("register button on item %s: the database is %s", click.item_id, problem.value)
        desk.tell(click.user, click.channel, refusal(_FAILED))


def _submit(
    ack: Ack, view: dict[str, Any], first_block: str, submit: Callable[[RegisterModalContext], ModalOutcome]
) -> None:
    try:
        ctx = parse_register_context(view.get("private_metadata", ""))
    except BadPayload:
        ack(response_action="errors", errors={first_block: "This form is out of date; close it."})
        return
    try:
        outcome = submit(ctx)
    except Exception as error:
        problem = storage_problem(error)
        if problem is None:
            log.exception("register modal submission on item %s failed", ctx.item_id)
            outcome = ModalOutcome({first_block: _FAILED})
        else:
            log.warning("register modal on item %s not recorded: the database is %s", ctx.item_id, problem.value)
            outcome = ModalOutcome({first_block: "I cannot save anything right now; nothing was lost. Try later."})
    if outcome.errors:
        ack(response_action="errors", errors=outcome.errors)
        return
    ack()
    if outcome.then is not None:
        outcome.then()


def _user(body: dict[str, Any]) -> str:
    return (body.get("user") or {}).get("id", "")

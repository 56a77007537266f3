"""Modal submissions: a change request (stored, then redrafted with the comment), an edit or a placeholder
confirmed as written (each a new version).

The decision is recorded before the ack, so a refusal (stale version, approved answer, empty text) is shown
inside the modal; after a successful ack the message is updated and any redraft is queued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.services.errors import describe_error
from bot.services.review_actions import Submitted
from bot.slack import constants as c
from bot.slack.deps import BotDeps
from bot.slack.listeners.failures import told_in_thread
from bot.slack.ui.common import BadPayload, truncate
from bot.slack.ui.modals import (
    comment_from_view,
    confirmation_from_view,
    edited_text_from_view,
    parse_modal_context,
)
from tracker.faults import storage_problem

log = logging.getLogger(__name__)
MAX_MODAL_ERROR = 300


def register(app: App, deps: BotDeps) -> None:
    reviews = deps.reviews

    @app.view(c.VIEW_REQUEST_CHANGES)
    def on_request_changes(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            ctx = parse_modal_context(view.get("private_metadata", ""))
        except BadPayload:
            ack(
                response_action="errors",
                errors={c.INPUT_COMMENT_BLOCK: "This form is out of date; close it."},
            )
            return
        result = _submitted(lambda: reviews.submit_request_changes(ctx, _user(body), comment_from_view(view)))
        with told_in_thread(deps.poster, ctx.channel, ctx.message_ts):
            _finish(ack, result, c.INPUT_COMMENT_BLOCK)

    @app.view(c.VIEW_EDIT)
    def on_edit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        first = f"{c.INPUT_EDIT_BLOCK_PREFIX}0"
        try:
            ctx = parse_modal_context(view.get("private_metadata", ""))
        except BadPayload:
            ack(response_action="errors", errors={first: "This form is out of date; close it."})
            return
        result = _submitted(lambda: reviews.submit_edit(ctx, _user(body), edited_text_from_view(view, ctx)))
        with told_in_thread(deps.poster, ctx.channel, ctx.message_ts):
            _finish(ack, result, first)

    @app.view(c.VIEW_CONFIRM)
    def on_confirm(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            ctx = parse_modal_context(view.get("private_metadata", ""))
        except BadPayload:
            ack(response_action="errors", errors={c.INPUT_MARKER_BLOCK: "This form is out of date; close it."})
            return
        index, note = confirmation_from_view(view)
        result = _submitted(lambda: reviews.submit_confirm(ctx, _user(body), index, note))
        block = c.INPUT_NOTE_BLOCK if index is not None else c.INPUT_MARKER_BLOCK
        with told_in_thread(deps.poster, ctx.channel, ctx.message_ts):
            _finish(ack, result, block)


def _submitted(submit: Callable[[], Submitted]) -> Submitted:
    """The submission, or, when the database cannot be written, the plain words shown inside the modal."""
    try:
        return submit()
    except Exception as error:
        problem = storage_problem(error)
        if problem is None:
            raise
        log.warning("modal submission not recorded: the database is %s", problem.value)
        what, todo = describe_error(error)
        return Submitted(error=f"{what} {todo}")


def _finish(ack: Ack, result: Submitted, block_id: str) -> None:
    if result.error:
        ack(response_action="errors", errors={block_id: truncate(result.error, MAX_MODAL_ERROR)})
        return
    ack()
    if result.then is not None:
        result.then()


def _user(body: dict[str, Any]) -> str:
    return (body.get("user") or {}).get("id", "")

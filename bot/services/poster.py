"""Every write to Slack goes through one `SlackPoster`: replies, updates, ephemeral notes, files, assistant status.

One place means one way to post: unfurls off, the fallback text beside the blocks, slack_sdk's retry handlers
on the client (rate limits honouring Retry-After, connection errors, Slack's 5xx), and `show`, which never
drops an outcome silently: when Slack refuses a message as too long or its blocks as invalid, a shorter card
goes up with the full text as a file. Best-effort calls (the assistant panel's status and title exist only in
assistant threads) never stop the work they decorate.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.metrics import Metrics
from bot.slack.ui.common import MessagePayload, shorter

log = logging.getLogger(__name__)

#: Errors where a smaller, simpler message may succeed where the full one cannot.
REFUSED_CONTENT = frozenset({"msg_too_long", "invalid_blocks", "invalid_blocks_format", "too_many_blocks"})


def install_retry_handlers(client: WebClient) -> WebClient:
    """Retries for the failures that pass: 429 (after Retry-After), dropped connections and Slack's 5xx."""
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]
    return client


def slack_error(error: SlackApiError) -> str:
    """The short error code Slack gave (`ratelimited`, `msg_too_long`…), or the HTTP status."""
    response = error.response
    code = response.get("error") if hasattr(response, "get") else None
    return str(code or f"HTTP {getattr(response, 'status_code', '?')}")


class SlackPoster:
    def __init__(self, client: WebClient, metrics: Metrics | None = None) -> None:
        self.client = install_retry_handlers(client)
        # The poster's own calls go through `_api`, which counts failures for /metrics when there are metrics.
        self._api: Any = _Counting(self.client, metrics) if metrics is not None else self.client

    @property
    def token(self) -> str:
        return self.client.token or ""

    def reply(self, channel: str, thread_ts: str | None, payload: MessagePayload, *, broadcast: bool = False) -> str:
        """Post in a thread (or the channel when `thread_ts` is None); returns the new message's ts."""
        extra = {"reply_broadcast": True} if broadcast else {}
        response = self._api.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=payload.text,
            blocks=payload.blocks,
            unfurl_links=False,
            unfurl_media=False,
            **extra,
        )
        return str(response["ts"])

    def update(self, channel: str, ts: str, payload: MessagePayload) -> None:
        self._api.chat_update(channel=channel, ts=ts, text=payload.text, blocks=payload.blocks)

    def show(self, channel: str, ts: str | None, thread_ts: str, payload: MessagePayload) -> tuple[str, bool]:
        """Show `payload` in message `ts` (a new reply in `thread_ts` when None), falling back to a shorter card
        when Slack refuses its content. Returns (the message's ts, whether the shorter card was used); any other
        refusal is raised for the caller to record and retry."""
        try:
            return self._put(channel, ts, thread_ts, payload), False
        except SlackApiError as error:
            if slack_error(error) not in REFUSED_CONTENT:
                raise
            log.warning("Slack refused a message (%s); posting a shorter one", slack_error(error))
        try:
            return self._put(channel, ts, thread_ts, shorter(payload)), True
        except SlackApiError as error:
            if slack_error(error) not in REFUSED_CONTENT:
                raise
        return self._put(channel, ts, thread_ts, shorter(payload, keep_buttons=False)), True

    def _put(self, channel: str, ts: str | None, thread_ts: str, payload: MessagePayload) -> str:
        if ts is None:
            return self.reply(channel, thread_ts, payload)
        self.update(channel, ts, payload)
        return ts

    def ephemeral(self, channel: str, user: str, payload: MessagePayload, thread_ts: str | None = None) -> None:
        self._api.chat_postEphemeral(
            channel=channel, user=user, text=payload.text, blocks=payload.blocks, thread_ts=thread_ts
        )

    def upload_text(self, channel: str, thread_ts: str, content: str, filename: str, title: str, comment: str) -> None:
        self._api.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            content=content,
            filename=filename,
            title=title,
            initial_comment=comment,
        )

    def upload_files(self, channel: str, thread_ts: str | None, files: list[tuple[Path, str]], comment: str) -> None:
        """Several files in one message: (path, title) each."""
        uploads = [{"file": str(path), "filename": path.name, "title": title} for path, title in files]
        self._api.files_upload_v2(file_uploads=uploads, channel=channel, thread_ts=thread_ts, initial_comment=comment)

    def open_modal(self, trigger_id: str, view: dict[str, object]) -> None:
        self._api.views_open(trigger_id=trigger_id, view=view)

    def publish_home(self, user: str, view: dict[str, object]) -> None:
        self._api.views_publish(user_id=user, view=view)

    def assistant_status(self, channel: str, thread_ts: str, status: str) -> None:
        """Best effort: the status only exists in assistant threads, and a refusal must not stop drafting."""
        try:
            self._api.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status=status)
        except SlackApiError as error:
            log.debug("assistant status not set: %s", error.response.get("error"))

    def assistant_title(self, channel: str, thread_ts: str, title: str) -> None:
        try:
            self._api.assistant_threads_setTitle(channel_id=channel, thread_ts=thread_ts, title=title)
        except SlackApiError as error:
            log.debug("assistant title not set: %s", error.response.get("error"))


class _Counting:
    """The WebClient, counting each failed call by method and Slack's error code (for /metrics)."""

    def __init__(self, client: WebClient, metrics: Metrics) -> None:
        self._client = client
        self._metrics = metrics

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name.startswith("_"):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            try:
                return attribute(*args, **kwargs)
            except SlackApiError as error:
                self._metrics.slack_errors.labels(name.replace("_", "."), slack_error(error)).inc()
                raise

        return counted

"""Links to messages, built from the workspace URL (one auth.test, cached) instead of a call per message."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.ui.home import archive_link

log = logging.getLogger(__name__)


class Permalinks:
    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._url: str | None = None
        self._lock = threading.Lock()

    def team_url(self) -> str | None:
        with self._lock:
            if self._url is None:
                try:
                    self._url = str(self._client.auth_test().get("url") or "") or None
                except SlackApiError as error:
                    log.warning("auth.test failed, no thread links: %s", error.response.get("error"))
            return self._url

    def message(self, channel: str | None, ts: str | None) -> str | None:
        url = self.team_url()
        if not (url and channel):
            return None
        return archive_link(url, channel, ts)

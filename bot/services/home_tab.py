"""The App Home dashboard; re-published to everyone who has opened it whenever the data changes."""

from __future__ import annotations

import json
import logging
import threading

from slack_sdk.errors import SlackApiError

from bot.services.inspection_desk import InspectionDesk
from bot.services.permalinks import Permalinks
from bot.services.poster import SlackPoster
from bot.slack.ui.home import HomeRow, home_view

log = logging.getLogger(__name__)


class HomeTab:
    def __init__(self, desk: InspectionDesk, poster: SlackPoster, links: Permalinks) -> None:
        self.desk = desk
        self.poster = poster
        self.links = links
        self._viewers: set[str] = set()
        self._fingerprint: str | None = None
        self._lock = threading.Lock()

    def rows(self) -> list[HomeRow]:
        return [
            HomeRow(summary=s, link=self.links.message(s.inspection.channel_id, s.inspection.thread_ts))
            for s in self.desk.open_inspections()
        ]

    def publish(self, user: str) -> None:
        """Show the dashboard to one person (on app_home_opened) and remember them for later refreshes."""
        rows = self.rows()
        with self._lock:
            self._viewers.add(user)
        self._send(user, rows)

    def refresh(self, only_if_changed: bool = False) -> int:
        """Re-publish for every known viewer; with `only_if_changed`, only when the dashboard's data moved."""
        # Read and publish under one lock: a refresh that read the data earlier must not publish after a
        # newer one and leave viewers (and the change fingerprint) on stale rows.
        with self._lock:
            rows = self.rows()
            fingerprint = json.dumps([row.model_dump(mode="json") for row in rows], sort_keys=True)
            if only_if_changed and fingerprint == self._fingerprint:
                return 0
            self._fingerprint = fingerprint
            return sum(self._send(user, rows) for user in sorted(self._viewers))

    def refresh_quietly(self) -> None:
        """After a change elsewhere: the dashboard is a convenience, so a failure here is only logged."""
        try:
            self.refresh(only_if_changed=True)
        except Exception:
            log.exception("App Home refresh failed")

    def _send(self, user: str, rows: list[HomeRow]) -> bool:
        try:
            self.poster.publish_home(user, home_view(rows, self.desk.clock()))
        except SlackApiError as error:
            log.warning("views.publish for %s failed: %s", user, error.response.get("error"))
            return False
        return True

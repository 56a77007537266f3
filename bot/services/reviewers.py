"""Who is in the reviewer user groups: `usergroups.users.list` for each configured S… id, cached briefly.

Membership changes rarely, and a click must be answered within Slack's three seconds, so each group's
members are cached for a few minutes. A lookup that fails (missing `usergroups:read` scope, deleted group)
counts as no members, is logged, and is retried sooner than a success.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

MEMBERS_TTL_SECONDS = 300.0
FAILURE_TTL_SECONDS = 30.0


class ReviewerDirectory:
    def __init__(
        self,
        client: WebClient,
        reviewers: Iterable[str],
        *,
        ttl: float = MEMBERS_TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.group_ids = tuple(r.strip() for r in reviewers if r.strip().startswith("S"))
        self._ttl = ttl
        self._now = monotonic
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def groups_of(self, user: str) -> tuple[str, ...]:
        """The configured reviewer groups `user` belongs to (what ApprovalPolicy.can_approve expects)."""
        return tuple(group for group in self.group_ids if user in self.members(group))

    def members(self, group: str) -> frozenset[str]:
        with self._lock:
            cached = self._cache.get(group)
            if cached and cached[0] > self._now():
                return cached[1]
        members, ttl = self._fetch(group)
        with self._lock:
            self._cache[group] = (self._now() + ttl, members)
        return members

    def _fetch(self, group: str) -> tuple[frozenset[str], float]:
        try:
            response = self._client.usergroups_users_list(usergroup=group)
        except SlackApiError as error:
            log.warning(
                "Could not list reviewer group %s (%s); its members cannot approve until this works. "
                "Check the app has the usergroups:read scope and the group id is right.",
                group,
                error.response.get("error"),
            )
            return frozenset(), FAILURE_TTL_SECONDS
        return frozenset(response.get("users") or ()), self._ttl

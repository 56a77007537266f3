"""Per-channel settings: the classification ceiling of what may be posted in each channel (issue 10).

A channel's ceiling is the highest protective marking a draft posted there may quote. Where it comes from, first
match wins: a row an admin stored (`set_ceiling`), the office's configured mapping (`RESPONDER_CHANNEL_CEILINGS`),
else OFFICIAL. DMs (`D…`) are channels like any other, so a DM is OFFICIAL unless a ceiling was set for it.
Nothing is ever above the office's upper bound (`RESPONDER_MAX_CLASSIFICATION`): a stored row above a bound
lowered since is read at the bound, and setting one above it is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select

from retrieval.models import Classification
from tracker import schema
from tracker.errors import InvalidInput, NotAllowed
from tracker.people import people
from tracker.store import Store

_CHANNEL_CHARS: int = schema.ChannelSetting.__table__.c.channel_id.type.length
_CHANNEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class CeilingSource(StrEnum):
    STORED = "set"
    CONFIGURED = "configured"
    DEFAULT = "default"


@dataclass(frozen=True)
class CeilingPolicy:
    """What the office configured: the upper bound, each channel's configured ceiling, who may set one."""

    upper_bound: Classification = Classification.OFFICIAL
    configured: Mapping[str, Classification] = field(default_factory=dict)
    admins: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        above = sorted(
            channel for channel, ceiling in self.configured.items() if ceiling.level > self.upper_bound.level
        )
        if above:
            raise ValueError(f"configured ceilings above the upper bound {self.upper_bound.value}: {', '.join(above)}")


@dataclass(frozen=True)
class ChannelCeiling:
    """One channel's ceiling and where it comes from, for display."""

    channel_id: str
    ceiling: Classification
    source: CeilingSource
    set_by: str | None = None
    set_at: datetime | None = None


class Channels:
    def __init__(self, store: Store, policy: CeilingPolicy | None = None) -> None:
        self._store = store
        self.policy = policy or CeilingPolicy()

    @property
    def upper_bound(self) -> Classification:
        return self.policy.upper_bound

    def ceiling(self, channel: str | None) -> Classification:
        """The highest marking a draft posted in `channel` may quote: one primary-key read per call."""
        return self.describe(channel).ceiling

    def describe(self, channel: str | None) -> ChannelCeiling:
        """The ceiling and where it comes from (a stored row, the configured mapping, or the default)."""
        channel = channel or ""
        if not channel:
            return ChannelCeiling("", Classification.OFFICIAL, CeilingSource.DEFAULT)
        with self._store.transaction() as session:
            row = session.get(schema.ChannelSetting, channel)
            if row is not None:
                return self._stored(row)
        if (configured := self.policy.configured.get(channel)) is not None:
            return ChannelCeiling(channel, configured, CeilingSource.CONFIGURED)
        return ChannelCeiling(channel, Classification.OFFICIAL, CeilingSource.DEFAULT)

    def check_may_set(self, user: str) -> None:
        """NotAllowed unless `user` is one of the office's admins (`RESPONDER_ADMINS`; none means nobody)."""
        if user and user in self.policy.admins:
            return
        if not self.policy.admins:
            raise NotAllowed(
                "Only the office's admins can set a channel's classification ceiling, and none are configured: "
                "ask whoever runs Responder to add your Slack user id to RESPONDER_ADMINS, or to set the channel "
                "in RESPONDER_CHANNEL_CEILINGS."
            )
        raise NotAllowed(
            "Only the office's admins can set a channel's classification ceiling "
            f"({people(sorted(self.policy.admins))}); ask one of them."
        )

    def set_ceiling(self, channel: str, ceiling: Classification | str, actor: str) -> ChannelCeiling:
        """Store `channel`'s ceiling, audited in the same transaction; InvalidInput above the upper bound."""
        level = _level(ceiling)
        channel = _channel_id(channel)
        if level.level > self.upper_bound.level:
            raise InvalidInput(
                f"{level.value} is above this office's upper bound, {self.upper_bound.value} "
                "(RESPONDER_MAX_CLASSIFICATION): no channel may be given a higher ceiling than that."
            )
        before = self.describe(channel)
        with self._store.transaction() as session:
            row = session.get(schema.ChannelSetting, channel)
            if row is None:
                row = schema.ChannelSetting(channel_id=channel)
                session.add(row)
            row.ceiling, row.set_by, row.set_at = level.value, actor, self._store.now()
            session.flush()
            self._store.audit(
                session,
                actor,
                "set_ceiling",
                "channel",
                channel,
                {"ceiling": before.ceiling.value, "source": before.source.value},
                {"ceiling": level.value, "source": CeilingSource.STORED.value},
            )
            return self._stored(row)

    def listing(self) -> list[ChannelCeiling]:
        """Every channel with a ceiling of its own (stored or configured), by channel id; others are OFFICIAL."""
        with self._store.transaction() as session:
            rows = session.scalars(select(schema.ChannelSetting)).all()
            stored = {row.channel_id: self._stored(row) for row in rows}
        configured = {
            channel: ChannelCeiling(channel, ceiling, CeilingSource.CONFIGURED)
            for channel, ceiling in self.policy.configured.items()
            if channel not in stored
        }
        return sorted([*stored.values(), *configured.values()], key=lambda item: item.channel_id)

    def _stored(self, row: schema.ChannelSetting) -> ChannelCeiling:
        # A bound lowered since the row was stored wins: nothing is ever read above it.
        ceiling = Classification.parse(row.ceiling)
        if ceiling.level > self.upper_bound.level:
            ceiling = self.upper_bound
        return ChannelCeiling(row.channel_id, ceiling, CeilingSource.STORED, row.set_by, row.set_at)


def _level(ceiling: Classification | str) -> Classification:
    try:
        return ceiling if isinstance(ceiling, Classification) else Classification.parse(ceiling)
    except ValueError as error:
        raise InvalidInput(str(error)) from None


def _channel_id(channel: str) -> str:
    channel = (channel or "").strip()
    if not _CHANNEL_ID.fullmatch(channel) or len(channel) > _CHANNEL_CHARS:
        raise InvalidInput(f"{channel!r} is not a Slack channel id (C…, G… or D…).")
    return channel

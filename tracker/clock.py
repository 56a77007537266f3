"""Time for the system of record: one clock type, UTC inside, UK calendar days and wall-clock times outside.

Deadlines are calendar days in the UK whatever the server's time zone, so every "today" is taken through `UK`.
The clock is injected everywhere (tests move it by hand); nothing reads the system time except `utc_now`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def uk_today(clock: Clock = utc_now) -> date:
    """The calendar day in the UK now: what 'days left' counts from."""
    return clock().astimezone(UK).date()


def format_when(moment: datetime) -> str:
    """UK wall-clock time, because that is what the office reads: `21 Nov 2026 14:02`."""
    local = moment.astimezone(UK)
    return f"{local.day} {local:%b %Y %H:%M}"

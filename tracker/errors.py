"""Errors the tracker raises. Each message tells the person who clicked what happened and what to do.

Messages may name people (`tracker.people.person`); `str(error)` names them by id, `describe(name)` the way a
surface wants (a Slack mention).
"""

from __future__ import annotations

from tracker.people import Namer, name_people, plain_name


class TrackerError(Exception):
    """Base class: the surface shows `describe(...)` to the user and changes nothing."""

    def __init__(self, message: str = "") -> None:
        self.message = message
        super().__init__(message)

    def describe(self, name: Namer = plain_name) -> str:
        return name_people(self.message, name)

    def __str__(self) -> str:
        return self.describe()


class NotFound(TrackerError):
    """An inspection, finding or draft id that does not exist."""


class InvalidInput(TrackerError):
    """A value the tracker cannot store (empty comment, bad reminder offsets …)."""


class IllegalTransition(TrackerError):
    """A review action that the current state of the answer does not allow."""


class NotAllowed(TrackerError):
    """The approval policy refuses this person."""


class ConcurrentChange(TrackerError):
    """Someone else changed the answer between the user seeing it and clicking."""

    DEFAULT = "Someone else just changed this answer; refresh and try again."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.DEFAULT)

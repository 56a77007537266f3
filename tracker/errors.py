"""Errors the tracker raises. Each message tells the person who clicked what happened and what to do."""

from __future__ import annotations


class TrackerError(Exception):
    """Base class: the bot shows `str(error)` to the user (ephemerally) and changes nothing."""


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

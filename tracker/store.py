"""The unit of work every aggregate of the system of record shares: transactions, the clock and the audit log.

Every change writes an audit row (before → after) in the same transaction as the change itself, so the log can
never disagree with the data. `transaction()` also turns a lost optimistic race (the findings row's version_id
check, or a unique key such as one approval per reviewer per version) into a clear ConcurrentChange.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from tracker import schema
from tracker.clock import Clock, utc_now
from tracker.db import make_engine, migrate, session_factory
from tracker.errors import ConcurrentChange, InvalidInput, NotFound

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


class Store:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock = utc_now) -> None:
        self.sessions = sessions
        self.clock = clock

    @classmethod
    def connect(cls, url_or_engine: str | Engine, clock: Clock = utc_now) -> Store:
        """Open (and migrate to head) the database at a URL."""
        engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        migrate(engine)
        return cls(session_factory(engine), clock)

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction; a lost optimistic race becomes a ConcurrentChange and nothing is stored."""
        try:
            with self.sessions.begin() as session:
                yield session
        except StaleDataError as error:
            raise ConcurrentChange() from error
        except IntegrityError as error:
            # A unique key lost to a racer. Any other integrity failure is a bug and must not be dressed up.
            if not is_unique_violation(error):
                raise
            raise ConcurrentChange() from error

    def audit(
        self,
        session: Session,
        actor: str,
        action: str,
        entity: str,
        entity_id: int | str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        # The only write anyone makes to audit_log is this INSERT; database triggers refuse updates and deletes.
        session.add(
            schema.AuditEntry(
                at=self.clock(),
                actor=actor,
                action=action,
                entity=entity,
                entity_id=str(entity_id),
                before=before,
                after=after,
            )
        )

    def dispose(self) -> None:
        bind = self.sessions.kw.get("bind")
        if bind is not None:
            bind.dispose()


# ── small helpers every aggregate uses ───────────────────────────────────────────────────────────────────


def get_row(session: Session, model: type[T], key: int, what: str) -> T:
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"There is no {what} with id {key}.")
    return row


def required(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{what} is empty.")
    return value


def enum_value(kind: type[E], value: E | str, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InvalidInput(f"Unknown {what} {value!r}: use one of {choices}.") from None


def is_unique_violation(error: IntegrityError) -> bool:
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code == "23505" or "UNIQUE constraint failed" in str(error.orig)

"""Storage faults in plain words: a database error that is the storage's fault (full, read-only, unreachable),
as opposed to a bug, so every surface can tell the person what went wrong and what to do without a trace.

The classifier reads the driver's own codes and messages (SQLite's and PostgreSQL's), walking the exception
chain, so an error wrapped by SQLAlchemy or by our own code is still recognised.
"""

from __future__ import annotations

import sqlite3
from enum import StrEnum

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError


class StorageProblem(StrEnum):
    FULL = "full"
    READ_ONLY = "read-only"
    UNREACHABLE = "unreachable"
    INVALID = "invalid"


#: What the person is told the database is; the reason itself goes to the log and to `responder doctor`.
PLAIN: dict[StorageProblem, str] = {
    StorageProblem.FULL: "the database is full",
    StorageProblem.READ_ONLY: "the database is read-only",
    StorageProblem.UNREACHABLE: "the database is unreachable",
    StorageProblem.INVALID: "the database setting (RESPONDER_DATABASE_URL) is not valid",
}

# PostgreSQL SQLSTATEs: class 08 is a lost or refused connection; 53 insufficient resources.
_PG_FULL = {"53100", "53200"}
_PG_READ_ONLY = {"25006"}
# SQLite's messages are stable across versions (sqlite3ErrStr); matched lower-cased.
_FULL_WORDS = ("database or disk is full", "no space left", "disk quota", "could not extend file")
_READ_ONLY_WORDS = ("readonly database", "read-only", "read only")
_UNREACHABLE_WORDS = (
    "unable to open database file",
    "disk i/o error",
    "connection refused",
    "could not connect",
    "could not translate host name",
    "server closed the connection",
    "connection timed out",
    "is not a database",
    "database disk image is malformed",
)


def storage_problem(error: BaseException) -> StorageProblem | None:
    """Which storage fault `error` is (anywhere in its chain), or None when it is not one (a bug, a refusal)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _classify(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _classify(error: BaseException) -> StorageProblem | None:
    if isinstance(error, (ArgumentError, NoSuchModuleError)):
        return StorageProblem.INVALID  # an unparsable URL or a driver that is not installed
    if not isinstance(error, (DBAPIError, sqlite3.Error)) and not _is_driver_error(error):
        return None
    code = str(getattr(error, "sqlstate", None) or getattr(error, "pgcode", None) or "")
    text = str(getattr(error, "orig", None) or error).lower()
    if code in _PG_FULL or any(word in text for word in _FULL_WORDS):
        return StorageProblem.FULL
    if code in _PG_READ_ONLY or any(word in text for word in _READ_ONLY_WORDS):
        return StorageProblem.READ_ONLY
    if code.startswith("08") or any(word in text for word in _UNREACHABLE_WORDS):
        return StorageProblem.UNREACHABLE
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return StorageProblem.UNREACHABLE
    return None


def _is_driver_error(error: BaseException) -> bool:
    # psycopg is an optional extra: recognise its errors by their module, without importing it.
    return type(error).__module__.split(".")[0] in {"psycopg", "psycopg2"}


def reason(error: BaseException) -> str:
    """The driver's own one-line reason ("attempt to write a readonly database"), for logs and the doctor."""
    current: BaseException = error
    orig = getattr(current, "orig", None)
    if isinstance(orig, BaseException):
        current = orig
    text = str(current).strip().splitlines()
    return text[0] if text else type(current).__name__


def safe_url(url: str) -> str:
    """The database URL without its password, fit for a log line or stderr."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "(an unparsable URL)"
    # Re-rendering escapes characters (a SQLite `file:` URI), so only a URL with a password is re-rendered.
    return url if parsed.password is None else parsed.render_as_string(hide_password=True)

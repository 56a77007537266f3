"""Shared set-up for the tracker tests: the database a test runs on, a settable clock, sample findings, and the
inspection and sweep the reminder tests (tracker and Slack wording alike) run against.

Every store a test makes goes through `db_url` (and `make_repo`, `running_bot` on top of it), which asks the
*current backend*: SQLite files in the test's tmp_path by default, or, on a test's `[postgres]` leg (tests/conftest.py
sets it), a fresh PostgreSQL database copied from a template migrated once per session and dropped after the test.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from retrieval.models import Addressee, Finding, FindingKind
from tracker.db import migrate
from tracker.reminders import ReminderKind, ReminderToPost
from tracker.repository import Repository
from tracker.review import ApprovalPolicy
from tracker.views import NewDraft

START = datetime(2023, 11, 7, 9, 30, tzinfo=UTC)


class FakeClock:
    """An injectable clock: tests move time by hand, nothing sleeps."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


#: Set by .ci/with-servers (and CI): the admin URL of a PostgreSQL server the tests may create databases on.
POSTGRES_URL_VARIABLE = "RESPONDER_TEST_DATABASE_URL"


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_URL_VARIABLE) or None


class Backend(Protocol):
    name: str

    def url(self, tmp_path: Path, name: str) -> str:
        """The same database for the same (tmp_path, name) within a test: a restart reopens it."""
        ...

    def blank_url(self, tmp_path: Path, name: str) -> str:
        """A database with no tables at all (for migration tests)."""
        ...

    def opened(self) -> int:
        """How many databases this test was given."""
        ...

    def reset(self) -> None:
        """The test is over: forget (and drop) its databases."""
        ...


class SqliteFiles:
    name = "sqlite"

    def __init__(self) -> None:
        self._seen: set[Path] = set()

    def url(self, tmp_path: Path, name: str) -> str:
        self._seen.add(tmp_path / name)
        return f"sqlite:///{tmp_path / name}"

    def blank_url(self, tmp_path: Path, name: str) -> str:
        return self.url(tmp_path, name)

    def opened(self) -> int:
        return len(self._seen)

    def reset(self) -> None:
        self._seen.clear()


class PostgresDatabases:
    """Databases on one PostgreSQL server: migrated once into a template, then one cheap copy per store.

    CREATE DATABASE … TEMPLATE copies files, so a test's database is ready without running the migrations;
    each is dropped (WITH FORCE: a leaked pool cannot block it) afterwards. A copy still takes about half a
    second on two busy cores, so a background thread keeps PREFETCH copies made ahead of the tests asking.
    """

    PREFETCH = 2

    name = "postgres"
    _numbers = itertools.count(1)

    def __init__(self, admin_url: str) -> None:
        self._admin_url = make_url(admin_url)
        self._admin = create_engine(self._admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        self._prefix = f"responder_t{os.getpid()}"
        self.template = f"{self._prefix}_template"
        self._given: dict[tuple[Path, str], str] = {}
        self._create(self.template, "template0")
        self._migrate_template()
        self._ready: queue.Queue[str] = queue.Queue(maxsize=self.PREFETCH)
        self._stopping = threading.Event()
        self._failure: Exception | None = None
        self._filler = threading.Thread(target=self._fill, name="postgres-prefetch", daemon=True)
        self._filler.start()

    @property
    def admin(self) -> Engine:
        return self._admin

    def url(self, tmp_path: Path, name: str) -> str:
        key = (tmp_path, name)
        if key not in self._given:
            self._given[key] = self._take()
        return self._given[key]

    def blank_url(self, tmp_path: Path, name: str) -> str:
        key = (tmp_path, f"blank:{name}")
        if key not in self._given:
            self._given[key] = self._new("template0")
        return self._given[key]

    def fresh_url(self) -> str:
        """A migrated database outside any test (benchmarks); the caller drops it with `drop_url`."""
        return self._new(self.template)

    def opened(self) -> int:
        return len(self._given)

    def reset(self) -> None:
        for url in self._given.values():
            self.drop_url(url)
        self._given.clear()

    def drop_url(self, url: str) -> None:
        self._drop(make_url(url).database or "")

    def close(self) -> None:
        self._stopping.set()
        self._filler.join(timeout=60)
        self.reset()
        while not self._ready.empty():
            self.drop_url(self._ready.get_nowait())
        self._drop(self.template)
        self._admin.dispose()

    def _take(self) -> str:
        while True:
            if self._failure is not None:
                raise RuntimeError("could not copy the template into a test database") from self._failure
            try:
                return self._ready.get(timeout=0.5)
            except queue.Empty:
                continue

    def _fill(self) -> None:
        try:
            self._keep_filled()
        except Exception as error:  # the test waiting in _take raises it, with this as the cause
            self._failure = error

    def _keep_filled(self) -> None:
        while not self._stopping.is_set():
            url = self._new(self.template)
            while not self._stopping.is_set():
                try:
                    self._ready.put(url, timeout=0.2)
                    break
                except queue.Full:
                    continue
            else:
                self.drop_url(url)  # made as the session ended: nobody will use it

    def _new(self, template: str) -> str:
        database = f"{self._prefix}_{next(self._numbers)}"
        self._create(database, template)
        return self._admin_url.set(database=database).render_as_string(hide_password=False)

    def _migrate_template(self) -> None:
        engine = create_engine(self._admin_url.set(database=self.template))
        try:
            migrate(engine)
        finally:
            engine.dispose()  # a template may not be copied while anyone is connected to it

    def _create(self, database: str, template: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{database}" TEMPLATE "{template}"'))

    def _drop(self, database: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


SQLITE = SqliteFiles()
_current: Backend = SQLITE


@contextmanager
def using(backend: Backend) -> Iterator[Backend]:
    """Make `backend` the one every store helper uses, for one test; its databases go when it ends."""
    global _current
    previous, _current = _current, backend
    try:
        yield backend
    finally:
        backend.reset()
        _current = previous


def current_backend() -> Backend:
    return _current


def db_url(tmp_path: Path, name: str = "responder.db") -> str:
    """The URL of this test's database `name` on the current backend (the same URL each time it is asked)."""
    return _current.url(tmp_path, name)


def blank_db_url(tmp_path: Path, name: str = "blank.db") -> str:
    """A database without any tables on the current backend, for tests of the migrations themselves."""
    return _current.blank_url(tmp_path, name)


def make_repo(
    tmp_path: Path, policy: ApprovalPolicy | None = None, clock: FakeClock | None = None, name: str = "responder.db"
) -> Repository:
    return Repository.connect(db_url(tmp_path, name), policy, clock or FakeClock())


def findings() -> list[Finding]:
    return [
        Finding(
            number="1",
            text="By 31 December 2024, all chief constables should make sure that their forces have problem profiles.",
            due="By 31 December 2024",
            addressees=(Addressee.CHIEF_CONSTABLES,),
        ),
        Finding(number="2", text="The Home Office should review funding.", addressees=(Addressee.HOME_OFFICE,)),
        Finding(kind=FindingKind.AREA_FOR_IMPROVEMENT, text="The force should improve its audits."),
    ]


def draft(text: str = "The force has a problem profile, last updated in March 2024.", **fields: object) -> NewDraft:
    return NewDraft(text=text, engine=str(fields.pop("engine", "composer")), **fields)  # type: ignore[arg-type]


# ── reminders ────────────────────────────────────────────────────────────────────────────────────────────

PUBLISHED = date(2023, 12, 8)  # last day 1 Feb 2024; CC comments due 5 Jan 2024 (all GMT, so UTC = UK time)
LAST_DAY = date(2024, 2, 1)
K = ReminderKind


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def add_inspection(repo: Repository, published: date = PUBLISHED, **kwargs: object) -> int:
    return repo.inspections.create(
        "Group-based CSE", published, "national thematic", "Northumbria", "C1", "U1", **kwargs
    ).id  # type: ignore[arg-type]


def sweep_reminders(
    repo: Repository, now: datetime, instance: str = "bot-a", post: bool = True
) -> list[ReminderToPost]:
    """One reminder sweep: claim what is due and (unless `post` is False) mark each claim posted."""
    claimed = repo.reminders.claim_due(instance, now)
    if post:
        for reminder in claimed:
            repo.reminders.mark_posted(reminder.reminder_id, now)
    return claimed

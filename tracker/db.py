"""Engines, sessions and migrations for the system of record.

SQLite (the embedded default) gets WAL, foreign keys and a busy timeout on every connection, and every
transaction starts with BEGIN IMMEDIATE: writers queue on the busy timeout instead of failing half-way when
a read snapshot turns stale, which is what makes the optimistic checks and the insert-or-ignore claims
race-free between threads and between bot instances.

PostgreSQL (psycopg is an optional extra) keeps that model rather than inventing another: every transaction
first takes one transaction-scoped advisory lock, the stand-in for BEGIN IMMEDIATE, with the same 30 s wait.
Under READ COMMITTED alone, two instances recording approvals at once each counted the approvals before the
other's, and a finding needing three got seven (tests/tracker/test_concurrency.py's `[postgres]` leg).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: The advisory lock key every PostgreSQL transaction of the store holds (the migrations use 55_560_001).
POSTGRES_WRITER_LOCK = 55_560_002


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, echo)
    engine = create_engine(parsed, echo=echo, pool_pre_ping=True)
    if parsed.get_backend_name() == "postgresql":
        event.listen(engine, "begin", _postgres_begin)
    return engine


def _sqlite_engine(url: URL, echo: bool) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}, "echo": echo}
    if in_memory:
        # One shared connection, or every session would see its own empty database.
        kwargs["poolclass"] = StaticPool
    else:
        Path(url.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy (see _sqlite_begin); pysqlite's own BEGIN is deferred.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _postgres_begin(connection: Connection) -> None:
    # Writers queue here as they do on SQLite's BEGIN IMMEDIATE, and give up after the same wait.
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({POSTGRES_WRITER_LOCK})")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # Views are built before commit, but keeping attributes loaded avoids surprise lazy loads after it.
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """The packaged alembic.ini, script_location resolved from the installed package (works from a wheel)."""
    ini = files("tracker") / "alembic.ini"
    migrations = files("tracker") / "migrations"
    if not isinstance(ini, Path) or not isinstance(migrations, Path):
        raise RuntimeError("tracker must be installed as files on disk (not zipped) for Alembic to read migrations")
    config = Config(str(ini))
    config.set_main_option("script_location", str(migrations))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Create or upgrade the schema; the only way tables come to exist (never metadata.create_all)."""
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if isinstance(engine_or_url, str):
            engine.dispose()


def insert_ignore(session: Session, table: Table, values: Mapping[str, Any], conflict_columns: Sequence[str]) -> bool:
    """INSERT unless a row with the same unique key exists; True when this call inserted it.

    The database arbitrates, so two threads or two bot instances racing for the same key get exactly one True.
    Whether a row came back from RETURNING decides, never `rowcount`: psycopg 3 reports -1 for
    INSERT … ON CONFLICT DO NOTHING on some paths, which made every claim look lost on PostgreSQL.
    """
    dialect = session.get_bind().dialect.name
    if dialect in {"sqlite", "postgresql"}:
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        statement = (
            insert(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=list(conflict_columns))
            .returning(*table.primary_key.columns)
        )
        return session.execute(statement).first() is not None
    try:
        with session.begin_nested():
            session.execute(table.insert().values(**values))
    except IntegrityError:
        return False
    return True

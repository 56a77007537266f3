"""Alembic environment: run by tracker.db.migrate (with a connection) or by the alembic CLI (with a URL)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from tracker.db import make_engine
from tracker.schema import Base

config = context.config
target_metadata = Base.metadata
# Serialises concurrent migrations of one PostgreSQL database (two bot instances starting together).
_PG_MIGRATION_LOCK = 55_560_001


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("RESPONDER_DATABASE_URL")
    if not url:
        raise RuntimeError("No database URL: set RESPONDER_DATABASE_URL or pass -x / sqlalchemy.url")
    return url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as owned:
            _run(owned)
    finally:
        engine.dispose()


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

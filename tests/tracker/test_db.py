"""The schema exists only through the migrations, matches the models, and SQLite is configured for safety."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, inspect, text
from sqlalchemy.exc import IntegrityError, OperationalError

from tests.support.store import db_url
from tracker.db import alembic_config, make_engine, migrate, session_factory
from tracker.repository import Repository
from tracker.schema import Base


def _diff(engine, metadata: MetaData) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    engine = make_engine(db_url(tmp_path))
    migrate(engine)
    assert _diff(engine, Base.metadata) == []


def test_the_comparison_would_notice_a_drift(tmp_path: Path) -> None:
    engine = make_engine(db_url(tmp_path))
    migrate(engine)
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["drafts"].append_column(Column("word_count", Integer, nullable=True))
    diff = _diff(engine, drifted)
    assert [entry[0] for entry in diff] == ["add_column"]
    assert diff[0][3].name == "word_count"


def test_migration_reaches_head_and_is_idempotent(tmp_path: Path) -> None:
    url = db_url(tmp_path)
    migrate(url)
    migrate(url)  # a second start (or a second instance) is a no-op
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == head
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) | {"alembic_version"} == tables


def test_without_migration_there_are_no_tables(tmp_path: Path) -> None:
    engine = make_engine(db_url(tmp_path))
    assert inspect(engine).get_table_names() == []


def test_script_location_comes_from_the_installed_package_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert (files("tracker") / "alembic.ini").is_file()  # shipped as package data
    config = alembic_config()
    location = Path(config.get_main_option("script_location") or "")
    assert location.is_absolute() and (location / "env.py").is_file()
    assert (location / "versions" / "0001_initial.py").is_file()
    migrate(db_url(tmp_path, "elsewhere.db"))
    assert (tmp_path / "elsewhere.db").is_file()


def test_postgresql_migration_renders_the_partial_index_and_the_append_only_trigger() -> None:
    """Offline (--sql) mode needs no server: the PostgreSQL DDL is generated and checked for the key parts."""
    config = alembic_config("postgresql://responder@localhost/responder")
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    ddl = config.output_buffer.getvalue()
    assert "CREATE UNIQUE INDEX uq_reviews_one_approval ON reviews (draft_id, reviewer) WHERE action = 'approve'" in ddl
    assert "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log" in ddl
    assert "TIMESTAMP WITH TIME ZONE" in ddl
    assert "CONSTRAINT uq_reminders_inspection_id_kind_due_on UNIQUE (inspection_id, kind, due_on)" in ddl


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(db_url(tmp_path))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 5000


def test_the_data_directory_is_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'data' / 'responder.db'}"
    migrate(url)
    assert (tmp_path / "nested" / "data" / "responder.db").is_file()


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    engine = make_engine(db_url(tmp_path))
    migrate(engine)
    now = datetime.now(UTC).replace(tzinfo=None)
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO findings (inspection_id, position, kind, text, addressees, state, requested_by,"
                " created_at, updated_at, version_id) VALUES (999, 0, 'recommendation', 'x', '[]', 'drafted',"
                " 'U1', :now, :now, 1)"
            ),
            {"now": now},
        )


def test_check_constraints_refuse_unknown_states(tmp_path: Path) -> None:
    engine = make_engine(db_url(tmp_path))
    migrate(engine)
    with pytest.raises(IntegrityError, match="CHECK"), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO findings (position, kind, text, addressees, state, requested_by, created_at,"
                " updated_at, version_id) VALUES (0, 'recommendation', 'x', '[]', 'published', 'U1', :now, :now, 1)"
            ),
            {"now": datetime.now(UTC).replace(tzinfo=None)},
        )


def test_audit_rows_cannot_be_changed_or_deleted_even_in_raw_sql(tmp_path: Path) -> None:
    repo = Repository.connect(db_url(tmp_path))
    inspection = repo.inspections.create("Audit test", date(2023, 12, 8), "PEEL", "Northumbria", "C1", "U1")
    engine = make_engine(db_url(tmp_path))
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(IntegrityError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    (event,) = repo.audit.events("inspection", inspection.id)
    assert event.actor == "U1" and event.action == "create"


def test_the_repository_offers_no_way_to_change_the_audit_log() -> None:
    from tracker.audit import AuditLog

    public = [name for name in dir(AuditLog) if not name.startswith("_")]
    assert public == ["events", "record"]  # read, or append through Store.audit (the one INSERT); never change


def test_in_memory_database_shares_one_connection() -> None:
    repo = Repository.connect("sqlite://")
    created = repo.inspections.create("Memory", date(2024, 1, 5), "PEEL", "Northumbria", None, "U1")
    assert repo.inspections.get(created.id).last_day == date(2024, 2, 29)


def test_session_factory_keeps_loaded_values_after_commit(tmp_path: Path) -> None:
    engine = make_engine(db_url(tmp_path))
    assert session_factory(engine).kw["expire_on_commit"] is False


def test_every_transaction_takes_the_write_lock_when_it_begins(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: a read-then-write transaction cannot find its snapshot stale half-way through.

    With the busy timeout set to zero for the probe, a second transaction fails at BEGIN while the first is
    open (normally it would queue for up to the busy timeout instead).
    """
    engine = make_engine(db_url(tmp_path))
    migrate(engine)
    other = make_engine(db_url(tmp_path))
    with engine.connect() as holder:
        holder.begin()
        holder.exec_driver_sql("SELECT 1").all()  # reads only, yet the lock is already held
        with other.connect() as probe:
            probe.rollback()
            probe.connection.dbapi_connection.execute("PRAGMA busy_timeout = 0")
            with pytest.raises(OperationalError, match="locked"):
                probe.begin()
        holder.rollback()
    with other.begin() as free:  # released again
        assert free.exec_driver_sql("SELECT 1").scalar_one() == 1

"""The migrations run for real on every backend: from an empty database to head, down to base, and up again,
and the schema they leave matches the models each time. Generated `[sqlite]` and, whenever
RESPONDER_TEST_DATABASE_URL names a server, `[postgres]` (tests/conftest.py), where production runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from tests.support.store import Backend, blank_db_url
from tracker.db import alembic_config, make_engine, migrate
from tracker.repository import Repository
from tracker.schema import Base

TABLES = set(Base.metadata.tables)


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def _downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@pytest.fixture
def blank(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(blank_db_url(tmp_path))
    yield engine
    engine.dispose()


def test_upgrade_to_head_then_down_to_base_then_up_again(blank: Engine, store_backend: Backend) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert blank.dialect.name == {"sqlite": "sqlite", "postgres": "postgresql"}[store_backend.name]
    assert _tables(blank) == set()
    migrate(blank)
    assert _revision(blank) == head and _tables(blank) == TABLES
    assert _diff(blank) == []
    _downgrade(blank, "base")
    assert _revision(blank) is None and _tables(blank) == set()
    migrate(blank)
    assert _revision(blank) == head and _tables(blank) == TABLES
    assert _diff(blank) == []


def test_every_revision_goes_down_and_up_again(blank: Engine) -> None:
    """Each step on its own, so a downgrade that leaves something behind is found at the revision that did it."""
    revisions = [script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    for revision in reversed(revisions):  # walk_revisions runs head → base
        migrate(blank, revision)
        assert _revision(blank) == revision
        before = _tables(blank)
        _downgrade(blank, "-1")
        migrate(blank, revision)
        assert _revision(blank) == revision and _tables(blank) == before
    assert _diff(blank) == []


def test_a_store_on_the_remigrated_schema_works_and_keeps_its_audit_log_append_only(tmp_path: Path) -> None:
    url = blank_db_url(tmp_path)
    migrate(url)
    engine = make_engine(url)
    _downgrade(engine, "base")
    repo = Repository.connect(url)  # migrates to head again, as a bot instance starting would
    try:
        created = repo.inspections.create("Round trip", date(2024, 1, 5), "PEEL", "Northumbria", None, "U1")
        assert repo.inspections.get(created.id).title == "Round trip"
        # The trigger came back with the schema: the log still refuses an UPDATE, in raw SQL too.
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text("UPDATE audit_log SET actor = 'someone else'"))
    finally:
        repo.close()
        engine.dispose()

"""The store fixture itself: a `[postgres]` leg really is on PostgreSQL, and every test starts on an empty,
migrated database of its own (tests/conftest.py, tests/support/store.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import inspect

from tests.support.store import Backend, db_url, make_repo
from tracker.repository import Repository
from tracker.schema import Base

DIALECTS = {"sqlite": "sqlite", "postgres": "postgresql"}
TODAY = date(2024, 1, 6)


def _dialect(repo: Repository) -> str:
    return repo.store.sessions.kw["bind"].dialect.name


def _titles(repo: Repository) -> list[str]:
    return [summary.inspection.title for summary in repo.inspections.list_open(TODAY)]


def test_the_repo_fixture_is_on_the_legs_backend(repo: Repository, store_backend: Backend) -> None:
    assert _dialect(repo) == DIALECTS[store_backend.name]


@pytest.mark.parametrize("turn", [1, 2])
def test_each_test_starts_on_an_empty_migrated_database(repo: Repository, turn: int) -> None:
    # Run twice: the second turn would see the first's inspection (and id 2) if databases were shared.
    engine = repo.store.sessions.kw["bind"]
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    assert _titles(repo) == []
    created = repo.inspections.create(f"Turn {turn}", date(2024, 1, 5), "PEEL", "Northumbria", None, "U1")
    assert created.id == 1


def test_one_name_is_one_database_and_two_names_are_two(tmp_path: Path) -> None:
    assert db_url(tmp_path) == db_url(tmp_path)  # a restart reopens the same database
    first, other = make_repo(tmp_path), make_repo(tmp_path, name="other.db")
    restarted = Repository.connect(db_url(tmp_path))
    try:
        first.inspections.create("Only here", date(2024, 1, 5), "PEEL", "Northumbria", None, "U1")
        assert db_url(tmp_path) != db_url(tmp_path, "other.db")
        assert _titles(other) == []
        assert _titles(restarted) == ["Only here"]
    finally:
        for repo in (first, other, restarted):
            repo.close()

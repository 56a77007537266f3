"""Fixtures shared across the suite; a module overrides one by defining its own of the same name.

model      the bundled embedding model, loaded once per session (it is read-only)
counting   that model, counting the texts it embeds
clock      a clock tests move by hand
repo       a migrated SQLite file store (default policy) on that clock
slack      the loopback fake of Slack's Web API
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval.embeddings import MiniLMEmbeddings
from tests.support.retrieval import CountingEmbeddings
from tests.support.slack_fake import FakeSlack
from tests.support.slack_harness import Harness, running_bot
from tests.support.store import FakeClock, make_repo
from tracker.repository import Repository


@pytest.fixture(scope="session")
def model() -> MiniLMEmbeddings:
    return MiniLMEmbeddings()


@pytest.fixture
def counting(model: MiniLMEmbeddings) -> CountingEmbeddings:
    return CountingEmbeddings(model)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def repo(tmp_path: Path, clock: FakeClock) -> Iterator[Repository]:
    store = make_repo(tmp_path, clock=clock)
    yield store
    store.close()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    """The real Bolt app over signed HTTP, a loopback fake of Slack's Web API, a SQLite store."""
    with running_bot(tmp_path) as harness:
        yield harness

"""Fixtures for the Slack tests: a running bot on the signed-request harness."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.slack_harness import Harness, running_bot


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    """The real Bolt app over signed HTTP, a loopback fake of Slack's Web API, a SQLite store."""
    with running_bot(tmp_path) as harness:
        yield harness

"""The command line as the CLI tests drive it: typer's CliRunner on `responder`, and the store it writes to."""

from __future__ import annotations

from typer.testing import CliRunner

from bot.cli.main import app
from bot.settings import Settings
from tracker.repository import Repository

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    """`responder ARGS…`: the exit code and everything printed."""
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def repo() -> Repository:
    """The store the command line uses under the test's environment (RESPONDER_DATA_DIR, …)."""
    return Repository.connect(Settings().sqlalchemy_url)

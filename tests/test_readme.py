"""The README is the user's manual: its settings table and commands must match the code."""

import re
from pathlib import Path

from typer.main import get_command

from bot.cli.main import app
from bot.settings import Settings

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_and_no_stale_ones() -> None:
    documented = set(re.findall(r"^\| `RESPONDER_([A-Z_]+)`", README, re.M))
    actual = {name.upper() for name in Settings.model_fields}
    assert documented == actual


def test_quick_start_is_exactly_the_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert quick.split() == ["make", "run", "make", "test"]


def test_every_cli_command_is_in_the_readme() -> None:
    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    for name in commands - {"markdown"}:
        assert f"responder {name}" in README, name

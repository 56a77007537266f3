"""`responder doctor`: every check Responder needs (bot.health), each with ✓ or ✗ and what to do.

Exit code 0 when all pass, 1 when any fails; `--json` for a script. Slack is only called with `--slack`.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from bot.cli.console import EXIT_FAILED, console
from bot.health import Check, run_checks


def doctor(
    slack: Annotated[bool, typer.Option("--slack", help="Also call Slack's auth.test with the bot token")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Check the settings, the database, the index, the models and the Slack tokens, and say what to fix."""
    checks = run_checks(slack=slack)
    if as_json:
        console.print_json(json.dumps([check.model_dump() for check in checks]))
    else:
        for check in checks:
            show(check)
        failures = sum(not check.ok for check in checks)
        console.print("All checks passed." if not failures else f"{failures} of {len(checks)} checks failed.")
    if any(not check.ok for check in checks):
        raise typer.Exit(EXIT_FAILED)


def show(check: Check) -> None:
    mark = "[green]✓[/]" if check.ok else "[bold red]✗[/]"
    # soft_wrap: a path in the detail copies whole
    console.print(f"{mark} [bold]{escape(check.name)}[/]: {escape(check.detail)}", soft_wrap=True)
    if not check.ok and check.todo:
        console.print(f"    → {escape(check.todo)}", soft_wrap=True)

"""What every `responder` command shares: the consoles, one way to fail, progress bars, dates, the core.

Exit codes: 0 done, 2 the input is malformed (a date, an offset, a step), 3 no such inspection, 4 the pack is
refused, 1 anything else refused. Errors go to stderr in one clear line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.composition import Core

EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_NOT_FOUND = 3
EXIT_INCOMPLETE = 4
CLI_ACTOR = "cli"

console = Console()
err = Console(stderr=True)

#: How every date option's help says what to type (parse_date reads these and more).
DATE_HELP = "e.g. 2024-03-01 or '1 March 2024'"


def choices(values: Iterable[Enum]) -> str:
    """An enum's values for an option's help: `force-specific, 'national thematic', joint, PEEL or unknown`."""
    shown = [f"'{v.value}'" if " " in str(v.value) else str(v.value) for v in values]
    return ", ".join(shown[:-1]) + f" or {shown[-1]}" if len(shown) > 1 else "".join(shown)


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    """Print one clear error line (soft-wrapped: the terminal folds it, so a path in it copies whole); raise
    what this returns."""
    err.print(f"[bold red]Error:[/] {message}", soft_wrap=True)
    return typer.Exit(code)


class _CommandCore:
    """The composition root for one command invocation: built on first use, closed when the command ends."""

    current: Core | None = None


def core() -> Core:
    if _CommandCore.current is None:
        from bot.composition import build_core

        _CommandCore.current = build_core(Settings())
    return _CommandCore.current


def end_command() -> None:
    """Close what this command opened (the database engine), so the next invocation starts afresh."""
    if _CommandCore.current is not None:
        _CommandCore.current.close()
        _CommandCore.current = None


def parse_cli_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    from retrieval.dates import DateParseError, parse_date

    try:
        return parse_date(value)
    except DateParseError as exc:
        raise fail(f"{option}: {exc}", EXIT_INPUT) from exc


@contextmanager
def cli_errors() -> Iterator[None]:
    """Tracker refusals → one line on stderr and an exit code a script can branch on."""
    from drafting.pack import PackIncomplete
    from retrieval.dates import DateParseError
    from tracker.errors import InvalidInput, NotFound, TrackerError

    try:
        yield
    except NotFound as error:
        hint = "Run `responder deadlines` to see the open inspections."
        raise fail(f"{error} {hint}", EXIT_NOT_FOUND) from error
    except PackIncomplete as error:
        raise fail(str(error), EXIT_INCOMPLETE) from error
    except (InvalidInput, DateParseError) as error:
        raise fail(str(error), EXIT_INPUT) from error
    except TrackerError as error:
        raise fail(str(error), EXIT_FAILED) from error


def progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
